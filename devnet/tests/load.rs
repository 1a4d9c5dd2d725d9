//! The load generator against a real solo `tc-node`: both workloads, both pacings; every
//! accepted transaction is committed and the figures are filled in. Speeds are not asserted.
mod common;

use std::time::Duration;

use common::nodes::TestNode;
use tc_devnet::load::{LoadKind, LoadSpec, Pace, run};

#[test]
fn transfer_and_bank_loads_commit_everything() {
    let node = TestNode::init("load-0", 500);
    let _proc = node.start();
    let urls = vec![format!("http://{}", node.addr)];
    for (kind, pace, senders) in [
        (LoadKind::Transfer, Pace::Rate(200.0), 4),
        (LoadKind::Transfer, Pace::Max { batch: 50 }, 12),
        (LoadKind::Bank, Pace::Max { batch: 50 }, 5),
    ] {
        let spec = LoadSpec {
            kind,
            pace,
            txs: 300,
            senders,
            workers: 3,
            commit_timeout: Duration::from_secs(60),
            seed: 7,
            ..Default::default()
        };
        let r = run(&urls, &spec).unwrap_or_else(|e| panic!("{kind:?} {pace:?}: {e}"));
        assert_eq!(r.chain_id, 1337);
        assert_eq!(
            (r.submitted, r.accepted, r.rejected),
            (300, 300, 0),
            "{r:?}"
        );
        assert_eq!(r.committed, 300, "lost: {:?}", r.lost);
        assert!(r.lost.is_empty() && r.blocks >= 1);
        assert!(r.latency_ms.p50 > 0.0 && r.latency_ms.p50 <= r.latency_ms.max);
        assert!(r.committed_per_sec > 0.0);
    }
    // Senders 5..12 were funded by account 0 in the second run: their balance is 10 ETH less
    // what they spent on gas and value.
    let bal = common::rpc(
        &urls[0],
        "eth_getBalance",
        serde_json::json!(["0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "latest"]),
    );
    assert!(bal.is_some());
}

#[test]
fn an_endpoint_that_is_not_there_is_a_clear_error() {
    let port = common::free_ports(1, &[]);
    let e = run(&[format!("http://127.0.0.1:{port}")], &LoadSpec::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("eth_chainId"), "{e}");
}
