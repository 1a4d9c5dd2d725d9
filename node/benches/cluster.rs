//! Four committee members as real `tc-node` processes on loopback (libp2p, RocksDB, revm,
//! ed25519): committed tx/s and submit→commit latency over JSON-RPC. Prints figures; asserts
//! nothing. Run: `cargo bench -p tc-node --bench cluster` (env `TC_BENCH_TXS`, `TC_BENCH_RATE`).
//!
//! 1. latency: value transfers submitted at a fixed rate (default 1,000 tx/s for 5 s), one
//!    `eth_sendRawTransaction` per request; commit time = when a poller first sees the block on
//!    node-0 (5 ms polls, so figures carry up to 5 ms of polling slack);
//! 2. throughput: pre-signed transfers from 100 senders pushed as fast as possible in JSON-RPC
//!    batches of 500 to all four nodes; committed tx/s from the first submit to the last commit.
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy_eips::eip2718::Encodable2718 as _;
use alloy_primitives::{Address, U256};
use serde_json::{Value, json};
use tc_node::keys::{TxParams, dev_signers, sign_eip1559};
use tc_node::testnet::{TestnetSpec, generate};

const NODES: usize = 4;
const SENDERS: u32 = 100;

struct Procs(Vec<Child>);
impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn rpc(url: &str, body: &Value) -> anyhow::Result<Value> {
    Ok(ureq::post(url).send_json(body)?.body_mut().read_json()?)
}

fn free_base(n: u16) -> anyhow::Result<u16> {
    for _ in 0..200 {
        let base = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        if base < 65_000 - n
            && (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return Ok(base);
        }
    }
    anyhow::bail!("no free port range")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Sees new blocks on `url` and records when each tx hash was first seen committed.
fn poller(url: String, seen: Arc<Mutex<HashMap<String, Instant>>>, stop: Arc<Mutex<bool>>) {
    let mut next = 1u64;
    while !*stop.lock().unwrap_or_else(|e| e.into_inner()) {
        let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[format!("{next:#x}"), false]});
        match rpc(&url, &body) {
            Ok(v) if v["result"].is_object() => {
                let now = Instant::now();
                let mut s = seen.lock().unwrap_or_else(|e| e.into_inner());
                for h in v["result"]["transactions"].as_array().into_iter().flatten() {
                    if let Some(h) = h.as_str() {
                        s.entry(h.to_string()).or_insert(now);
                    }
                }
                next += 1;
            }
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("TC_BENCH_TXS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rate: u64 = std::env::var("TC_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let dir = tempfile::tempdir()?;
    let base = free_base(2 * NODES as u16)?;
    let mut spec = TestnetSpec {
        nodes: NODES,
        committee_size: NODES,
        http_port: base,
        p2p_port: base + NODES as u16,
        dev_accounts: SENDERS,
        ..Default::default()
    };
    // One long epoch: this measures the steady state (rotation gaps are measured elsewhere).
    spec.hybrid.epoch_length = 1_000;
    spec.base.consensus.block_interval_ms = 20;
    spec.base.consensus.empty_block_interval_ms = 500;
    spec.base.consensus.max_block_txs = 5_000;
    spec.base.mempool.max_nonce_gap = 100_000;
    spec.base.mempool.max_count = 200_000;
    spec.base.snail.hashrate_cap = 5_000;
    spec.base.node.log_level = "warn".into();
    let nodes = generate(dir.path(), &spec)?;
    let bin = env!("CARGO_BIN_EXE_tc-node");
    let mut procs = Procs(Vec::new());
    for n in &nodes {
        let log = std::fs::File::create(n.dir.join("node.log"))?;
        procs.0.push(
            Command::new(bin)
                .args(["run", "--config"])
                .arg(&n.config)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?,
        );
    }
    let urls: Vec<String> = nodes.iter().map(|n| format!("http://{}", n.http)).collect();
    let started = Instant::now();
    loop {
        let r = rpc(
            &urls[0],
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}),
        );
        if r.is_ok_and(|v| v["result"].as_str().is_some_and(|s| s != "0x0")) {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "no first commit in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "4-member committee up, first commit after {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Pre-sign everything (not measured).
    let signers = dev_signers(SENDERS)?;
    let latency_n = (rate * 5) as usize;
    let per_sender = (total + latency_n).div_ceil(SENDERS as usize) as u64;
    let mut by_sender: Vec<Vec<(String, String)>> = Vec::new();
    for s in &signers {
        let mut v = Vec::new();
        for nonce in 0..per_sender {
            let tx = sign_eip1559(
                s,
                &TxParams {
                    chain_id: 1337,
                    nonce,
                    to: Some(Address::repeat_byte(0x77)),
                    value: U256::from(1),
                    input: Default::default(),
                    gas_limit: 21_000,
                    max_fee_per_gas: 3_000_000_000,
                    max_priority_fee_per_gas: 1_000_000_000,
                },
            )?;
            v.push((
                format!("{:#x}", tx.tx_hash()),
                format!("0x{}", alloy_primitives::hex::encode(tx.encoded_2718())),
            ));
        }
        by_sender.push(v);
    }
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let stop = Arc::new(Mutex::new(false));
    let poll = {
        let (u, s, st) = (urls[0].clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || poller(u, s, st))
    };

    // 1. Latency at a fixed rate: round-robin over senders, sender i always to node i % 4.
    let mut submitted: Vec<(String, Instant)> = Vec::new();
    let t0 = Instant::now();
    let mut cursor = vec![0usize; SENDERS as usize];
    for k in 0..latency_n {
        let due = t0 + Duration::from_micros(k as u64 * 1_000_000 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let s = k % SENDERS as usize;
        let (hash, raw) = &by_sender[s][cursor[s]];
        cursor[s] += 1;
        let at = Instant::now();
        let r = rpc(
            &urls[s % NODES],
            &json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]}),
        )?;
        anyhow::ensure!(r.get("error").is_none(), "submit refused: {r}");
        submitted.push((hash.clone(), at));
    }
    let wait_all = |hashes: &[(String, Instant)]| -> anyhow::Result<Vec<f64>> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            {
                let s = seen.lock().unwrap_or_else(|e| e.into_inner());
                if hashes.iter().all(|(h, _)| s.contains_key(h)) {
                    let mut lat: Vec<f64> = hashes
                        .iter()
                        .filter_map(|(h, at)| {
                            s.get(h).map(|c| c.duration_since(*at).as_secs_f64() * 1e3)
                        })
                        .collect();
                    lat.sort_by(f64::total_cmp);
                    return Ok(lat);
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "not all transactions committed in 120 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let lat = wait_all(&submitted)?;
    println!(
        "latency   {latency_n} transfers at {rate} tx/s: submit→commit p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );

    // 2. Throughput: the rest, in batches of 500 per node, 4 submitter threads.
    let t1 = Instant::now();
    let mut handles = Vec::new();
    let all = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
    for (node, url) in urls.iter().enumerate() {
        let url = url.clone();
        let mine: Vec<(String, String)> = (0..SENDERS as usize)
            .filter(|s| s % NODES == node)
            .flat_map(|s| by_sender[s][cursor[s]..].to_vec())
            .collect();
        let all = all.clone();
        handles.push(std::thread::spawn(move || -> anyhow::Result<()> {
            // Keep each sender's nonces in order: chunks of the per-sender-ordered list.
            for chunk in mine.chunks(500) {
                let batch: Vec<Value> = chunk
                    .iter()
                    .map(|(_, raw)| json!({"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[raw]}))
                    .collect();
                let at = Instant::now();
                let r = rpc(&url, &Value::Array(batch))?;
                if let Some(e) = r.as_array().and_then(|a| a.iter().find(|x| x.get("error").is_some())) {
                    anyhow::bail!("submit refused: {e}");
                }
                let mut a = all.lock().unwrap_or_else(|e| e.into_inner());
                a.extend(chunk.iter().map(|(h, _)| (h.clone(), at)));
            }
            Ok(())
        }));
    }
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("submitter panicked"))??;
    }
    let submit_s = t1.elapsed().as_secs_f64();
    let all = all.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lat2 = wait_all(&all)?;
    let last = {
        let s = seen.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter_map(|(h, _)| s.get(h)).max().copied()
    };
    let span = last.map_or(f64::NAN, |l| l.duration_since(t1).as_secs_f64());
    println!(
        "throughput {} transfers: submitted in {:.2} s, all committed after {:.2} s → {:.0} committed tx/s (p50 {:.0} ms, p99 {:.0} ms under saturation)",
        all.len(),
        submit_s,
        span,
        all.len() as f64 / span,
        percentile(&lat2, 0.5),
        percentile(&lat2, 0.99),
    );
    *stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
    let _ = poll.join();
    drop(procs);
    Ok(())
}
