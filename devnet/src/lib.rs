//! Devnet launcher: N `tc-node` processes behind one address, with an admin API to stop, kill,
//! pause, resume, restart and add nodes, set byzantine modes, and partition and heal the
//! network. The merged event feed and the dashboard plug into the launcher's router
//! ([`server::Integrations`]).
//!
//! Map:
//! - [`spec`]       `devnet.toml`: fields, defaults, validation with field paths, flag overrides
//! - [`datadir`]    the data dir: generate (via `tc_node::testnet`), resume, wipe, add a node's
//!   files, the nodes' fault-API token
//! - [`supervisor`] node processes: start, signals (stop/kill/pause/resume), restart, add, reaping
//!   - [`supervisor::faults`] byzantine modes and partitions through each node's fault API
//! - [`actions`]    numbered in-memory log of every action, broadcast to subscribers
//! - [`proxy`]      forwarding to a running node with failover; WebSocket pass-through
//! - [`admin`]      `/admin/…`: loopback + bearer token
//! - [`server`]     the launcher's router and its integration points (feed, dashboard)
//! - [`up`]         `devnet up`: prepare, serve, start, wait for a commit, print, shut down
//! - [`down`]       `devnet down`: SIGTERM the launcher of a data dir and wait for it
//! - [`scenario`]   `devnet scenario run`: timeline of faults + load + assertions, report
//! - [`feed`]       the merged event feed: one client per node's `/events` (reconnects, status),
//!   one `GET /feed` WebSocket for many dashboards (protocol: [`tc_types::feed`]), and the
//!   dashboard's static files
//! - [`export`]     `devnet export`: docker-compose and Kubernetes manifests of the same network
//! - [`exec_node`]  the child side: die with the launcher (`PR_SET_PDEATHSIG`), then exec `tc-node`

pub mod actions;
pub mod admin;
pub mod datadir;
pub mod down;
pub mod export;
pub mod feed;
pub mod load;
pub mod proxy;
pub mod scenario;
pub mod server;
pub mod spec;
pub mod supervisor;
pub mod up;

pub use feed::{FeedConfig, FeedError, FeedHandle, FeedHub, NodeSource};

use std::ffi::OsString;

/// Run in the freshly spawned child, before it becomes `tc-node`: ask the kernel to SIGKILL
/// this process when the launcher dies (Linux `PR_SET_PDEATHSIG`; it survives `exec`), make
/// sure the launcher has not already died, then replace this process by `program args…`
/// (same pid). Returns only on failure.
pub fn exec_node(parent: u32, program: &OsString, args: &[OsString]) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    #[cfg(target_os = "linux")]
    {
        if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL) {
            return anyhow::anyhow!("prctl(PR_SET_PDEATHSIG): {e}");
        }
        let ppid = nix::unistd::getppid().as_raw();
        if u32::try_from(ppid).ok() != Some(parent) {
            return anyhow::anyhow!("the launcher (pid {parent}) exited before the node started");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
    let err = std::process::Command::new(program).args(args).exec();
    anyhow::anyhow!("exec {}: {err}", program.to_string_lossy())
}
