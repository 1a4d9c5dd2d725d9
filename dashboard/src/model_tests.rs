//! Table-driven tests of the reducer: snapshot, deltas, resync, trimming, versions.
use tc_types::{
    ActionResult, Committee, FeedEvent, FruitRef, Member, NodeEvent, NodeStatus, NodeView,
    PbftEvent, PbftPhase, Stamped, TableStats,
};

use super::*;

fn key(i: u8) -> PubKey {
    B256::repeat_byte(i)
}

fn view(name: &str, k: u8) -> NodeView {
    let mut v = NodeView::new(name, format!("http://{name}"), Some(key(k)));
    v.status = NodeStatus::Running;
    v
}

fn committee(epoch: u64, keys: &[u8]) -> Committee {
    Committee {
        epoch,
        start_height: epoch * 100,
        members: keys
            .iter()
            .map(|k| Member {
                key: key(*k),
                coinbase: Address::ZERO,
                weight: 1,
            })
            .collect(),
        seed: B256::ZERO,
    }
}

fn hello() -> FeedMessage {
    FeedMessage::Hello {
        schema_version: SCHEMA_VERSION,
        feed_version: FEED_VERSION,
    }
}

fn snapshot(nodes: Vec<NodeView>, recent: Vec<FeedEvent>, resync: bool) -> FeedMessage {
    FeedMessage::Snapshot {
        nodes,
        recent,
        actions: vec![],
        resync,
    }
}

fn ev(node: &str, time_ms: u64, event: NodeEvent) -> FeedEvent {
    FeedEvent::tag(
        node,
        Stamped {
            seq: time_ms,
            time_ms,
            event,
        },
    )
}

fn block(number: u64, tx_count: u32) -> NodeEvent {
    block_with_hash(number, tx_count, number as u8)
}

fn block_with_hash(number: u64, tx_count: u32, h: u8) -> NodeEvent {
    NodeEvent::FastBlockCommitted {
        number,
        hash: B256::repeat_byte(h),
        epoch: 0,
        view: 0,
        proposer: key(1),
        tx_count,
        gas_used: 21_000 * u64::from(tx_count),
        timestamp_ms: number * 500,
        signers: vec![0, 1, 2],
    }
}

fn events(list: Vec<FeedEvent>) -> FeedMessage {
    FeedMessage::Events { events: list }
}

fn two_nodes() -> Model {
    let mut m = Model::default();
    let mut a = view("a", 1);
    let mut b = view("b", 2);
    a.committee = Some(committee(0, &[1, 2, 3]));
    b.committee = Some(committee(0, &[1, 2, 3]));
    m.apply(hello());
    m.apply(snapshot(vec![a, b], vec![], false));
    m
}

#[test]
fn snapshot_lists_nodes_roles_and_committee() {
    let m = two_nodes();
    assert_eq!(m.versions, Some((SCHEMA_VERSION, FEED_VERSION)));
    assert_eq!(m.snapshots, 1);
    let names: Vec<&str> = m.nodes.iter().map(|n| n.view.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b"]);
    // view 0: primary is member 0 (key 1 = node a).
    let roles: Vec<Role> = m.nodes.iter().map(NodeState::role).collect();
    assert_eq!(roles, vec![Role::Primary(0), Role::Member(1)]);
    let c = m.committees.get(&0).expect("epoch 0");
    assert_eq!(c.reported_by, vec!["a".to_string(), "b".to_string()]);
    assert!(!c.conflict);
    assert_eq!(m.node_of_key(&key(2)), Some("b"));
}

#[test]
fn nodes_disagreeing_on_a_committee_are_flagged() {
    let mut m = Model::default();
    let mut a = view("a", 1);
    let mut b = view("b", 2);
    a.committee = Some(committee(0, &[1]));
    b.committee = Some(committee(0, &[2]));
    m.apply(hello());
    m.apply(snapshot(vec![a, b], vec![], false));
    let c = m.committees.get(&0).expect("epoch 0");
    assert!(c.conflict);
    assert_eq!(c.members[0].key, key(1), "the first report is shown");
}

#[test]
fn roles_table() {
    // (node key, committee keys, pbft view, expected role)
    type Case = (Option<u8>, Option<Vec<u8>>, u64, Role);
    let cases: Vec<Case> = vec![
        (Some(1), Some(vec![1, 2, 3, 4]), 0, Role::Primary(0)),
        (Some(1), Some(vec![1, 2, 3, 4]), 1, Role::Member(0)),
        (Some(2), Some(vec![1, 2, 3, 4]), 5, Role::Primary(1)),
        (Some(9), Some(vec![1, 2, 3, 4]), 0, Role::Follower),
        (None, Some(vec![1]), 0, Role::Unknown),
        (Some(1), None, 0, Role::Unknown),
    ];
    for (k, members, pbft_view, want) in cases {
        let mut v = NodeView::new("n", "", k.map(key));
        v.committee = members.map(|m| committee(0, &m));
        let mut n = NodeState::new(v);
        n.pbft_view = pbft_view;
        assert_eq!(n.role(), want, "key {k:?} view {pbft_view}");
    }
}

#[test]
fn blocks_merge_across_nodes_and_move_heads() {
    let mut m = two_nodes();
    m.apply(events(vec![
        ev("a", 1, block(1, 2)),
        ev("b", 2, block(1, 2)),
        ev("a", 3, block(2, 0)),
        ev("b", 4, block_with_hash(2, 0, 0xee)), // b committed a different block 2!
        ev("zz", 5, block(3, 0)),                // unknown node: ignored
    ]));
    let rows: Vec<(u64, Vec<String>, bool)> = m
        .fast_blocks
        .iter()
        .map(|r| (r.number, r.seen_by.clone(), r.conflict))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, vec!["a".into(), "b".into()], false),
            (2, vec!["a".into(), "b".into()], true),
        ]
    );
    assert_eq!(m.node("a").map(|n| n.view.fast_head), Some(2));
    assert_eq!(m.node("a").map(|n| n.tx_included), Some(2));
    assert_eq!(m.max_fast_head(), 2);
    assert_eq!(m.fast_intervals(), vec![(2, 500)]);
    assert_eq!(m.consensus_now(), Some((0, 0, 2)));
    assert_eq!(m.last_event_ms, Some(5));
}

#[test]
fn late_blocks_insert_in_order() {
    let mut m = two_nodes();
    for n in [3, 1, 2, 5, 4] {
        m.apply(events(vec![ev("a", n, block(n, 0))]));
    }
    let nums: Vec<u64> = m.fast_blocks.iter().map(|r| r.number).collect();
    assert_eq!(nums, vec![1, 2, 3, 4, 5]);
    assert_eq!(m.node("a").map(|n| n.view.fast_head), Some(5));
}

#[test]
fn every_list_is_trimmed_to_its_limit() {
    let limits = Limits {
        fast_blocks: 3,
        snail_blocks: 2,
        instances: 2,
        epochs: 2,
        rotations: 2,
        view_changes: 2,
        txs: 2,
        reorgs: 1,
        actions: 2,
        peers: 2,
    };
    let mut m = Model::new(limits);
    m.apply(hello());
    m.apply(snapshot(vec![view("a", 1)], vec![], false));
    let mut list = Vec::new();
    for i in 0..10u64 {
        let t = i * 10;
        list.push(ev("a", t, block(i, 1)));
        list.push(ev(
            "a",
            t,
            NodeEvent::SnailBlockMined {
                number: i,
                hash: B256::repeat_byte(100 + i as u8),
                difficulty: 1,
                fruits: 0,
            },
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::Pbft(PbftEvent::PhaseEntered {
                epoch: 0,
                view: 0,
                seq: i,
                phase: PbftPhase::Prepare,
                digest: B256::ZERO,
            }),
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::CommitteeElected {
                epoch: i,
                members: vec![],
                seed: B256::ZERO,
                start_height: i,
            },
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::RotationDone {
                epoch: i,
                first_height: i,
            },
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::Pbft(PbftEvent::ViewChangeStarted {
                epoch: 0,
                from_view: i,
                to_view: i + 1,
                reason: "timeout".into(),
            }),
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::TxRejected {
                hash: None,
                reason: "nonce".into(),
            },
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::SnailReorg {
                old_head: B256::ZERO,
                new_head: B256::ZERO,
                depth: i,
            },
        ));
        list.push(ev(
            "a",
            t,
            NodeEvent::PeerConnected {
                peer: format!("p{i}"),
            },
        ));
        m.apply(FeedMessage::Action(Action {
            id: i,
            time_ms: t,
            what: "kill".into(),
            nodes: vec![],
            result: ActionResult::Ok,
        }));
    }
    m.apply(events(list));
    let fast: Vec<u64> = m.fast_blocks.iter().map(|r| r.number).collect();
    assert_eq!(fast, vec![7, 8, 9]);
    let snail: Vec<u64> = m.snail_blocks.iter().map(|r| r.number).collect();
    assert_eq!(snail, vec![8, 9]);
    let inst: Vec<(u64, u64)> = m.instances.keys().copied().collect();
    assert_eq!(inst, vec![(0, 8), (0, 9)]);
    let epochs: Vec<u64> = m.committees.keys().copied().collect();
    assert_eq!(epochs, vec![8, 9]);
    assert_eq!(m.rotations.len(), 2);
    assert_eq!(m.view_changes.back().map(|v| v.to_view), Some(10));
    assert_eq!(m.view_changes.len(), 2);
    assert_eq!(m.txs.len(), 2);
    assert_eq!(m.reorgs.len(), 1);
    let ids: Vec<u64> = m.actions.iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![8, 9]);
    let a = m.node("a").expect("a");
    assert_eq!(a.peers.len(), 2);
    assert_eq!(a.tx_rejected, 10);
    // A block older than everything kept is not brought back.
    m.apply(events(vec![ev("a", 100, block(2, 0))]));
    assert_eq!(m.fast_blocks.front().map(|r| r.number), Some(7));
}

#[test]
fn pbft_timeline_per_instance_and_member() {
    let mut m = two_nodes();
    let phase = |seq, view, phase| {
        NodeEvent::Pbft(PbftEvent::PhaseEntered {
            epoch: 0,
            view,
            seq,
            phase,
            digest: B256::repeat_byte(seq as u8),
        })
    };
    m.apply(events(vec![
        ev("a", 10, phase(7, 0, PbftPhase::PrePrepare)),
        ev("b", 11, phase(7, 0, PbftPhase::PrePrepare)),
        ev("a", 12, phase(7, 0, PbftPhase::Prepare)),
        ev(
            "a",
            13,
            NodeEvent::Pbft(PbftEvent::QuorumReached {
                epoch: 0,
                view: 0,
                seq: 7,
                phase: PbftPhase::Prepare,
                votes: 3,
            }),
        ),
        ev("a", 14, phase(7, 0, PbftPhase::Commit)),
        ev("a", 15, phase(7, 0, PbftPhase::Decided)),
        ev("b", 16, phase(7, 0, PbftPhase::Decided)),
        ev("b", 17, phase(8, 1, PbftPhase::PrePrepare)),
    ]));
    let i = m.instances.get(&(0, 7)).expect("instance 7");
    assert_eq!(i.phase_of("a"), Some(PbftPhase::Decided));
    assert_eq!(i.phase_of("b"), Some(PbftPhase::Decided));
    assert_eq!(i.phases.get("a").map(Vec::len), Some(4));
    assert_eq!(i.quorums.get("a"), Some(&vec![(PbftPhase::Prepare, 3, 13)]));
    assert_eq!((i.first_ms, i.decided_ms), (10, Some(15)));
    assert_eq!(i.digest, Some(B256::repeat_byte(7)));
    assert_eq!(m.consensus_now(), Some((0, 1, 8)));
    // b moved to view 1: with 3 members, primary of view 1 is member 1 = b.
    assert_eq!(m.node("b").map(NodeState::role), Some(Role::Primary(1)));
    assert_eq!(m.node("a").map(NodeState::role), Some(Role::Primary(0)));
}

#[test]
fn view_changes_complete_and_drops_count() {
    let mut m = two_nodes();
    m.apply(events(vec![
        ev(
            "a",
            1,
            NodeEvent::Pbft(PbftEvent::ViewChangeStarted {
                epoch: 0,
                from_view: 0,
                to_view: 1,
                reason: "timeout on seq 4".into(),
            }),
        ),
        ev(
            "a",
            2,
            NodeEvent::Pbft(PbftEvent::ViewChangeCompleted {
                epoch: 0,
                view: 1,
                primary: 1,
            }),
        ),
        ev(
            "b",
            3,
            NodeEvent::Pbft(PbftEvent::ViewChangeCompleted {
                epoch: 0,
                view: 1,
                primary: 1,
            }),
        ),
        ev(
            "b",
            4,
            NodeEvent::Pbft(PbftEvent::MessageDropped {
                from: Some(2),
                message: "prepare".into(),
                reason: "bad signature".into(),
            }),
        ),
    ]));
    type Row = (String, u64, Option<(u32, u64)>, String);
    let rows: Vec<Row> = m
        .view_changes
        .iter()
        .map(|r| (r.node.clone(), r.to_view, r.completed, r.reason.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("a".into(), 1, Some((1, 2)), "timeout on seq 4".into()),
            ("b".into(), 1, Some((1, 3)), "(start not seen)".into()),
        ]
    );
    let b = m.node("b").expect("b");
    assert_eq!((b.dropped_messages, b.pbft_view), (1, 1));
    assert_eq!(b.last_drop.as_deref(), Some("prepare: bad signature"));
}

#[test]
fn snail_blocks_fruits_rotations_mempool_storage_peers() {
    let mut m = two_nodes();
    let h = B256::repeat_byte(0x51);
    m.apply(events(vec![
        ev(
            "a",
            1,
            NodeEvent::SnailBlockMined {
                number: 4,
                hash: h,
                difficulty: 9,
                fruits: 2,
            },
        ),
        ev(
            "b",
            2,
            NodeEvent::SnailBlockImported {
                number: 4,
                hash: h,
                miner: key(1),
                difficulty: 9,
                fruits: 2,
            },
        ),
        ev(
            "a",
            3,
            NodeEvent::FruitsIncluded {
                snail_number: 4,
                snail_hash: h,
                fruits: vec![
                    FruitRef {
                        number: 10,
                        hash: B256::ZERO,
                    },
                    FruitRef {
                        number: 12,
                        hash: B256::ZERO,
                    },
                ],
            },
        ),
        ev(
            "a",
            4,
            NodeEvent::RotationScheduled {
                epoch: 1,
                at_height: 100,
            },
        ),
        ev(
            "b",
            5,
            NodeEvent::RotationScheduled {
                epoch: 1,
                at_height: 100,
            },
        ),
        ev(
            "a",
            6,
            NodeEvent::RotationStarted {
                epoch: 1,
                last_height: 99,
                next_committee: B256::ZERO,
            },
        ),
        ev(
            "a",
            7,
            NodeEvent::RotationDone {
                epoch: 1,
                first_height: 100,
            },
        ),
        ev(
            "a",
            8,
            NodeEvent::TxAdmitted {
                hash: B256::repeat_byte(1),
                sender: Address::ZERO,
                nonce: 0,
            },
        ),
        ev(
            "a",
            9,
            NodeEvent::TxRejected {
                hash: None,
                reason: "nonce too low".into(),
            },
        ),
        ev(
            "a",
            10,
            NodeEvent::StorageStats {
                tables: vec![TableStats {
                    name: "headers".into(),
                    live_sst_bytes: 4096,
                    ..TableStats::default()
                }],
            },
        ),
        ev("b", 11, NodeEvent::PeerConnected { peer: "p1".into() }),
        ev(
            "b",
            12,
            NodeEvent::PeerRtt {
                peer: "p1".into(),
                rtt_us: 250,
            },
        ),
        ev("b", 13, NodeEvent::PeerConnected { peer: "p2".into() }),
        ev("b", 14, NodeEvent::PeerDisconnected { peer: "p2".into() }),
        ev(
            "b",
            15,
            NodeEvent::PeerPenalized {
                peer: "p1".into(),
                reason: "junk".into(),
            },
        ),
    ]));
    assert_eq!(m.snail_blocks.len(), 1);
    let s = &m.snail_blocks[0];
    assert_eq!(s.mined_by.as_deref(), Some("a"));
    assert_eq!(s.miner_key, Some(key(1)));
    assert_eq!(s.seen_by, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(s.fruit_range, Some((10, 12)));
    assert_eq!(m.max_snail_head(), 4);
    let steps: Vec<(RotationStep, usize)> = m
        .rotations
        .iter()
        .map(|r| (r.step.clone(), r.seen_by.len()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (RotationStep::Scheduled { at_height: 100 }, 2),
            (RotationStep::Started { last_height: 99 }, 1),
            (RotationStep::Done { first_height: 100 }, 1),
        ]
    );
    let a = m.node("a").expect("a");
    assert_eq!(
        (a.tx_admitted, a.tx_rejected, a.pending_estimate()),
        (1, 1, 1)
    );
    assert_eq!(a.epoch, 1);
    assert_eq!(
        a.storage.as_ref().map(|(t, s)| (*t, s.len())),
        Some((10, 1))
    );
    assert_eq!(
        m.txs.back().and_then(|t| t.rejected.clone()).as_deref(),
        Some("nonce too low")
    );
    let b = m.node("b").expect("b");
    assert_eq!(b.peers.get("p1"), Some(&Some(250)));
    assert!(!b.peers.contains_key("p2"));
    assert_eq!(b.penalties, 1);
}

#[test]
fn resync_snapshot_replaces_state_and_replays_recent() {
    let mut m = two_nodes();
    m.apply(events(vec![
        ev("a", 1, block(1, 0)),
        ev("a", 2, block(2, 0)),
    ]));
    m.apply(FeedMessage::Action(Action {
        id: 1,
        time_ms: 1,
        what: "kill b".into(),
        nodes: vec!["b".into()],
        result: ActionResult::Pending,
    }));
    let mut c = view("c", 3);
    c.fast_head = 40;
    m.apply(snapshot(vec![c], vec![ev("c", 50, block(41, 1))], true));
    assert_eq!((m.snapshots, m.resyncs), (2, 1));
    let names: Vec<&str> = m.nodes.iter().map(|n| n.view.name.as_str()).collect();
    assert_eq!(names, vec!["c"], "old nodes are gone");
    let fast: Vec<u64> = m.fast_blocks.iter().map(|r| r.number).collect();
    assert_eq!(
        fast,
        vec![41],
        "history replaced by the snapshot's recent window"
    );
    assert!(m.actions.is_empty());
    assert!(m.committees.is_empty());
    assert_eq!(m.node("c").map(|n| n.view.fast_head), Some(41));
    assert_eq!(
        m.versions,
        Some((SCHEMA_VERSION, FEED_VERSION)),
        "versions kept"
    );
}

#[test]
fn node_status_and_resync_view() {
    let mut m = two_nodes();
    let cases: Vec<(FeedMessage, &str, NodeStatus, Option<&str>, bool)> = vec![
        (
            FeedMessage::NodeStatus {
                node: "b".into(),
                status: NodeStatus::Unreachable,
                reason: Some("connection refused".into()),
                view: None,
            },
            "b",
            NodeStatus::Unreachable,
            Some("connection refused"),
            false,
        ),
        (
            FeedMessage::NodeStatus {
                node: "b".into(),
                status: NodeStatus::Running,
                reason: None,
                view: Some(Box::new({
                    let mut v = view("b", 2);
                    v.fast_head = 77;
                    v.committee = Some(committee(3, &[2]));
                    v
                })),
            },
            "b",
            NodeStatus::Running,
            None,
            true,
        ),
    ];
    for (msg, name, status, reason, resynced) in cases {
        m.apply(msg);
        let n = m.node(name).expect("node");
        assert_eq!(n.view.status, status);
        assert_eq!(n.view.reason.as_deref(), reason);
        assert_eq!(n.resynced, resynced);
    }
    assert_eq!(m.node("b").map(|n| n.view.fast_head), Some(77));
    assert!(
        m.committees.contains_key(&3),
        "committee from the fresh view"
    );
}

#[test]
fn a_node_added_later_appears_with_its_view() {
    let mut m = two_nodes();
    let status = |node: &str, view: Option<NodeView>| FeedMessage::NodeStatus {
        node: node.into(),
        status: NodeStatus::Starting,
        reason: None,
        view: view.map(Box::new),
    };
    // Unknown node without a view: ignored (nothing to draw it from).
    m.apply(status("c", None));
    assert_eq!(m.nodes.len(), 2);
    m.apply(status("c", Some(NodeView::new("c", "http://c", None))));
    let names: Vec<&str> = m.nodes.iter().map(|n| n.view.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b", "c"]);
    assert_eq!(
        m.node("c").map(|n| n.view.status),
        Some(NodeStatus::Starting)
    );
    m.apply(events(vec![ev("c", 1, block(1, 0))]));
    assert_eq!(m.node("c").map(|n| n.view.fast_head), Some(1));
}

#[test]
fn version_mismatch_stops_reading_until_a_good_hello() {
    let cases = [
        (SCHEMA_VERSION + 1, FEED_VERSION),
        (SCHEMA_VERSION, FEED_VERSION + 1),
    ];
    for (schema, feed) in cases {
        let mut m = Model::default();
        m.apply(FeedMessage::Hello {
            schema_version: schema,
            feed_version: feed,
        });
        let why = m.incompatible.clone().expect("incompatible");
        assert!(why.contains("rebuild"), "{why}");
        m.apply(snapshot(vec![view("a", 1)], vec![], false));
        assert!(m.nodes.is_empty(), "frames ignored while incompatible");
        m.apply(hello());
        assert!(m.incompatible.is_none());
        m.apply(snapshot(vec![view("a", 1)], vec![], false));
        assert_eq!(m.nodes.len(), 1);
    }
}

#[test]
fn text_frames_parse_or_count_errors() {
    let mut m = Model::default();
    m.apply_text(r#"{"type":"hello","schema_version":1,"feed_version":1}"#);
    m.apply_text(r#"{"type":"snapshot","nodes":[{"name":"a","status":"starting","rpc":"http://x","fast_head":0,"fast_head_hash":"0x0000000000000000000000000000000000000000000000000000000000000000","snail_head":0,"snail_head_hash":"0x0000000000000000000000000000000000000000000000000000000000000000"}]}"#);
    assert_eq!(m.nodes.len(), 1);
    assert_eq!(m.nodes[0].view.status, NodeStatus::Starting);
    m.apply_text("{not json");
    m.apply_text(r#"{"type":"from_the_future"}"#);
    assert_eq!(m.parse_errors, 2);
    assert!(m.last_parse_error.is_some());
    assert_eq!(m.nodes.len(), 1, "state untouched by bad frames");
}

#[test]
fn a_snapshot_with_kept_history_fills_timeline_peers_and_storage_at_once() {
    // What the merger's snapshot carries for a client opening the page mid-run: older
    // committee/rotation events, peers and storage stats first, then the recent window.
    let mut a = view("a", 1);
    a.committee = Some(committee(5, &[1, 2]));
    let mut recent = vec![
        ev("a", 1, NodeEvent::PeerConnected { peer: "pb".into() }),
        ev(
            "a",
            2,
            NodeEvent::PeerRtt {
                peer: "pb".into(),
                rtt_us: 1_500,
            },
        ),
        ev(
            "a",
            3,
            NodeEvent::StorageStats {
                tables: vec![TableStats {
                    name: "headers".into(),
                    live_sst_bytes: 200,
                    estimated_keys: 10,
                    memtable_bytes: 0,
                    bytes_read: 0,
                    bytes_written: 0,
                    reads: 0,
                    writes: 0,
                }],
            },
        ),
    ];
    for epoch in 3..=5 {
        let c = committee(epoch, &[1, 2]);
        recent.push(ev(
            "a",
            10 * epoch,
            NodeEvent::CommitteeElected {
                epoch,
                members: c.members,
                seed: c.seed,
                start_height: c.start_height,
            },
        ));
        recent.push(ev(
            "a",
            10 * epoch + 1,
            NodeEvent::RotationDone {
                epoch,
                first_height: epoch * 100,
            },
        ));
    }
    recent.push(ev("a", 60, block(501, 0)));
    let mut m = Model::default();
    m.apply(hello());
    m.apply(snapshot(vec![a], recent, false));
    assert_eq!(m.committees.keys().copied().collect::<Vec<_>>(), [3, 4, 5]);
    let done: Vec<u64> = m
        .rotations
        .iter()
        .filter(|r| matches!(r.step, RotationStep::Done { .. }))
        .map(|r| r.epoch)
        .collect();
    assert_eq!(done, [3, 4, 5]);
    let n = m.node("a").expect("a");
    assert_eq!(n.peers.get("pb"), Some(&Some(1_500)));
    assert_eq!(n.storage.as_ref().map(|(_, t)| t.len()), Some(1));
    assert_eq!(m.max_fast_head(), 501);
}
