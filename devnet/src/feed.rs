//! The merged feed: one WebSocket client per node's `/events`, one merged stream `GET /feed`
//! for any number of dashboards. Protocol: [`tc_types::feed`].
//!
//! ```text
//!  node-0 /events ─┐ upstream task ─┐
//!  node-1 /events ─┤ upstream task ─┼─ mpsc ─► hub task ─► MergeState ─► broadcast ring ─► /feed clients
//!  launcher ───────┘ (set_status, action) ──┘   (batches ≤ 20 ms,      (serialized once,
//!                                                 applies under lock)    shared by all)
//! ```
//!
//! * [`state`]    — the pure merge state ([`MergeState`]): node views, recent events, actions.
//! * [`upstream`] — per-node client: connect, parse, reconnect with backoff, mark unreachable.
//! * [`launcher`] — plugs the feed and the dashboard into `devnet up` (`server::Integrations`),
//!   following the launcher's action log.
//! * [`server`]   — the `/feed` endpoint: hello + snapshot, then the shared frames; a lagging
//!   client gets a fresh snapshot with `resync: true`, a stuck one is dropped after the send
//!   deadline.
//!
//! Consistency: the hub applies a batch to the state and publishes its frame while holding the
//! state lock, and a client takes its snapshot and subscribes to the ring under the same lock,
//! so every client sees each event exactly once (in the snapshot's `recent` window or as a
//! delta), and never a delta older than its snapshot.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tc_types::{
    Action, FEED_VERSION, FeedEvent, FeedMessage, NodeStatus, NodeView, SCHEMA_VERSION,
};
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;

pub mod launcher;
pub mod server;
pub mod state;
mod upstream;

pub use server::router;
pub use state::{Input, Limits, MergeState};

/// A node whose event stream the merger follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSource {
    /// Node name (unique).
    pub name: String,
    /// Its events WebSocket, e.g. `ws://127.0.0.1:8545/events`.
    pub events_url: String,
    /// Its JSON-RPC URL, shown to observers.
    pub rpc_url: String,
    /// Its consensus public key, when known (observers show roles with it).
    pub key: Option<tc_types::PubKey>,
}

impl NodeSource {
    /// A node serving JSON-RPC and `/events` on `http://{addr}`.
    pub fn at(name: impl Into<String>, addr: impl std::fmt::Display) -> Self {
        Self {
            name: name.into(),
            events_url: format!("ws://{addr}/events"),
            rpc_url: format!("http://{addr}"),
            key: None,
        }
    }
}

/// Tunables of the merger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedConfig {
    /// How long deltas are collected into one frame after the first arrives.
    pub batch_window: Duration,
    /// Most events in one frame.
    pub batch_max: usize,
    /// Frames kept in the broadcast ring; a client further behind gets a resync snapshot.
    pub ring: usize,
    /// A client that cannot take a frame within this is dropped.
    pub send_deadline: Duration,
    /// First reconnect delay to a node.
    pub backoff_min: Duration,
    /// Longest reconnect delay to a node.
    pub backoff_max: Duration,
    /// Deadline for connecting to a node and receiving its hello.
    pub handshake_timeout: Duration,
    /// Windows kept for snapshots.
    pub limits: Limits,
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            batch_window: Duration::from_millis(20),
            batch_max: 512,
            ring: 256,
            send_deadline: Duration::from_secs(5),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(5),
            limits: Limits::default(),
        }
    }
}

/// Errors of the feed API.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Two sources share a name.
    #[error("node name {0:?} is used twice")]
    DuplicateNode(String),
    /// The merger's hub task is gone (runtime shutting down).
    #[error("the feed merger has stopped")]
    Stopped,
}

/// State shared by the hub, the `/feed` clients and the launcher.
#[derive(Debug)]
struct Shared {
    state: Mutex<MergeState>,
    frames: broadcast::Sender<Utf8Bytes>,
    inputs: mpsc::Sender<Input>,
    hello: Utf8Bytes,
    config: FeedConfig,
    /// The hub and one upstream client per followed node (by name), aborted with the hub.
    tasks: Mutex<Tasks>,
}

#[derive(Debug, Default)]
struct Tasks {
    hub: Option<AbortHandle>,
    upstreams: Vec<(String, AbortHandle)>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, MergeState> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters to observers; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start following a node (no-op error when one of that name is already followed).
    fn follow(&self, source: NodeSource) -> Result<(), FeedError> {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        if tasks.upstreams.iter().any(|(n, _)| *n == source.name) {
            return Err(FeedError::DuplicateNode(source.name));
        }
        let task = tokio::spawn(upstream::run(
            source.name.clone(),
            source.events_url,
            self.inputs.clone(),
            self.config,
        ));
        tasks.upstreams.push((source.name, task.abort_handle()));
        Ok(())
    }

    fn abort_all(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        for (_, t) in tasks.upstreams.drain(..) {
            t.abort();
        }
        if let Some(h) = tasks.hub.take() {
            h.abort();
        }
    }

    /// Snapshot and a receiver positioned right after it (taken under the state lock).
    fn subscribe(&self, resync: bool) -> (Utf8Bytes, broadcast::Receiver<Utf8Bytes>) {
        let st = self.lock();
        let rx = self.frames.subscribe();
        (encode(&st.snapshot(resync)), rx)
    }

    /// Apply inputs and publish the resulting frame(s), under the state lock.
    fn publish(&self, inputs: Vec<Input>) {
        let mut st = self.lock();
        let mut events: Vec<FeedEvent> = Vec::new();
        for input in inputs {
            match st.apply(input) {
                Some(FeedMessage::Events { events: mut e }) => events.append(&mut e),
                Some(other) => {
                    if !events.is_empty() {
                        let batch = std::mem::take(&mut events);
                        let _ = self
                            .frames
                            .send(encode(&FeedMessage::Events { events: batch }));
                    }
                    let _ = self.frames.send(encode(&other));
                }
                None => {}
            }
        }
        if !events.is_empty() {
            let _ = self.frames.send(encode(&FeedMessage::Events { events }));
        }
    }
}

fn encode(m: &FeedMessage) -> Utf8Bytes {
    // Serializing these plain data types cannot fail (string keys, no non-finite floats).
    serde_json::to_string(m).unwrap_or_default().into()
}

/// A cheap, cloneable handle on a running merger: serve clients, report launcher actions.
#[derive(Clone, Debug)]
pub struct FeedHandle {
    shared: Arc<Shared>,
}

impl FeedHandle {
    /// The launcher changed a node's status (killed, paused, stopped, starting, running).
    pub async fn set_status(
        &self,
        node: &str,
        status: NodeStatus,
        reason: Option<String>,
    ) -> Result<(), FeedError> {
        self.input(Input::SetStatus {
            node: node.to_owned(),
            status,
            reason,
        })
        .await
    }

    /// Follow a node added to the devnet after the start: observers get a `node_status` with
    /// its view (status `starting`), then its events once the merger reached it.
    pub async fn add_node(&self, source: NodeSource) -> Result<(), FeedError> {
        if self.shared.lock().node(&source.name).is_some() {
            return Err(FeedError::DuplicateNode(source.name));
        }
        let view = NodeView::new(source.name.clone(), source.rpc_url.clone(), source.key);
        self.input(Input::AddNode(view)).await?;
        self.shared.follow(source)
    }

    /// Log a fault-injection action (send it again with the same id when it finished).
    pub async fn action(&self, action: Action) -> Result<(), FeedError> {
        self.input(Input::Action(action)).await
    }

    /// Feed an input to the hub as if it came from a node stream (tests, replays).
    pub async fn input(&self, input: Input) -> Result<(), FeedError> {
        self.shared
            .inputs
            .send(input)
            .await
            .map_err(|_| FeedError::Stopped)
    }

    /// The current merged view of every node.
    pub fn nodes(&self) -> Vec<NodeView> {
        self.shared.lock().nodes().to_vec()
    }

    /// Number of connected `/feed` clients.
    pub fn clients(&self) -> usize {
        self.shared.frames.receiver_count()
    }
}

/// The running merger: owns its tasks and aborts them when dropped (unless
/// [`detach`](Self::detach)ed).
#[derive(Debug)]
pub struct FeedHub {
    handle: FeedHandle,
    abort_on_drop: bool,
}

impl FeedHub {
    /// Start following `sources` (inside a tokio runtime).
    pub fn start(sources: Vec<NodeSource>, config: FeedConfig) -> Result<Self, FeedError> {
        Self::start_with(sources, config, true)
    }

    /// `follow = false` starts no upstream clients: inputs arrive only through
    /// [`FeedHandle::input`] (unit tests, and the dashboard's synthetic 32-node replay in
    /// `devnet/tests/dashboard_load.rs`).
    pub fn start_with(
        sources: Vec<NodeSource>,
        config: FeedConfig,
        follow: bool,
    ) -> Result<Self, FeedError> {
        let mut names = std::collections::HashSet::new();
        for s in &sources {
            if !names.insert(s.name.as_str()) {
                return Err(FeedError::DuplicateNode(s.name.clone()));
            }
        }
        let views = sources
            .iter()
            .map(|s| NodeView::new(s.name.clone(), s.rpc_url.clone(), s.key))
            .collect();
        let (inputs, rx) = mpsc::channel(1024);
        let (frames, _) = broadcast::channel(config.ring.max(1));
        let shared = Arc::new(Shared {
            state: Mutex::new(MergeState::new(views, config.limits)),
            frames,
            inputs: inputs.clone(),
            hello: encode(&FeedMessage::Hello {
                schema_version: SCHEMA_VERSION,
                feed_version: FEED_VERSION,
            }),
            config,
            tasks: Mutex::new(Tasks::default()),
        });
        let hub_task = tokio::spawn(hub(shared.clone(), rx));
        shared.tasks.lock().unwrap_or_else(|e| e.into_inner()).hub = Some(hub_task.abort_handle());
        for s in sources.into_iter().filter(|_| follow) {
            shared.follow(s)?;
        }
        Ok(Self {
            handle: FeedHandle { shared },
            abort_on_drop: true,
        })
    }

    /// A handle for routers and the launcher.
    pub fn handle(&self) -> FeedHandle {
        self.handle.clone()
    }

    /// Keep the merger running for the rest of the runtime's life (e.g. inside a router
    /// plugin that cannot own the hub); returns its handle.
    pub fn detach(mut self) -> FeedHandle {
        self.abort_on_drop = false;
        self.handle.clone()
    }
}

impl Drop for FeedHub {
    fn drop(&mut self) {
        if self.abort_on_drop {
            self.handle.shared.abort_all();
        }
    }
}

/// The hub: batch event inputs for at most `batch_window`, publish everything else at once
/// (after the events before it, so order is kept).
async fn hub(shared: Arc<Shared>, mut rx: mpsc::Receiver<Input>) {
    let cfg = shared.config;
    let mut pending: Vec<Input> = Vec::new();
    let mut pending_events = 0usize;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let input = match deadline {
            Some(d) => tokio::select! {
                i = rx.recv() => i,
                () = tokio::time::sleep_until(d) => {
                    shared.publish(std::mem::take(&mut pending));
                    pending_events = 0;
                    deadline = None;
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(input) = input else {
            shared.publish(pending);
            return;
        };
        match &input {
            Input::Events { events, .. } => {
                pending_events += events.len();
                pending.push(input);
                deadline.get_or_insert_with(|| tokio::time::Instant::now() + cfg.batch_window);
                if pending_events >= cfg.batch_max {
                    shared.publish(std::mem::take(&mut pending));
                    pending_events = 0;
                    deadline = None;
                }
            }
            _ => {
                pending.push(input);
                shared.publish(std::mem::take(&mut pending));
                pending_events = 0;
                deadline = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tc_types::{NodeEvent, Stamped};

    use super::*;

    fn hub_without_nodes(names: &[&str], ring: usize) -> FeedHub {
        let sources = names
            .iter()
            .map(|n| NodeSource {
                name: (*n).into(),
                events_url: String::new(),
                rpc_url: String::new(),
                key: None,
            })
            .collect();
        FeedHub::start_with(
            sources,
            FeedConfig {
                ring,
                ..FeedConfig::default()
            },
            false,
        )
        .expect("start")
    }

    fn ev(seq: u64) -> Stamped {
        Stamped {
            seq,
            time_ms: seq,
            event: NodeEvent::TxRejected {
                hash: None,
                reason: format!("r{seq}"),
            },
        }
    }

    fn decode(b: &Utf8Bytes) -> FeedMessage {
        serde_json::from_str(b.as_str()).expect("frame decodes")
    }

    async fn recv(rx: &mut broadcast::Receiver<Utf8Bytes>) -> FeedMessage {
        let f = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("frame within 5 s")
            .expect("frame");
        decode(&f)
    }

    #[test]
    fn duplicate_names_are_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        rt.block_on(async {
            let s = NodeSource::at("a", "127.0.0.1:1");
            let err =
                FeedHub::start(vec![s.clone(), s], FeedConfig::default()).expect_err("duplicate");
            assert!(err.to_string().contains("\"a\""), "{err}");
        });
    }

    #[tokio::test]
    async fn events_in_one_window_share_a_frame_and_statuses_keep_order() {
        let hub = hub_without_nodes(&["a", "b"], 64);
        let h = hub.handle();
        let (_snap, mut rx) = h.shared.subscribe(false);
        for (node, seq) in [("a", 0), ("b", 0), ("a", 1)] {
            h.input(Input::Events {
                node: node.into(),
                events: vec![ev(seq)],
            })
            .await
            .expect("input");
        }
        h.set_status("b", NodeStatus::Paused, None)
            .await
            .expect("status");
        // The pending events are flushed before the status, in one frame.
        match recv(&mut rx).await {
            FeedMessage::Events { events } => {
                let tags: Vec<(String, u64)> =
                    events.iter().map(|e| (e.node.clone(), e.seq)).collect();
                assert_eq!(
                    tags,
                    vec![("a".into(), 0), ("b".into(), 0), ("a".into(), 1)]
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            recv(&mut rx).await,
            FeedMessage::NodeStatus {
                status: NodeStatus::Paused,
                ..
            }
        ));
        // A lone event goes out after the batch window.
        h.input(Input::Events {
            node: "a".into(),
            events: vec![ev(2)],
        })
        .await
        .expect("input");
        assert!(matches!(recv(&mut rx).await, FeedMessage::Events { events } if events.len() == 1));
    }

    #[tokio::test]
    async fn an_added_node_is_announced_with_its_view_and_names_stay_unique() {
        let hub = hub_without_nodes(&["a"], 64);
        let h = hub.handle();
        let (_snap, mut rx) = h.shared.subscribe(false);
        // Nothing listens on port 9: the new node's client keeps failing, reported once.
        h.add_node(NodeSource::at("b", "127.0.0.1:9"))
            .await
            .expect("add b");
        match recv(&mut rx).await {
            FeedMessage::NodeStatus {
                node,
                status,
                view: Some(v),
                ..
            } => {
                assert_eq!((node.as_str(), status), ("b", NodeStatus::Starting));
                assert_eq!(v.rpc, "http://127.0.0.1:9");
            }
            other => panic!("{other:?}"),
        }
        match recv(&mut rx).await {
            FeedMessage::NodeStatus { node, status, .. } => {
                assert_eq!((node.as_str(), status), ("b", NodeStatus::Unreachable));
            }
            other => panic!("{other:?}"),
        }
        let names: Vec<String> = h.nodes().into_iter().map(|n| n.name).collect();
        assert_eq!(names, vec!["a", "b"]);
        for dup in ["a", "b"] {
            let err = h
                .add_node(NodeSource::at(dup, "127.0.0.1:9"))
                .await
                .expect_err("duplicate");
            assert!(matches!(err, FeedError::DuplicateNode(_)), "{err}");
        }
    }

    #[tokio::test]
    async fn snapshot_and_deltas_never_overlap() {
        let hub = hub_without_nodes(&["a"], 64);
        let h = hub.handle();
        for seq in 0..5 {
            h.input(Input::Events {
                node: "a".into(),
                events: vec![ev(seq)],
            })
            .await
            .expect("input");
        }
        // Subscribe while the hub may still be batching: whatever is in the snapshot's
        // window is not sent again as a delta, and nothing is lost.
        let (snap, mut rx) = h.shared.subscribe(false);
        let mut seen: Vec<u64> = match decode(&snap) {
            FeedMessage::Snapshot { recent, .. } => recent.iter().map(|e| e.seq).collect(),
            other => panic!("{other:?}"),
        };
        while seen.len() < 5 {
            match recv(&mut rx).await {
                FeedMessage::Events { events } => seen.extend(events.iter().map(|e| e.seq)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }
}
