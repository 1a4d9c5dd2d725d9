//! `devnet scenario run` as a real process with real `tc-node` children: every shipped
//! scenario (devnet/scenarios/*.toml) passes, a deliberately broken assertion fails with exit
//! status 1 and a readable report, and a malformed file is refused naming the field. The
//! scenarios run one at a time (each is a whole devnet on a 2-core machine); each run has a
//! deadline.
#![allow(unreachable_pub)]
mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{DEVNET, node_bin};

/// One devnet at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// `devnet scenario run ARG` with a deadline: (exit code, stdout, stderr).
fn run_scenario(arg: &str, dir: &std::path::Path, secs: u64) -> (Option<i32>, String, String) {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut child = Command::new(DEVNET)
        .args(["scenario", "run", arg, "--keep", "--dir"])
        .arg(dir)
        .arg("--node-bin")
        .arg(node_bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn devnet scenario run");
    let mut pipes = (child.stdout.take(), child.stderr.take());
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = pipes.0.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = pipes.1.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() > deadline {
            // SIGTERM: the runner stops its nodes and exits; SIGKILL if it does not.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            std::thread::sleep(Duration::from_secs(10));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(
        status.is_some(),
        "scenario {arg} still running after {secs}s:\n{out}\n{err}"
    );
    (status.and_then(|s| s.code()), out, err)
}

fn logs(dir: &std::path::Path) -> String {
    let mut s = String::new();
    for i in 0..8 {
        if let Ok(text) = std::fs::read_to_string(dir.join(format!("node-{i}/node.log"))) {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            s.push_str(&format!("\n--- node-{i}\n"));
            s.push_str(&tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
        }
    }
    s
}

/// Run a shipped scenario; it must pass. Its report.
fn shipped(name: &str) -> String {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("net");
    let (code, out, err) = run_scenario(name, &dir, 240);
    assert_eq!(
        code,
        Some(0),
        "scenario {name} failed:\n{out}\n--- stderr\n{err}\n{}",
        logs(&dir)
    );
    assert!(
        out.contains(&format!("scenario {name} (seed ")) && out.contains("PASS"),
        "{out}"
    );
    // Every node stopped with the runner.
    assert!(out.contains("all nodes stopped"), "{out}");
    out
}

#[test]
fn leader_crash() {
    shipped("leader-crash");
}

#[test]
fn minority_partition() {
    shipped("minority-partition");
}

#[test]
fn byzantine_primary() {
    shipped("byzantine-primary");
}

#[test]
fn silent_members() {
    shipped("silent-members");
}

#[test]
fn handover_crash() {
    shipped("handover-crash");
}

#[test]
fn rotation_under_load() {
    shipped("rotation-under-load");
}

#[test]
fn split_brain() {
    let out = shipped("split-brain");
    // The stall happened, and was excused: the scenario took the quorum away.
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("liveness"))
        .unwrap_or_default();
    assert!(
        line.contains("s excused") && !line.contains(" 0.0s excused"),
        "{line}"
    );
}

#[test]
fn late_joiner() {
    shipped("late-joiner");
}

/// One long epoch, so the committee cannot rotate: `rotations >= 3` must fail, and say why,
/// while the assertions that hold still pass.
const BROKEN: &str = r#"
name = "broken"
description = "rotations cannot happen in one long epoch"
seed = 9
duration_s = 8

[devnet]
nodes = 4
committee = 4

[devnet.chain]
epoch_length = 1000
lambda = 1
snail_interval_ms = 700
hashrate_cap = 20000

[devnet.consensus]
block_interval_ms = 100
empty_block_interval_ms = 400
view_timeout_ms = 1500

[devnet.launcher]
stop_grace_ms = 5000

[[step]]
at = 2
do = "pause"
node = "follower:0"

[assert]
agreement = {}
rotations = { min = 3 }
"#;

#[test]
fn a_broken_assertion_fails_with_a_readable_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("broken.toml");
    std::fs::write(&file, BROKEN).expect("write");
    let dir = tmp.path().join("net");
    let (code, out, err) = run_scenario(&file.display().to_string(), &dir, 180);
    assert_eq!(code, Some(1), "{out}\n{err}");
    // The step failed (4 nodes, committee 4: there is no follower), the rotations did not
    // happen, agreement held.
    for want in [
        "scenario broken (seed 9): FAIL — 2 of 3 checks failed",
        "step[0] pause at 2s → -: FAILED: follower:0: there is no follower now",
        "  timeline        FAIL    1 of 1 steps triggered, 1 failed",
        "  agreement       pass    ",
        "  rotations >= 3  FAIL    0 (epoch 0 → 0)",
        "  timeline: step[0] pause (at 2s): follower:0: there is no follower now",
        "failures:\n",
        "  rotations >= 3: the head block's epoch stayed at 0",
        "node logs: ",
    ] {
        assert!(out.contains(want), "no {want:?} in the report:\n{out}");
    }
}

#[test]
fn a_malformed_scenario_is_refused_naming_the_field() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        "duration_s = 10\n[[step]]\nat = 1\ndo = \"kill\"\nnode = \"leader\"\n",
    )
    .expect("write");
    let out = Command::new(DEVNET)
        .args(["scenario", "run"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("unknown node \"leader\""),
        "{err}"
    );
    let out = Command::new(DEVNET)
        .args(["scenario", "run", "no-such-scenario"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no scenario file \"no-such-scenario\" and no shipped scenario of that name")
            && err.contains("leader-crash"),
        "{err}"
    );
    let out = Command::new(DEVNET)
        .args(["scenario", "list"])
        .output()
        .expect("list");
    let list = String::from_utf8_lossy(&out.stdout);
    for name in ["leader-crash", "late-joiner", "rotation-under-load"] {
        assert!(list.contains(name), "{list}");
    }
}
