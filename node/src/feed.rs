//! The node's event WebSocket, `GET /events`.
//!
//! Protocol (JSON text frames):
//! 1. `{"type":"hello","schema_version":N,"node":…,"chain_id":…}`
//! 2. `{"type":"snapshot", "fast_head":…, "fast_head_hash":…, "snail_head":…, "committee":{…}}`
//! 3. then `{"type":"events","events":[Stamped…]}` batches (up to [`BATCH_MAX`] events or
//!    [`BATCH_WINDOW`] of collection per frame).
//!
//! Observers never slow the node: each client reads from the bounded broadcast ring; a client
//! that falls behind loses its place and gets a fresh `snapshot` (with `"resync": true`, and the
//! number of events it missed) before deltas resume; a client whose socket does not accept a
//! frame within [`SEND_DEADLINE`] is disconnected.
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use tc_types::SCHEMA_VERSION;
use tokio::sync::broadcast::error::RecvError;

use crate::runtime::NodeHandle;

/// Most events in one frame.
pub const BATCH_MAX: usize = 256;
/// How long events are collected into one frame after the first arrives.
pub const BATCH_WINDOW: Duration = Duration::from_millis(20);
/// A client that cannot take a frame within this is dropped.
pub const SEND_DEADLINE: Duration = Duration::from_secs(5);

/// Router with `GET /events`.
pub fn router(handle: NodeHandle) -> Router {
    Router::new()
        .route("/events", get(upgrade))
        .with_state(handle)
}

async fn upgrade(State(h): State<NodeHandle>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(h, socket))
}

/// The snapshot frame: heads and the current committee, read from the store.
pub fn snapshot(h: &NodeHandle, resync: Option<u64>) -> Value {
    let fast = h.chain.fast_head().ok().flatten().unwrap_or_default();
    let snail = h.chain.snail_head().ok().flatten().unwrap_or_default();
    let committee = h.chain.latest_committee().ok().flatten();
    let mut v = json!({
        "type": "snapshot",
        "node": h.name,
        "fast_head": fast.0,
        "fast_head_hash": fast.1,
        "snail_head": snail.0,
        "snail_head_hash": snail.1,
        "committee": committee,
    });
    if let (Some(missed), Value::Object(m)) = (resync, &mut v) {
        m.insert("resync".into(), json!(true));
        m.insert("missed".into(), json!(missed));
    }
    v
}

async fn send(socket: &mut WebSocket, v: &Value) -> bool {
    matches!(
        tokio::time::timeout(
            SEND_DEADLINE,
            socket.send(Message::Text(v.to_string().into()))
        )
        .await,
        Ok(Ok(()))
    )
}

async fn serve(h: NodeHandle, mut socket: WebSocket) {
    // Subscribe before reading the snapshot so nothing between the two is lost.
    let mut rx = h.events.subscribe();
    let hello = json!({"type": "hello", "schema_version": SCHEMA_VERSION, "node": h.name, "chain_id": h.chain_id});
    if !send(&mut socket, &hello).await || !send(&mut socket, &snapshot(&h, None)).await {
        return;
    }
    loop {
        let first = tokio::select! {
            r = rx.recv() => r,
            // The client closed (or sent something we ignore).
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        let mut batch = Vec::new();
        match first {
            Ok(e) => batch.push(e),
            Err(RecvError::Lagged(missed)) => {
                if !send(&mut socket, &snapshot(&h, Some(missed))).await {
                    return;
                }
                continue;
            }
            Err(RecvError::Closed) => return,
        }
        let window = tokio::time::sleep(BATCH_WINDOW);
        tokio::pin!(window);
        while batch.len() < BATCH_MAX {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(e) => batch.push(e),
                    Err(_) => break, // lag is handled on the next loop turn
                },
                () = &mut window => break,
            }
        }
        let events: Vec<&tc_types::Stamped> = batch.iter().map(|e| e.as_ref()).collect();
        if !send(&mut socket, &json!({"type": "events", "events": events})).await {
            tracing::debug!("event client too slow or gone; disconnected");
            return;
        }
    }
}
