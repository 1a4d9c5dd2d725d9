//! Two real `tc-node` processes (solo, each its own chain) merged into one `/feed`: a client
//! sees hello, a snapshot listing both nodes, `fast_block_committed` events tagged by each
//! node; after one node is killed its status turns `unreachable` while the other keeps going.
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use tc_devnet::feed::{FeedConfig, FeedHub, NodeSource, router};
use tc_types::{FEED_VERSION, FeedMessage, NodeEvent, NodeStatus, SCHEMA_VERSION};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use common::nodes::TestNode;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Next feed message before `deadline` (panics with `what` when it does not come).
async fn next(ws: &mut Ws, deadline: Instant, what: &str) -> FeedMessage {
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|| panic!("feed closed while waiting for {what}"))
            .unwrap_or_else(|e| panic!("feed error while waiting for {what}: {e}"));
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str())
                .unwrap_or_else(|e| panic!("bad frame {t}: {e}"));
        }
    }
}

async fn connect(addr: std::net::SocketAddr) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/feed"))
        .await
        .expect("connect to /feed");
    ws
}

#[test]
fn two_nodes_merge_then_one_dies() {
    let a = TestNode::init("node-a", 500);
    let b = TestNode::init("node-b", 500);
    let _pa = a.start();
    let pb = b.start();
    let sources = vec![
        NodeSource::at(&a.name, &a.addr),
        NodeSource::at(&b.name, &b.addr),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let hub = FeedHub::start(sources, FeedConfig::default()).expect("hub");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = router(hub.handle(), None);
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut ws = connect(addr).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        assert_eq!(
            next(&mut ws, deadline, "hello").await,
            FeedMessage::Hello {
                schema_version: SCHEMA_VERSION,
                feed_version: FEED_VERSION
            }
        );
        // Nodes the merger already synced with are `running` in the snapshot; the others
        // follow as `node_status` with their view.
        let mut running = BTreeSet::new();
        match next(&mut ws, deadline, "snapshot").await {
            FeedMessage::Snapshot { nodes, resync, .. } => {
                assert!(!resync);
                let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
                assert_eq!(names, vec!["node-a", "node-b"]);
                assert!(nodes[0].rpc.starts_with("http://127.0.0.1:"));
                for n in nodes {
                    assert!(
                        matches!(n.status, NodeStatus::Starting | NodeStatus::Running),
                        "{n:?}"
                    );
                    if n.status == NodeStatus::Running {
                        running.insert(n.name);
                    }
                }
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }

        // Both nodes sync and commit blocks.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut committed = BTreeSet::new();
        while running.len() < 2 || committed.len() < 2 {
            match next(&mut ws, deadline, "both nodes running and committing").await {
                FeedMessage::NodeStatus {
                    node,
                    status: NodeStatus::Running,
                    view: Some(v),
                    ..
                } => {
                    assert_eq!(v.chain_id, Some(1337));
                    assert!(v.committee.is_some(), "solo committee in the view");
                    running.insert(node);
                }
                FeedMessage::Events { events } => {
                    for e in events {
                        if let NodeEvent::FastBlockCommitted { number, .. } = e.event {
                            assert!(number > 0);
                            committed.insert(e.node);
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!(
            committed.into_iter().collect::<Vec<_>>(),
            vec!["node-a".to_string(), "node-b".to_string()]
        );

        // Kill node-b: its status turns unreachable; node-a keeps committing.
        drop(pb);
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut down = false;
        let mut a_after = false;
        while !(down && a_after) {
            match next(
                &mut ws,
                deadline,
                "node-b unreachable and node-a still committing",
            )
            .await
            {
                FeedMessage::NodeStatus {
                    node,
                    status,
                    reason,
                    ..
                } if node == "node-b" => {
                    assert_eq!(status, NodeStatus::Unreachable, "{reason:?}");
                    assert!(reason.is_some(), "an unreachable node says why");
                    down = true;
                }
                FeedMessage::Events { events } => {
                    a_after |= down
                        && events.iter().any(|e| {
                            e.node == "node-a"
                                && matches!(e.event, NodeEvent::FastBlockCommitted { .. })
                        });
                }
                _ => {}
            }
        }

        // A client joining now gets the merged state at once.
        let mut late = connect(addr).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        assert!(matches!(
            next(&mut late, deadline, "hello").await,
            FeedMessage::Hello { .. }
        ));
        match next(&mut late, deadline, "snapshot").await {
            FeedMessage::Snapshot { nodes, recent, .. } => {
                let st: Vec<(String, NodeStatus)> =
                    nodes.iter().map(|n| (n.name.clone(), n.status)).collect();
                assert_eq!(
                    st,
                    vec![
                        ("node-a".into(), NodeStatus::Running),
                        ("node-b".into(), NodeStatus::Unreachable)
                    ]
                );
                assert!(nodes[0].fast_head > 0);
                let from: BTreeSet<&str> = recent.iter().map(|e| e.node.as_str()).collect();
                assert!(
                    from.contains("node-a") && from.contains("node-b"),
                    "recent window holds both nodes' events: {from:?}"
                );
            }
            other => panic!("expected a snapshot, got {other:?}"),
        }
        assert_eq!(hub.handle().clients(), 2);
    });
}
