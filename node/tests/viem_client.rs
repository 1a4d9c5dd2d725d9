//! A real Ethereum client, unchanged: viem (npm, `e2e/js/bank_viem.mjs`) deploys the Bank
//! contract over HTTP, deposits, reads the balance, checks the receipt and the `Deposit` log, and
//! watches new heads and the log over the node's WebSocket (`eth_subscribe`).
//! Needs Node.js and `npm ci --prefix e2e/js` (`./dev.sh test` does both).
use std::process::Command;

mod common;

#[test]
fn viem_deploys_bank_and_subscribes_over_websocket() {
    let root = common::repo_root();
    let js = root.join("e2e/js");
    assert!(
        js.join("node_modules/viem").is_dir(),
        "viem is not installed: run `npm ci --prefix e2e/js` (./dev.sh test does it)"
    );
    let node = common::TestNode::init(100, 500);
    let _node = node.start();
    let mut cmd = Command::new("node");
    cmd.arg(js.join("bank_viem.mjs"))
        .arg(&node.url)
        .arg(root.join("node/exec/contracts/Bank.json"));
    let stdout = common::run_client(cmd, "viem script", 120, &node.log_path());
    assert!(
        stdout.contains("ok: viem deploy, deposit, balance, receipt, Deposit log, newHeads"),
        "{stdout}"
    );
}
