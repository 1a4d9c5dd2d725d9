//! `GET /events` on a real node: hello with the schema version, a snapshot, then batched
//! events — a submitted transaction shows up as `tx_admitted` and then in a
//! `fast_block_committed` with one transaction.
mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::{TestNode, rpc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

async fn next_json(
    ws: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
            .await
            .expect("a frame within 30s")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("json frame");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_feed_starts_with_snapshot_then_streams_commits() {
    let node = TestNode::init(50, 2_000);
    let _p = node.start();
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/events", node.port))
            .await
            .expect("connect");
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["schema_version"], json!(tc_types::SCHEMA_VERSION));
    assert_eq!(hello["chain_id"], json!(1337));
    let snap = next_json(&mut ws).await;
    assert_eq!(snap["type"], "snapshot");
    assert_eq!(
        snap["committee"]["members"].as_array().map(Vec::len),
        Some(1)
    );

    let raw = common::raw_tx(
        2,
        1337,
        0,
        Some(Address::repeat_byte(7)),
        U256::from(5),
        Bytes::new(),
        21_000,
    );
    let url = node.url.clone();
    let hash =
        tokio::task::spawn_blocking(move || rpc(&url, "eth_sendRawTransaction", json!([raw])))
            .await
            .expect("join")
            .expect("send");

    let (mut admitted, mut committed) = (false, false);
    while !(admitted && committed) {
        let frame = next_json(&mut ws).await;
        assert_eq!(frame["type"], "events", "{frame}");
        for e in frame["events"].as_array().expect("events array") {
            let ev = &e["event"];
            if ev["type"] == "tx_admitted" && ev["hash"] == hash {
                admitted = true;
            }
            if ev["type"] == "fast_block_committed" && ev["tx_count"] == json!(1) {
                assert!(admitted, "commit before admission");
                assert_eq!(ev["signers"], json!([0]));
                committed = true;
            }
        }
    }

    // The same commit shows in the Prometheus metrics.
    let url = format!("{}/metrics", node.url);
    let text = tokio::task::spawn_blocking(move || {
        let mut r = ureq::get(&url).call().expect("metrics");
        r.body_mut().read_to_string().expect("text")
    })
    .await
    .expect("join");
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("metric {name} missing:\n{text}"))
    };
    assert!(value("tc_blocks_committed_total") >= 1.0);
    assert!(value("tc_txs_committed_total") >= 1.0);
    assert!(value("tc_fast_head") >= 1.0);
    assert_eq!(
        value("tc_api_requests_total{method=\"eth_sendRawTransaction\"}"),
        1.0
    );
    assert!(
        text.contains("tc_storage_bytes_written{table=\"receipts\"}"),
        "{text}"
    );
    assert!(text.contains("tc_api_request_seconds_bucket"), "{text}");
}
