//! Fault injection through the launcher, with real processes: a 4-node devnet whose four nodes
//! are the committee for one long epoch (f = 1). The launcher gives every node a fault-API
//! token; a withholding primary is replaced by a view change while blocks keep committing; a
//! partition {one member} | {three} lets the three commit while the one's head stands still,
//! also across a restart of the one (the partition is re-applied to it); heal lets it catch
//! up. Link shaping (userspace loss/delay) on the one's links is applied both ways, re-applied
//! after its restart, and blocks keep committing. Malformed requests are 400s naming the
//! problem. Every wait has a deadline.
#![allow(unreachable_pub)]
mod common;

use std::collections::HashMap;

use common::*;
use serde_json::{Value, json};

/// POST with a JSON body through the launcher's admin API: (status, body).
fn admin_post(l: &Launcher, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, _, v) = post(&format!("{}/admin/{path}", l.url), Some(token), body)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    (status, v)
}

fn error_of(v: &Value) -> String {
    v["error"].as_str().unwrap_or_default().to_string()
}

/// name → HTTP URL, and consensus key → name.
fn directory(l: &Launcher, token: &str) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut urls = HashMap::new();
    let mut keys = HashMap::new();
    for n in nodes(l, token) {
        let name = n["name"].as_str().expect("name").to_string();
        urls.insert(
            name.clone(),
            format!("http://{}", n["http"].as_str().expect("http")),
        );
        keys.insert(n["key"].as_str().expect("key").to_string(), name);
    }
    (urls, keys)
}

/// The head block of the node at `url`: (number, view, proposer key).
fn head(url: &str) -> Option<(u64, u64, String)> {
    let b = rpc(url, "eth_getBlockByNumber", json!(["latest", false]))?;
    Some((
        hex_u64(&b["number"])?,
        hex_u64(&b["view"])?,
        b["proposer"].as_str()?.to_string(),
    ))
}

fn height(url: &str) -> Option<u64> {
    rpc(url, "eth_blockNumber", json!([])).and_then(|v| hex_u64(&v))
}

fn actions(l: &Launcher, token: &str) -> Vec<Value> {
    let (status, v) = get(&format!("{}/admin/actions", l.url), Some(token));
    assert_eq!(status, 200, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

/// Restart `node` and wait for the launcher's `action` entry re-applying a network fault to it.
fn restart_until_reapplied(l: &Launcher, token: &str, node: &str, action: &str) -> Value {
    let since = actions(l, token)
        .last()
        .and_then(|a| a["seq"].as_u64())
        .unwrap_or(0);
    let restarted = admin(l, token, &format!("nodes/{node}/restart"));
    assert_eq!(restarted["status"], "running", "{restarted}");
    wait_for(
        &format!("the {action} re-applied to {node}\n{}", l.logs()),
        90,
        || {
            actions(l, token).into_iter().find(|a| {
                a["seq"].as_u64().unwrap_or(0) > since && a["action"] == action && a["node"] == node
            })
        },
    )
}

#[test]
fn byzantine_primary_partition_and_heal_through_the_launcher() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("net");
    // One long epoch: the four genesis members stay the committee throughout.
    let (l, _) = start_devnet(
        &spec,
        &dir,
        4,
        &["--nodes", "4", "--committee", "4", "--epoch-length", "1000"],
    );
    let token = l.token();

    // Every node got the fault-API token of node-admin.token.
    let node_token = std::fs::read_to_string(dir.join("node-admin.token")).expect("token file");
    let node_token = node_token.trim();
    assert_eq!(node_token.len(), 64);
    for i in 0..4 {
        let cfg = std::fs::read_to_string(dir.join(format!("node-{i}/node.toml"))).expect("cfg");
        assert!(
            cfg.contains(&format!("admin_token = \"{node_token}\"")),
            "node-{i}: {cfg}"
        );
    }
    let (urls, keys) = directory(&l, &token);
    let url = |name: &str| urls.get(name).cloned().expect("known node");
    wait_for(&format!("a few blocks\n{}", l.logs()), 60, || {
        height(&url("node-0")).filter(|n| *n >= 3)
    });

    // Malformed requests name the problem.
    let (s, v) = admin_post(&l, &token, "nodes/node-0/byzantine/sleepy", None);
    assert_eq!(s, 400, "{v}");
    assert!(
        error_of(&v).contains("unknown byzantine mode \"sleepy\""),
        "{v}"
    );
    let (s, v) = admin_post(&l, &token, "nodes/node-9/byzantine/silent", None);
    assert_eq!(s, 404, "{v}");
    assert!(error_of(&v).contains("no node named \"node-9\""), "{v}");
    let (s, v) = admin_post(
        &l,
        &token,
        "network/partition",
        Some(json!({"groups": "x"})),
    );
    assert_eq!(s, 400, "{v}");
    assert!(error_of(&v).starts_with("invalid partition body"), "{v}");
    let (s, v) = admin_post(
        &l,
        &token,
        "network/partition",
        Some(json!({"groups": [["node-0"], ["node-7"]]})),
    );
    assert_eq!(s, 400, "{v}");
    assert!(
        error_of(&v).starts_with("groups[1]: no node named \"node-7\""),
        "{v}"
    );
    let (s, v) = admin_post(
        &l,
        &token,
        "network/partition",
        Some(json!({"groups": [["node-0", "node-1", "node-2", "node-3"]]})),
    );
    assert_eq!(s, 400, "{v}");
    assert!(error_of(&v).contains("at least two groups"), "{v}");
    let (s, v) = admin_post(&l, &token, "network/link", None);
    assert_eq!(s, 400, "{v}");
    assert!(error_of(&v).starts_with("invalid link body"), "{v}");
    let (s, v) = admin_post(
        &l,
        &token,
        "network/link",
        Some(json!({"nodes": ["node-7"], "loss": 0.1, "delay_ms": 5})),
    );
    assert_eq!(s, 400, "{v}");
    assert!(
        error_of(&v).starts_with("nodes[0]: no node \"node-7\""),
        "{v}"
    );

    // (a) The primary withholds its proposals: a view change, and blocks keep coming.
    let (at, view, key) = head(&url("node-0")).expect("head");
    let primary = keys.get(&key).cloned().expect("the proposer is a node");
    let (s, v) = admin_post(
        &l,
        &token,
        &format!("nodes/{primary}/byzantine/withhold"),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["byzantine"], "withhold", "{v}");
    let others: Vec<String> = (0..4)
        .map(|i| format!("node-{i}"))
        .filter(|n| *n != primary)
        .collect();
    let (later, new_view, new_key) = wait_for(
        &format!("commits past the withholding {primary}\n{}", l.logs()),
        90,
        || head(&url(&others[0])).filter(|(n, v, _)| *n >= at + 4 && *v > view),
    );
    assert!(later >= at + 4 && new_view > view);
    assert_ne!(
        keys.get(&new_key),
        Some(&primary),
        "{primary} still proposes"
    );
    let (s, v) = admin_post(
        &l,
        &token,
        &format!("nodes/{primary}/byzantine/honest"),
        None,
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["byzantine"], "honest", "{v}");

    // (b) Partition {one member} | {the other three}: the three commit, the one stands still.
    let lone = "node-3".to_string();
    let three = ["node-0", "node-1", "node-2"];
    let (s, v) = admin_post(
        &l,
        &token,
        "network/partition",
        Some(json!({"groups": [[lone], three]})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["groups"], json!([[lone], three]), "{v}");
    let results: Vec<&str> = v["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["result"].as_str())
        .collect();
    assert_eq!(results, ["applied"; 4], "{v}");
    let (_, net) = get(&format!("{}/admin/network", l.url), Some(&token));
    assert_eq!(net["partition"], json!([[lone], three]), "{net}");
    // Blocks in flight may still land; then the lone node's head stops.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let lone_head = height(&url(&lone)).expect("lone head");
    let top = three
        .iter()
        .filter_map(|n| height(&url(n)))
        .max()
        .expect("heads");
    wait_for(
        &format!("the three to commit without {lone}\n{}", l.logs()),
        90,
        || {
            three
                .iter()
                .all(|n| height(&url(n)).is_some_and(|h| h >= top + 5))
                .then_some(())
        },
    );
    assert_eq!(
        height(&url(&lone)),
        Some(lone_head),
        "{lone} moved while cut off"
    );

    // Restarted under the partition, it gets its blocks again and stays cut off.
    let reapplied = restart_until_reapplied(&l, &token, &lone, "partition");
    assert_eq!(reapplied["ok"], true, "{reapplied}");
    let detail = reapplied["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("after start: blocks node-0 node-1 node-2"),
        "{detail}"
    );
    let top = three
        .iter()
        .filter_map(|n| height(&url(n)))
        .max()
        .expect("heads");
    wait_for(&format!("the three to go on\n{}", l.logs()), 90, || {
        three
            .iter()
            .all(|n| height(&url(n)).is_some_and(|h| h >= top + 3))
            .then_some(())
    });
    assert_eq!(
        height(&url(&lone)),
        Some(lone_head),
        "{lone} moved after its restart"
    );

    // Heal: it reconnects and catches up with the others.
    let (s, v) = admin_post(&l, &token, "network/heal", None);
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["groups"], Value::Null, "{v}");
    let top = three
        .iter()
        .filter_map(|n| height(&url(n)))
        .max()
        .expect("heads");
    wait_for(&format!("{lone} to catch up\n{}", l.logs()), 120, || {
        height(&url(&lone)).filter(|h| *h >= top + 2)
    });

    // Link shaping (userspace loss/delay of inbound libp2p traffic inside the nodes) on every
    // link of the lone node, both directions; re-applied after its restart; blocks go on.
    let (s, v) = admin_post(
        &l,
        &token,
        "network/link",
        Some(json!({"nodes": [lone], "loss": 0.1, "delay_ms": 50})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    for n in v["nodes"].as_array().expect("nodes") {
        let detail = n["detail"].as_str().unwrap_or_default();
        let want = if n["node"] == lone.as_str() {
            "shapes links from all peers".to_string()
        } else {
            format!("shapes links from {lone}")
        };
        assert!(detail.ends_with(&want), "{n}");
    }
    let (status, v) = get(&format!("{}/admin/network", l.url), Some(&token));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["link"]["delay_ms"], 50, "{v}");
    let reapplied = restart_until_reapplied(&l, &token, &lone, "link");
    assert_eq!(reapplied["ok"], true, "{reapplied}");
    let detail = reapplied["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("after start:") && detail.ends_with("shapes links from all peers"),
        "{detail}"
    );
    let top = ["node-0", "node-1", "node-2", "node-3"]
        .iter()
        .filter_map(|n| height(&url(n)))
        .max()
        .expect("heads");
    wait_for(
        &format!("commits under link shaping\n{}", l.logs()),
        120,
        || {
            ["node-0", "node-1", "node-2", "node-3"]
                .iter()
                .all(|n| height(&url(n)).is_some_and(|h| h >= top + 3))
                .then_some(())
        },
    );
    let (s, v) = admin_post(
        &l,
        &token,
        "network/link",
        Some(json!({"loss": 0, "delay_ms": 0})),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    let (_, v) = get(&format!("{}/admin/network", l.url), Some(&token));
    assert_eq!(v["link"], Value::Null, "{v}");

    let log = actions(&l, &token);
    for (kind, node) in [
        ("byzantine", primary.as_str()),
        ("partition", "network"),
        ("heal", "network"),
        ("link", "network"),
    ] {
        assert!(
            log.iter()
                .any(|a| a["action"] == kind && a["node"] == node && a["ok"] == true),
            "no {kind} for {node} in {log:?}"
        );
    }
}
