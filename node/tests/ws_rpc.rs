//! JSON-RPC over WebSocket (`GET /` upgrade, same port as `POST /`) on a real node: plain and
//! batch calls, malformed frames answered with errors on a connection that stays usable,
//! `eth_subscribe` newHeads (consecutive heights, geth's notification shape), `logs` with an
//! address/topic filter, `newPendingTransactions`, `eth_unsubscribe`; and a connection that
//! never reads does not hold the node back.
mod common;

use std::time::Duration;

use alloy_primitives::{Address, Bytes, U256, address, keccak256};
use common::{TestNode, hex_u64, rpc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const BANK: Address = address!("0x000000000000000000000000000000000000bA4C");

async fn connect(port: u16) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/"))
        .await
        .expect("connect")
        .0
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .expect("a frame within 30s")
            .expect("stream open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("json frame");
        }
    }
}

async fn call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::Text(req.to_string().into()))
        .await
        .expect("send");
    // Notifications may interleave; skip them.
    loop {
        let v = next_json(ws).await;
        if v["id"] == json!(id) {
            return v;
        }
        assert_eq!(v["method"], "eth_subscription", "unexpected frame {v}");
    }
}

async fn send_raw(url: &str, raw: Bytes) -> Value {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || rpc(&url, "eth_sendRawTransaction", json!([raw])))
        .await
        .expect("join")
        .expect("send")
}

/// The next notification (skipping nothing else: responses are not expected here).
async fn notification(ws: &mut Ws) -> (String, Value) {
    let v = next_json(ws).await;
    assert_eq!(v["jsonrpc"], "2.0", "{v}");
    assert_eq!(v["method"], "eth_subscription", "{v}");
    assert!(v.get("id").is_none(), "{v}");
    (
        v["params"]["subscription"]
            .as_str()
            .expect("subscription id")
            .to_string(),
        v["params"]["result"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_batches_and_malformed_frames() {
    let node = TestNode::init(50, 200);
    let _p = node.start();
    let mut ws = connect(node.port).await;

    let r = call(&mut ws, 1, "eth_chainId", json!([])).await;
    assert_eq!(r["result"], "0x539");

    // Batch: same answers as over HTTP, in order.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 10, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 11, "method": "eth_getBalance", "params": [BANK, "latest"]},
        {"jsonrpc": "2.0", "id": 12, "method": "no_such_method"},
    ]);
    ws.send(Message::Text(batch.to_string().into()))
        .await
        .expect("send");
    let r = next_json(&mut ws).await;
    let arr = r.as_array().expect("batch answer");
    assert_eq!(arr.len(), 3);
    assert_eq!(arr[0]["result"], "0x539");
    assert_eq!(arr[1]["id"], 11);
    assert_eq!(arr[2]["error"]["code"], -32601);

    // Malformed frames: a JSON-RPC error each, and the connection keeps working.
    for bad in [
        Message::Text("{not json".into()),
        Message::Binary(vec![0xff, 0x00, 0x13].into()),
    ] {
        ws.send(bad).await.expect("send");
        let r = next_json(&mut ws).await;
        assert_eq!(r["error"]["code"], -32700, "{r}");
        assert_eq!(r["id"], Value::Null);
    }
    ws.send(Message::Text("[]".into())).await.expect("send");
    assert_eq!(next_json(&mut ws).await["error"]["code"], -32600);
    ws.send(Message::Text(r#"{"jsonrpc":"2.0","id":3}"#.into()))
        .await
        .expect("send");
    assert_eq!(next_json(&mut ws).await["error"]["code"], -32600);
    let r = call(&mut ws, 4, "eth_subscribe", json!(["nope"])).await;
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = call(&mut ws, 5, "eth_subscribe", json!([])).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = call(&mut ws, 6, "eth_blockNumber", json!([])).await;
    assert!(r["result"].is_string(), "{r}");

    // Over HTTP, subscriptions are refused the way geth refuses them.
    let url = node.url.clone();
    let err = tokio::task::spawn_blocking(move || rpc(&url, "eth_subscribe", json!(["newHeads"])))
        .await
        .expect("join")
        .expect_err("no subscriptions over HTTP");
    assert!(err.contains("notifications not supported"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_heads_logs_and_pending_transactions() {
    let node = TestNode::init(50, 200);
    let _p = node.start();
    let mut ws = connect(node.port).await;

    // newHeads: geth's header JSON, consecutive heights.
    let heads = call(&mut ws, 1, "eth_subscribe", json!(["newHeads"])).await["result"]
        .as_str()
        .expect("subscription id")
        .to_string();
    assert!(heads.starts_with("0x") && heads.len() > 2, "{heads}");
    let (id, h1) = notification(&mut ws).await;
    assert_eq!(id, heads);
    let (_, h2) = notification(&mut ws).await;
    assert_eq!(hex_u64(&h2["number"]), hex_u64(&h1["number"]) + 1);
    assert_eq!(h2["parentHash"], h1["hash"]);
    for field in [
        "hash",
        "parentHash",
        "sha3Uncles",
        "miner",
        "stateRoot",
        "transactionsRoot",
        "receiptsRoot",
        "logsBloom",
        "difficulty",
        "gasLimit",
        "gasUsed",
        "timestamp",
        "extraData",
        "mixHash",
        "nonce",
        "baseFeePerGas",
    ] {
        assert!(h1.get(field).is_some(), "header lacks {field}: {h1}");
    }
    assert!(h1.get("transactions").is_none(), "a header, not a block");
    // Exactly geth's fields: web3.py picks a notification's formatter by its key set.
    assert!(
        h1.get("epoch").is_none() && h1.get("proposer").is_none(),
        "{h1}"
    );
    // The header is the block's (same hash as eth_getBlockByNumber).
    let r = call(
        &mut ws,
        2,
        "eth_getBlockByNumber",
        json!([h1["number"], false]),
    )
    .await;
    assert_eq!(r["result"]["hash"], h1["hash"]);
    assert_eq!(
        call(&mut ws, 3, "eth_unsubscribe", json!([heads])).await["result"],
        true
    );
    assert_eq!(
        call(&mut ws, 4, "eth_unsubscribe", json!([heads])).await["result"],
        false
    );

    // logs: one subscription matching Bank's Deposit, one for another address; pending hashes.
    let deposit_topic = keccak256("Deposit(address,uint256)");
    let logs = call(
        &mut ws,
        5,
        "eth_subscribe",
        json!(["logs", {"address": BANK, "topics": [deposit_topic]}]),
    )
    .await["result"]
        .as_str()
        .expect("id")
        .to_string();
    let other = call(
        &mut ws,
        6,
        "eth_subscribe",
        json!(["logs", {"address": Address::repeat_byte(9)}]),
    )
    .await["result"]
        .as_str()
        .expect("id")
        .to_string();
    let pending = call(
        &mut ws,
        7,
        "eth_subscribe",
        json!(["newPendingTransactions"]),
    )
    .await["result"]
        .as_str()
        .expect("id")
        .to_string();

    let raw = common::raw_tx(
        3,
        1337,
        0,
        Some(BANK),
        U256::from(1234),
        tc_exec::bank::deposit_calldata(),
        200_000,
    );
    let hash = send_raw(&node.url, raw).await;
    let (mut saw_pending, mut log) = (false, None);
    while !(saw_pending && log.is_some()) {
        let (id, result) = notification(&mut ws).await;
        assert_ne!(id, other, "the other address's filter matched: {result}");
        if id == pending {
            assert_eq!(result, hash, "pending hash");
            saw_pending = true;
        } else if id == logs {
            assert!(saw_pending, "log before the pending notification");
            log = Some(result);
        } else {
            panic!("notification for unknown subscription {id}");
        }
    }
    let log = log.expect("log");
    assert_eq!(log["transactionHash"], hash);
    assert_eq!(log["topics"][0], json!(deposit_topic));
    assert_eq!(log["removed"], false);
    // The pushed log is the one eth_getLogs returns.
    let got = call(
        &mut ws,
        8,
        "eth_getLogs",
        json!([{"fromBlock": log["blockNumber"], "toBlock": log["blockNumber"], "address": BANK}]),
    )
    .await;
    assert_eq!(got["result"], json!([log]));

    // A transfer without logs: the pending hash arrives, no log notification for either filter.
    let raw = common::raw_tx(
        4,
        1337,
        0,
        Some(Address::repeat_byte(9)),
        U256::from(1),
        Bytes::new(),
        21_000,
    );
    let hash = send_raw(&node.url, raw).await;
    let (id, result) = notification(&mut ws).await;
    assert_eq!((id.as_str(), &result), (pending.as_str(), &hash));
    let receipt = common::wait_for("receipt", 30, || {
        rpc(&node.url, "eth_getTransactionReceipt", json!([hash]))
            .ok()
            .filter(|r| !r.is_null())
    });
    // Subscribe to heads again: the next head is after the transfer's block, and no log
    // notification came before it.
    let _ = call(&mut ws, 9, "eth_subscribe", json!(["newHeads"])).await;
    loop {
        let (id, result) = notification(&mut ws).await;
        assert!(id != logs && id != other, "unexpected log {result}");
        if hex_u64(&result["number"]) > hex_u64(&receipt["blockNumber"]) {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_hold_the_node() {
    let node = TestNode::init(20, 20);
    let _p = node.start();
    let mut idle = connect(node.port).await;
    for (i, kind) in ["newHeads", "newPendingTransactions"].iter().enumerate() {
        let req = json!({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe", "params": [kind]});
        idle.send(Message::Text(req.to_string().into()))
            .await
            .expect("send");
    }
    // Never read `idle` again. The chain keeps committing and other clients keep being served.
    let url = node.url.clone();
    let start = tokio::task::spawn_blocking({
        let url = url.clone();
        move || hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("rpc"))
    })
    .await
    .expect("join");
    let mut ws = connect(node.port).await;
    let id = call(&mut ws, 1, "eth_subscribe", json!(["newHeads"])).await["result"].clone();
    let mut last = 0;
    while last < start + 50 {
        let (sub, head) = notification(&mut ws).await;
        assert_eq!(json!(sub), id);
        last = hex_u64(&head["number"]);
    }
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected() {
    let node = TestNode::init(20, 20);
    let _p = node.start();
    let mut ws = connect(node.port).await;
    // As many newHeads subscriptions as a connection may have: ~1.3 kB × 128 per block.
    for i in 0..tc_node::rpc::MAX_SUBSCRIPTIONS {
        let req =
            json!({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe", "params": ["newHeads"]});
        ws.send(Message::Text(req.to_string().into()))
            .await
            .expect("send");
    }
    let mut answered = 0;
    while answered < tc_node::rpc::MAX_SUBSCRIPTIONS {
        let v = next_json(&mut ws).await;
        if v.get("id").is_some() {
            assert!(v["result"].is_string(), "{v}");
            answered += 1;
        }
    }
    let r = call(&mut ws, 999, "eth_subscribe", json!(["newHeads"])).await;
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many subscriptions")),
        "{r}"
    );
    // Stop reading: socket buffers fill, then the connection's queue or send deadline trips.
    let url = node.url.clone();
    let before = tokio::task::spawn_blocking({
        let url = url.clone();
        move || hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("rpc"))
    })
    .await
    .expect("join");
    tokio::time::sleep(Duration::from_secs(8)).await;
    // The node kept committing meanwhile.
    let after = tokio::task::spawn_blocking(move || {
        hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("rpc"))
    })
    .await
    .expect("join");
    assert!(after > before + 10, "{before} → {after}");
    // Draining what was buffered ends in a closed connection, not an endless stream.
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        let mut frames = 0u64;
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
            frames += 1;
        }
        frames
    })
    .await
    .expect("the node closed the connection of the client that stopped reading");
    assert!(drained > 0);
}
