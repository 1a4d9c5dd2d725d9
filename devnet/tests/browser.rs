//! The dashboard in real headless Chromium: a real 4-node network (`tc-node testnet`: one
//! genesis, a 4-member PBFT committee over libp2p), the merged feed and the built dashboard
//! served by the merger, the page driven by playwright-core (`e2e/js/dashboard.mjs`).
//!
//! Needs the built dashboard and Debian's chromium, so it is `#[ignore]`d in a plain
//! `cargo test`; `./dev.sh test` builds the dashboard (`cargo xtask dashboard --release`) and
//! runs it with `TC_DASHBOARD_DIST=<dist dir> cargo test -p tc-devnet --test browser -- --ignored`.
//! Writes `target/artifacts/dashboard.png` (repository root) and prints the figures.
mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tc_devnet::feed::{FeedConfig, FeedHub, NodeSource, router};

use common::nodes::{NetNode, Testnet, repo_root};

#[test]
#[ignore = "needs the built dashboard and chromium: ./dev.sh test runs it"]
fn dashboard_renders_live_blocks_in_chromium() {
    let dist = PathBuf::from(std::env::var_os("TC_DASHBOARD_DIST").expect(
        "TC_DASHBOARD_DIST must name the built dashboard (cargo xtask dashboard --release prints it)",
    ));
    for f in [
        "index.html",
        "tc_dashboard.js",
        "tc_dashboard_bg.wasm",
        "style.css",
    ] {
        assert!(
            dist.join(f).is_file(),
            "{} missing in {}",
            f,
            dist.display()
        );
    }
    let script = repo_root().join("e2e/js/dashboard.mjs");
    assert!(
        repo_root()
            .join("e2e/js/node_modules/playwright-core")
            .is_dir(),
        "run `npm ci --prefix e2e/js` first (./dev.sh test does)"
    );
    // A real 4-node network: one genesis, a 4-member committee running PBFT over libp2p.
    let net = Testnet::generate(4, 4);
    let nodes = &net.nodes;
    let _procs: Vec<_> = nodes.iter().map(NetNode::start).collect();
    let sources: Vec<NodeSource> = nodes
        .iter()
        .map(|n| NodeSource {
            key: Some(n.public_key()),
            ..NodeSource::at(&n.name, &n.addr)
        })
        .collect();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let hub = rt.block_on(async { FeedHub::start(sources, FeedConfig::default()) });
    let hub = hub.expect("hub");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(hub.handle(), Some(dist));
    rt.spawn(async move { axum::serve(listener, app).await });

    let artifacts = repo_root().join("target/artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let shot = artifacts.join("dashboard.png");
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(&script)
        .arg(format!("http://{addr}/"))
        .arg(&shot)
        .args(nodes.iter().map(|n| n.name.as_str()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run node e2e/js/dashboard.mjs");
    // The script has its own waits; this is the outer deadline.
    let status = common::wait_for("the browser check to finish", 300, || {
        child.try_wait().expect("poll browser check")
    });
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        use std::io::Read;
        let _ = s.read_to_string(&mut out);
    }
    let line = out.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("browser check printed no JSON ({e}): {out}"));
    eprintln!(
        "browser check in {:.1} s: {v}",
        started.elapsed().as_secs_f64()
    );
    assert!(status.success(), "browser check failed: {v}");
    assert_eq!(v["errors"], serde_json::json!([]), "console/page errors");
    assert_eq!(v["conn"], "live");
    assert!(v["rows"].as_u64().unwrap_or(0) > 0, "fast blocks listed");
    assert!(
        v["snailRows"].as_u64().unwrap_or(0) > 0,
        "snail blocks listed"
    );
    assert!(
        v["storageTables"].as_u64().unwrap_or(0) > 0,
        "storage statistics shown"
    );
    assert!(
        v["pbftRows"].as_u64().unwrap_or(0) > 0,
        "PBFT instances shown"
    );
    assert!(
        v["primaries"].as_u64().unwrap_or(0) >= 1,
        "a primary is shown"
    );
    assert_eq!(v["forks"], 0, "the nodes agree on every block shown");
    let before = v["before"].as_array().cloned().unwrap_or_default();
    let after = v["after"].as_array().cloned().unwrap_or_default();
    assert_eq!(before.len(), nodes.len());
    for (b, a) in before.iter().zip(&after) {
        assert!(
            a.as_u64() > b.as_u64(),
            "fast head grew on screen: {b} → {a}"
        );
    }
    let wasm = std::fs::metadata(
        std::env::var_os("TC_DASHBOARD_DIST")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join("tc_dashboard_bg.wasm"),
    )
    .map(|m| m.len())
    .unwrap_or(0);
    eprintln!(
        "dashboard figures: wasm {} KiB, first render {} ms after navigation start, screenshot {}",
        wasm / 1024,
        v["firstRenderMs"],
        shot.display()
    );
    assert!(shot.is_file(), "screenshot written");
    drop(hub);
    rt.shutdown_timeout(Duration::from_secs(1));
}
