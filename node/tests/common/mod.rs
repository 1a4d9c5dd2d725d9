//! Helpers shared by the process tests: spawn `tc-node` from a fresh `init`, JSON-RPC calls,
//! and waits that always have a deadline.
#![allow(dead_code, unreachable_pub)]
pub mod cluster;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_tc-node");

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port free right now, chosen at random below Linux's ephemeral range (32768–60999): the
/// `tcp/0` listeners (libp2p) of nodes running concurrently take ephemeral ports, and one of them
/// could otherwise grab this port before the node under test binds it.
pub fn free_port() -> u16 {
    for _ in 0..1_000 {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A base port with `n` free consecutive ports.
pub fn free_ports(n: u16) -> u16 {
    for _ in 0..200 {
        let base = free_port();
        if base > 65_000 - n {
            continue;
        }
        if (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports");
}

pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn rpc(url: &str, method: &str, params: Value) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut resp = ureq::post(url)
        .send_json(&body)
        .map_err(|e| e.to_string())?;
    let v: Value = resp.body_mut().read_json().map_err(|e| e.to_string())?;
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    }
}

pub fn hex_u64(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .expect("hex quantity")
}

/// A node directory made by `tc-node init`, with fast block intervals for tests.
pub struct TestNode {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub url: String,
    pub config: PathBuf,
}

impl TestNode {
    pub fn init(block_interval_ms: u64, empty_block_interval_ms: u64) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let port = free_port();
        let out = Command::new(BIN)
            .args(["init", "--dir"])
            .arg(dir.path())
            .args(["--http", &format!("127.0.0.1:{port}")])
            .output()
            .expect("init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("node.toml");
        let text = std::fs::read_to_string(&config)
            .expect("read config")
            .replace(
                "empty_block_interval_ms = 1000",
                &format!("empty_block_interval_ms = {empty_block_interval_ms}"),
            )
            .replace(
                "\nblock_interval_ms = 500",
                &format!("\nblock_interval_ms = {block_interval_ms}"),
            );
        std::fs::write(&config, text).expect("write config");
        Self {
            dir,
            port,
            url: format!("http://127.0.0.1:{port}"),
            config,
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// Start `tc-node run` and wait until JSON-RPC answers (fails with the node's log if it exits).
    pub fn start(&self) -> Proc {
        start(&self.config, &self.url, &self.log_path())
    }
}

pub fn start(config: &Path, url: &str, log: &Path) -> Proc {
    let file = std::fs::File::create(log).expect("log file");
    let out = file.try_clone().expect("log file");
    let child = Command::new(BIN)
        .args(["run", "--config"])
        .arg(config)
        .stdout(out)
        .stderr(file)
        .spawn()
        .expect("spawn");
    let mut p = Proc(child);
    // This process must be the one answering: another process that took the port first would
    // answer too, while ours exits on "bind api.http" (the log names the address once bound).
    let addr = url.trim_start_matches("http://").to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Ok(Some(status)) = p.0.try_wait() {
            panic!("tc-node exited with {status}:\n{text}");
        }
        let bound = text
            .lines()
            .any(|l| l.contains(&addr) && !l.contains("bind"));
        if bound && rpc(url, "eth_blockNumber", json!([])).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 30s waiting for tc-node to serve JSON-RPC on {addr}:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    p
}

/// Raw EIP-2718 bytes of an EIP-1559 transaction signed by dev account `dev`
/// (max fee 3 gwei, tip 1 gwei).
pub fn raw_tx(
    dev: u32,
    chain_id: u64,
    nonce: u64,
    to: Option<alloy_primitives::Address>,
    value: alloy_primitives::U256,
    input: alloy_primitives::Bytes,
    gas_limit: u64,
) -> alloy_primitives::Bytes {
    let params = tc_node::keys::TxParams {
        chain_id,
        nonce,
        to,
        value,
        input,
        gas_limit,
        max_fee_per_gas: 3_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
    };
    let tx =
        tc_node::keys::sign_eip1559(&tc_node::keys::dev_signer(dev).expect("dev key"), &params)
            .expect("sign");
    alloy_primitives::Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(&tx))
}

/// POST a raw body (JSON-RPC or GraphQL) and parse the JSON answer.
pub fn raw_post(url: &str, body: &str) -> Value {
    let mut resp = ureq::post(url)
        .header("content-type", "application/json")
        .send(body)
        .expect("post");
    resp.body_mut().read_json().expect("json")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run a real-client script to completion within `secs` (killed after); its stdout, or a panic
/// with its output and the node's log.
pub fn run_client(mut cmd: Command, what: &str, secs: u64, node_log: &Path) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let log = std::fs::read_to_string(node_log).unwrap_or_default();
    match status {
        None => panic!("{what} timed out after {secs}s:\n{stdout}\n{stderr}\nnode log:\n{log}"),
        Some(s) if !s.success() => {
            panic!("{what} failed ({s}):\n{stdout}\n{stderr}\nnode log:\n{log}")
        }
        Some(_) => stdout,
    }
}

/// The value of the Prometheus sample whose line starts with `sample` (name and labels) at
/// `{url}/metrics`, if the node serves it.
pub fn metric(url: &str, sample: &str) -> Option<f64> {
    let text = ureq::get(&format!("{url}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(sample) && l[sample.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
