//! A real Ethereum client, unchanged: ethers v6 (npm, `e2e/js`) deploys the Bank contract to a
//! running `tc-node`, deposits, transfers, withdraws, reads events and a revert reason.
//! Needs Node.js and `npm ci --prefix e2e/js` (`./dev.sh test` does both).
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

#[test]
fn ethers_deploys_and_uses_bank() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let js = root.join("e2e/js");
    assert!(
        js.join("node_modules/ethers").is_dir(),
        "ethers is not installed: run `npm ci --prefix e2e/js` (./dev.sh test does it)"
    );
    let node = common::TestNode::init(100, 2_000);
    let _node = node.start();
    let url = node.url.clone();
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
    assert!(
        status.success(),
        "ethers script failed:\n{stdout}\n{stderr}\nnode log:\n{}",
        std::fs::read_to_string(node.log_path()).unwrap_or_default()
    );
    assert!(
        stdout.contains("ok: deploy, deposit, transfer, withdraw, events, revert reason"),
        "{stdout}"
    );
}
