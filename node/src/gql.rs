//! GraphQL over this node (schema: `tc-graphql`, geth's EIP-1767 names):
//! - `POST /graphql` queries and mutations;
//! - `GET /graphql/ws` subscriptions over WebSocket (graphql-transport-ws, and the legacy
//!   graphql-ws protocol), fed from the event bus; a client that does not take a frame within
//!   [`SEND_DEADLINE`] is disconnected;
//! - `GET /graphql/ui` the offline GraphiQL page, its assets under `/graphql/ui/<name>`.
use std::str::FromStr as _;
use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes};
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::Json;
use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt as _, StreamExt as _};
use tc_graphql::{BoxFuture, BusItem, EventStream, NodeApi, PoolRejection, PoolSnapshot, TcSchema};
use tc_storage::ChainStore;
use tc_types::RecoveredTx;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::oneshot;

/// A subscription client that cannot take a frame within this is disconnected.
pub const SEND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

use crate::runtime::{Command, NodeHandle};

impl NodeApi for NodeHandle {
    fn chain(&self) -> &ChainStore {
        &self.chain
    }
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn send_raw_transaction(&self, raw: Bytes) -> BoxFuture<'_, Result<B256, String>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(Command::SubmitTx { raw, reply })
                .await
                .map_err(|_| "node is shutting down".to_string())?;
            rx.await
                .map_err(|_| "node is shutting down".to_string())?
                .map_err(|e| e.to_string())
        })
    }
    fn pending_transactions(&self) -> BoxFuture<'_, Vec<RecoveredTx>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            if self
                .commands
                .send(Command::PooledTxs { reply })
                .await
                .is_err()
            {
                return Vec::new();
            }
            rx.await.unwrap_or_default()
        })
    }
    fn pooled_transaction(&self, hash: B256) -> BoxFuture<'_, Option<RecoveredTx>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(Command::PooledTx { hash, reply })
                .await
                .ok()?;
            rx.await.ok().flatten()
        })
    }
    fn pool(&self) -> BoxFuture<'_, PoolSnapshot> {
        Box::pin(async move {
            let txs = self.pending_transactions().await;
            let mut senders: Vec<(Address, Vec<RecoveredTx>)> = Vec::new();
            // The loop lists the pool sender by sender, each in nonce order.
            for tx in txs {
                match senders.last_mut() {
                    Some((s, q)) if *s == tx.sender => q.push(tx),
                    _ => senders.push((tx.sender, vec![tx])),
                }
            }
            let (reply, rx) = oneshot::channel();
            let rejections = if self
                .commands
                .send(Command::Rejections { reply })
                .await
                .is_ok()
            {
                rx.await.unwrap_or_default()
            } else {
                Vec::new()
            };
            PoolSnapshot {
                senders,
                rejections: rejections
                    .into_iter()
                    .map(|r| PoolRejection {
                        hash: r.hash,
                        reason: r.error.to_string(),
                    })
                    .collect(),
            }
        })
    }
    fn consensus(&self) -> BoxFuture<'_, Option<tc_graphql::node::ConsensusStatus>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(Command::Consensus { reply })
                .await
                .ok()?;
            rx.await.ok()
        })
    }
    fn peers(&self) -> BoxFuture<'_, Vec<tc_graphql::node::Peer>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            if self.commands.send(Command::Peers { reply }).await.is_err() {
                return Vec::new();
            }
            rx.await.unwrap_or_default()
        })
    }
    fn events(&self) -> EventStream {
        let rx = self.events.subscribe();
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(e) => Some((BusItem::Event(e), rx)),
                Err(RecvError::Lagged(n)) => Some((BusItem::Missed(n), rx)),
                Err(RecvError::Closed) => None,
            }
        }))
    }
}

/// Router with `POST /graphql`, `GET /graphql/ws` and `GET /graphql/ui[/<asset>]` (body and
/// WebSocket message limit as the JSON-RPC one).
pub fn router(handle: NodeHandle, max_body_bytes: usize) -> Router {
    let metrics = handle.metrics.clone();
    let schema = tc_graphql::schema(Arc::new(handle));
    let ws_schema = schema.clone();
    Router::new()
        .route("/graphql", post(serve))
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .with_state((schema, metrics))
        .route(
            "/graphql/ws",
            get(move |headers: HeaderMap, ws: WebSocketUpgrade| {
                upgrade(ws_schema, headers, ws, max_body_bytes)
            }),
        )
        .route(tc_graphql::ui::PAGE_PATH, get(page))
        .route("/graphql/ui/{name}", get(asset))
}

async fn page() -> Html<&'static str> {
    Html(tc_graphql::ui::PAGE_HTML)
}

async fn asset(Path(name): Path<String>) -> Response {
    match tc_graphql::ui::asset(&name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            a.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}

/// The client's first GraphQL-over-WebSocket protocol we speak; graphql-transport-ws when it
/// names none.
fn protocol(headers: &HeaderMap) -> Result<WebSocketProtocols, String> {
    let Some(offered) = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(WebSocketProtocols::GraphQLWS);
    };
    offered
        .split(',')
        .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        .ok_or_else(|| {
            format!(
                "unsupported Sec-WebSocket-Protocol {offered:?}: use graphql-transport-ws or graphql-ws"
            )
        })
}

async fn upgrade(
    schema: TcSchema,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    max_message_bytes: usize,
) -> Response {
    let protocol = match protocol(&headers) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max_message_bytes)
        .on_upgrade(move |socket| subscriptions(schema, socket, protocol))
}

/// Run async-graphql's protocol state machine over the socket. It pulls from the subscription
/// streams only as fast as frames are sent, so nothing queues up inside the node: a client
/// that stops reading hits the send deadline and is dropped; a subscription that falls behind
/// the event bus is told what it missed (see `tc_graphql::subscription`).
async fn subscriptions(schema: TcSchema, socket: WebSocket, protocol: WebSocketProtocols) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    let output = async_graphql::http::WebSocket::new(schema, input, protocol);
    futures_util::pin_mut!(output);
    while let Some(msg) = output.next().await {
        let frame = match msg {
            WsMessage::Text(t) => Message::Text(t.into()),
            WsMessage::Close(code, reason) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
        };
        match tokio::time::timeout(SEND_DEADLINE, sink.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                tracing::debug!("GraphQL subscription client too slow; disconnected");
                return;
            }
        }
    }
}

async fn serve(
    State((schema, metrics)): State<(TcSchema, Arc<crate::metrics::Metrics>)>,
    body: axum::body::Bytes,
) -> Json<serde_json::Value> {
    let started = std::time::Instant::now();
    let out = execute(&schema, &body).await;
    metrics.api_request("graphql", started.elapsed());
    out
}

async fn execute(schema: &TcSchema, body: &[u8]) -> Json<serde_json::Value> {
    let req: async_graphql::Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Json(
                serde_json::json!({"errors": [{"message": format!("malformed GraphQL request: {e}")}]}),
            );
        }
    };
    let resp = schema.execute(req).await;
    Json(
        serde_json::to_value(&resp)
            .unwrap_or_else(|e| serde_json::json!({"errors": [{"message": e.to_string()}]})),
    )
}
