//! `devnet up` as a real process with real `tc-node` children: first commit, JSON-RPC and
//! GraphQL through the launcher's one address, the admin API (token checks, kill, pause,
//! resume, restart, add), failover when the upstream node is killed, catch-up after restart,
//! Ctrl-C leaving no processes behind, and `up` again resuming the same chain. Every wait has
//! a deadline.
#![allow(unreachable_pub)]
mod common;

use std::process::Command;

use common::*;
use serde_json::json;

#[test]
fn up_fails_over_restarts_adds_and_stops_cleanly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("net");
    let (mut l, args) = start_devnet(&spec, &dir, 6, &["--nodes", "4", "--committee", "4"]);
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
    // The merged feed of every node.
    let feed = ws_first_message(&l.url, "/feed");
    assert!(feed.starts_with("HTTP/1.1 101"), "{feed}");
    assert!(feed.contains(r#""type":"hello""#), "{feed}");
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

    // A devnet from before the fault API: node-1 has no token; `up` writes it back.
    let node_token = std::fs::read_to_string(dir.join("node-admin.token")).expect("token");
    let line = format!("admin_token = \"{}\"", node_token.trim());
    let cfg1 = dir.join("node-1/node.toml");
    let text = std::fs::read_to_string(&cfg1).expect("node.toml");
    assert!(text.contains(&line), "{text}");
    std::fs::write(&cfg1, text.replace(&line, "admin_token = \"\"")).expect("write");

    // `up` again resumes the same chain, with the added node.
    let mut l = Launcher::start(&dir, &args);
    l.wait_ready(150).unwrap_or_else(|e| panic!("{e}"));
    assert!(l.output().contains("resuming the devnet"), "{}", l.output());
    assert!(
        l.output()
            .contains("in the node.toml of node-1 for the fault API"),
        "{}",
        l.output()
    );
    assert!(
        std::fs::read_to_string(&cfg1)
            .expect("node.toml")
            .contains(&line)
    );
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
