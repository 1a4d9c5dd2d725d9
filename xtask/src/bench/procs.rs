//! Child processes of the bench (devnets, anvil, Hardhat, ganache), ports and JSON-RPC.
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Result;

/// A child process stopped (SIGINT, then SIGKILL after `grace`) when dropped.
#[derive(Debug)]
pub(crate) struct Proc {
    child: Child,
    name: String,
    log: PathBuf,
    grace: Duration,
}

impl Proc {
    /// Start `cmd` with stdout and stderr in `log`.
    pub(crate) fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Self> {
        let file = std::fs::File::create(log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = file
            .try_clone()
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name} ({cmd:?}): {e}"))?;
        Ok(Self {
            child,
            name: name.into(),
            log: log.into(),
            grace: Duration::from_secs(15),
        })
    }

    /// `Err` with the log's tail when the process has exited.
    pub(crate) fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{} exited ({status}); last log lines ({}):\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 15)
            )),
            Err(e) => Err(format!("{}: {e}", self.name)),
        }
    }

    /// Wait until `ready()` holds, the process dies, or `timeout` passes.
    pub(crate) fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut() -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                return Err(format!(
                    "{}: no {what} within {} s; last log lines ({}):\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.log.display(),
                    tail(&self.log, 15)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM: the devnet launcher stops its nodes on it; anvil, Hardhat and ganache exit.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + self.grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `n` lines of a file.
pub(crate) fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A free loopback port.
pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// A base port with `n` consecutive free ports, none of them in `avoid`.
pub(crate) fn free_range(n: u16, avoid: &[(u16, u16)]) -> Result<u16> {
    for _ in 0..200 {
        let base = free_port()?;
        let end = u32::from(base) + u32::from(n);
        if end >= 65_000 {
            continue;
        }
        let clash = avoid
            .iter()
            .any(|&(b, len)| u32::from(base) < u32::from(b) + u32::from(len) && u32::from(b) < end);
        if !clash && (0..n).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return Ok(base);
        }
    }
    Err(format!("no range of {n} free ports"))
}

/// A keep-alive JSON-RPC client (5 s timeout).
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

/// `method(params)` → `result`.
pub(crate) fn rpc(agent: &ureq::Agent, url: &str, method: &str, params: Value) -> Result<Value> {
    let v: Value = agent
        .post(url)
        .send_json(json!({"jsonrpc":"2.0","id":1,"method":method,"params":params}))
        .map_err(|e| format!("{url} {method}: {e}"))?
        .body_mut()
        .read_json()
        .map_err(|e| format!("{url} {method}: answer is not JSON: {e}"))?;
    match v.get("error") {
        Some(e) => Err(format!("{url} {method}: {e}")),
        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    }
}

/// A hex quantity (`"0x1a"`).
pub(crate) fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// The endpoint's latest block number, if it answers.
pub(crate) fn block_number(agent: &ureq::Agent, url: &str) -> Option<u64> {
    rpc(agent, url, "eth_blockNumber", json!([]))
        .ok()
        .as_ref()
        .and_then(quantity)
}
