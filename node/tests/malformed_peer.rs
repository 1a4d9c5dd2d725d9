//! Malformed bytes on every gossip topic and request protocol, each from its own rogue libp2p
//! peer, against a running `tc-node`: the node names the reason in a `peer_penalized` event,
//! answers a malformed sync request with an error, and keeps committing.
mod common;

use std::time::Duration;

use common::{TestNode, hex_u64, rpc};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tc_net::{NetConfig, NetEvent, Network, PeerId, Protocol, Topic};

const DEADLINE: Duration = Duration::from_secs(30);

fn rogue_config(bootnode: &str) -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootnodes: vec![bootnode.into()],
        gossip_heartbeat_ms: 100,
        request_timeout_ms: 5_000,
        ..NetConfig::default()
    }
}

/// One rogue peer sends one malformed thing, after it is connected (and, for gossip, after
/// the node joined its topic mesh: publishing is retried until it is accepted).
async fn rogue(bootnode: &str, node: PeerId, what: &str) -> Option<Vec<u8>> {
    let key = tc_net::keypair_from_secret(rand::random()).expect("key");
    let (h, mut events) = Network::start(&rogue_config(bootnode), key).expect("rogue starts");
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let Some(NetEvent::PeerConnected { peer, .. }) = events.recv().await
                && peer == node
            {
                break;
            }
        }
    })
    .await
    .expect("rogue connects");
    let garbage = vec![0x0a, 0xff, 0xff, 0x01, 0x02, 0x03];
    let topic = match what {
        "tx" => Some(Topic::Tx),
        "fast" => Some(Topic::FastBlock),
        "snail" => Some(Topic::SnailBlock),
        _ => None,
    };
    let answer = if let Some(topic) = topic {
        tokio::time::timeout(DEADLINE, async {
            while h.publish(topic, garbage.clone()).await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await
        .expect("published");
        None
    } else {
        let protocol = if what == "sync" {
            Protocol::Sync
        } else {
            Protocol::Consensus
        };
        Some(
            h.send_request(node, protocol, garbage)
                .await
                .expect("request answered"),
        )
    };
    // Stay connected until the node has read it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = h.shutdown().await;
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bytes_on_every_topic_and_protocol_are_penalised() {
    let node = TestNode::init(50, 500);
    let p2p_port = common::free_port();
    let text = std::fs::read_to_string(&node.config).expect("config");
    std::fs::write(
        &node.config,
        text.replace(
            "/ip4/127.0.0.1/tcp/0",
            &format!("/ip4/127.0.0.1/tcp/{p2p_port}"),
        ),
    )
    .expect("config");
    let _p = node.start();
    let key = tc_node::keys::ConsensusKey::load(&node.dir.path().join("node.key")).expect("key");
    let node_peer = tc_net::peer_id_of_ed25519(&key.public().0).expect("peer id");
    let bootnode = format!("/ip4/127.0.0.1/tcp/{p2p_port}/p2p/{node_peer}");

    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/events", node.port))
            .await
            .expect("connect");
    let url = node.url.clone();
    let head = |url: String| async move {
        tokio::task::spawn_blocking(move || rpc(&url, "eth_blockNumber", json!([])))
            .await
            .expect("join")
            .map(|v| hex_u64(&v))
            .expect("head")
    };
    let before = head(url.clone()).await;

    for what in ["tx", "fast", "snail", "consensus", "sync"] {
        let answer = rogue(&bootnode, node_peer, what).await;
        if what == "sync" {
            let resp = tc_wire::decode_sync_response(&answer.expect("sync answer"))
                .expect("the answer itself is well formed");
            assert!(
                matches!(&resp, tc_wire::SyncResponse::Error(e) if e.contains("malformed sync request")),
                "{resp:?}"
            );
        }
    }

    // One penalty per channel, each naming what was wrong.
    let wanted = [
        "tc/txs/2: transaction batch does not decode",
        "tc/fast/1: certified block does not decode",
        "tc/snail/1: snail block does not decode",
        "malformed consensus message",
        "malformed sync request",
    ];
    let mut seen: Vec<String> = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while !wanted.iter().all(|w| seen.iter().any(|s| s.contains(w))) {
            let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else {
                continue;
            };
            let v: Value = serde_json::from_str(&t).expect("json");
            for e in v["events"].as_array().into_iter().flatten() {
                if e["event"]["type"] == "peer_penalized" {
                    seen.push(
                        e["event"]["reason"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    );
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("penalties seen: {seen:#?}"));

    // And the node keeps committing.
    tokio::time::timeout(DEADLINE, async {
        while head(url.clone()).await < before + 3 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("still committing");
}
