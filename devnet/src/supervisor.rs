//! The node processes: start (`tc-node run`, output appended to `node-i/node.log`, own process
//! group, SIGKILL if the launcher dies — see [`crate::exec_node`]), stop (SIGTERM, SIGKILL after
//! the grace period), kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT), restart, add. One task
//! per process reaps it and records how it ended. Operations on one node are serialised; every
//! one of them goes into the [`ActionLog`]. Byzantine behaviours and network partitions are
//! injected through each node's fault API ([`faults`]).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Serialize;
use tokio::sync::watch;

use crate::actions::ActionLog;
use crate::datadir::{self, NodeInfo};

pub mod faults;

pub use tc_node::runtime::Byzantine;

/// How long a SIGKILLed process may take to be reaped.
const REAP_DEADLINE: Duration = Duration::from_secs(5);

/// What a node process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Started and not stopped.
    Running,
    /// SIGSTOPped by the launcher.
    Paused,
    /// SIGTERM sent, not exited yet.
    Stopping,
    /// Exited after the launcher asked it to stop (or never started).
    Stopped,
    /// SIGKILLed by the launcher.
    Killed,
    /// Exited on its own (see `last_exit`).
    Exited,
}

impl Status {
    /// A process exists (possibly stopped by SIGSTOP).
    pub fn alive(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Stopping)
    }
}

/// One node as `GET /admin/nodes` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct NodeView {
    /// `node-i`.
    pub name: String,
    /// Process id while it has a process.
    pub pid: Option<u32>,
    /// See [`Status`].
    pub status: Status,
    /// Its HTTP address (JSON-RPC `POST /`, `/graphql`, `/events`, `/metrics`).
    pub http: SocketAddr,
    /// Its libp2p listen address.
    pub p2p: String,
    /// Consensus public key (hex).
    pub key: String,
    /// libp2p peer id (what partitions block).
    pub peer_id: String,
    /// Consensus behaviour set through the launcher (a new process starts `honest`).
    pub byzantine: Byzantine,
    /// The node the launcher's proxy currently forwards to.
    pub upstream: bool,
    /// How many times it was started by this launcher.
    pub starts: u32,
    /// How its last process ended, if one did.
    pub last_exit: Option<String>,
    /// Its log file.
    pub log: PathBuf,
}

/// Why an operation on a node was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// No such node.
    #[error("no node named {0:?}")]
    NotFound(String),
    /// The node is not in a state that allows it.
    #[error("{0}")]
    Conflict(String),
    /// The operation failed.
    #[error("{0}")]
    Failed(String),
    /// The request was malformed (unknown mode, bad partition).
    #[error("{0}")]
    Invalid(String),
    /// The node's fault API refused or did not answer.
    #[error("{0}")]
    Node(String),
}

/// How node processes are started.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The `tc-node` binary.
    pub node_bin: PathBuf,
    /// The `devnet` binary, run as `devnet exec-node --parent PID -- tc-node …` so the node
    /// dies with the launcher (`PR_SET_PDEATHSIG`); `None` runs `tc-node` directly.
    pub shim: Option<PathBuf>,
    /// SIGTERM → SIGKILL grace period.
    pub grace: Duration,
    /// The data dir (where added nodes go).
    pub data_dir: PathBuf,
    /// HTTP port base of nodes (node i = base + i), for added nodes.
    pub node_http: u16,
    /// libp2p port base of nodes, for added nodes.
    pub node_p2p: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intent {
    None,
    Stop,
    Kill,
}

#[derive(Debug)]
struct Proc {
    pid: u32,
    generation: u64,
    exited: watch::Receiver<bool>,
    intent: Intent,
}

#[derive(Debug)]
struct Slot {
    info: NodeInfo,
    status: Status,
    proc: Option<Proc>,
    starts: u32,
    last_exit: Option<String>,
    op: Arc<tokio::sync::Mutex<()>>,
    /// Set through the launcher since this process started.
    byzantine: Byzantine,
    /// The process's peer blocks match `State::partition` (a new process has none: in sync
    /// only when there is no partition).
    synced: bool,
    /// Started, its API not answering yet (a partition is applied to it once it answers).
    starting: bool,
}

impl Slot {
    fn new(info: NodeInfo, synced: bool) -> Self {
        Self {
            info,
            status: Status::Stopped,
            proc: None,
            starts: 0,
            last_exit: None,
            op: Arc::default(),
            byzantine: Byzantine::Honest,
            synced,
            starting: false,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    slots: Vec<Slot>,
    preferred: usize,
    generation: u64,
    shutting_down: bool,
    /// The current partition (`None`: everyone may connect to everyone).
    partition: Option<faults::Partition>,
    /// The current link shaping (`None` or a clear: no node shapes anything).
    link: Option<faults::LinkPlan>,
}

#[derive(Debug)]
struct Inner {
    launch: Launch,
    state: Mutex<State>,
    actions: ActionLog,
    topology: tokio::sync::Mutex<()>,
}

/// The node processes of one devnet (cheap to clone).
#[derive(Clone, Debug)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

fn send_signal(pid: u32, sig: Signal) -> Result<(), String> {
    let raw = i32::try_from(pid).map_err(|_| format!("pid {pid} out of range"))?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), sig)
        .map_err(|e| format!("{sig} to pid {pid}: {e}"))
}

fn describe(status: &std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exited with code {c}"),
            (None, Some(sig)) => match Signal::try_from(sig) {
                Ok(sig) => format!("terminated by {sig}"),
                Err(_) => format!("terminated by signal {sig}"),
            },
            _ => s.to_string(),
        },
        Err(e) => format!("wait failed: {e}"),
    }
}

async fn until_exited(mut rx: watch::Receiver<bool>, deadline: Duration) -> bool {
    tokio::time::timeout(deadline, rx.wait_for(|e| *e))
        .await
        .is_ok_and(|r| r.is_ok())
}

impl Supervisor {
    /// Supervise these nodes (none started yet).
    pub fn new(launch: Launch, nodes: Vec<NodeInfo>, actions: ActionLog) -> Self {
        let slots = nodes
            .into_iter()
            .map(|info| Slot::new(info, true))
            .collect();
        Self {
            inner: Arc::new(Inner {
                launch,
                state: Mutex::new(State {
                    slots,
                    ..State::default()
                }),
                actions,
                topology: tokio::sync::Mutex::new(()),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The action log.
    pub fn actions(&self) -> &ActionLog {
        &self.inner.actions
    }

    fn index(&self, name: &str) -> Result<(usize, Arc<tokio::sync::Mutex<()>>), OpError> {
        let st = self.state();
        st.slots
            .iter()
            .position(|s| s.info.name == name)
            .map(|i| (i, st.slots[i].op.clone()))
            .ok_or_else(|| OpError::NotFound(name.into()))
    }

    /// Every node, in index order.
    pub fn views(&self) -> Vec<NodeView> {
        let st = self.state();
        st.slots
            .iter()
            .enumerate()
            .map(|(i, s)| NodeView {
                name: s.info.name.clone(),
                pid: s.proc.as_ref().map(|p| p.pid),
                status: s.status,
                http: s.info.http,
                p2p: s.info.p2p.clone(),
                key: s.info.key.clone(),
                peer_id: s.info.peer_id.clone(),
                byzantine: s.byzantine,
                upstream: i == st.preferred && s.status == Status::Running,
                starts: s.starts,
                last_exit: s.last_exit.clone(),
                log: s.info.log(),
            })
            .collect()
    }

    /// One node.
    pub fn view(&self, name: &str) -> Result<NodeView, OpError> {
        self.views()
            .into_iter()
            .find(|v| v.name == name)
            .ok_or_else(|| OpError::NotFound(name.into()))
    }

    /// Nodes that should answer HTTP, the proxy's current upstream first.
    pub fn live(&self) -> Vec<(String, SocketAddr)> {
        let st = self.state();
        let n = st.slots.len();
        (0..n)
            .map(|k| (st.preferred + k) % n)
            .filter(|i| st.slots[*i].status == Status::Running)
            .map(|i| (st.slots[i].info.name.clone(), st.slots[i].info.http))
            .collect()
    }

    /// The proxy reached this node: keep using it.
    pub fn set_upstream(&self, name: &str) {
        let mut st = self.state();
        if let Some(i) = st.slots.iter().position(|s| s.info.name == name) {
            st.preferred = i;
        }
    }

    /// Spawn the process of slot `i` (caller holds its op lock; it must have none).
    fn spawn(&self, i: usize) -> Result<u32, OpError> {
        let launch = &self.inner.launch;
        let mut st = self.state();
        if st.shutting_down {
            return Err(OpError::Conflict("the devnet is shutting down".into()));
        }
        st.generation += 1;
        let generation = st.generation;
        let no_partition = st.partition.is_none() && faults::LinkPlan::none(st.link.as_ref());
        let slot = st
            .slots
            .get_mut(i)
            .ok_or_else(|| OpError::NotFound(format!("#{i}")))?;
        if slot.proc.is_some() {
            return Err(OpError::Conflict(format!(
                "{} is {:?}; stop it first",
                slot.info.name, slot.status
            )));
        }
        let fail = |what: &str, e: std::io::Error| OpError::Failed(format!("{what}: {e}"));
        let log_path = slot.info.log();
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| fail(&format!("open {}", log_path.display()), e))?;
        {
            use std::io::Write;
            let _ = writeln!(log, "=== devnet: starting {} ===", slot.info.name);
        }
        let log_err = log.try_clone().map_err(|e| fail("clone log handle", e))?;
        let mut cmd = match &launch.shim {
            Some(shim) => {
                let mut c = tokio::process::Command::new(shim);
                c.arg("exec-node")
                    .arg("--parent")
                    .arg(std::process::id().to_string())
                    .arg("--")
                    .arg(&launch.node_bin);
                c
            }
            None => tokio::process::Command::new(&launch.node_bin),
        };
        cmd.arg("run")
            .arg("--config")
            .arg(&slot.info.config)
            // Plain log files (tracing-subscriber honours NO_COLOR).
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log_err)
            // Its own process group: a terminal's Ctrl-C reaches only the launcher, which
            // then stops the nodes in order.
            .process_group(0)
            .kill_on_drop(false);
        let mut child = cmd.spawn().map_err(|e| {
            fail(
                &format!("start {} ({})", slot.info.name, launch.node_bin.display()),
                e,
            )
        })?;
        let pid = child
            .id()
            .ok_or_else(|| OpError::Failed("started process has no pid".into()))?;
        let (tx, rx) = watch::channel(false);
        slot.proc = Some(Proc {
            pid,
            generation,
            exited: rx,
            intent: Intent::None,
        });
        slot.status = Status::Running;
        slot.starts += 1;
        slot.byzantine = Byzantine::Honest;
        slot.starting = true;
        // A new process blocks no one: in step with "no partition" only.
        slot.synced = no_partition;
        let name = slot.info.name.clone();
        drop(st);
        self.after_start(i, generation);
        let me = self.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let how = describe(&status);
            let unexpected = {
                let mut st = me.state();
                match st.slots.get_mut(i) {
                    Some(slot)
                        if slot
                            .proc
                            .as_ref()
                            .is_some_and(|p| p.generation == generation) =>
                    {
                        let intent = slot.proc.as_ref().map_or(Intent::None, |p| p.intent);
                        slot.status = match intent {
                            Intent::None => Status::Exited,
                            Intent::Stop => Status::Stopped,
                            Intent::Kill => Status::Killed,
                        };
                        slot.proc = None;
                        slot.last_exit = Some(how.clone());
                        intent == Intent::None
                    }
                    _ => false,
                }
            };
            if unexpected {
                me.inner.actions.record(
                    "exit",
                    &name,
                    false,
                    format!("pid {pid} {how} (see its node.log)"),
                );
            }
            let _ = tx.send(true);
        });
        Ok(pid)
    }

    /// Start a node that has no process.
    pub async fn start(&self, name: &str) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let r = self.spawn(i).map(|pid| format!("pid {pid}"));
        self.log("start", name, &r);
        r?;
        self.view(name)
    }

    /// Start every node that has no process.
    pub async fn start_all(&self) -> Result<(), OpError> {
        let names: Vec<String> = self.views().into_iter().map(|v| v.name).collect();
        for n in names {
            if !self.view(&n)?.status.alive() {
                self.start(&n).await?;
            }
        }
        Ok(())
    }

    fn log(&self, action: &str, node: &str, r: &Result<String, OpError>) {
        match r {
            Ok(d) => self.inner.actions.record(action, node, true, d.clone()),
            Err(e) => self
                .inner
                .actions
                .record(action, node, false, e.to_string()),
        };
    }

    /// Mark the intent and return what is needed to signal and await the process.
    fn claim(&self, i: usize, intent: Intent) -> Option<(u32, watch::Receiver<bool>, Status)> {
        let mut st = self.state();
        let slot = st.slots.get_mut(i)?;
        let before = slot.status;
        let p = slot.proc.as_mut()?;
        p.intent = intent;
        let out = (p.pid, p.exited.clone(), before);
        if intent == Intent::Stop {
            slot.status = Status::Stopping;
        }
        Some(out)
    }

    /// SIGTERM, and SIGKILL if it has not exited after the grace period (op lock held).
    async fn stop_locked(&self, i: usize) -> Result<String, OpError> {
        let Some((pid, rx, before)) = self.claim(i, Intent::Stop) else {
            return Ok("no process".into());
        };
        send_signal(pid, Signal::SIGTERM).map_err(OpError::Failed)?;
        if before == Status::Paused {
            // A stopped process only sees SIGTERM once continued.
            send_signal(pid, Signal::SIGCONT).map_err(OpError::Failed)?;
        }
        let grace = self.inner.launch.grace;
        if until_exited(rx.clone(), grace).await {
            return Ok(format!("pid {pid} exited after SIGTERM"));
        }
        send_signal(pid, Signal::SIGKILL).map_err(OpError::Failed)?;
        if until_exited(rx, REAP_DEADLINE).await {
            Ok(format!(
                "pid {pid} did not exit within {} ms of SIGTERM; SIGKILLed",
                grace.as_millis()
            ))
        } else {
            Err(OpError::Failed(format!(
                "pid {pid} still not reaped after SIGKILL"
            )))
        }
    }

    /// SIGTERM, then SIGKILL after the grace period; returns once the process is gone.
    pub async fn stop(&self, name: &str) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let r = self.stop_locked(i).await;
        self.log("stop", name, &r);
        r?;
        self.view(name)
    }

    /// SIGKILL; returns once the process is reaped.
    pub async fn kill(&self, name: &str) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let r = async {
            let (pid, rx, _) = self
                .claim(i, Intent::Kill)
                .ok_or_else(|| OpError::Conflict(format!("{name} has no process")))?;
            send_signal(pid, Signal::SIGKILL).map_err(OpError::Failed)?;
            if until_exited(rx, REAP_DEADLINE).await {
                Ok(format!("pid {pid} SIGKILLed"))
            } else {
                Err(OpError::Failed(format!(
                    "pid {pid} not reaped after SIGKILL"
                )))
            }
        }
        .await;
        self.log("kill", name, &r);
        r?;
        self.view(name)
    }

    /// SIGSTOP (running → paused) or SIGCONT (paused → running).
    async fn pause_resume(&self, name: &str, pause: bool) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let (from, to, sig, action) = if pause {
            (Status::Running, Status::Paused, Signal::SIGSTOP, "pause")
        } else {
            (Status::Paused, Status::Running, Signal::SIGCONT, "resume")
        };
        let r = {
            let mut st = self.state();
            let slot = &mut st.slots[i];
            match (&slot.proc, slot.status) {
                (Some(p), s) if s == from => send_signal(p.pid, sig)
                    .map(|()| {
                        slot.status = to;
                        format!("pid {} {sig}", p.pid)
                    })
                    .map_err(OpError::Failed),
                (_, s) => Err(OpError::Conflict(format!(
                    "{name} is {}; {action} needs it {}",
                    serde_json::to_string(&s).unwrap_or_default(),
                    serde_json::to_string(&from).unwrap_or_default()
                ))),
            }
        };
        self.log(action, name, &r);
        r?;
        if !pause {
            // A partition or heal may have passed it by while it was frozen.
            let me = self.clone();
            let n = name.to_string();
            tokio::spawn(async move { me.resync(&n, "after resume").await });
        }
        self.view(name)
    }

    /// SIGSTOP: the process freezes (its peers see it time out).
    pub async fn pause(&self, name: &str) -> Result<NodeView, OpError> {
        self.pause_resume(name, true).await
    }

    /// SIGCONT a paused node.
    pub async fn resume(&self, name: &str) -> Result<NodeView, OpError> {
        self.pause_resume(name, false).await
    }

    /// Stop (if it has a process) and start again with the same files.
    pub async fn restart(&self, name: &str) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let r = async {
            let stopped = self.stop_locked(i).await?;
            let pid = self.spawn(i)?;
            Ok(format!("{stopped}; started pid {pid}"))
        }
        .await;
        self.log("restart", name, &r);
        r?;
        self.view(name)
    }

    /// Generate one more node (new key, the same genesis and bootnodes) and start it.
    pub async fn add(&self) -> Result<NodeView, OpError> {
        let _t = self.inner.topology.lock().await;
        let launch = &self.inner.launch;
        let existing: Vec<NodeInfo> = self.state().slots.iter().map(|s| s.info.clone()).collect();
        let info = datadir::add_node(
            &launch.data_dir,
            &existing,
            launch.node_http,
            launch.node_p2p,
        )
        .map_err(|e| OpError::Failed(format!("{e:#}")));
        let info = match info {
            Ok(i) => i,
            Err(e) => {
                self.inner.actions.record(
                    "add",
                    &format!("node-{}", existing.len()),
                    false,
                    e.to_string(),
                );
                return Err(e);
            }
        };
        let name = info.name.clone();
        let detail = format!("http {} p2p {} key {}", info.http, info.p2p, info.key);
        let i = {
            let mut st = self.state();
            let synced = st.partition.is_none() && faults::LinkPlan::none(st.link.as_ref());
            st.slots.push(Slot::new(info, synced));
            st.slots.len() - 1
        };
        self.inner.actions.record("add", &name, true, detail);
        let r = self.spawn(i).map(|pid| format!("pid {pid}"));
        self.log("start", &name, &r);
        r?;
        // Under a partition the new node is in the group of unlisted nodes: the others must
        // block it (it learns its own blocks once its API answers).
        if self.state().partition.is_some() {
            let report = self.apply_all().await;
            self.record_network("partition", &format!("re-applied for {name}"), &report);
        }
        self.view(&name)
    }

    /// Stop every node (SIGTERM in parallel, SIGKILL after the grace period) and refuse
    /// further starts.
    pub async fn shutdown(&self) {
        let names: Vec<String> = {
            let mut st = self.state();
            st.shutting_down = true;
            st.slots.iter().map(|s| s.info.name.clone()).collect()
        };
        let mut set = tokio::task::JoinSet::new();
        for n in names {
            let me = self.clone();
            set.spawn(async move {
                if me.view(&n).is_ok_and(|v| v.status.alive()) {
                    let _ = me.stop(&n).await;
                }
            });
        }
        while set.join_next().await.is_some() {}
    }

    /// SIGKILL every process now (second Ctrl-C); does not wait.
    pub fn kill_all_now(&self) {
        let mut st = self.state();
        st.shutting_down = true;
        for s in &mut st.slots {
            if let Some(p) = &mut s.proc {
                p.intent = Intent::Kill;
                let _ = send_signal(p.pid, Signal::SIGKILL);
            }
        }
    }

    /// Pids of processes not yet reaped.
    pub fn pids(&self) -> Vec<u32> {
        self.state()
            .slots
            .iter()
            .filter_map(|s| s.proc.as_ref().map(|p| p.pid))
            .collect()
    }
}
