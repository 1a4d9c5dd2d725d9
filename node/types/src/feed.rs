//! The devnet's **merged feed**: one WebSocket (`GET /feed`, served by `tc-devnet`) that carries
//! the events of every node of a devnet to the dashboard and other observers. wasm-safe: serde
//! types only.
//!
//! Also the typed form of a single node's `GET /events` frames ([`NodeFrame`]), which the
//! merger reads.
//!
//! # Protocol (JSON text frames, `{"type": "<snake_case>", ...}`)
//!
//! 1. `hello {schema_version, feed_version}` — first frame of every connection.
//!    `schema_version` is the [`NodeEvent`](crate::NodeEvent) schema
//!    ([`SCHEMA_VERSION`](crate::SCHEMA_VERSION)), `feed_version` this module's
//!    [`FEED_VERSION`]. A client that does not know either version should stop reading.
//! 2. `snapshot {nodes: [NodeView…], recent?: [FeedEvent…], actions?: [Action…], resync?}` —
//!    the state of every node (status, RPC URL, heads, committee) plus a bounded window of
//!    recent events and fault-injection actions, so a fresh client can draw history at once.
//!    A snapshot **replaces** whatever the client had. `resync: true` marks a snapshot sent
//!    because the client fell behind the feed's ring and missed deltas.
//! 3. then deltas, in order:
//!    * `events {events: [FeedEvent…]}` — node events tagged by node name, batched (the
//!      server collects for at most a short window, ≤ 20 ms, before sending a frame);
//!    * `node_status {node, status, reason?, view?}` — a node's status changed
//!      ([`NodeStatus`]); `view` is present when the merger (re)synced with the node (its
//!      hello + snapshot arrived after a connect or after the node's own resync) and
//!      replaces that node's [`NodeView`]: events between the previous view and this one may
//!      be missing for that node. A `node_status` with a `view` for a node the snapshot did
//!      not list announces a node the launcher added;
//!    * `action {id, time_ms, what, nodes, result}` — a fault-injection step of the launcher
//!      and its outcome (an action may appear twice: `pending`, then its result, same `id`).
//!
//! Observers never slow the nodes or the merger: a client that lags gets a fresh `snapshot`
//! with `resync: true`; one that cannot take a frame within the server's send deadline is
//! disconnected (it may reconnect and starts again at `hello`).
use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

use crate::committee::{Committee, PubKey};
use crate::event::{NodeEvent, Stamped};

/// Version of the merged-feed protocol ([`FeedMessage`]); bump on any incompatible change.
pub const FEED_VERSION: u32 = 1;

/// What the devnet knows about a node's process and its event stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Started (or the merger has not reached its event stream yet).
    Starting,
    /// Event stream connected and synced.
    Running,
    /// Process suspended by the launcher (SIGSTOP).
    Paused,
    /// Process killed by the launcher (fault injection).
    Killed,
    /// Process stopped cleanly by the launcher.
    Stopped,
    /// The event stream cannot be reached (process gone, network, incompatible schema).
    Unreachable,
}

impl NodeStatus {
    /// Lower-case name, as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Killed => "killed",
            Self::Stopped => "stopped",
            Self::Unreachable => "unreachable",
        }
    }

    /// Whether the launcher put the node in this state on purpose (a lost event stream does
    /// not override it).
    pub fn is_deliberate(self) -> bool {
        matches!(self, Self::Paused | Self::Killed | Self::Stopped)
    }
}

/// One node as the merged feed sees it: identity, status and the latest heads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// Node name (unique in the devnet).
    pub name: String,
    /// Status.
    pub status: NodeStatus,
    /// Why it has this status (for `unreachable`: the connection error), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The node's JSON-RPC URL.
    pub rpc: String,
    /// Its consensus public key, when the launcher knows it (lets observers show roles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PubKey>,
    /// Chain id from the node's hello (absent until first reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Fast head height.
    pub fast_head: u64,
    /// Fast head hash.
    pub fast_head_hash: B256,
    /// Snail head height.
    pub snail_head: u64,
    /// Snail head hash.
    pub snail_head_hash: B256,
    /// The latest committee the node knows (absent until first reached).
    #[serde(default)]
    pub committee: Option<Committee>,
}

impl NodeView {
    /// A node not reached yet: status `starting`, zero heads.
    pub fn new(name: impl Into<String>, rpc: impl Into<String>, key: Option<PubKey>) -> Self {
        Self {
            name: name.into(),
            status: NodeStatus::Starting,
            reason: None,
            rpc: rpc.into(),
            key,
            chain_id: None,
            fast_head: 0,
            fast_head_hash: B256::ZERO,
            snail_head: 0,
            snail_head_hash: B256::ZERO,
            committee: None,
        }
    }
}

/// One node event in the merged feed: [`Stamped`] plus the node that emitted it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEvent {
    /// Node name.
    pub node: String,
    /// The node's own sequence number (restarts at its process restart).
    pub seq: u64,
    /// Milliseconds since the Unix epoch when the node emitted it.
    pub time_ms: u64,
    /// The event.
    pub event: NodeEvent,
}

impl FeedEvent {
    /// Tag a node's stamped event with the node's name.
    pub fn tag(node: impl Into<String>, s: Stamped) -> Self {
        Self {
            node: node.into(),
            seq: s.seq,
            time_ms: s.time_ms,
            event: s.event,
        }
    }
}

/// Outcome of a fault-injection action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionResult {
    /// Started, not finished.
    Pending,
    /// Done.
    Ok,
    /// Failed.
    Failed {
        /// Why.
        error: String,
    },
}

/// A fault-injection step of the launcher (kill, pause, partition, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Launcher-assigned id (increasing).
    pub id: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// What was done, human-readable (`"kill"`, `"partition {a,b} | {c,d}"`, …).
    pub what: String,
    /// Nodes it touched.
    pub nodes: Vec<String>,
    /// Outcome.
    pub result: ActionResult,
}

/// A frame of the merged feed (`GET /feed`). See the module docs for the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedMessage {
    /// First frame: versions.
    Hello {
        /// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION) of the node events inside.
        schema_version: u32,
        /// [`FEED_VERSION`].
        feed_version: u32,
    },
    /// Full state; replaces what the client had.
    Snapshot {
        /// Every node of the devnet, in launcher order.
        nodes: Vec<NodeView>,
        /// A bounded window of the latest events, preceded by the older events a new client
        /// still needs (the committees and rotations of the last epochs, each node's connected
        /// peers with their latest RTT, each node's latest storage statistics); all in the
        /// order the merger received them, oldest first.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        recent: Vec<FeedEvent>,
        /// A bounded window of the latest actions (oldest first).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
        /// Sent because the client fell behind and missed deltas.
        #[serde(default, skip_serializing_if = "is_false")]
        resync: bool,
    },
    /// Batched node events, in the order the merger received them.
    Events {
        /// The events.
        events: Vec<FeedEvent>,
    },
    /// A node's status changed.
    NodeStatus {
        /// Node name.
        node: String,
        /// New status.
        status: NodeStatus,
        /// Why, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The node's fresh view after a (re)sync with it; replaces the previous one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<Box<NodeView>>,
    },
    /// A fault-injection action.
    Action(Action),
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A frame of one node's own `GET /events` stream (see `tc-node`'s `feed.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeFrame {
    /// First frame.
    Hello {
        /// [`SCHEMA_VERSION`](crate::SCHEMA_VERSION) of the node.
        schema_version: u32,
        /// Node name.
        node: String,
        /// Chain id.
        chain_id: u64,
    },
    /// Heads and committee, at connect and after the client lagged (`resync`).
    Snapshot(NodeSnapshot),
    /// Batched events.
    Events {
        /// The events, in emission order.
        events: Vec<Stamped>,
    },
}

/// The heads part of a node's snapshot frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSnapshot {
    /// Node name.
    #[serde(default)]
    pub node: String,
    /// Fast head height.
    pub fast_head: u64,
    /// Fast head hash.
    pub fast_head_hash: B256,
    /// Snail head height.
    pub snail_head: u64,
    /// Snail head hash.
    pub snail_head_hash: B256,
    /// Latest committee.
    #[serde(default)]
    pub committee: Option<Committee>,
    /// Sent because this client lagged.
    #[serde(default)]
    pub resync: bool,
    /// Events the client missed (with `resync`).
    #[serde(default)]
    pub missed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::PbftEvent;

    #[test]
    fn hello_and_status_json_shape() {
        let h = FeedMessage::Hello {
            schema_version: 1,
            feed_version: FEED_VERSION,
        };
        assert_eq!(
            serde_json::to_string(&h).expect("ser"),
            r#"{"type":"hello","schema_version":1,"feed_version":1}"#
        );
        let s = FeedMessage::NodeStatus {
            node: "node-1".into(),
            status: NodeStatus::Unreachable,
            reason: Some("connection refused".into()),
            view: None,
        };
        assert_eq!(
            serde_json::to_string(&s).expect("ser"),
            r#"{"type":"node_status","node":"node-1","status":"unreachable","reason":"connection refused"}"#
        );
    }

    #[test]
    fn events_and_actions_round_trip() {
        let msgs = [
            FeedMessage::Events {
                events: vec![FeedEvent::tag(
                    "node-0",
                    Stamped {
                        seq: 7,
                        time_ms: 1_000,
                        event: NodeEvent::Pbft(PbftEvent::CheckpointStable { epoch: 1, seq: 2 }),
                    },
                )],
            },
            FeedMessage::Action(Action {
                id: 3,
                time_ms: 5,
                what: "kill".into(),
                nodes: vec!["node-2".into()],
                result: ActionResult::Failed {
                    error: "no such process".into(),
                },
            }),
            FeedMessage::Snapshot {
                nodes: vec![NodeView::new("node-0", "http://127.0.0.1:1", None)],
                recent: vec![],
                actions: vec![],
                resync: true,
            },
        ];
        for m in msgs {
            let s = serde_json::to_string(&m).expect("ser");
            let back: FeedMessage = serde_json::from_str(&s).expect("de");
            assert_eq!(back, m, "{s}");
        }
        let a = serde_json::to_string(&FeedMessage::Action(Action {
            id: 1,
            time_ms: 2,
            what: "pause".into(),
            nodes: vec![],
            result: ActionResult::Ok,
        }))
        .expect("ser");
        assert_eq!(
            a,
            r#"{"type":"action","id":1,"time_ms":2,"what":"pause","nodes":[],"result":{"status":"ok"}}"#
        );
    }

    #[test]
    fn snapshot_defaults_optional_fields() {
        let m: FeedMessage = serde_json::from_str(r#"{"type":"snapshot","nodes":[]}"#).expect("de");
        assert_eq!(
            m,
            FeedMessage::Snapshot {
                nodes: vec![],
                recent: vec![],
                actions: vec![],
                resync: false
            }
        );
    }

    #[test]
    fn node_frames_parse_what_the_node_sends() {
        let hello: NodeFrame = serde_json::from_str(
            r#"{"type":"hello","schema_version":1,"node":"node-0","chain_id":1337}"#,
        )
        .expect("hello");
        assert_eq!(
            hello,
            NodeFrame::Hello {
                schema_version: 1,
                node: "node-0".into(),
                chain_id: 1337
            }
        );
        let z = format!("{:?}", B256::ZERO);
        let snap: NodeFrame = serde_json::from_str(&format!(
            r#"{{"type":"snapshot","node":"n","fast_head":3,"fast_head_hash":"{z}","snail_head":1,"snail_head_hash":"{z}","committee":null,"resync":true,"missed":9}}"#
        ))
        .expect("snapshot");
        match snap {
            NodeFrame::Snapshot(s) => {
                assert_eq!((s.fast_head, s.snail_head, s.resync), (3, 1, true));
                assert_eq!(s.missed, Some(9));
            }
            other => panic!("not a snapshot: {other:?}"),
        }
    }
}
