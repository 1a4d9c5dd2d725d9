//! A real Ethereum client, unchanged: web3.py (PyPI, pinned in `e2e/py/requirements.txt` and
//! `constraints.txt`) deploys the Bank contract over HTTP, deposits, reads the balance, checks
//! the receipt and the `Deposit` log, and subscribes to new heads and the log over the node's
//! WebSocket (`eth_subscribe`). Needs the venv `e2e/py/.venv` (`./dev.sh test` makes it).
use std::process::Command;

mod common;

#[test]
fn web3py_deploys_bank_and_subscribes_over_websocket() {
    let root = common::repo_root();
    let py = root.join("e2e/py");
    let python = py.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "web3.py is not installed: run `python3 -m venv e2e/py/.venv && e2e/py/.venv/bin/pip install -r e2e/py/requirements.txt -c e2e/py/constraints.txt` (./dev.sh test does it)"
    );
    let node = common::TestNode::init(100, 500);
    let _node = node.start();
    let mut cmd = Command::new(python);
    cmd.arg(py.join("bank_web3.py"))
        .arg(&node.url)
        .arg(root.join("node/exec/contracts/Bank.json"));
    let stdout = common::run_client(cmd, "web3.py script", 120, &node.log_path());
    assert!(
        stdout.contains("ok: web3.py deploy, deposit, balance, receipt, Deposit log, newHeads"),
        "{stdout}"
    );
}
