//! `devnet up` as a real process with real `tc-node` children: first commit, JSON-RPC and
//! GraphQL through the launcher's one address, the admin API (token checks, kill, pause,
//! resume, restart, add), failover when the upstream node is killed, catch-up after restart,
//! Ctrl-C leaving no processes behind, and `up` again resuming the same chain. Every wait has
//! a deadline.
#![allow(unreachable_pub)]
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DEVNET: &str = env!("CARGO_BIN_EXE_devnet");

/// `tc-node` next to `devnet` (built by `cargo test --workspace`; built here otherwise).
fn node_bin() -> PathBuf {
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
fn free_ports(n: u16, taken: &[(u16, u16)]) -> u16 {
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

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
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

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// (status, x-devnet-node, JSON body)
fn post(
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

fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or(Value::Null))
}

/// JSON-RPC `eth_blockNumber` at `url`: (answering node, number).
fn block_number(url: &str) -> Option<(String, u64)> {
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
fn ws_first_message(url: &str, path: &str) -> String {
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

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit(')').next().map(|r| r.trim().to_string()))
        .is_some_and(|rest| !rest.starts_with('Z'))
}

/// A running `devnet up`; SIGKILLed on drop (its nodes die with it: PR_SET_PDEATHSIG).
struct Launcher {
    child: Child,
    out: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
    url: String,
}

impl Launcher {
    fn start(dir: &Path, args: &[String]) -> Self {
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

    fn output(&self) -> String {
        self.out.lock().expect("lock").join("\n")
    }

    fn logs(&self) -> String {
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
    fn wait_ready(&mut self, secs: u64) -> Result<(), String> {
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

    fn token(&self) -> String {
        std::fs::read_to_string(self.dir.join("admin.token"))
            .expect("admin.token")
            .trim()
            .to_string()
    }

    /// Ctrl-C, then wait for a clean exit.
    fn interrupt(&mut self) {
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

fn nodes(l: &Launcher, token: &str) -> Vec<Value> {
    let (status, v) = get(&format!("{}/admin/nodes", l.url), Some(token));
    assert_eq!(status, 200, "{v}");
    v.as_array().cloned().expect("array")
}

fn pid_of(n: &Value) -> u32 {
    n["pid"]
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .expect("pid")
}

fn admin(l: &Launcher, token: &str, path: &str) -> Value {
    let (status, _, v) = post(&format!("{}/admin/{path}", l.url), Some(token), None)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(status == 200 || status == 201, "{path}: {status} {v}");
    v
}

const SPEC: &str = r#"
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

#[test]
fn up_fails_over_restarts_adds_and_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("net");
    // Free ports can be taken by another process before the nodes bind them: then start over
    // on new ones (a few times).
    let mut attempt = 0;
    let (mut l, args) = loop {
        attempt += 1;
        let http = free_ports(1, &[]);
        let node_http = free_ports(6, &[(http, 1)]);
        let node_p2p = free_ports(6, &[(http, 1), (node_http, 6)]);
        let args: Vec<String> = [
            "--spec",
            &spec.display().to_string(),
            "--dir",
            &dir.display().to_string(),
            "--nodes",
            "4",
            "--committee",
            "4",
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
        let mut fresh = args.clone();
        fresh.push("--fresh".into());
        let mut l = Launcher::start(&dir, &fresh);
        match l.wait_ready(150) {
            Ok(()) => break (l, args),
            Err(out) if attempt < 3 && out.contains("in use") => {
                eprintln!("attempt {attempt}: a port was taken, retrying:\n{out}");
            }
            Err(out) => panic!("{out}"),
        }
    };
    assert!(dir.join("devnet.pid").is_file());
    let token = l.token();
    assert_eq!(token.len(), 64);

    // The admin API wants the token.
    let (status, _, v) =
        post(&format!("{}/admin/nodes/node-0/kill", l.url), None, None).expect("post");
    assert_eq!(status, 401);
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("missing admin token") && msg.contains("admin.token"),
        "{msg}"
    );
    let (status, v) = get(&format!("{}/admin/nodes", l.url), Some("0123"));
    assert_eq!(status, 401);
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("wrong admin token"),
        "{v}"
    );

    // JSON-RPC and GraphQL through the one address; the admin API names the upstream.
    let (upstream, head) = block_number(&l.url).expect("eth_blockNumber via the launcher");
    assert!(head >= 1);
    let list = nodes(&l, &token);
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|n| n["status"] == "running"), "{list:?}");
    let mut pids: Vec<u32> = list.iter().map(pid_of).collect();
    let up_entry = list
        .iter()
        .find(|n| n["upstream"] == true)
        .expect("an upstream node");
    assert_eq!(up_entry["name"], upstream.as_str());
    let (_, _, gql) = post(
        &format!("{}/graphql", l.url),
        None,
        Some(json!({"query": "{ block { number } }"})),
    )
    .expect("graphql");
    assert!(gql["data"]["block"]["number"].is_string(), "{gql}");
    let ws = ws_first_message(&l.url, "/events");
    assert!(ws.starts_with("HTTP/1.1 101"), "{ws}");
    assert!(ws.contains(r#""type":"hello""#), "{ws}");
    let (status, v) = get(&format!("{}/feed", l.url), None);
    assert_eq!(status, 501, "{v}");
    let page = agent()
        .get(&l.url)
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .expect("GET /");
    assert!(page.contains("dashboard"), "{page}");

    // Kill the upstream node: the launcher keeps answering from another, and the chain goes on.
    let killed = admin(&l, &token, &format!("nodes/{upstream}/kill"));
    assert_eq!(killed["status"], "killed", "{killed}");
    let (other, n1) = block_number(&l.url).expect("eth_blockNumber after the kill");
    assert_ne!(other, upstream);
    wait_for(
        &format!("commits without {upstream}\n{}", l.logs()),
        60,
        || block_number(&l.url).filter(|(_, n)| *n > n1 + 2),
    );

    // Pause and resume another node.
    let paused = admin(&l, &token, &format!("nodes/{other}/pause"));
    assert_eq!(paused["status"], "paused");
    let (via, _) = block_number(&l.url).expect("eth_blockNumber with one paused");
    assert!(via != other && via != upstream, "{via}");
    assert_eq!(
        admin(&l, &token, &format!("nodes/{other}/resume"))["status"],
        "running"
    );

    // Restart the killed node: it catches up with the others.
    let restarted = admin(&l, &token, &format!("nodes/{upstream}/restart"));
    assert_eq!(restarted["status"], "running");
    pids.push(pid_of(&restarted));
    let direct = |name: &str| {
        let n = nodes(&l, &token);
        let e = n.iter().find(|e| e["name"] == name).cloned().expect("node");
        block_number(&format!("http://{}", e["http"].as_str().expect("http"))).map(|(_, h)| h)
    };
    wait_for(&format!("{upstream} to catch up\n{}", l.logs()), 90, || {
        let mine = direct(&upstream)?;
        let top = block_number(&l.url)?.1;
        (mine + 3 >= top).then_some(())
    });

    // Add a node: new key, same genesis; it syncs.
    let added = admin(&l, &token, "nodes");
    assert_eq!(added["name"], "node-4", "{added}");
    pids.push(pid_of(&added));
    wait_for(&format!("node-4 to sync\n{}", l.logs()), 90, || {
        let mine = direct("node-4")?;
        let top = block_number(&l.url)?.1;
        (mine > 0 && mine + 3 >= top).then_some(())
    });

    let (_, actions) = get(&format!("{}/admin/actions", l.url), Some(&token));
    let kinds: Vec<&str> = actions
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    for k in ["start", "kill", "pause", "resume", "restart", "add"] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }

    // Ctrl-C: every node process is gone, and so are the pid and token files.
    let head_before = block_number(&l.url).expect("head").1;
    l.interrupt();
    for pid in &pids {
        wait_for(&format!("pid {pid} to be gone"), 10, || {
            (!alive(*pid)).then_some(())
        });
    }
    assert!(!dir.join("devnet.pid").exists());
    assert!(!dir.join("admin.token").exists());
    drop(l);

    // `up` again resumes the same chain, with the added node.
    let mut l = Launcher::start(&dir, &args);
    l.wait_ready(150).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.output().contains("resuming the devnet"), "{}", l.output());
    assert_eq!(nodes(&l, &l.token()).len(), 5);
    let (_, head) = block_number(&l.url).expect("head after resume");
    assert!(head > head_before, "{head} <= {head_before}");
    let pids: Vec<u32> = nodes(&l, &l.token()).iter().map(pid_of).collect();
    l.interrupt();
    for pid in &pids {
        wait_for(&format!("pid {pid} to be gone"), 10, || {
            (!alive(*pid)).then_some(())
        });
    }
}

#[test]
fn bad_spec_values_are_refused_with_the_field() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("bad.toml");
    std::fs::write(&spec, "[chain]\nepoch_length = 5\nlambda = 7\n").expect("spec");
    let run = |args: &[&str]| {
        let out = Command::new(DEVNET)
            .arg("up")
            .args(args)
            .output()
            .expect("run devnet");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--spec", &spec.display().to_string()]);
    assert!(
        e.contains("bad.toml: chain.lambda: must be between 0 and 4 (got 7)"),
        "{e}"
    );
    let e = run(&["--nodes", "3", "--committee", "5"]);
    assert!(
        e.contains("committee: must be between 1 and 3 (got 5)"),
        "{e}"
    );
    std::fs::write(&spec, "nodes = 4\n[ports]\nnode_htp = 1\n").expect("spec");
    let e = run(&["--spec", &spec.display().to_string()]);
    assert!(e.contains("node_htp"), "{e}");
}
