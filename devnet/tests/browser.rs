//! The dashboard in real headless Chromium against `devnet up` (4 real nodes, a 4-member PBFT
//! committee over libp2p; the launcher serves the merged feed, the admin API and the built
//! dashboard), the page driven by playwright-core (`e2e/js/dashboard.mjs`): live blocks, a
//! committee rotation, killing the primary from its card (killed, then a view change) and
//! starting it again, a byzantine mode and a partition set and undone from the Network panel,
//! deploying Bank and calling `deposit` from the Contracts panel.
//!
//! Needs the built dashboard and Debian's chromium, so it is `#[ignore]`d in a plain
//! `cargo test`; `./dev.sh test` builds the dashboard (`cargo xtask dashboard --release`) and
//! runs it with `TC_DASHBOARD_DIST=<dist dir> cargo test -p tc-devnet --test browser -- --ignored`.
//! Saves screenshots in `<cargo target dir>/artifacts/dashboard/` (`dashboard.png`,
//! `dashboard-killed.png`, `dashboard-contracts.png`) and prints the figures.
mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::nodes::repo_root;
use common::{SPEC, start_devnet};

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
    // `devnet up` with 4 real nodes (a 4-member committee running PBFT over libp2p), its
    // merged feed, admin API and this dashboard, on free ports.
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("net");
    let dist_arg = dist.display().to_string();
    let (l, _) = start_devnet(
        &spec,
        &dir,
        4,
        &["--nodes", "4", "--committee", "4", "--dashboard", &dist_arg],
    );
    let names: Vec<String> = (0..4).map(|i| format!("node-{i}")).collect();

    let artifacts = artifacts_dir();
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(&script)
        .arg(format!("{}/", l.url))
        .arg(&artifacts)
        .args(&names)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run node e2e/js/dashboard.mjs");
    // The script has its own waits; this is the outer deadline.
    let status = common::wait_for("the browser check to finish", 480, || {
        child.try_wait().expect("poll browser check")
    });
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        use std::io::Read;
        let _ = s.read_to_string(&mut out);
    }
    let line = out.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("browser check printed no JSON ({e}): {out}\n{}", l.logs()));
    eprintln!(
        "browser check in {:.1} s: {v}",
        started.elapsed().as_secs_f64()
    );
    assert!(status.success(), "browser check failed: {v}\n{}", l.logs());
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
    assert_eq!(before.len(), names.len());
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
        "dashboard figures: wasm {} KiB, first render {} ms after navigation start, screenshots in {}",
        wasm / 1024,
        v["firstRenderMs"],
        artifacts.display()
    );
    // A committee rotation reached the timeline.
    assert!(
        v["epochs"].as_u64().unwrap_or(0) >= 2,
        "a second epoch on the committee timeline: {v}"
    );
    // Kill the primary from its card: shown killed, and a view change follows.
    let killed = v["killed"].as_str().unwrap_or_default();
    assert!(names.iter().any(|n| n == killed), "killed a node: {v}");
    assert!(
        v["killResult"]
            .as_str()
            .unwrap_or_default()
            .contains("now killed"),
        "{v}"
    );
    assert!(v["viewChanges"].as_u64().unwrap_or(0) >= 1, "{v}");
    let (_, list) = common::get(&format!("{}/admin/nodes", l.url), Some(&l.token()));
    let entry = list
        .as_array()
        .and_then(|a| a.iter().find(|n| n["name"] == killed))
        .cloned()
        .unwrap_or_default();
    // Restarted from the UI afterwards.
    assert_eq!(entry["status"], "running", "{entry}");
    assert!(entry["starts"].as_u64().unwrap_or(0) >= 2, "{entry}");
    // Byzantine mode and a partition from the UI, both undone.
    assert_eq!(v["byzantine"], "byzantine: withhold", "{v}");
    let cut = v["partition"].as_str().unwrap_or_default();
    assert!(cut.contains(" | "), "two groups shown: {v}");
    assert_eq!(v["healed"], true, "{v}");
    let (_, net) = common::get(&format!("{}/admin/network", l.url), Some(&l.token()));
    assert_eq!(net["partition"], serde_json::Value::Null, "healed: {net}");
    // Bank deployed from the UI, deposit sent, its receipt and Deposit event shown.
    let bank = v["bank"].as_str().unwrap_or_default();
    assert!(bank.starts_with("0x") && bank.len() == 42, "{v}");
    assert!(
        v["depositEvent"]
            .as_str()
            .unwrap_or_default()
            .contains("amount = 10000000000000000"),
        "{v}"
    );
    assert_eq!(v["totalDeposits"], "10000000000000000", "{v}");
    let withdraw = v["withdrawError"].as_str().unwrap_or_default();
    assert!(
        withdraw.contains("Bank: insufficient balance"),
        "revert reason shown: {v}"
    );
    let pasted = v["pasted"].as_str().unwrap_or_default();
    assert!(
        pasted.len() == 42 && pasted != bank,
        "pasted artifact deployed: {v}"
    );
    let code = common::rpc(&l.url, "eth_getCode", serde_json::json!([bank, "latest"]));
    assert!(
        code.as_ref()
            .and_then(|c| c.as_str())
            .is_some_and(|c| c.len() > 2),
        "code at {bank}: {code:?}"
    );
    for f in [
        "dashboard.png",
        "dashboard-killed.png",
        "dashboard-contracts.png",
    ] {
        assert!(artifacts.join(f).is_file(), "screenshot {f} written");
    }
}

/// `<cargo target dir>/artifacts/dashboard` (this test binary lives in `<target>/<profile>/deps`).
fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe
        .ancestors()
        .nth(3)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("artifacts/dashboard")
}
