//! GraphQL beyond plain queries, on a real node: subscriptions over `/graphql/ws`
//! (graphql-transport-ws and the legacy graphql-ws protocol) receiving new blocks, pending
//! transactions and raw events; `epochs` and `mempool` (per-sender queues, rejections with
//! reasons); the offline GraphiQL page at `/graphql/ui`, every asset it loads local and served.
mod common;

use std::time::Duration;

use alloy_primitives::{Address, Bytes, U256};
use common::{TestNode, rpc};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(port: u16, protocol: &str) -> Ws {
    let mut req = format!("ws://127.0.0.1:{port}/graphql/ws")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        protocol.parse().expect("header value"),
    );
    let (ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("connect");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(protocol)
    );
    ws
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

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next `next` (or legacy `data`) payload of operation `id`, skipping other operations.
async fn next_of(ws: &mut Ws, id: &str) -> Value {
    loop {
        let m = next_json(ws).await;
        if m["type"] == "ka" || m["id"] != id {
            continue;
        }
        assert!(m["type"] == "next" || m["type"] == "data", "{m}");
        return m["payload"].clone();
    }
}

fn gql(url: &str, query: &str) -> Value {
    let mut resp = ureq::post(&format!("{url}/graphql"))
        .send_json(json!({ "query": query }))
        .expect("post");
    resp.body_mut().read_json().expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_over_graphql_transport_ws() {
    let node = TestNode::init(50, 200);
    let _p = node.start();
    let mut ws = connect(node.port, "graphql-transport-ws").await;
    send(&mut ws, json!({"type": "connection_init"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");

    send(&mut ws, json!({"id": "b", "type": "subscribe", "payload": {"query": "subscription { newBlocks { number hash parent { hash } transactionCount epoch } }"}})).await;
    let b1 = next_of(&mut ws, "b").await;
    assert!(b1.get("errors").is_none(), "{b1}");
    let b2 = next_of(&mut ws, "b").await;
    let (n1, n2) = (
        &b1["data"]["newBlocks"]["number"],
        &b2["data"]["newBlocks"]["number"],
    );
    let n = |v: &Value| common::hex_u64(v);
    assert_eq!(n(n2), n(n1) + 1, "{b1} {b2}");
    assert_eq!(
        b2["data"]["newBlocks"]["parent"]["hash"],
        b1["data"]["newBlocks"]["hash"]
    );
    send(&mut ws, json!({"id": "b", "type": "complete"})).await;

    send(&mut ws, json!({"id": "p", "type": "subscribe", "payload": {"query": "subscription { pendingTransactions { hash nonce from { address } } }"}})).await;
    send(&mut ws, json!({"id": "e", "type": "subscribe", "payload": {"query": "subscription { events(kinds: [\"tx_admitted\"]) }"}})).await;
    send(&mut ws, json!({"id": "x", "type": "subscribe", "payload": {"query": "subscription { events(kinds: [\"no_such_kind\"]) }"}})).await;
    // Let the subscriptions start before the transaction is sent.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let raw = common::raw_tx(
        5,
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
    let (mut pending, mut event, mut refused) = (None, None, None);
    while pending.is_none() || event.is_none() || refused.is_none() {
        let m = next_json(&mut ws).await;
        match (m["id"].as_str(), m["type"].as_str()) {
            (Some("p"), Some("next")) => pending = Some(m["payload"].clone()),
            (Some("e"), Some("next")) => event = Some(m["payload"].clone()),
            (Some("x"), Some("error" | "next")) => refused = Some(m["payload"].clone()),
            (_, Some("complete" | "ping" | "pong")) => {}
            (Some("b"), Some("next")) => {} // in flight before "complete"
            _ => panic!("unexpected message {m}"),
        }
    }
    let pending = pending.expect("pending");
    assert_eq!(pending["data"]["pendingTransactions"]["hash"], hash);
    assert_eq!(pending["data"]["pendingTransactions"]["nonce"], "0x0");
    let event = event.expect("event");
    assert_eq!(event["data"]["events"]["event"]["type"], "tx_admitted");
    assert_eq!(event["data"]["events"]["event"]["hash"], hash);
    let refused = refused.expect("refused").to_string();
    assert!(refused.contains("unknown event kind"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_graphql_ws_protocol_streams_blocks_and_snail_blocks() {
    let node = TestNode::init(50, 200);
    let _p = node.start();
    let mut ws = connect(node.port, "graphql-ws").await;
    send(&mut ws, json!({"type": "connection_init", "payload": {}})).await;
    assert_eq!(next_json(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({"id": "1", "type": "start", "payload": {"query": "subscription { newBlocks { number } }"}})).await;
    let p = next_of(&mut ws, "1").await;
    assert!(p["data"]["newBlocks"]["number"].is_string(), "{p}");
    send(&mut ws, json!({"id": "1", "type": "stop"})).await;
    // The solo node mines the snail chain (≈ 2 s per block at devnet difficulty).
    send(&mut ws, json!({"id": "2", "type": "start", "payload": {"query": "subscription { newSnailBlocks { number hash difficulty miner fruits { number } } }"}})).await;
    let p = next_of(&mut ws, "2").await;
    let snail = &p["data"]["newSnailBlocks"];
    assert!(p.get("errors").is_none(), "{p}");
    assert!(common::hex_u64(&snail["number"]) >= 1, "{p}");
    assert!(snail["fruits"].is_array(), "{p}");
    // It is the stored block.
    let url = node.url.clone();
    let number = snail["number"].clone();
    let stored = tokio::task::spawn_blocking(move || {
        gql(
            &url,
            &format!("{{ snailBlock(number: {number}) {{ hash }} }}"),
        )
    })
    .await
    .expect("join");
    assert_eq!(
        stored["data"]["snailBlock"]["hash"], snail["hash"],
        "{stored}"
    );
}

#[test]
fn epochs_and_mempool() {
    let node = TestNode::init(100, 1_000);
    let _p = node.start();
    let url = &node.url;

    let v = gql(
        url,
        "{ epochs { epoch startHeight seed members { index key coinbase weight } quorum } }",
    );
    assert!(v.get("errors").is_none(), "{v}");
    let epochs = v["data"]["epochs"].as_array().expect("epochs");
    assert_eq!(epochs.len(), 1, "{v}");
    assert_eq!(epochs[0]["epoch"], "0x0");
    assert_eq!(epochs[0]["members"][0]["weight"], "0x1");
    let too_wide = gql(url, "{ epochs(from: 0, to: 5000) { epoch } }");
    assert!(too_wide.get("errors").is_some(), "{too_wide}");

    // A nonce gap keeps dev 6's transactions in the pool; a wrong chain id is refused.
    let sender = tc_node::keys::dev_signer(6).expect("key").address();
    let mut hashes = Vec::new();
    for nonce in [2, 3] {
        let raw = common::raw_tx(
            6,
            1337,
            nonce,
            Some(Address::repeat_byte(1)),
            U256::from(1),
            Bytes::new(),
            21_000,
        );
        hashes.push(rpc(url, "eth_sendRawTransaction", json!([raw])).expect("pooled"));
    }
    let bad = common::raw_tx(
        7,
        999,
        0,
        Some(Address::repeat_byte(1)),
        U256::from(1),
        Bytes::new(),
        21_000,
    );
    let why = rpc(url, "eth_sendRawTransaction", json!([bad])).expect_err("wrong chain id");
    let garbage = rpc(url, "eth_sendRawTransaction", json!(["0x02ff"])).expect_err("garbage");

    let v = gql(
        url,
        "{ mempool { count senders { address nonces stateNonce executable transactions { hash } } rejections { hash reason } } }",
    );
    assert!(v.get("errors").is_none(), "{v}");
    let pool = &v["data"]["mempool"];
    assert_eq!(pool["count"], 2, "{v}");
    let s = &pool["senders"][0];
    assert_eq!(
        s["address"].as_str().map(str::to_lowercase),
        Some(format!("{sender:#x}"))
    );
    assert_eq!(s["nonces"], json!(["0x2", "0x3"]));
    assert_eq!(s["stateNonce"], "0x0");
    assert_eq!(s["executable"], 0);
    assert_eq!(
        s["transactions"],
        json!([{"hash": hashes[0]}, {"hash": hashes[1]}])
    );
    let rejections = pool["rejections"].as_array().expect("rejections");
    assert_eq!(rejections.len(), 2, "{v}");
    assert!(rejections[0]["hash"].is_string());
    assert!(
        why.contains(rejections[0]["reason"].as_str().expect("reason")),
        "{why} vs {v}"
    );
    assert!(rejections[1]["hash"].is_null());
    assert!(
        garbage.contains(rejections[1]["reason"].as_str().expect("reason")),
        "{garbage} vs {v}"
    );
}

#[test]
fn graphiql_page_is_offline_and_complete() {
    let node = TestNode::init(100, 1_000);
    let _p = node.start();
    let get = |path: &str| -> (u16, String, Vec<u8>) {
        let r = ureq::get(&format!("{}{path}", node.url))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .expect("get");
        let status = r.status().as_u16();
        let ty = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let mut body = r.into_body();
        let body = body
            .with_config()
            .limit(16 << 20)
            .read_to_vec()
            .expect("body");
        (status, ty, body)
    };
    let (status, ty, html) = get("/graphql/ui");
    assert_eq!(status, 200);
    assert!(ty.starts_with("text/html"), "{ty}");
    let html = String::from_utf8(html).expect("utf-8");
    assert!(html.contains("GraphiQL.createFetcher"), "{html}");
    assert!(html.contains("\"/graphql\"") && html.contains("\"/ws\""));
    // Every src=/href= URL is local, and each is served with a fitting content type.
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            urls.push(part.split('"').next().expect("url").to_string());
        }
    }
    assert!(urls.len() >= 5, "{urls:?}");
    for u in &urls {
        assert!(
            u.starts_with('/') && !u.starts_with("//") && !u.contains("://"),
            "not local: {u}"
        );
        let (status, ty, body) = get(u);
        assert_eq!(status, 200, "{u}");
        assert!(!body.is_empty(), "{u}");
        let want = if u.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(ty.starts_with(want), "{u}: {ty}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert_eq!(get("/graphql/ui/LICENSE.graphiql").0, 200);
    assert_eq!(get("/graphql/ui/VERSIONS").0, 200);
    assert_eq!(get("/graphql/ui/nope.js").0, 404);
}
