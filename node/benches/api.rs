//! API throughput of one real `tc-node` process (a single-member committee: RocksDB, revm,
//! libp2p up) on loopback: GraphQL `block(number)` and JSON-RPC `eth_getBalance`, each driven
//! by concurrent keep-alive clients for a fixed time. Prints a table and writes
//! `$TC_BENCH_OUT/api.json` (default `<target dir>/bench/api.json`). Asserts nothing about
//! speed; a wrong or failed answer aborts the run.
//!
//! Run: `cargo bench -p tc-node --bench api` (env `TC_BENCH_CLIENTS`, default 8;
//! `TC_BENCH_SECS` per measurement, default 5; `TC_BENCH_BLOCKS` before measuring, default 200).
mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> anyhow::Result<Value> {
    Ok(agent.post(url).send_json(body)?.body_mut().read_json()?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Requests/s and latencies (ms, sorted) of `clients` threads running `call` for `secs`.
/// `call(agent, i)` makes request number `i` of its thread and checks the answer.
fn drive(
    clients: u64,
    secs: u64,
    call: impl Fn(&ureq::Agent, u64) -> anyhow::Result<()> + Send + Sync + 'static,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let call = Arc::new(call);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|t| {
            let (call, stop) = (call.clone(), stop.clone());
            std::thread::spawn(move || -> anyhow::Result<Vec<f64>> {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                let mut lat = Vec::new();
                let mut i = t * 1_000_003;
                while !stop.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    call(&agent, i)?;
                    lat.push(at.elapsed().as_secs_f64() * 1e3);
                    i += 1;
                }
                Ok(lat)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in threads {
        all.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("client thread panicked"))??,
        );
    }
    let took = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Ok((all.len() as f64 / took, all))
}

fn main() -> anyhow::Result<()> {
    let clients = common::env_or("TC_BENCH_CLIENTS", 8).max(1);
    let secs = common::env_or("TC_BENCH_SECS", 5).max(1);
    let blocks = common::env_or("TC_BENCH_BLOCKS", 200).max(1);
    let bin = env!("CARGO_BIN_EXE_tc-node");
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let init = Command::new(bin)
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--http", &format!("127.0.0.1:{port}")])
        .output()?;
    anyhow::ensure!(
        init.status.success(),
        "tc-node init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let config = dir.path().join("node.toml");
    let original =
        std::fs::read_to_string(&config)?.replace("log_level = \"info\"", "log_level = \"warn\"");
    let with_interval = |ms: u64| {
        original
            .replace(
                "empty_block_interval_ms = 1000",
                &format!("empty_block_interval_ms = {ms}"),
            )
            .replace("\nblock_interval_ms = 500", "\nblock_interval_ms = 10")
    };
    let url = format!("http://127.0.0.1:{port}");
    let gql_url = format!("{url}/graphql");
    let agent = ureq::Agent::new_with_defaults();
    let head_of = |agent: &ureq::Agent| -> Option<u64> {
        let v = post(
            agent,
            &url,
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}),
        )
        .ok()?;
        u64::from_str_radix(v["result"].as_str()?.trim_start_matches("0x"), 16).ok()
    };
    let start = || -> anyhow::Result<Proc> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("node.log"))?;
        Ok(Proc(
            Command::new(bin)
                .args(["run", "--config"])
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        ))
    };
    let wait = |what: &str, ok: &dyn Fn() -> bool| -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !ok() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "timed out after 120 s waiting for {what} (log: {})",
                dir.path().join("node.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    };
    // Build the chain fast (an empty block every 10 ms), then stop the node (SIGTERM: it
    // flushes) and measure on a restart that adds an empty block only every second.
    let started = Instant::now();
    std::fs::write(&config, with_interval(10))?;
    let mut node = start()?;
    wait(&format!("{blocks} blocks"), &|| {
        head_of(&agent).is_some_and(|n| n >= blocks)
    })?;
    let status = Command::new("kill")
        .args(["-TERM", &node.0.id().to_string()])
        .status()?;
    anyhow::ensure!(status.success(), "kill -TERM {} failed", node.0.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    while node.0.try_wait()?.is_none() {
        anyhow::ensure!(
            Instant::now() < deadline,
            "tc-node did not stop within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(node);
    std::fs::write(&config, with_interval(1_000))?;
    let _node = start()?;
    wait("the restarted node", &|| head_of(&agent).is_some())?;
    let head = head_of(&agent).ok_or_else(|| anyhow::anyhow!("no head after restart"))?;
    println!(
        "tc-node up with {head} blocks after {:.1} s; {clients} clients, {secs} s per measurement",
        started.elapsed().as_secs_f64()
    );

    // GraphQL block(number): numbers spread over the stored chain.
    let (gql_qps, gql_lat) = drive(clients, secs, move |agent, i| {
        let n = 1 + (i.wrapping_mul(7_919)) % head;
        let v = post(
            agent,
            &gql_url,
            &json!({"query": format!("{{ block(number: {n}) {{ number hash gasUsed }} }}")}),
        )?;
        let got = v["data"]["block"]["number"].as_str().unwrap_or_default();
        anyhow::ensure!(got == format!("{n:#x}"), "block({n}) answered {v}");
        Ok(())
    })?;

    // JSON-RPC eth_getBalance of the dev accounts at the latest block.
    let signers = tc_node::keys::dev_signers(8)?;
    let accounts: Vec<String> = signers
        .iter()
        .map(|s| format!("{:#x}", s.address()))
        .collect();
    let rpc_url = url.clone();
    let (rpc_qps, rpc_lat) = drive(clients, secs, move |agent, i| {
        let a = &accounts[(i % accounts.len() as u64) as usize];
        let v = post(
            agent,
            &rpc_url,
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[a, "latest"]}),
        )?;
        anyhow::ensure!(
            v["result"]
                .as_str()
                .is_some_and(|b| b.starts_with("0x") && b != "0x0"),
            "eth_getBalance({a}) answered {v}"
        );
        Ok(())
    })?;

    let note = format!("{clients} concurrent keep-alive clients, {secs} s, loopback, one node");
    let rows = [
        ("graphql_block_qps", gql_qps, "queries/s"),
        ("graphql_block_p50", percentile(&gql_lat, 0.5), "ms"),
        ("graphql_block_p99", percentile(&gql_lat, 0.99), "ms"),
        ("rpc_get_balance_qps", rpc_qps, "requests/s"),
        ("rpc_get_balance_p50", percentile(&rpc_lat, 0.5), "ms"),
        ("rpc_get_balance_p99", percentile(&rpc_lat, 0.99), "ms"),
    ];
    println!("{:<22} {:>12}  unit", "metric", "value");
    for (m, v, u) in &rows {
        println!("{m:<22} {v:>12.2}  {u}");
    }
    common::write_json(
        "api",
        rows.iter()
            .map(|(m, v, u)| json!({"metric": m, "value": v, "unit": u, "note": note}))
            .collect(),
    )
}
