//! Two `tc-node` processes whose genesis files differ only in a hybrid parameter (the election
//! window length): their genesis hashes differ, so they refuse each other as "on another chain"
//! — the follower never takes a block from the member, however long the member commits.
mod common;

use common::{Proc, hex_u64, rpc, wait_for};
use serde_json::json;
use tc_node::genesis::Genesis;
use tc_node::testnet::{TestnetSpec, generate};

#[test]
fn nodes_with_different_hybrid_parameters_refuse_each_other() {
    let dir = tempfile::tempdir().expect("tmp");
    let ports = common::free_ports(4);
    let mut spec = TestnetSpec {
        nodes: 2,
        committee_size: 1,
        http_port: ports,
        p2p_port: ports + 2,
        ..Default::default()
    };
    spec.base.consensus.block_interval_ms = 50;
    spec.base.consensus.empty_block_interval_ms = 200;
    spec.base.consensus.sync_interval_ms = 200;
    spec.base.network.ping_interval_ms = 500;
    let nodes = generate(dir.path(), &spec).expect("generate");
    // node-1 (a follower) gets a genesis that differs in hybrid.epoch_length only.
    let path = nodes[1].dir.join("genesis.json");
    let mut g: Genesis =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("genesis")).expect("parse");
    g.hybrid.epoch_length += 1;
    std::fs::write(&path, serde_json::to_string_pretty(&g).expect("json")).expect("write");

    let urls: Vec<String> = nodes.iter().map(|n| format!("http://{}", n.http)).collect();
    let logs: Vec<_> = nodes.iter().map(|n| n.dir.join("node.log")).collect();
    let _procs: Vec<Proc> = (0..2)
        .map(|i| common::start(&nodes[i].config, &urls[i], &logs[i]))
        .collect();
    let genesis = |i: usize| {
        rpc(&urls[i], "eth_getBlockByNumber", json!(["0x0", false])).expect("genesis")["hash"]
            .clone()
    };
    assert_ne!(
        genesis(0),
        genesis(1),
        "hybrid parameters must change the genesis hash"
    );

    // They connect, compare genesis and penalise each other.
    let log_tail = || {
        logs.iter()
            .map(|l| std::fs::read_to_string(l).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    wait_for("node-1 to refuse node-0 as on another chain", 60, || {
        std::fs::read_to_string(&logs[1])
            .unwrap_or_default()
            .contains("on another chain")
            .then_some(())
    });
    assert!(
        common::metric(&urls[1], "tc_peer_penalties_total").is_some_and(|n| n >= 1.0),
        "{}",
        log_tail()
    );
    // The member keeps committing; the follower stays at genesis.
    wait_for("node-0 to commit 10 blocks", 60, || {
        rpc(&urls[0], "eth_blockNumber", json!([]))
            .ok()
            .filter(|n| hex_u64(n) >= 10)
    });
    let follower = hex_u64(&rpc(&urls[1], "eth_blockNumber", json!([])).expect("head"));
    assert_eq!(
        follower,
        0,
        "node-1 took blocks of another chain:\n{}",
        log_tail()
    );
}
