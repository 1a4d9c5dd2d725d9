//! Five `tc-node` processes on 127.0.0.1 (only bootnodes configured): they connect, mine the
//! snail chain, elect committees and rotate, commit submitted transactions, survive a SIGKILLed
//! committee member that restarts and catches up, and end on the same chains. Afterwards every
//! node's consensus log is checked for two different votes at one (epoch, view, seq).
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use alloy_primitives::{Address, Bytes, U256};
use common::cluster::{Cluster, assert_same_blocks, cluster, fault, wait_cluster};
use common::{hex_u64, raw_post, raw_tx, rpc};
use serde_json::{Value, json};

/// Committee members of `epoch` as node indices.
fn members(c: &Cluster, via: usize, epoch: u64) -> Vec<usize> {
    let q = format!(r#"{{"query":"{{ committee(epoch: {epoch}) {{ members {{ key }} }} }}"}}"#);
    let v = raw_post(&format!("{}/graphql", c.url(via)), &q);
    let keys: Vec<String> = v["data"]["committee"]["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m["key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    c.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| keys.contains(&n.key.to_string()))
        .map(|(i, _)| i)
        .collect()
}

fn submit(c: &Cluster, node: usize, dev: u32, nonce: u64) -> String {
    let raw = raw_tx(
        dev,
        1337,
        nonce,
        Some(Address::repeat_byte(0x42)),
        U256::from(1_000 + nonce),
        Bytes::new(),
        21_000,
    );
    rpc(&c.url(node), "eth_sendRawTransaction", json!([raw]))
        .unwrap_or_else(|e| panic!("submit to node-{node}: {e}"))
        .as_str()
        .expect("hash")
        .to_string()
}

fn receipt(c: &Cluster, node: usize, hash: &str) -> Option<Value> {
    rpc(&c.url(node), "eth_getTransactionReceipt", json!([hash]))
        .ok()
        .filter(|r| !r.is_null())
}

#[test]
fn five_nodes_commit_rotate_and_survive_a_sigkilled_member() {
    // Epochs of 12 snail blocks: the windows hold enough distinct miners that committees stay
    // at 4 members (f = 1), so one SIGKILLed member cannot stall them.
    let mut c = cluster(5, 4, 12);
    for i in 0..5 {
        c.start(i);
    }
    // Committees rotate: every node reaches epoch 2 (two handovers).
    wait_cluster(&c, "all nodes in epoch ≥ 2", 120, || {
        (0..5)
            .all(|i| c.head(i).is_some_and(|(_, e)| e >= 2))
            .then_some(())
    });

    // Load: transfers from three dev accounts, submitted round-robin to every node.
    let mut sent = Vec::new();
    let mut nonces: BTreeMap<u32, u64> = BTreeMap::new();
    let mut send_batch = |c: &Cluster, live: &[usize], k: usize, sent: &mut Vec<String>| {
        for j in 0..k {
            let dev = 1 + (j % 3) as u32;
            let nonce = nonces.entry(dev).or_insert(0);
            // One sender's transactions go to one node, so they arrive in nonce order.
            let node = live[dev as usize % live.len()];
            sent.push(submit(c, node, dev, *nonce));
            *nonce += 1;
        }
    };
    send_batch(&c, &[0, 1, 2, 3, 4], 30, &mut sent);

    // SIGKILL a member of the current committee under load.
    let (_, epoch) = c.head(0).expect("head");
    let current = members(&c, 0, epoch);
    assert!(!current.is_empty(), "committee of epoch {epoch} unknown");
    let victim = *current.last().expect("member");
    let before_kill = c.head(victim).map_or(0, |(n, _)| n);
    c.procs[victim] = None; // SIGKILL + reap
    let live: Vec<usize> = (0..5).filter(|i| *i != victim).collect();
    send_batch(&c, &live, 30, &mut sent);

    // Everything submitted commits on the live nodes.
    for h in &sent {
        wait_cluster(&c, &format!("receipt of {h}"), 90, || {
            receipt(&c, live[0], h)
        });
    }
    let live_head = c.head(live[0]).expect("head").0;
    assert!(live_head > before_kill);

    // The killed member restarts and catches up, nothing committed is lost.
    c.start(victim);
    wait_cluster(
        &c,
        &format!("node-{victim} to catch up to {live_head}"),
        90,
        || c.head(victim).filter(|(n, _)| *n >= live_head),
    );
    for h in &sent {
        assert!(receipt(&c, victim, h).is_some(), "node-{victim} lacks {h}");
    }
    // It takes part again: commits continue on all nodes, across another rotation.
    let (_, e_now) = c.head(live[0]).expect("head");
    wait_cluster(&c, "another rotation after the restart", 120, || {
        (0..5)
            .all(|i| c.head(i).is_some_and(|(_, e)| e > e_now))
            .then_some(())
    });

    // Agreement: the same block at every height on every node; the same snail chain below
    // the newest blocks.
    assert_same_blocks(&c);
    let snail = |i: usize, n: u64| {
        let q = format!(r#"{{"query":"{{ snailBlock(number: {n}) {{ hash }} }}"}}"#);
        raw_post(&format!("{}/graphql", c.url(i)), &q)["data"]["snailBlock"]["hash"].clone()
    };
    let snail_heads: Vec<u64> = (0..5)
        .map(|i| hex_u64(&rpc(&c.url(i), "tc_snailHead", json!([])).expect("snail head")["number"]))
        .collect();
    let deep = snail_heads
        .iter()
        .min()
        .copied()
        .unwrap_or(0)
        .saturating_sub(3);
    assert!(deep > 6, "snail chain too short: {snail_heads:?}");
    for i in 1..5 {
        assert_eq!(snail(i, deep), snail(0, deep), "node-{i} snail #{deep}");
    }

    // Stop everything; no node ever recorded two votes for one (epoch, kind, view, seq).
    for p in &mut c.procs {
        *p = None;
    }
    std::thread::sleep(Duration::from_millis(200));
    for (i, n) in c.nodes.iter().enumerate() {
        let chain = tc_storage::open_chain(&tc_storage::StorageConfig::at(n.dir.join("db")))
            .expect("open db");
        let mut votes: BTreeMap<(u64, String, u64, u64), alloy_primitives::B256> = BTreeMap::new();
        for epoch in 0..=e_now + 2 {
            let (records, _) = tc_node::consensus::read_log(&chain, epoch).expect("log");
            for r in records {
                if let tc_consensus::pbft::PersistRecord::Vote {
                    kind,
                    view,
                    seq,
                    digest,
                } = r
                {
                    let prev = votes.insert((epoch, kind.to_string(), view, seq), digest);
                    assert!(
                        prev.is_none_or(|d| d == digest),
                        "node-{i} voted twice at epoch {epoch} {kind} view {view} seq {seq}"
                    );
                }
            }
        }
    }
}

/// The node that proposed the head block.
fn proposer(c: &Cluster) -> (usize, u64) {
    let b = rpc(&c.url(0), "eth_getBlockByNumber", json!(["latest", false])).expect("head");
    let key = b["proposer"].as_str().expect("proposer").to_string();
    let i = c
        .nodes
        .iter()
        .position(|n| n.key.to_string() == key)
        .expect("proposer is a node");
    (i, hex_u64(&b["number"]))
}

#[test]
fn byzantine_primary_and_silent_member_do_not_stop_commits() {
    // One long epoch: the four genesis members stay the committee (f = 1).
    let mut c = cluster(4, 4, 1_000);
    for i in 0..4 {
        c.start(i);
    }
    wait_cluster(&c, "first blocks", 60, || {
        c.head(0).filter(|(n, _)| *n >= 3)
    });
    // The admin API refuses a wrong token and names a malformed fault.
    assert_eq!(
        fault(&c, 0, "nope", r#"{"fault":"byzantine","mode":"silent"}"#).0,
        401
    );
    let (st, v) = fault(
        &c,
        0,
        "devnet-token",
        r#"{"fault":"byzantine","mode":"sleepy"}"#,
    );
    assert_eq!(st, 400, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown variant `sleepy`"),
        "{v}"
    );

    // Peers: each node sees the other three, all members of epoch 0, with a ping round trip.
    for i in 0..4 {
        let peers = wait_cluster(&c, &format!("node-{i}'s peers pinged"), 30, || {
            let v = raw_post(
                &format!("{}/graphql", c.url(i)),
                r#"{"query":"{ peers { peerId address rttMicros memberKey committeeMember fastHead } }"}"#,
            );
            let peers = v["data"]["peers"].as_array()?.clone();
            (peers.len() == 3 && peers.iter().all(|p| !p["rttMicros"].is_null())).then_some(peers)
        });
        let mut keys: Vec<String> = peers
            .iter()
            .map(|p| {
                assert_eq!(p["committeeMember"], true, "{p}");
                assert!(
                    p["address"]
                        .as_str()
                        .is_some_and(|a| a.contains("/ip4/127.0.0.1/")),
                    "{p}"
                );
                assert!(hex_u64(&p["rttMicros"]) > 0, "{p}");
                let sample = format!(
                    "tc_peer_rtt_seconds{{peer=\"{}\"}}",
                    p["peerId"].as_str().unwrap_or("")
                );
                assert!(
                    common::metric(&c.url(i), &sample).is_some_and(|s| s > 0.0),
                    "{sample}"
                );
                p["memberKey"].as_str().expect("member key").to_string()
            })
            .collect();
        keys.sort();
        let mut others: Vec<String> = (0..4)
            .filter(|j| *j != i)
            .map(|j| c.nodes[j].key.to_string())
            .collect();
        others.sort();
        assert_eq!(keys, others, "node-{i}'s peers");
    }
    let consensus = |i: usize| {
        raw_post(
            &format!("{}/graphql", c.url(i)),
            r#"{"query":"{ consensus { epoch role memberIndex committeeSize view viewChanges lastViewChange { epoch fromView toView reason } } committee(epoch: 0) { members { key } } }"}"#,
        )["data"]
            .clone()
    };
    for i in 0..4 {
        let d = consensus(i);
        let c0 = &d["consensus"];
        assert_eq!(c0["epoch"], "0x0", "{d}");
        assert_eq!(c0["committeeSize"], 4, "{d}");
        let me = usize::try_from(c0["memberIndex"].as_i64().expect("index")).expect("index");
        assert_eq!(
            d["committee"]["members"][me]["key"],
            c.nodes[i].key.to_string(),
            "{d}"
        );
        let primary = hex_u64(&c0["view"]) % 4 == me as u64;
        assert_eq!(
            c0["role"],
            if primary { "PRIMARY" } else { "MEMBER" },
            "{d}"
        );
    }

    for mode in ["withhold", "equivocate"] {
        let (p, at) = proposer(&c);
        let (st, v) = fault(
            &c,
            p,
            "devnet-token",
            &format!(r#"{{"fault":"byzantine","mode":"{mode}"}}"#),
        );
        assert_eq!(st, 200, "{v}");
        // The committee moves on without it (a view change when it is the primary).
        wait_cluster(&c, &format!("commits past a {mode} primary"), 90, || {
            (0..4)
                .all(|i| c.head(i).is_some_and(|(n, _)| n >= at + 4))
                .then_some(())
        });
        let (st, _) = fault(
            &c,
            p,
            "devnet-token",
            r#"{"fault":"byzantine","mode":"honest"}"#,
        );
        assert_eq!(st, 200);
        if mode == "withhold" {
            // The others left the withholding primary's view, and say so.
            for i in (0..4).filter(|i| *i != p) {
                let d = consensus(i);
                let vc = &d["consensus"]["lastViewChange"];
                assert!(
                    hex_u64(&d["consensus"]["viewChanges"]) >= 1,
                    "node-{i}: {d}"
                );
                assert!(
                    hex_u64(&vc["toView"]) > hex_u64(&vc["fromView"]),
                    "node-{i}: {d}"
                );
                assert!(
                    !vc["reason"].as_str().unwrap_or("").is_empty(),
                    "node-{i}: {d}"
                );
                assert!(hex_u64(&d["consensus"]["view"]) >= 1, "node-{i}: {d}");
                // The NEW-VIEW may reach a node a moment after the commits it saw resumed.
                wait_cluster(
                    &c,
                    &format!("node-{i} times a completed view change"),
                    30,
                    || {
                        common::metric(&c.url(i), "tc_pbft_view_change_seconds_count")
                            .filter(|n| *n >= 1.0)
                    },
                );
            }
        }
    }
    // A silent member (f = 1) does not stop the other three.
    let (p, at) = proposer(&c);
    let silent = (p + 1) % 4;
    assert_eq!(
        fault(
            &c,
            silent,
            "devnet-token",
            r#"{"fault":"byzantine","mode":"silent"}"#
        )
        .0,
        200
    );
    let live: Vec<usize> = (0..4).filter(|i| *i != silent).collect();
    wait_cluster(&c, "commits with a silent member", 90, || {
        live.iter()
            .all(|i| c.head(*i).is_some_and(|(n, _)| n >= at + 4))
            .then_some(())
    });
    // Safety held throughout.
    let top = live
        .iter()
        .filter_map(|i| c.head(*i))
        .map(|(n, _)| n)
        .min()
        .expect("heads");
    for n in 1..=top {
        let h = c.hash_at(live[0], n);
        for i in &live[1..] {
            assert_eq!(c.hash_at(*i, n), h, "node-{i} disagrees at {n}");
        }
    }
}
