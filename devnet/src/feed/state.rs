//! The merger's pure state: one [`NodeView`] per node, a window of recent events and actions,
//! and the older events a new client still needs ([`Kept`]). Inputs from the node streams and
//! the launcher go in, the [`FeedMessage`] to broadcast comes out. No I/O, no clock:
//! unit-tested step by step.
use std::collections::{BTreeMap, HashSet, VecDeque};

use tc_types::{
    Action, Committee, FeedEvent, FeedMessage, NodeEvent, NodeSnapshot, NodeStatus, NodeView,
    SCHEMA_VERSION, Stamped,
};

/// Something that happened to the merger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A node's hello frame arrived.
    Hello {
        /// Node name (as configured in the merger).
        node: String,
        /// The node's schema version.
        schema_version: u32,
        /// Its chain id.
        chain_id: u64,
    },
    /// A node's snapshot frame arrived (after connect, or its own resync).
    Snapshot {
        /// Node name.
        node: String,
        /// Heads and committee.
        snapshot: NodeSnapshot,
    },
    /// A batch of a node's events arrived.
    Events {
        /// Node name.
        node: String,
        /// Events in emission order.
        events: Vec<Stamped>,
    },
    /// A node's stream failed or could not be reached.
    Down {
        /// Node name.
        node: String,
        /// The error.
        reason: String,
    },
    /// The launcher set a node's status (killed, paused, …).
    SetStatus {
        /// Node name.
        node: String,
        /// New status.
        status: NodeStatus,
        /// Why, when known.
        reason: Option<String>,
    },
    /// The launcher reports a fault-injection action.
    Action(Action),
    /// The launcher added a node (observers get a `node_status` carrying its view).
    AddNode(NodeView),
}

/// Bounds of the state's windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Events kept for the snapshot's `recent`.
    pub recent_events: usize,
    /// Actions kept for the snapshot's `actions`.
    pub actions: usize,
    /// Epochs whose committee and rotation events the snapshot carries even after they left
    /// the `recent` window (the committee timeline a new client starts with).
    pub rotation_epochs: u64,
    /// Upper bound on those kept committee/rotation events (all nodes together).
    pub rotation_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            recent_events: 512,
            actions: 100,
            rotation_epochs: 8,
            rotation_events: 2048,
        }
    }
}

/// An event with its arrival number.
type Arrived = (u64, FeedEvent);

/// Events older than the `recent` window that a new client still needs, each with its
/// arrival number (so the snapshot can put them back in arrival order, before the window):
/// the committee and rotation events of the last [`Limits::rotation_epochs`] epochs, each
/// node's connected peers (and their latest RTT) and its latest storage statistics.
#[derive(Clone, Debug, Default)]
struct Kept {
    rotations: VecDeque<Arrived>,
    /// Highest epoch seen in a committee or rotation event.
    top_epoch: u64,
    /// (node, peer) → its `peer_connected` and latest `peer_rtt`.
    peers: BTreeMap<(String, String), (Arrived, Option<Arrived>)>,
    /// node → its latest `storage_stats`.
    storage: BTreeMap<String, Arrived>,
}

/// The epoch of a committee or rotation event.
fn rotation_epoch(e: &NodeEvent) -> Option<u64> {
    match e {
        NodeEvent::CommitteeElected { epoch, .. }
        | NodeEvent::RotationScheduled { epoch, .. }
        | NodeEvent::RotationStarted { epoch, .. }
        | NodeEvent::RotationDone { epoch, .. } => Some(*epoch),
        _ => None,
    }
}

impl Kept {
    fn note(&mut self, at: u64, e: &FeedEvent, limits: &Limits) {
        match &e.event {
            NodeEvent::NodeStarted { .. } => {
                // A (re)started process has no peers yet.
                self.peers.retain(|(node, _), _| *node != e.node);
            }
            NodeEvent::PeerConnected { peer } => {
                self.peers
                    .insert((e.node.clone(), peer.clone()), ((at, e.clone()), None));
            }
            NodeEvent::PeerDisconnected { peer } => {
                self.peers.remove(&(e.node.clone(), peer.clone()));
            }
            NodeEvent::PeerRtt { peer, .. } => {
                if let Some((_, rtt)) = self.peers.get_mut(&(e.node.clone(), peer.clone())) {
                    *rtt = Some((at, e.clone()));
                }
            }
            NodeEvent::StorageStats { .. } => {
                self.storage.insert(e.node.clone(), (at, e.clone()));
            }
            other => {
                let Some(epoch) = rotation_epoch(other) else {
                    return;
                };
                self.top_epoch = self.top_epoch.max(epoch);
                let floor = self
                    .top_epoch
                    .saturating_sub(limits.rotation_epochs.saturating_sub(1));
                if limits.rotation_events == 0 || epoch < floor {
                    return;
                }
                self.rotations.push_back((at, e.clone()));
                self.rotations
                    .retain(|(_, k)| rotation_epoch(&k.event).is_some_and(|ep| ep >= floor));
                while self.rotations.len() > limits.rotation_events {
                    self.rotations.pop_front();
                }
            }
        }
    }

    /// The kept events that arrived before `before`, in arrival order.
    fn older_than(&self, before: u64) -> Vec<FeedEvent> {
        let peers = self
            .peers
            .values()
            .flat_map(|(connected, rtt)| std::iter::once(connected).chain(rtt.iter()));
        let mut out: Vec<&Arrived> = self
            .rotations
            .iter()
            .chain(peers)
            .chain(self.storage.values())
            .filter(|(at, _)| *at < before)
            .collect();
        out.sort_by_key(|(at, _)| *at);
        out.into_iter().map(|(_, e)| e.clone()).collect()
    }
}

/// The merged view of every node.
#[derive(Clone, Debug)]
pub struct MergeState {
    nodes: Vec<NodeView>,
    /// Nodes whose event stream is connected and synced (snapshot seen, no failure since).
    synced: HashSet<String>,
    /// The latest events with their arrival numbers.
    recent: VecDeque<Arrived>,
    /// Arrival number of the next event.
    arrivals: u64,
    kept: Kept,
    actions: VecDeque<Action>,
    limits: Limits,
}

impl MergeState {
    /// Every node starts as `starting` with zero heads.
    pub fn new(nodes: Vec<NodeView>, limits: Limits) -> Self {
        Self {
            nodes,
            synced: HashSet::new(),
            recent: VecDeque::new(),
            arrivals: 0,
            kept: Kept::default(),
            actions: VecDeque::new(),
            limits,
        }
    }

    /// The nodes, in configured order.
    pub fn nodes(&self) -> &[NodeView] {
        &self.nodes
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }

    fn node_mut(&mut self, name: &str) -> Option<&mut NodeView> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    /// The snapshot a new (or resyncing) client gets: `recent` is the kept older events
    /// (committees and rotations of the last epochs, peers, storage statistics) that left the
    /// window, then the window, all in arrival order.
    pub fn snapshot(&self, resync: bool) -> FeedMessage {
        let window_start = self.recent.front().map_or(self.arrivals, |(at, _)| *at);
        let mut recent = self.kept.older_than(window_start);
        recent.extend(self.recent.iter().map(|(_, e)| e.clone()));
        FeedMessage::Snapshot {
            nodes: self.nodes.clone(),
            recent,
            actions: self.actions.iter().cloned().collect(),
            resync,
        }
    }

    /// Apply one input; returns the message to broadcast, if any. Inputs naming a node the
    /// merger was not configured with are ignored.
    pub fn apply(&mut self, input: Input) -> Option<FeedMessage> {
        match input {
            Input::Hello {
                node,
                schema_version,
                chain_id,
            } => {
                let n = self.node_mut(&node)?;
                n.chain_id = Some(chain_id);
                if schema_version == SCHEMA_VERSION {
                    // Running once its snapshot arrives.
                    return None;
                }
                let reason = format!(
                    "node speaks event schema {schema_version}, this feed {SCHEMA_VERSION}"
                );
                set_status(n, NodeStatus::Unreachable, Some(reason))
            }
            Input::Snapshot { node, snapshot } => {
                self.synced.insert(node.clone());
                let n = self.node_mut(&node)?;
                n.fast_head = snapshot.fast_head;
                n.fast_head_hash = snapshot.fast_head_hash;
                n.snail_head = snapshot.snail_head;
                n.snail_head_hash = snapshot.snail_head_hash;
                n.committee = snapshot.committee;
                n.status = NodeStatus::Running;
                n.reason = snapshot.resync.then(|| match snapshot.missed {
                    Some(m) => format!("resynced after missing {m} events"),
                    None => "resynced".to_owned(),
                });
                Some(FeedMessage::NodeStatus {
                    node,
                    status: n.status,
                    reason: n.reason.clone(),
                    view: Some(Box::new(n.clone())),
                })
            }
            Input::Events { node, events } => {
                let n = self.node_mut(&node)?;
                for e in &events {
                    update_heads(n, &e.event);
                }
                let tagged: Vec<FeedEvent> = events
                    .into_iter()
                    .map(|e| FeedEvent::tag(node.clone(), e))
                    .collect();
                for e in &tagged {
                    let at = self.arrivals;
                    self.arrivals += 1;
                    self.kept.note(at, e, &self.limits);
                    if self.recent.len() >= self.limits.recent_events {
                        self.recent.pop_front();
                    }
                    if self.limits.recent_events > 0 {
                        self.recent.push_back((at, e.clone()));
                    }
                }
                (!tagged.is_empty()).then_some(FeedMessage::Events { events: tagged })
            }
            Input::Down { node, reason } => {
                self.synced.remove(&node);
                let n = self.node_mut(&node)?;
                if n.status.is_deliberate() {
                    // The launcher stopped it on purpose; a lost stream is expected.
                    return None;
                }
                if n.status == NodeStatus::Unreachable {
                    // Still down: keep the latest error, do not repeat the status.
                    n.reason = Some(reason);
                    return None;
                }
                set_status(n, NodeStatus::Unreachable, Some(reason))
            }
            Input::SetStatus {
                node,
                status,
                reason,
            } => {
                if status == NodeStatus::Starting && self.synced.contains(&node) {
                    // The launcher's "starting" arrived after the restarted node had already
                    // synced: it is running, keep it so.
                    return None;
                }
                let n = self.node_mut(&node)?;
                if n.status == status && n.reason == reason {
                    return None;
                }
                set_status(n, status, reason)
            }
            Input::AddNode(view) => {
                if self.node(&view.name).is_some() {
                    return None;
                }
                self.nodes.push(view.clone());
                Some(FeedMessage::NodeStatus {
                    node: view.name.clone(),
                    status: view.status,
                    reason: view.reason.clone(),
                    view: Some(Box::new(view)),
                })
            }
            Input::Action(a) => {
                if let Some(old) = self.actions.iter_mut().find(|o| o.id == a.id) {
                    *old = a.clone();
                } else {
                    if self.actions.len() >= self.limits.actions {
                        self.actions.pop_front();
                    }
                    if self.limits.actions > 0 {
                        self.actions.push_back(a.clone());
                    }
                }
                Some(FeedMessage::Action(a))
            }
        }
    }
}

fn set_status(n: &mut NodeView, status: NodeStatus, reason: Option<String>) -> Option<FeedMessage> {
    n.status = status;
    n.reason = reason.clone();
    Some(FeedMessage::NodeStatus {
        node: n.name.clone(),
        status,
        reason,
        view: None,
    })
}

/// Keep a node's heads current from its own events.
fn update_heads(n: &mut NodeView, e: &NodeEvent) {
    match e {
        NodeEvent::NodeStarted {
            chain_id,
            fast_head,
            snail_head,
            ..
        } => {
            n.chain_id = Some(*chain_id);
            n.fast_head = *fast_head;
            n.snail_head = *snail_head;
        }
        NodeEvent::FastBlockCommitted { number, hash, .. } if *number >= n.fast_head => {
            n.fast_head = *number;
            n.fast_head_hash = *hash;
        }
        NodeEvent::SnailBlockMined { number, hash, .. }
        | NodeEvent::SnailBlockImported { number, hash, .. } => {
            n.snail_head = *number;
            n.snail_head_hash = *hash;
        }
        NodeEvent::SnailReorg { new_head, .. } => n.snail_head_hash = *new_head,
        NodeEvent::CommitteeElected {
            epoch,
            members,
            seed,
            start_height,
        } if n.committee.as_ref().is_none_or(|c| c.epoch <= *epoch) => {
            n.committee = Some(Committee {
                epoch: *epoch,
                start_height: *start_height,
                members: members.clone(),
                seed: *seed,
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use tc_types::{ActionResult, B256, Member, PbftEvent};

    use super::*;

    fn state(names: &[&str]) -> MergeState {
        MergeState::new(
            names
                .iter()
                .map(|n| NodeView::new(*n, format!("http://{n}"), None))
                .collect(),
            Limits {
                recent_events: 3,
                actions: 2,
                ..Limits::default()
            },
        )
    }

    fn snap(fast: u64, resync: bool) -> NodeSnapshot {
        NodeSnapshot {
            node: String::new(),
            fast_head: fast,
            fast_head_hash: B256::repeat_byte(fast as u8),
            snail_head: 1,
            snail_head_hash: B256::repeat_byte(0xaa),
            committee: None,
            resync,
            missed: resync.then_some(12),
        }
    }

    fn committed(seq: u64, number: u64) -> Stamped {
        Stamped {
            seq,
            time_ms: 1000 + seq,
            event: NodeEvent::FastBlockCommitted {
                number,
                hash: B256::repeat_byte(number as u8),
                epoch: 0,
                view: 0,
                proposer: B256::ZERO,
                tx_count: 0,
                gas_used: 0,
                timestamp_ms: 0,
                signers: vec![0],
            },
        }
    }

    /// (node, status, carries a view) of a `node_status` message.
    type StatusOf = Option<(String, NodeStatus, bool)>;

    fn status_of(m: &Option<FeedMessage>) -> StatusOf {
        match m {
            Some(FeedMessage::NodeStatus {
                node, status, view, ..
            }) => Some((node.clone(), *status, view.is_some())),
            _ => None,
        }
    }

    #[test]
    fn hello_then_snapshot_makes_a_node_running_with_its_view() {
        let mut s = state(&["a", "b"]);
        let hello = s.apply(Input::Hello {
            node: "a".into(),
            schema_version: SCHEMA_VERSION,
            chain_id: 1337,
        });
        assert_eq!(hello, None, "running only once the snapshot arrived");
        let m = s.apply(Input::Snapshot {
            node: "a".into(),
            snapshot: snap(5, false),
        });
        assert_eq!(status_of(&m), Some(("a".into(), NodeStatus::Running, true)));
        let a = s.node("a").expect("a");
        assert_eq!(
            (a.fast_head, a.chain_id, a.reason.clone()),
            (5, Some(1337), None)
        );
        assert_eq!(s.node("b").map(|b| b.status), Some(NodeStatus::Starting));
    }

    #[test]
    fn schema_mismatch_marks_unreachable_with_reason() {
        let mut s = state(&["a"]);
        let m = s.apply(Input::Hello {
            node: "a".into(),
            schema_version: SCHEMA_VERSION + 1,
            chain_id: 1,
        });
        assert_eq!(
            status_of(&m),
            Some(("a".into(), NodeStatus::Unreachable, false))
        );
        let reason = s
            .node("a")
            .and_then(|n| n.reason.clone())
            .unwrap_or_default();
        assert!(reason.contains("schema"), "{reason}");
    }

    #[test]
    fn node_resync_snapshot_replaces_view_and_says_so() {
        let mut s = state(&["a"]);
        s.apply(Input::Snapshot {
            node: "a".into(),
            snapshot: snap(5, false),
        });
        let m = s.apply(Input::Snapshot {
            node: "a".into(),
            snapshot: snap(40, true),
        });
        match m {
            Some(FeedMessage::NodeStatus {
                view: Some(v),
                reason: Some(r),
                ..
            }) => {
                assert_eq!(v.fast_head, 40);
                assert!(r.contains("12"), "{r}");
            }
            other => panic!("expected a node_status with view: {other:?}"),
        }
    }

    #[test]
    fn events_are_tagged_move_heads_and_fill_a_bounded_window() {
        let mut s = state(&["a", "b"]);
        let m = s.apply(Input::Events {
            node: "b".into(),
            events: vec![committed(0, 7), committed(1, 8)],
        });
        match m {
            Some(FeedMessage::Events { events }) => {
                assert_eq!(events.len(), 2);
                assert!(events.iter().all(|e| e.node == "b"));
                assert_eq!(events[1].seq, 1);
            }
            other => panic!("expected events: {other:?}"),
        }
        assert_eq!(s.node("b").map(|n| n.fast_head), Some(8));
        assert_eq!(s.node("a").map(|n| n.fast_head), Some(0));
        // An older block (late event) does not move the head back.
        s.apply(Input::Events {
            node: "b".into(),
            events: vec![committed(2, 3)],
        });
        assert_eq!(s.node("b").map(|n| n.fast_head), Some(8));
        s.apply(Input::Events {
            node: "a".into(),
            events: vec![committed(0, 1)],
        });
        match s.snapshot(false) {
            FeedMessage::Snapshot { recent, .. } => {
                let seen: Vec<(String, u64)> =
                    recent.iter().map(|e| (e.node.clone(), e.seq)).collect();
                assert_eq!(
                    seen,
                    vec![("b".into(), 1), ("b".into(), 2), ("a".into(), 0)],
                    "the oldest event fell out of the window of 3"
                );
            }
            other => panic!("{other:?}"),
        }
        // Empty batches broadcast nothing.
        assert_eq!(
            s.apply(Input::Events {
                node: "a".into(),
                events: vec![]
            }),
            None
        );
    }

    fn stamped(seq: u64, event: NodeEvent) -> Stamped {
        Stamped {
            seq,
            time_ms: seq,
            event,
        }
    }

    #[test]
    fn snapshots_keep_recent_rotations_peers_and_storage_beyond_the_window() {
        let mut s = MergeState::new(
            ["a", "b"]
                .iter()
                .map(|n| NodeView::new(*n, format!("http://{n}"), None))
                .collect(),
            Limits {
                recent_events: 4,
                actions: 2,
                rotation_epochs: 3,
                rotation_events: 100,
            },
        );
        let mut seq = 0;
        let mut feed = |s: &mut MergeState, node: &str, event: NodeEvent| {
            seq += 1;
            s.apply(Input::Events {
                node: node.into(),
                events: vec![stamped(seq, event)],
            });
        };
        let peer = |p: &str| NodeEvent::PeerConnected { peer: p.into() };
        feed(&mut s, "a", peer("p1"));
        feed(&mut s, "a", peer("p2"));
        feed(
            &mut s,
            "a",
            NodeEvent::PeerRtt {
                peer: "p1".into(),
                rtt_us: 5,
            },
        );
        feed(
            &mut s,
            "a",
            NodeEvent::PeerRtt {
                peer: "p1".into(),
                rtt_us: 7,
            },
        );
        feed(
            &mut s,
            "a",
            NodeEvent::PeerDisconnected { peer: "p2".into() },
        );
        feed(&mut s, "b", NodeEvent::StorageStats { tables: vec![] });
        feed(&mut s, "b", NodeEvent::StorageStats { tables: vec![] });
        for epoch in 1..=5 {
            for node in ["a", "b"] {
                feed(
                    &mut s,
                    node,
                    NodeEvent::CommitteeElected {
                        epoch,
                        members: vec![],
                        seed: B256::ZERO,
                        start_height: epoch * 10,
                    },
                );
            }
            feed(
                &mut s,
                "a",
                NodeEvent::RotationDone {
                    epoch,
                    first_height: epoch * 10,
                },
            );
        }
        // Push everything out of the window of 4.
        for i in 0..6 {
            feed(&mut s, "b", committed(0, i).event);
        }
        let FeedMessage::Snapshot { recent, .. } = s.snapshot(false) else {
            panic!("snapshot");
        };
        let shown: Vec<String> = recent
            .iter()
            .map(|e| {
                let what = match &e.event {
                    NodeEvent::PeerConnected { peer } => format!("+{peer}"),
                    NodeEvent::PeerRtt { rtt_us, .. } => format!("rtt{rtt_us}"),
                    NodeEvent::StorageStats { .. } => "storage".into(),
                    NodeEvent::CommitteeElected { epoch, .. } => format!("committee{epoch}"),
                    NodeEvent::RotationDone { epoch, .. } => format!("done{epoch}"),
                    NodeEvent::FastBlockCommitted { number, .. } => format!("block{number}"),
                    other => format!("{other:?}"),
                };
                format!("{}:{}:{what}", e.node, e.seq)
            })
            .collect();
        assert_eq!(
            shown,
            [
                // a's connected peer (p2 left) with its latest RTT; b's latest storage stats;
                // then the last 3 epochs' committee and rotation events; then the window.
                "a:1:+p1",
                "a:4:rtt7",
                "b:7:storage",
                "a:14:committee3",
                "b:15:committee3",
                "a:16:done3",
                "a:17:committee4",
                "b:18:committee4",
                "a:19:done4",
                "a:20:committee5",
                "b:21:committee5",
                "a:22:done5",
                "b:25:block2",
                "b:26:block3",
                "b:27:block4",
                "b:28:block5",
            ]
        );
        // Kept events still in the window are not sent twice; a restart clears the node's peers.
        feed(&mut s, "a", peer("p3"));
        feed(
            &mut s,
            "a",
            NodeEvent::NodeStarted {
                node: "a".into(),
                chain_id: 1,
                fast_head: 0,
                snail_head: 0,
            },
        );
        let FeedMessage::Snapshot { recent, .. } = s.snapshot(false) else {
            panic!("snapshot");
        };
        let peers = recent
            .iter()
            .filter(|e| matches!(e.event, NodeEvent::PeerConnected { .. }))
            .count();
        assert_eq!(peers, 1, "p3 once, in the window; p1 gone with the restart");
    }

    #[test]
    fn committee_and_snail_heads_follow_events() {
        let mut s = state(&["a"]);
        let member = Member {
            key: B256::repeat_byte(1),
            coinbase: Default::default(),
            weight: 3,
        };
        s.apply(Input::Events {
            node: "a".into(),
            events: vec![
                Stamped {
                    seq: 0,
                    time_ms: 0,
                    event: NodeEvent::CommitteeElected {
                        epoch: 2,
                        members: vec![member.clone()],
                        seed: B256::repeat_byte(9),
                        start_height: 100,
                    },
                },
                Stamped {
                    seq: 1,
                    time_ms: 0,
                    event: NodeEvent::SnailBlockMined {
                        number: 4,
                        hash: B256::repeat_byte(4),
                        difficulty: 10,
                        fruits: 2,
                    },
                },
                Stamped {
                    seq: 2,
                    time_ms: 0,
                    event: NodeEvent::Pbft(PbftEvent::CheckpointStable { epoch: 2, seq: 3 }),
                },
            ],
        });
        let a = s.node("a").expect("a");
        assert_eq!(a.snail_head, 4);
        let c = a.committee.as_ref().expect("committee");
        assert_eq!((c.epoch, c.start_height, c.members.len()), (2, 100, 1));
    }

    #[test]
    fn down_is_reported_once_and_does_not_override_deliberate_states() {
        let mut s = state(&["a", "b"]);
        s.apply(Input::Snapshot {
            node: "a".into(),
            snapshot: snap(1, false),
        });
        let cases: Vec<(Input, StatusOf)> = vec![
            (
                Input::Down {
                    node: "a".into(),
                    reason: "connection reset".into(),
                },
                Some(("a".into(), NodeStatus::Unreachable, false)),
            ),
            // Still unreachable: no repeated status, but the latest reason is kept.
            (
                Input::Down {
                    node: "a".into(),
                    reason: "connection refused".into(),
                },
                None,
            ),
            (
                Input::SetStatus {
                    node: "b".into(),
                    status: NodeStatus::Killed,
                    reason: Some("fault injection".into()),
                },
                Some(("b".into(), NodeStatus::Killed, false)),
            ),
            // Killed on purpose: the lost stream is not news.
            (
                Input::Down {
                    node: "b".into(),
                    reason: "connection reset".into(),
                },
                None,
            ),
            // Same status and reason again: nothing.
            (
                Input::SetStatus {
                    node: "b".into(),
                    status: NodeStatus::Killed,
                    reason: Some("fault injection".into()),
                },
                None,
            ),
            // Unknown node: ignored.
            (
                Input::Down {
                    node: "zz".into(),
                    reason: "x".into(),
                },
                None,
            ),
            // A node added later is announced with its view; a second add is ignored.
            (
                Input::AddNode(NodeView::new("c", "http://c", None)),
                Some(("c".into(), NodeStatus::Starting, true)),
            ),
            (Input::AddNode(NodeView::new("c", "http://c", None)), None),
            // Restarted by the launcher: starting until its stream syncs, then running.
            (
                Input::SetStatus {
                    node: "b".into(),
                    status: NodeStatus::Starting,
                    reason: None,
                },
                Some(("b".into(), NodeStatus::Starting, false)),
            ),
            (
                Input::Snapshot {
                    node: "b".into(),
                    snapshot: snap(2, false),
                },
                Some(("b".into(), NodeStatus::Running, true)),
            ),
            // A late "starting" from the launcher does not undo the sync.
            (
                Input::SetStatus {
                    node: "b".into(),
                    status: NodeStatus::Starting,
                    reason: None,
                },
                None,
            ),
        ];
        for (i, (input, want)) in cases.into_iter().enumerate() {
            let got = s.apply(input.clone());
            assert_eq!(status_of(&got), want, "step {i}: {input:?}");
        }
        assert_eq!(
            s.node("a").and_then(|n| n.reason.clone()).as_deref(),
            Some("connection refused")
        );
    }

    #[test]
    fn actions_update_in_place_and_are_bounded() {
        let mut s = state(&["a"]);
        let act = |id, result| Action {
            id,
            time_ms: id,
            what: format!("kill {id}"),
            nodes: vec!["a".into()],
            result,
        };
        for a in [
            act(1, ActionResult::Pending),
            act(1, ActionResult::Ok),
            act(2, ActionResult::Pending),
            act(
                3,
                ActionResult::Failed {
                    error: "gone".into(),
                },
            ),
        ] {
            assert_eq!(
                s.apply(Input::Action(a.clone())),
                Some(FeedMessage::Action(a))
            );
        }
        match s.snapshot(true) {
            FeedMessage::Snapshot {
                actions, resync, ..
            } => {
                assert!(resync);
                let ids: Vec<u64> = actions.iter().map(|a| a.id).collect();
                assert_eq!(ids, vec![2, 3]);
            }
            other => panic!("{other:?}"),
        }
    }
}
