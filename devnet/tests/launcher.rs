//! `devnet up` as a real process with real `tc-node` children: first commit, JSON-RPC and
//! GraphQL through the launcher's one address, the admin API (token checks, kill, pause,
//! resume, restart, add), failover when the upstream node is killed, catch-up after restart,
//! Ctrl-C leaving no processes behind, and `up` again resuming the same chain; seven nodes
//! rotating their committee as a client of the merged feed sees it, then `devnet down`
//! leaving no process. Every wait has a deadline.
#![allow(unreachable_pub)]
mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use serde_json::json;
use tc_types::{FeedMessage, NodeEvent};
use tokio_tungstenite::tungstenite::Message;

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

/// Processes whose command line mentions `needle` (e.g. a data dir).
fn processes_mentioning(needle: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.filter_map(Result::ok) {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if cmd.contains(needle) && alive(pid) {
            out.push((pid, cmd));
        }
    }
    out
}

#[test]
fn seven_nodes_rotate_on_the_merged_feed_and_down_leaves_no_process() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("seven");
    // Epochs of 12 snail blocks: elected committees keep four distinct members.
    let (l, _) = start_devnet(
        &spec,
        &dir,
        7,
        &["--nodes", "7", "--committee", "4", "--epoch-length", "12"],
    );
    let token = l.token();
    let list = nodes(&l, &token);
    assert_eq!(list.len(), 7);
    let mut pids: Vec<u32> = list.iter().map(pid_of).collect();
    pids.push(l.pid());
    let feed_url = format!("{}/feed", l.url.replace("http://", "ws://"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (seen, rotated) = rt.block_on(async {
        let (mut ws, _) = tokio_tungstenite::connect_async(&feed_url)
            .await
            .expect("connect to /feed");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
        let mut frames = Vec::new();
        let mut seen = BTreeSet::new();
        let mut rotated = BTreeSet::new();
        while seen.len() < 7 || rotated.len() < 2 {
            let msg = match tokio::time::timeout_at(deadline, ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => t,
                Ok(Some(Ok(_))) => continue,
                other => panic!(
                    "feed ended or timed out ({other:?}); nodes with events {seen:?}, rotations to epochs {rotated:?}\n{}",
                    l.logs()
                ),
            };
            let m: FeedMessage = serde_json::from_str(msg.as_str())
                .unwrap_or_else(|e| panic!("bad frame {msg}: {e}"));
            match (frames.len(), &m) {
                (0, FeedMessage::Hello { .. }) => {}
                (0, other) => panic!("first frame is not hello: {other:?}"),
                (1, FeedMessage::Snapshot { nodes, .. }) => {
                    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
                    assert_eq!(
                        names,
                        (0..7).map(|i| format!("node-{i}")).collect::<Vec<_>>(),
                        "snapshot"
                    );
                }
                (1, other) => panic!("second frame is not the snapshot: {other:?}"),
                (_, FeedMessage::Events { events }) => {
                    for e in events {
                        seen.insert(e.node.clone());
                        if let NodeEvent::RotationDone { epoch, .. } = e.event {
                            rotated.insert(epoch);
                        }
                    }
                }
                _ => {}
            }
            frames.push(());
        }
        (seen, rotated)
    });
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert!(rotated.len() >= 2, "{rotated:?}");

    // `devnet down`: the launcher stops every node and exits.
    let out = Command::new(DEVNET)
        .arg("down")
        .arg("--dir")
        .arg(&dir)
        .output()
        .expect("devnet down");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("the launcher (pid {})", l.pid()))
            && stdout.contains("stopped its nodes and exited"),
        "{stdout}"
    );
    for pid in &pids {
        assert!(!alive(*pid), "pid {pid} still alive after devnet down");
    }
    let left = processes_mentioning(&dir.display().to_string());
    assert!(left.is_empty(), "processes of the devnet left: {left:?}");
    assert!(!dir.join("devnet.pid").exists());
    // Nothing left to stop.
    let out = Command::new(DEVNET)
        .arg("down")
        .arg("--dir")
        .arg(&dir)
        .output()
        .expect("devnet down again");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no launcher is running"),
        "{out:?}"
    );
    drop(l);
}
