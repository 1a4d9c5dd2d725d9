//! Load generator: the seed's bank-ledger workload over plain Ethereum JSON-RPC, so the same
//! load runs against a trueconsensus devnet and against anvil, Hardhat or ganache.
//!
//! * **Senders** are the dev accounts of `test test … junk` (index 0.., the accounts every
//!   Ethereum devnet funds). A sender holding less than 1 ETH is funded from account 0 first.
//! * **Kinds**: `transfer` = 1 wei value transfers to a fixed sink; `bank` = `Bank.transfer(to,
//!   1)` between senders (each sender deposits 1 ETH first; Bank is used at its genesis address
//!   when it has code there, otherwise deployed from account 0).
//! * **Pacing**: `rate` submits one `eth_sendRawTransaction` per request at a fixed rate;
//!   `max` pushes pre-signed transactions in JSON-RPC batches as fast as the endpoint takes
//!   them. Every transaction is signed before the clock starts; each sender's transactions go
//!   out in nonce order from one worker thread (to `urls[sender % urls.len()]`).
//! * **Commit time** = when a poller of `urls[0]` first sees the transaction in a block (1 ms
//!   polls of `eth_blockNumber`, blocks fetched in batches), so figures carry up to ~1 ms of
//!   polling slack and the cost of the poller's own requests.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use alloy_eips::eip2718::Encodable2718 as _;
use alloy_primitives::{Address, Bytes, U256};
use serde_json::{Value, json};
use tc_node::keys::{TxParams, dev_signers, sign_eip1559};

/// What each transaction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// 1 wei value transfer to a fixed sink (21,000 gas).
    Transfer,
    /// `Bank.transfer(other sender, 1)` (ledger move, one log).
    Bank,
}

/// How fast transactions are submitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// A fixed rate in tx/s, one transaction per request.
    Rate(f64),
    /// As fast as possible, `batch` transactions per JSON-RPC batch request.
    Max {
        /// Transactions per batch request.
        batch: usize,
    },
}

/// One load run.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// What the transactions do.
    pub kind: LoadKind,
    /// Submission pacing.
    pub pace: Pace,
    /// Number of measured transactions.
    pub txs: usize,
    /// Number of sending dev accounts (1..=1000).
    pub senders: u32,
    /// Submitting threads (each owns the senders `s` with `s % workers == w`).
    pub workers: usize,
    /// How long to wait for the last commit after the last submission.
    pub commit_timeout: Duration,
    /// Seeds the choice of Bank transfer recipients.
    pub seed: u64,
    /// EIP-1559 max fee per gas of every transaction, wei (default 3 gwei; raise it for an
    /// endpoint whose base fee is higher).
    pub max_fee_per_gas: u128,
    /// EIP-1559 priority fee per gas, wei (default 1 gwei; at most `max_fee_per_gas`).
    pub max_priority_fee_per_gas: u128,
}

impl Default for LoadSpec {
    fn default() -> Self {
        Self {
            kind: LoadKind::Transfer,
            pace: Pace::Rate(100.0),
            txs: 1_000,
            senders: 10,
            workers: 4,
            commit_timeout: Duration::from_secs(60),
            seed: 1,
            max_fee_per_gas: DEFAULT_MAX_FEE,
            max_priority_fee_per_gas: DEFAULT_TIP,
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LoadReport {
    /// Chain id the endpoint reported.
    pub chain_id: u64,
    /// Transactions submitted.
    pub submitted: usize,
    /// Accepted by the endpoint (a hash came back).
    pub accepted: usize,
    /// Refused by the endpoint.
    pub rejected: usize,
    /// The first few refusal messages.
    pub rejections: Vec<String>,
    /// Accepted and seen in a block before the deadline.
    pub committed: usize,
    /// Hashes of accepted transactions (0x-hex), in submission order.
    pub accepted_hashes: Vec<String>,
    /// Accepted but never seen in a block (0x-hex).
    pub lost: Vec<String>,
    /// Seconds from the first submission to the last submission.
    pub submit_secs: f64,
    /// Seconds from the first submission to the last commit.
    pub total_secs: f64,
    /// committed / total_secs.
    pub committed_per_sec: f64,
    /// submitted / submit_secs.
    pub submitted_per_sec: f64,
    /// Submit→commit latency percentiles in ms (p50, p90, p99, max).
    pub latency_ms: Percentiles,
    /// Blocks that carried measured transactions.
    pub blocks: usize,
    /// Intervals between consecutive blocks seen by the poller while the load ran, ms.
    pub block_interval_ms: Percentiles,
}

/// Percentiles of a sample.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Percentiles {
    /// Percentiles of `v` (NaN when empty).
    pub fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        let at = |p: f64| -> f64 {
            if v.is_empty() {
                return f64::NAN;
            }
            v[(((v.len() - 1) as f64) * p).round() as usize]
        };
        Self {
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Why a run could not be carried out (refused transactions are counted, not errors).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The endpoint did not answer or answered something that is not JSON-RPC.
    #[error("{url}: {method}: {reason}")]
    Rpc {
        /// Endpoint.
        url: String,
        /// Method called.
        method: String,
        /// What went wrong.
        reason: String,
    },
    /// A spec field is out of range.
    #[error("load spec: {0}")]
    Spec(String),
    /// Setup (funding, deployment, deposits) did not complete.
    #[error("load setup: {0}")]
    Setup(String),
}

/// A JSON-RPC client over one keep-alive HTTP agent.
#[derive(Clone, Debug)]
pub struct Rpc {
    agent: ureq::Agent,
}

impl Default for Rpc {
    fn default() -> Self {
        Self::new()
    }
}

impl Rpc {
    /// A client with a 30 s timeout per request.
    pub fn new() -> Self {
        Self {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
        }
    }

    fn post(&self, url: &str, method: &str, body: &Value) -> Result<Value, LoadError> {
        let err = |reason: String| LoadError::Rpc {
            url: url.into(),
            method: method.into(),
            reason,
        };
        self.agent
            .post(url)
            .send_json(body)
            .map_err(|e| err(e.to_string()))?
            .body_mut()
            .read_json::<Value>()
            .map_err(|e| err(format!("answer is not JSON: {e}")))
    }

    /// `method(params)`: the `result`, or the JSON-RPC error as [`LoadError::Rpc`].
    pub fn call(&self, url: &str, method: &str, params: Value) -> Result<Value, LoadError> {
        let v = self.post(
            url,
            method,
            &json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}),
        )?;
        match v.get("error") {
            Some(e) => Err(LoadError::Rpc {
                url: url.into(),
                method: method.into(),
                reason: e.to_string(),
            }),
            None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// A batch of `(method, params)`; answers in request order (`Err` = that call's error).
    pub fn batch(
        &self,
        url: &str,
        calls: &[(&str, Value)],
    ) -> Result<Vec<Result<Value, String>>, LoadError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let body: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (m, p))| json!({"jsonrpc":"2.0","id":i,"method":m,"params":p}))
            .collect();
        let v = self.post(url, calls[0].0, &Value::Array(body))?;
        let Value::Array(items) = v else {
            return Err(LoadError::Rpc {
                url: url.into(),
                method: "batch".into(),
                reason: format!("batch answer is not an array: {v}"),
            });
        };
        let mut out: Vec<Result<Value, String>> =
            vec![Err("no answer in the batch".into()); calls.len()];
        for item in items {
            let Some(i) = item.get("id").and_then(Value::as_u64) else {
                continue;
            };
            if let Some(slot) = out.get_mut(i as usize) {
                *slot = match item.get("error") {
                    Some(e) => Err(e.to_string()),
                    None => Ok(item.get("result").cloned().unwrap_or(Value::Null)),
                };
            }
        }
        Ok(out)
    }

    fn u64_of(&self, url: &str, method: &str, params: Value) -> Result<u64, LoadError> {
        let v = self.call(url, method, params)?;
        v.as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| LoadError::Rpc {
                url: url.into(),
                method: method.into(),
                reason: format!("expected a hex quantity, got {v}"),
            })
    }
}

/// A pre-signed transaction.
struct Signed {
    hash: String,
    raw: String,
}

/// Where the load sends the non-Bank transfers.
pub const SINK: Address = Address::repeat_byte(0x77);
/// Default [`LoadSpec::max_fee_per_gas`]: 3 gwei.
pub const DEFAULT_MAX_FEE: u128 = 3_000_000_000;
/// Default [`LoadSpec::max_priority_fee_per_gas`]: 1 gwei.
pub const DEFAULT_TIP: u128 = 1_000_000_000;

struct Chain<'a> {
    rpc: &'a Rpc,
    url: &'a str,
    chain_id: u64,
    max_fee: u128,
    tip: u128,
}

impl Chain<'_> {
    fn sign(
        &self,
        s: &alloy_signer_local::PrivateKeySigner,
        nonce: u64,
        to: Option<Address>,
        value: U256,
        input: Bytes,
        gas_limit: u64,
    ) -> Result<Signed, LoadError> {
        let tx = sign_eip1559(
            s,
            &TxParams {
                chain_id: self.chain_id,
                nonce,
                to,
                value,
                input,
                gas_limit,
                max_fee_per_gas: self.max_fee,
                max_priority_fee_per_gas: self.tip,
            },
        )
        .map_err(|e| LoadError::Setup(e.to_string()))?;
        Ok(Signed {
            hash: format!("{:#x}", tx.tx_hash()),
            raw: format!("0x{}", alloy_primitives::hex::encode(tx.encoded_2718())),
        })
    }

    /// Submit setup transactions and wait (60 s) until each has a successful receipt.
    fn settle(&self, txs: Vec<Signed>, what: &str) -> Result<Vec<Value>, LoadError> {
        for t in &txs {
            self.rpc
                .call(self.url, "eth_sendRawTransaction", json!([t.raw]))
                .map_err(|e| LoadError::Setup(format!("{what}: {e}")))?;
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut receipts = Vec::new();
        for t in &txs {
            loop {
                let r = self
                    .rpc
                    .call(self.url, "eth_getTransactionReceipt", json!([t.hash]))?;
                if r.is_object() {
                    if r["status"] != "0x1" {
                        return Err(LoadError::Setup(format!("{what}: {} reverted", t.hash)));
                    }
                    receipts.push(r);
                    break;
                }
                if Instant::now() > deadline {
                    return Err(LoadError::Setup(format!(
                        "{what}: {} not committed within 60 s",
                        t.hash
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(receipts)
    }
}

/// Runs `spec` against `urls` (JSON-RPC over HTTP; `urls[0]` is polled for commits).
pub fn run(urls: &[String], spec: &LoadSpec) -> Result<LoadReport, LoadError> {
    if urls.is_empty() {
        return Err(LoadError::Spec("no endpoint".into()));
    }
    if !(1..=1000).contains(&spec.senders) {
        return Err(LoadError::Spec(format!(
            "senders = {} (expected 1..=1000)",
            spec.senders
        )));
    }
    if spec.workers == 0 || spec.txs == 0 {
        return Err(LoadError::Spec("workers and txs must be at least 1".into()));
    }
    match spec.pace {
        Pace::Rate(r) if !(r.is_finite() && r > 0.0) => {
            return Err(LoadError::Spec(format!("rate = {r} (expected > 0)")));
        }
        Pace::Max { batch: 0 } => return Err(LoadError::Spec("batch must be at least 1".into())),
        _ => {}
    }
    if spec.max_fee_per_gas == 0 || spec.max_priority_fee_per_gas > spec.max_fee_per_gas {
        return Err(LoadError::Spec(format!(
            "max fee per gas = {} wei, priority fee = {} wei (expected 0 < priority fee ≤ max fee)",
            spec.max_fee_per_gas, spec.max_priority_fee_per_gas
        )));
    }
    let rpc = Rpc::new();
    let url = urls[0].as_str();
    let chain = Chain {
        rpc: &rpc,
        url,
        chain_id: rpc.u64_of(url, "eth_chainId", json!([]))?,
        max_fee: spec.max_fee_per_gas,
        tip: spec.max_priority_fee_per_gas,
    };
    let signers = dev_signers(spec.senders).map_err(|e| LoadError::Setup(e.to_string()))?;
    let addrs: Vec<Address> = signers.iter().map(|s| s.address()).collect();
    let mut nonces = Vec::with_capacity(addrs.len());
    for a in &addrs {
        nonces.push(rpc.u64_of(url, "eth_getTransactionCount", json!([a, "pending"]))?);
    }

    // Fund senders that hold less than 1 ETH from account 0.
    let one_eth = U256::from(10u64).pow(U256::from(18));
    let mut funding = Vec::new();
    for (i, a) in addrs.iter().enumerate().skip(1) {
        let bal: U256 =
            serde_json::from_value(rpc.call(url, "eth_getBalance", json!([a, "latest"]))?)
                .map_err(|e| LoadError::Setup(format!("balance of {a}: {e}")))?;
        if bal < one_eth {
            funding.push(chain.sign(
                &signers[0],
                nonces[0],
                Some(addrs[i]),
                one_eth * U256::from(10),
                Bytes::new(),
                21_000,
            )?);
            nonces[0] += 1;
        }
    }
    chain.settle(funding, "funding senders from account 0")?;

    let bank = match spec.kind {
        LoadKind::Transfer => None,
        LoadKind::Bank => Some(bank_setup(&chain, &signers, &mut nonces)?),
    };

    // Pre-sign the measured transactions, round-robin over senders.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(spec.seed);
    let mut by_sender: Vec<Vec<(usize, Signed)>> = (0..signers.len()).map(|_| Vec::new()).collect();
    for k in 0..spec.txs {
        let s = k % signers.len();
        let (to, input, gas) = match bank {
            None => (SINK, Bytes::new(), 21_000),
            Some(bank) => {
                let mut r = rand::Rng::gen_range(&mut rng, 0..addrs.len());
                if r == s && addrs.len() > 1 {
                    r = (r + 1) % addrs.len();
                }
                (
                    bank,
                    tc_exec::bank::transfer_calldata(addrs[r], U256::from(1)),
                    80_000,
                )
            }
        };
        let value = if bank.is_some() {
            U256::ZERO
        } else {
            U256::from(1)
        };
        let t = chain.sign(&signers[s], nonces[s], Some(to), value, input, gas)?;
        nonces[s] += 1;
        by_sender[s].push((k, t));
    }

    let start_height = rpc.u64_of(url, "eth_blockNumber", json!([]))?;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (rpc, url, seen, stop) = (rpc.clone(), url.to_string(), seen.clone(), stop.clone());
        std::thread::spawn(move || poll(&rpc, &url, start_height + 1, &seen, &stop))
    };

    let t0 = Instant::now();
    let workers = spec.workers.min(signers.len());
    let mut queues: Vec<Vec<(usize, Signed)>> = (0..workers).map(|_| Vec::new()).collect();
    for (s, txs) in by_sender.into_iter().enumerate() {
        queues[s % workers].extend(txs);
    }
    let results: Vec<Vec<Submitted>> = std::thread::scope(|scope| {
        let handles: Vec<_> = queues
            .into_iter()
            .map(|mut q| {
                q.sort_by_key(|(k, _)| *k);
                let rpc = rpc.clone();
                let urls = urls.to_vec();
                let senders = signers.len();
                let pace = spec.pace;
                scope.spawn(move || submit(&rpc, &urls, senders, pace, t0, q))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut subs: Vec<Submitted> = results.into_iter().flatten().collect();
    subs.sort_by_key(|s| s.order);
    let submit_end = subs.iter().map(|s| s.at).max().unwrap_or(t0);

    let mut report = LoadReport {
        chain_id: chain.chain_id,
        submitted: subs.len(),
        ..Default::default()
    };
    for s in &subs {
        match &s.outcome {
            Ok(()) => {
                report.accepted += 1;
                report.accepted_hashes.push(s.hash.clone());
            }
            Err(e) => {
                report.rejected += 1;
                if report.rejections.len() < 5 {
                    report.rejections.push(e.clone());
                }
            }
        }
    }
    let deadline = Instant::now() + spec.commit_timeout;
    loop {
        let done = {
            let seen = lock(&seen);
            report
                .accepted_hashes
                .iter()
                .all(|h| seen.txs.contains_key(h))
        };
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    let seen = lock(&seen);
    let mut latencies = Vec::new();
    let mut last_commit = t0;
    let mut heights = std::collections::BTreeSet::new();
    for s in subs.iter().filter(|s| s.outcome.is_ok()) {
        match seen.txs.get(&s.hash) {
            Some(&(at, h)) => {
                latencies.push(at.saturating_duration_since(s.at).as_secs_f64() * 1e3);
                last_commit = last_commit.max(at);
                heights.insert(h);
            }
            None => report.lost.push(s.hash.clone()),
        }
    }
    report.committed = latencies.len();
    report.latency_ms = Percentiles::of(latencies);
    report.blocks = heights.len();
    report.submit_secs = submit_end.duration_since(t0).as_secs_f64();
    report.total_secs = last_commit.duration_since(t0).as_secs_f64();
    report.committed_per_sec = report.committed as f64 / report.total_secs.max(1e-9);
    report.submitted_per_sec = report.submitted as f64 / report.submit_secs.max(1e-9);
    let gaps: Vec<f64> = seen
        .blocks
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64() * 1e3)
        .collect();
    report.block_interval_ms = Percentiles::of(gaps);
    Ok(report)
}

/// [`run`] on a blocking thread, for async callers (scenarios).
pub async fn run_async(urls: Vec<String>, spec: LoadSpec) -> Result<LoadReport, LoadError> {
    tokio::task::spawn_blocking(move || run(&urls, &spec))
        .await
        .map_err(|e| LoadError::Setup(format!("load thread: {e}")))?
}

/// Bank address (genesis or freshly deployed) after every sender deposited 1 ETH.
fn bank_setup(
    chain: &Chain<'_>,
    signers: &[alloy_signer_local::PrivateKeySigner],
    nonces: &mut [u64],
) -> Result<Address, LoadError> {
    let code = chain.rpc.call(
        chain.url,
        "eth_getCode",
        json!([tc_exec::bank::BANK_ADDRESS, "latest"]),
    )?;
    let bank = if code.as_str().is_some_and(|c| c.len() > 2) {
        tc_exec::bank::BANK_ADDRESS
    } else {
        let init = tc_exec::bank::creation_code().map_err(|e| LoadError::Setup(e.to_string()))?;
        let deploy = chain.sign(&signers[0], nonces[0], None, U256::ZERO, init, 1_000_000)?;
        nonces[0] += 1;
        let receipts = chain.settle(vec![deploy], "deploying Bank")?;
        receipts[0]["contractAddress"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| {
                LoadError::Setup("Bank deployment receipt has no contractAddress".into())
            })?
    };
    let mut deposits = Vec::new();
    for (s, n) in signers.iter().zip(nonces.iter_mut()) {
        deposits.push(chain.sign(
            s,
            *n,
            Some(bank),
            U256::from(10u64).pow(U256::from(18)),
            tc_exec::bank::deposit_calldata(),
            100_000,
        )?);
        *n += 1;
    }
    chain.settle(deposits, "Bank deposits")?;
    Ok(bank)
}

struct Submitted {
    order: usize,
    hash: String,
    at: Instant,
    outcome: Result<(), String>,
}

fn submit(
    rpc: &Rpc,
    urls: &[String],
    senders: usize,
    pace: Pace,
    t0: Instant,
    queue: Vec<(usize, Signed)>,
) -> Vec<Submitted> {
    // `order` is the global sequence k; its sender is k % senders.
    let mut out = Vec::with_capacity(queue.len());
    let url_of = |order: usize| &urls[(order % senders) % urls.len()];
    match pace {
        Pace::Rate(rate) => {
            for (order, t) in queue {
                let due = t0 + Duration::from_secs_f64(order as f64 / rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let at = Instant::now();
                let outcome = rpc
                    .call(url_of(order), "eth_sendRawTransaction", json!([t.raw]))
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                out.push(Submitted {
                    order,
                    hash: t.hash,
                    at,
                    outcome,
                });
            }
        }
        Pace::Max { batch } => {
            // Batches per endpoint, each keeping the senders' nonce order.
            let mut per_url: HashMap<&String, Vec<(usize, Signed)>> = HashMap::new();
            for (order, t) in queue {
                per_url.entry(url_of(order)).or_default().push((order, t));
            }
            let mut chunks: Vec<(&String, Vec<(usize, Signed)>)> = Vec::new();
            for (url, txs) in per_url {
                let mut it = txs.into_iter().peekable();
                while it.peek().is_some() {
                    chunks.push((url, it.by_ref().take(batch).collect()));
                }
            }
            // Interleave endpoints so every node gets work from the start.
            chunks.sort_by_key(|(_, c)| c.first().map_or(0, |(o, _)| *o));
            for (url, chunk) in chunks {
                let calls: Vec<(&str, Value)> = chunk
                    .iter()
                    .map(|(_, t)| ("eth_sendRawTransaction", json!([t.raw])))
                    .collect();
                let at = Instant::now();
                let answers = rpc
                    .batch(url, &calls)
                    .unwrap_or_else(|e| vec![Err(e.to_string()); calls.len()]);
                for ((order, t), a) in chunk.into_iter().zip(answers) {
                    out.push(Submitted {
                        order,
                        hash: t.hash,
                        at,
                        outcome: a.map(|_| ()),
                    });
                }
            }
        }
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct Seen {
    /// tx hash → (first seen, height).
    txs: HashMap<String, (Instant, u64)>,
    /// When each new block was first seen, in height order.
    blocks: Vec<Instant>,
}

fn poll(rpc: &Rpc, url: &str, mut next: u64, seen: &Mutex<Seen>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let head = match rpc.u64_of(url, "eth_blockNumber", json!([])) {
            Ok(h) => h,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        if head < next {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let upto = head.min(next + 63);
        let calls: Vec<(&str, Value)> = (next..=upto)
            .map(|h| ("eth_getBlockByNumber", json!([format!("{h:#x}"), false])))
            .collect();
        let Ok(blocks) = rpc.batch(url, &calls) else {
            continue;
        };
        let now = Instant::now();
        let mut s = lock(seen);
        // Heights up to the first one the endpoint could not give yet (some endpoints report a
        // head before every block below it answers); the rest is fetched again next round.
        let mut got = 0;
        for b in blocks {
            let Ok(b) = b else { break };
            if !b.is_object() {
                break;
            }
            let h = next + got;
            s.blocks.push(now);
            for t in b["transactions"].as_array().into_iter().flatten() {
                if let Some(t) = t.as_str() {
                    s.txs.entry(t.to_string()).or_insert((now, h));
                }
            }
            got += 1;
        }
        drop(s);
        if got == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        next += got;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_sample() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!((p.p50, p.p90, p.p99, p.max), (51.0, 90.0, 99.0, 100.0));
        assert!(Percentiles::of(Vec::new()).p50.is_nan());
    }

    #[test]
    fn bad_specs_are_refused_with_the_field() {
        let urls = vec!["http://127.0.0.1:9".to_string()];
        for (spec, want) in [
            (
                LoadSpec {
                    senders: 0,
                    ..Default::default()
                },
                "senders = 0",
            ),
            (
                LoadSpec {
                    pace: Pace::Rate(0.0),
                    ..Default::default()
                },
                "rate = 0",
            ),
            (
                LoadSpec {
                    pace: Pace::Max { batch: 0 },
                    ..Default::default()
                },
                "batch",
            ),
            (
                LoadSpec {
                    max_priority_fee_per_gas: 5_000_000_000,
                    ..Default::default()
                },
                "priority fee = 5000000000 wei",
            ),
        ] {
            let e = run(&urls, &spec)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want), "{e}");
        }
    }
}
