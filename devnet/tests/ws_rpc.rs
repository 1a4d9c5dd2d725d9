//! JSON-RPC over WebSocket through the launcher's one address (`ws://<launcher>/`, as the
//! README promises): a real WebSocket client subscribes to `newHeads` and gets heads; when the
//! upstream node is killed, its connection ends and a new connection is served by another
//! node, whose subscription delivers heads beyond the earlier ones. Every wait has a deadline.
#![allow(unreachable_pub)]
mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connect to `ws://<launcher>/`; the socket and the node that serves it (`x-devnet-node`).
async fn connect(url: &str) -> (Ws, String) {
    let ws_url = url.replacen("http://", "ws://", 1) + "/";
    let (ws, resp) = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(ws_url.as_str()),
    )
    .await
    .expect("WebSocket handshake within 10 s")
    .unwrap_or_else(|e| panic!("WebSocket to {ws_url}: {e}"));
    let node = resp
        .headers()
        .get("x-devnet-node")
        .and_then(|v| v.to_str().ok())
        .expect("x-devnet-node header on the upgrade answer")
        .to_string();
    (ws, node)
}

/// The next JSON text frame, or None when the connection ends first.
async fn next_json(ws: &mut Ws, deadline: Instant, what: &str) -> Option<Value> {
    loop {
        let msg = timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        match msg {
            Some(Ok(Message::Text(t))) => {
                return Some(serde_json::from_str(&t).expect("JSON frame"));
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Subscribe to newHeads and return the numbers of the first `k` heads delivered.
async fn heads(ws: &mut Ws, k: usize) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    ws.send(Message::text(
        json!({"jsonrpc": "2.0", "id": 7, "method": "eth_subscribe", "params": ["newHeads"]})
            .to_string(),
    ))
    .await
    .expect("send eth_subscribe");
    let mut sub = None;
    let mut out = Vec::new();
    while out.len() < k {
        let v = next_json(ws, deadline, "newHeads")
            .await
            .expect("connection open while subscribed");
        if v["id"] == 7 {
            sub = Some(v["result"].as_str().expect("subscription id").to_string());
            continue;
        }
        assert_eq!(v["method"], "eth_subscription", "{v}");
        assert_eq!(
            v["params"]["subscription"].as_str(),
            sub.as_deref(),
            "notification before or for another subscription: {v}"
        );
        let head = &v["params"]["result"];
        assert!(head["hash"].as_str().is_some_and(|h| h.len() == 66), "{v}");
        out.push(hex_u64(&head["number"]).expect("head number"));
    }
    out
}

#[test]
fn websocket_json_rpc_through_the_launcher_fails_over_for_new_connections() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, SPEC).expect("spec");
    let dir = tmp.path().join("net");
    let (l, _) = start_devnet(&spec, &dir, 4, &["--nodes", "4", "--committee", "4"]);
    let token = l.token();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    let (first, before) = rt.block_on(async {
        let (mut ws, node) = connect(&l.url).await;
        // A plain call over the socket.
        ws.send(Message::text(
            json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).to_string(),
        ))
        .await
        .expect("send");
        let deadline = Instant::now() + Duration::from_secs(10);
        let v = next_json(&mut ws, deadline, "eth_chainId")
            .await
            .expect("answer");
        assert_eq!(v["id"], 1, "{v}");
        assert!(
            v["result"].as_str().is_some_and(|s| s.starts_with("0x")),
            "{v}"
        );
        let got = heads(&mut ws, 3).await;
        assert!(
            got.windows(2).all(|w| w[1] > w[0]),
            "heads in order: {got:?}"
        );
        (node, (ws, got))
    });
    let (mut old_ws, got) = before;

    // Kill the node that serves the socket: the connection ends (it was that node's).
    let killed = admin(&l, &token, &format!("nodes/{first}/kill"));
    assert_eq!(killed["status"], "killed", "{killed}");
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        while next_json(&mut old_ws, deadline, "the old connection to end")
            .await
            .is_some()
        {}
    });

    // A new connection is served by another node, and its heads go on from the old ones.
    let (second, more) = rt.block_on(async {
        let (mut ws, node) = connect(&l.url).await;
        (node, heads(&mut ws, 2).await)
    });
    assert_ne!(
        second, first,
        "a killed node cannot serve the new connection"
    );
    let last = *got.last().expect("heads");
    assert!(
        more.iter().all(|n| *n > last),
        "{more:?} after {got:?}\n{}",
        l.logs()
    );
}
