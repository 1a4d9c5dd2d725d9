//! `devnet down`: stop the launcher running on a data dir — SIGTERM to the pid in its
//! `devnet.pid` (the launcher then stops every node: SIGTERM, SIGKILL after the grace period),
//! and wait until it has exited.
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::up::{PID_FILE, running_launcher};

/// What `down` found and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Down {
    /// No launcher runs on the dir (no pid file, or it names no live `devnet`).
    NotRunning,
    /// The launcher with this pid exited after SIGTERM.
    Stopped(i32),
}

/// SIGTERM the launcher of `dir` and wait up to `deadline` for it to exit.
pub async fn run(dir: &Path, deadline: Duration) -> anyhow::Result<Down> {
    let Some(pid) = running_launcher(dir) else {
        return Ok(Down::NotRunning);
    };
    let p = Pid::from_raw(pid);
    kill(p, Signal::SIGTERM).map_err(|e| anyhow::anyhow!("SIGTERM to launcher pid {pid}: {e}"))?;
    let until = Instant::now() + deadline;
    // The launcher is not our child: poll until the pid is gone (or is not a devnet any more).
    while Instant::now() < until {
        let gone = kill(p, None).is_err()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .map(|s| {
                    s.rsplit(')')
                        .next()
                        .is_some_and(|r| r.trim().starts_with('Z'))
                })
                .unwrap_or(true);
        if gone {
            return Ok(Down::Stopped(pid));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the launcher (pid {pid}) is still running {}s after SIGTERM (it stops each node with SIGTERM, then SIGKILL after launcher.stop_grace_ms); see its output, or `kill -9 {pid}` (its nodes die with it); pid file {}",
        deadline.as_secs(),
        dir.join(PID_FILE).display()
    )
}
