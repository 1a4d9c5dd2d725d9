//! Helpers shared by the process tests: free ports, deadlines, HTTP calls, and a running
//! `devnet up` ([`Launcher`]); nodes without the launcher in [`nodes`].
#![allow(dead_code, unreachable_pub)]
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub mod nodes;

pub const DEVNET: &str = env!("CARGO_BIN_EXE_devnet");

/// `tc-node` next to `devnet` (built by `cargo test --workspace`; built here otherwise).
pub fn node_bin() -> PathBuf {
    let dir = Path::new(DEVNET).parent().expect("bin dir");
    let bin = dir.join("tc-node");
    if !bin.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-p", "tc-node", "--bin", "tc-node"]);
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build -p tc-node");
        assert!(status.success(), "cargo build -p tc-node failed");
    }
    assert!(bin.is_file(), "no tc-node at {}", bin.display());
    bin
}

/// A base port with `n` free consecutive ports, avoiding `taken`.
pub fn free_ports(n: u16, taken: &[(u16, u16)]) -> u16 {
    for _ in 0..500 {
        let base = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        if base > 65_000 - n {
            continue;
        }
        let clash = taken.iter().any(|(b, k)| base < b + k && *b < base + n);
        if !clash && (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
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
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// (status, x-devnet-node, JSON body)
pub fn post(
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, String, Value), String> {
    let mut req = agent().post(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut resp = match body {
        Some(b) => req.send_json(&b),
        None => req.send_empty(),
    }
    .map_err(|e| e.to_string())?;
    let node = resp
        .headers()
        .get("x-devnet-node")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let status = resp.status().as_u16();
    let v: Value = resp.body_mut().read_json().map_err(|e| e.to_string())?;
    Ok((status, node, v))
}

pub fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

/// JSON-RPC `eth_blockNumber` at `url`: (answering node, number).
pub fn block_number(url: &str) -> Option<(String, u64)> {
    let (status, node, v) = post(
        url,
        None,
        Some(json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []})),
    )
    .ok()?;
    let n = u64::from_str_radix(v["result"].as_str()?.strip_prefix("0x")?, 16).ok()?;
    (status == 200).then_some((node, n))
}

/// Open a WebSocket at `path` through the launcher; the upgrade answer and what follows it.
pub fn ws_first_message(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !String::from_utf8_lossy(&got).contains("hello") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim().to_string()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// A running `devnet up`; SIGKILLed on drop (its nodes die with it: PR_SET_PDEATHSIG).
pub struct Launcher {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    /// The data dir.
    pub dir: PathBuf,
    /// `http://<ports.http>`
    pub url: String,
}

impl Launcher {
    pub fn start(dir: &Path, args: &[String]) -> Self {
        let mut child = Command::new(DEVNET)
            .arg("up")
            .args(args)
            .arg("--node-bin")
            .arg(node_bin())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn devnet");
        let out = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    out.lock().expect("lock").push(line);
                }
            });
        }
        let http = args
            .iter()
            .position(|a| a == "--http")
            .and_then(|i| args.get(i + 1))
            .expect("--http");
        Self {
            child,
            out,
            dir: dir.into(),
            url: format!("http://{http}"),
        }
    }

    /// The launcher's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn output(&self) -> String {
        self.out.lock().expect("lock").join("\n")
    }

    pub fn logs(&self) -> String {
        let mut s = self.output();
        for i in 0..6 {
            let log = self.dir.join(format!("node-{i}/node.log"));
            if let Ok(text) = std::fs::read_to_string(&log) {
                let tail: Vec<&str> = text.lines().rev().take(10).collect();
                s.push_str(&format!("\n--- node-{i}\n"));
                s.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            }
        }
        s
    }

    /// Wait for `devnet: ready`; `Err(output and logs)` if the launcher exits first.
    pub fn wait_ready(&mut self, secs: u64) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if self.output().contains("devnet: ready") {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(200));
                return Err(format!("devnet exited with {status}:\n{}", self.logs()));
            }
            assert!(
                Instant::now() < deadline,
                "devnet not ready after {secs}s:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The launcher's exit status, once it has exited.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("admin.token"))
            .expect("admin.token")
            .trim()
            .to_string()
    }

    /// Ctrl-C, then wait for a clean exit.
    pub fn interrupt(&mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        let status = wait_for("devnet to exit after SIGINT", 60, || {
            self.child.try_wait().ok().flatten()
        });
        assert!(status.success(), "devnet exit {status}:\n{}", self.logs());
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn nodes(l: &Launcher, token: &str) -> Vec<Value> {
    let (status, v) = get(&format!("{}/admin/nodes", l.url), Some(token));
    assert_eq!(status, 200, "{v}");
    v.as_array().cloned().expect("array")
}

pub fn pid_of(n: &Value) -> u32 {
    n["pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .expect("pid")
}

pub fn admin(l: &Launcher, token: &str, path: &str) -> Value {
    let (status, _, v) = post(&format!("{}/admin/{path}", l.url), Some(token), None)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(status == 200 || status == 201, "{path}: {status} {v}");
    v
}

pub const SPEC: &str = r#"
[chain]
epoch_length = 6
lambda = 1
switch_margin = 6
min_epoch_blocks = 4
snail_interval_ms = 700
hashrate_cap = 20000

[consensus]
block_interval_ms = 100
empty_block_interval_ms = 400
view_timeout_ms = 1500

[launcher]
stop_grace_ms = 5000
startup_timeout_s = 120
"#;

/// `devnet up --fresh` on free ports (room for `port_span` nodes) with `spec`, data in `dir`
/// and `extra` flags, ready (first commit seen). Free ports can be taken by another process
/// before the nodes bind them: then it starts over on new ones (a few times). Returns the
/// launcher and the flags without `--fresh` (to resume).
pub fn start_devnet(
    spec: &Path,
    dir: &Path,
    port_span: u16,
    extra: &[&str],
) -> (Launcher, Vec<String>) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let http = free_ports(1, &[]);
        let node_http = free_ports(port_span, &[(http, 1)]);
        let node_p2p = free_ports(port_span, &[(http, 1), (node_http, port_span)]);
        let mut args: Vec<String> = [
            "--spec",
            &spec.display().to_string(),
            "--dir",
            &dir.display().to_string(),
            "--http",
            &format!("127.0.0.1:{http}"),
            "--node-http-port",
            &node_http.to_string(),
            "--node-p2p-port",
            &node_p2p.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut fresh = args.clone();
        fresh.push("--fresh".into());
        let mut l = Launcher::start(dir, &fresh);
        match l.wait_ready(150) {
            Ok(()) => return (l, args),
            Err(out) if attempt < 3 && out.contains("in use") => {
                eprintln!("attempt {attempt}: a port was taken, retrying:\n{out}");
            }
            Err(out) => panic!("{out}"),
        }
    }
}

/// One JSON-RPC call straight to `url`: the result, or `None` on any failure.
pub fn rpc(url: &str, method: &str, params: Value) -> Option<Value> {
    let (status, _, v) = post(
        url,
        None,
        Some(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})),
    )
    .ok()?;
    (status == 200 && v.get("error").is_none()).then(|| v["result"].clone())
}

/// A hex quantity as a number.
pub fn hex_u64(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}
