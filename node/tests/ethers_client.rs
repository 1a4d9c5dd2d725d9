//! A real Ethereum client, unchanged: ethers v6 (npm, `e2e/js`) deploys the Bank contract to a
//! running `tc-node`, deposits, transfers, withdraws, reads events and a revert reason.
//! Needs Node.js and `npm ci --prefix e2e/js` (`./dev.sh test` does both).
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tc-node");

struct Proc(std::process::Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ethers_deploys_and_uses_bank() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let js = root.join("e2e/js");
    assert!(
        js.join("node_modules/ethers").is_dir(),
        "ethers is not installed: run `npm ci --prefix e2e/js` (./dev.sh test does it)"
    );
    let dir = tempfile::tempdir().expect("tmp");
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let out = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--http", &format!("127.0.0.1:{port}")])
        .output()
        .expect("init");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cfg = dir.path().join("node.toml");
    let text = std::fs::read_to_string(&cfg).expect("read").replace("block_interval_ms = 500", "block_interval_ms = 100");
    std::fs::write(&cfg, text).expect("write");
    let log = std::fs::File::create(dir.path().join("node.log")).expect("log");
    let _node = Proc(
        Command::new(BIN).args(["run", "--config"]).arg(&cfg).stdout(Stdio::null()).stderr(log).spawn().expect("spawn"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "node did not open its RPC port");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut child = Command::new("node")
        .arg(js.join("bank.mjs"))
        .arg(&url)
        .arg(root.join("node/exec/contracts/Bank.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run node (Node.js) — is it installed?");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ethers script timed out after 120s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(status.success(), "ethers script failed:\n{stdout}\n{stderr}\nnode log:\n{}",
        std::fs::read_to_string(dir.path().join("node.log")).unwrap_or_default());
    assert!(stdout.contains("ok: deploy, deposit, transfer, withdraw, events, revert reason"), "{stdout}");
}
