//! The launcher with real processes: the `devnet` binary starting real `tc-node` children.
//! Prints a table and writes `launcher.json` (`$TC_BENCH_OUT`, else `<target>/bench/`); asserts
//! nothing. Run: `cargo bench -p tc-devnet --bench launcher` (builds `tc-node` in the same
//! profile first when it is missing).
//!
//! 1. **Start-up**: `devnet up --fresh` (binaries built, data dir new) → first committed fast
//!    block, for 4 and 16 nodes. Two observations per run: the first `eth_blockNumber > 0`
//!    seen by this process polling the launcher's address every 50 ms (answered by the
//!    launcher's one upstream node), and the `devnet: ready` line (the launcher asks every
//!    node, every 500 ms). "first commit" is the earlier of the two; "ready" is reported too. Runs:
//!    Each poll gives up after 250 ms, so one slow answer (16 nodes starting on 2 cores) does
//!    not hold the next poll back. `TC_BENCH_UP_RUNS` (default 3) runs per size; the median
//!    is reported.
//! 2. **Feed fan-out**: 100 WebSocket clients on the launcher's `/feed` (4 nodes committing
//!    empty blocks every 200 ms) for `TC_BENCH_FEED_SECS` (default 20) s. Delivered events/s
//!    summed over clients; delivery latency of each event = the client's wall clock when the
//!    frame arrived − the event's `time_ms` (when the node emitted it; same machine, same
//!    clock, 1 ms resolution), so it covers node → launcher → client. Events inside
//!    snapshots (the `recent` window) are history and not counted.
#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tc_types::FeedMessage;
use tokio_tungstenite::tungstenite::Message;

use common::{DEVNET, Launcher, block_number, free_ports};

/// 4-node and 16-node devnets: the test suite's fast chain. With 16 nodes on 2 cores each
/// node's proof of work is capped lower so the machine is not saturated by mining alone.
fn spec(nodes: usize) -> String {
    let hashrate = if nodes > 8 { 5_000 } else { 20_000 };
    format!(
        r#"
nodes = {nodes}
committee = 4

[chain]
epoch_length = 6
lambda = 1
switch_margin = 6
min_epoch_blocks = 4
snail_interval_ms = 1000
hashrate_cap = {hashrate}

[consensus]
block_interval_ms = 100
empty_block_interval_ms = 200
view_timeout_ms = 2000

[launcher]
stop_grace_ms = 5000
startup_timeout_s = 300
node_log_level = "info"
"#
    )
}

struct Row {
    metric: String,
    value: f64,
    unit: &'static str,
    note: String,
}

fn row(metric: impl Into<String>, value: f64, unit: &'static str, note: impl Into<String>) -> Row {
    Row {
        metric: metric.into(),
        value,
        unit,
        note: note.into(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A base of `n` free consecutive ports in 20000..32000, below Linux's default ephemeral range
/// (32768–60999): after a few runs, closed client connections (TIME_WAIT, without
/// SO_REUSEADDR) occupy many ports in that range and 16 consecutive free ones are rare there.
fn free_range(n: u16, taken: &[(u16, u16)]) -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    for _ in 0..2_000 {
        let base = 20_000 + rand::random::<u16>() % (12_000 - n);
        let clash = taken.iter().any(|(b, k)| base < b + k && *b < base + n);
        if !clash && (0..n).all(|i| free(base + i)) {
            return base;
        }
    }
    free_ports(n, taken)
}

/// `devnet up --fresh` for `nodes` nodes on free ports in `dir`.
fn start(dir: &Path, nodes: usize) -> Launcher {
    let spec_path = dir.with_extension("toml");
    std::fs::write(&spec_path, spec(nodes)).expect("write spec");
    let span = u16::try_from(nodes).expect("nodes");
    let http = free_range(1, &[]);
    let node_http = free_range(span, &[(http, 1)]);
    let node_p2p = free_range(span, &[(http, 1), (node_http, span)]);
    let args: Vec<String> = [
        "--fresh".to_string(),
        "--spec".into(),
        spec_path.display().to_string(),
        "--dir".into(),
        dir.display().to_string(),
        "--http".into(),
        format!("127.0.0.1:{http}"),
        "--node-http-port".into(),
        node_http.to_string(),
        "--node-p2p-port".into(),
        node_p2p.to_string(),
    ]
    .into();
    Launcher::start(dir, &args)
}

/// `eth_blockNumber` through the launcher, giving up after 250 ms.
fn head(url: &str) -> Option<u64> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(250)))
        .build()
        .into();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []});
    let v: Value = agent
        .post(url)
        .send_json(&body)
        .ok()?
        .body_mut()
        .read_json()
        .ok()?;
    common::hex_u64(&v["result"])
}

/// One start-up: (first commit seen by polling, `devnet: ready`), seconds.
fn startup(dir: &Path, nodes: usize) -> (f64, f64) {
    let t0 = Instant::now();
    let mut l = start(dir, nodes);
    let deadline = t0 + Duration::from_secs(300);
    let mut first = None;
    let mut ready = None;
    while first.is_none() || ready.is_none() {
        assert!(
            Instant::now() < deadline,
            "{nodes} nodes: no commit within 300 s:\n{}",
            l.logs()
        );
        if first.is_none() && head(&l.url).is_some_and(|n| n > 0) {
            first = Some(t0.elapsed());
        }
        if ready.is_none() && l.output().contains("devnet: ready") {
            ready = Some(t0.elapsed());
        }
        if let Some(status) = l.exit_status() {
            panic!("devnet exited with {status}:\n{}", l.logs());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    l.interrupt();
    let secs = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64());
    (secs(first), secs(ready))
}

fn runs(default: usize) -> usize {
    std::env::var("TC_BENCH_UP_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

fn startup_rows(root: &Path, rows: &mut Vec<Row>) {
    for (nodes, n_runs) in [(4usize, runs(3)), (16, runs(3))] {
        let mut polled = Vec::new();
        let mut ready = Vec::new();
        for r in 0..n_runs {
            let dir = root.join(format!("up-{nodes}-{r}"));
            let (p, d) = startup(&dir, nodes);
            eprintln!(
                "{nodes} nodes, run {}: commit seen by polling {p:.2} s, ready {d:.2} s",
                r + 1
            );
            // Both are observations of a committed block; the earlier is the tighter bound.
            // (Polling asks the launcher's one upstream node, which may lag the others or be
            // starved of CPU; the launcher itself asks every node.)
            polled.push(p.min(d));
            ready.push(d);
            let _ = std::fs::remove_dir_all(&dir);
        }
        let range = |v: &[f64]| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("median of {n_runs} runs, min {lo:.2} s, max {hi:.2} s")
        };
        rows.push(row(
            format!("up_to_first_commit_{nodes}_nodes"),
            median(polled.clone()),
            "s",
            format!(
                "devnet up --fresh → first commit observed: the earlier of eth_blockNumber > 0 via the launcher (50 ms polls, 250 ms timeout) and 'ready'; {}",
                range(&polled)
            ),
        ));
        rows.push(row(
            format!("up_to_ready_{nodes}_nodes"),
            median(ready.clone()),
            "s",
            format!(
                "devnet up --fresh → 'devnet: ready' (launcher polls 500 ms); {}",
                range(&ready)
            ),
        ));
    }
}

#[derive(Default)]
struct ClientStats {
    events: u64,
    frames: u64,
    latencies_ms: Vec<f64>,
    resyncs: u64,
    closed: Option<String>,
}

/// One feed client: read until `end`, counting delta events and their delivery latency.
async fn feed_client(url: String, end: tokio::time::Instant) -> ClientStats {
    let mut st = ClientStats::default();
    let ws = match tokio_tungstenite::connect_async(&url).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            st.closed = Some(format!("connect: {e}"));
            return st;
        }
    };
    let (_, mut read) = ws.split();
    loop {
        let msg = match tokio::time::timeout_at(end, read.next()).await {
            Err(_) => break,
            Ok(None) => {
                st.closed = Some("closed by the launcher".into());
                break;
            }
            Ok(Some(Err(e))) => {
                st.closed = Some(e.to_string());
                break;
            }
            Ok(Some(Ok(m))) => m,
        };
        let Message::Text(t) = msg else { continue };
        let at = now_ms();
        st.frames += 1;
        match serde_json::from_str::<FeedMessage>(t.as_str()) {
            Ok(FeedMessage::Events { events }) => {
                for e in events {
                    st.events += 1;
                    st.latencies_ms.push(at.saturating_sub(e.time_ms) as f64);
                }
            }
            Ok(FeedMessage::Snapshot { resync: true, .. }) => st.resyncs += 1,
            Ok(_) => {}
            Err(e) => {
                st.closed = Some(format!("bad frame: {e}"));
                break;
            }
        }
    }
    st
}

fn feed_rows(root: &Path, rows: &mut Vec<Row>) {
    const CLIENTS: usize = 100;
    let secs: u64 = std::env::var("TC_BENCH_FEED_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(20);
    let dir = root.join("feed");
    let mut l = start(&dir, 4);
    l.wait_ready(300).unwrap_or_else(|e| panic!("{e}"));
    let ws_url = format!("{}/feed", l.url.replacen("http://", "ws://", 1));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let stats: Vec<ClientStats> = rt.block_on(async {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| tokio::spawn(feed_client(ws_url.clone(), end)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("client task"));
        }
        out
    });
    let head = block_number(&l.url).map_or(0, |(_, n)| n);
    l.interrupt();
    let _ = std::fs::remove_dir_all(&dir);

    let events: u64 = stats.iter().map(|s| s.events).sum();
    let frames: u64 = stats.iter().map(|s| s.frames).sum();
    let resyncs: u64 = stats.iter().map(|s| s.resyncs).sum();
    let dropped: Vec<&str> = stats.iter().filter_map(|s| s.closed.as_deref()).collect();
    let mut lat: Vec<f64> = stats
        .iter()
        .flat_map(|s| s.latencies_ms.iter().copied())
        .collect();
    lat.sort_by(f64::total_cmp);
    let per_client: Vec<f64> = stats
        .iter()
        .map(|s| s.events as f64 / secs as f64)
        .collect();
    let window = format!("{CLIENTS} clients, {secs} s, 4 nodes, chain head {head} at the end");
    rows.push(row(
        "feed_events_per_s_all_clients",
        events as f64 / secs as f64,
        "events/s",
        format!("node events delivered, summed over clients; {window}"),
    ));
    rows.push(row(
        "feed_events_per_s_per_client",
        median(per_client.clone()),
        "events/s",
        format!(
            "median client; min {:.1}",
            per_client.iter().copied().fold(f64::INFINITY, f64::min)
        ),
    ));
    rows.push(row(
        "feed_frames_per_s_all_clients",
        frames as f64 / secs as f64,
        "frames/s",
        "WebSocket text frames (batches ≤ 20 ms)",
    ));
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        rows.push(row(
            format!("feed_delivery_latency_{name}"),
            percentile(&lat, p),
            "ms",
            "client receive time − the event's time_ms (node emission), 1 ms clock resolution",
        ));
    }
    rows.push(row(
        "feed_delivery_latency_max",
        lat.last().copied().unwrap_or(f64::NAN),
        "ms",
        "",
    ));
    rows.push(row(
        "feed_resync_snapshots",
        resyncs as f64,
        "snapshots",
        "resync snapshots sent to lagging clients",
    ));
    rows.push(row(
        "feed_clients_dropped",
        dropped.len() as f64,
        "clients",
        dropped
            .first()
            .map_or(String::new(), |r| format!("first: {r}")),
    ));
}

/// `$TC_BENCH_OUT`, else `<target dir>/bench` (the `devnet` binary is in `<target>/<profile>/`).
fn out_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TC_BENCH_OUT") {
        return PathBuf::from(d);
    }
    Path::new(DEVNET)
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("bench"), |t| t.join("bench"))
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; a filter argument is not supported (it runs everything).
    let _ = common::node_bin();
    let tmp = tempfile::tempdir()?;
    let mut rows = Vec::new();
    let only = std::env::var("TC_BENCH_LAUNCHER").unwrap_or_default();
    if only.is_empty() || only == "startup" {
        startup_rows(tmp.path(), &mut rows);
    }
    if only.is_empty() || only == "feed" {
        feed_rows(tmp.path(), &mut rows);
    }

    println!("\nlauncher benchmark (devnet + tc-node processes on this machine)");
    println!("{:<36} {:>12}  {:<9} note", "metric", "value", "unit");
    for r in &rows {
        println!(
            "{:<36} {:>12.2}  {:<9} {}",
            r.metric, r.value, r.unit, r.note
        );
    }
    let json = json!({
        "bench": "launcher",
        "rows": rows.iter().map(|r| {
            let mut v = json!({"metric": r.metric, "value": r.value, "unit": r.unit});
            if !r.note.is_empty() {
                v["note"] = Value::from(r.note.clone());
            }
            v
        }).collect::<Vec<_>>(),
    });
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("launcher.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json)?)?;
    println!("wrote {}", path.display());
    Ok(())
}
