//! JSON-RPC over WebSocket on `GET /`: the same methods as HTTP (single and batch), plus
//! `eth_subscribe` / `eth_unsubscribe` with
//! - `newHeads`: each committed block's header (geth's JSON), in height order without gaps;
//! - `logs` (`{"address", "topics"}` as in `eth_getLogs`): each matching log of each block;
//! - `newPendingTransactions`: hashes of transactions the pool admits.
//!
//! Notifications are geth's: `{"jsonrpc":"2.0","method":"eth_subscription",
//! "params":{"subscription":"0x…","result":…}}`.
//!
//! One task per connection reads frames and events (one receiver on the node's bounded event
//! bus) in turn, so a subscription's id is always sent before its first notification. Frames
//! out go through a queue of [`OUT_QUEUE`] frames to a writer task that gives each frame
//! [`SEND_DEADLINE`]; a client whose queue is full, or whose socket stalls, is disconnected:
//! the node never waits for it. Heights a lagging connection missed on the bus are read back
//! from the store (`newHeads`, `logs`); pending-transaction hashes it missed are skipped.
//! A frame that is not JSON gets a JSON-RPC parse error; the connection stays usable.
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;
use std::time::Duration;

use alloy_rpc_types_eth::Filter;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use axum::response::Response;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tc_types::NodeEvent;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::{RpcError, RpcResult, Session, format, handle, head_number};
use crate::runtime::NodeHandle;

/// Frames queued for one connection before it counts as too slow and is dropped.
pub const OUT_QUEUE: usize = 1_024;
/// A client whose socket does not take a frame within this is dropped.
pub const SEND_DEADLINE: Duration = Duration::from_secs(5);
/// Live subscriptions per connection.
pub const MAX_SUBSCRIPTIONS: usize = 128;
/// Widest gap of heights a lagging connection catches up from the store at once; beyond it
/// the connection is dropped (it could not have kept up anyway).
const MAX_CATCH_UP: u64 = 1_024;

pub(super) async fn upgrade(h: NodeHandle, up: WebSocketUpgrade, max_message: usize) -> Response {
    up.max_message_size(max_message)
        .on_upgrade(move |socket| serve(h, socket))
}

/// What one subscription wants.
#[derive(Debug)]
enum Kind {
    /// Headers; `next` = next height to send.
    Heads { next: u64 },
    /// Logs matching the filter; `next` = next height to scan.
    Logs { filter: Box<Filter>, next: u64 },
    /// Hashes of admitted transactions.
    Pending,
}

/// The connection's subscriptions (touched only by its own task; the mutex is uncontended).
struct Subs {
    h: NodeHandle,
    subs: Mutex<HashMap<String, Kind>>,
}

impl Subs {
    fn subscribe(&self, p: &[Value]) -> RpcResult {
        let kind: String = super::param(p, 0, "subscription name")?;
        let head = head_number(&self.h)?;
        let kind = match kind.as_str() {
            "newHeads" => Kind::Heads { next: head + 1 },
            "logs" => {
                let filter: Filter = match p.get(1) {
                    None | Some(Value::Null) => Filter::default(),
                    Some(_) => super::param(p, 1, "filter")?,
                };
                if filter.get_block_hash().is_some() {
                    return Err(RpcError::params(
                        "invalid argument 1 (filter): a logs subscription cannot take blockHash",
                    ));
                }
                Kind::Logs {
                    filter: Box::new(filter),
                    next: head + 1,
                }
            }
            "newPendingTransactions" => {
                if matches!(p.get(1), Some(Value::Bool(true))) {
                    return Err(RpcError::params(
                        "newPendingTransactions sends transaction hashes only (fullTx is not supported)",
                    ));
                }
                Kind::Pending
            }
            other => {
                return Err(RpcError {
                    code: -32601,
                    message: format!(
                        "no {other:?} subscription in eth namespace (supported: newHeads, logs, newPendingTransactions)"
                    ),
                    data: None,
                });
            }
        };
        let mut subs = self
            .subs
            .lock()
            .map_err(|_| RpcError::server("subscriptions unavailable"))?;
        if subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(RpcError::server(format!(
                "too many subscriptions on this connection (at most {MAX_SUBSCRIPTIONS})"
            )));
        }
        let id = format!("0x{:032x}", rand::random::<u128>());
        subs.insert(id.clone(), kind);
        Ok(json!(id))
    }

    fn unsubscribe(&self, p: &[Value]) -> RpcResult {
        let id: String = super::param(p, 0, "subscription id")?;
        let mut subs = self
            .subs
            .lock()
            .map_err(|_| RpcError::server("subscriptions unavailable"))?;
        Ok(json!(subs.remove(&id).is_some()))
    }

    /// Notifications for one event, in order. `Err` = the connection must be dropped.
    fn on_event(&self, event: &NodeEvent) -> Result<Vec<String>, String> {
        let mut subs = self
            .subs
            .lock()
            .map_err(|_| "subscriptions unavailable".to_string())?;
        let mut out = Vec::new();
        match event {
            NodeEvent::FastBlockCommitted { number, .. } => {
                let mut cache = BlockCache::default();
                for (id, kind) in subs.iter_mut() {
                    match kind {
                        Kind::Heads { next } => {
                            catch_up(next, *number)?;
                            for n in *next..=*number {
                                out.push(notification(id, cache.header(&self.h, n)?));
                            }
                            *next = *number + 1;
                        }
                        Kind::Logs { filter, next } => {
                            catch_up(next, *number)?;
                            for n in *next..=*number {
                                for (address, topics, log) in cache.logs(&self.h, n)? {
                                    if filter.matches_address(*address)
                                        && filter.matches_topics(topics)
                                    {
                                        out.push(notification(id, log.clone()));
                                    }
                                }
                            }
                            *next = *number + 1;
                        }
                        Kind::Pending => {}
                    }
                }
            }
            NodeEvent::TxAdmitted { hash, .. } => {
                for (id, kind) in subs.iter() {
                    if matches!(kind, Kind::Pending) {
                        out.push(notification(id, json!(hash)));
                    }
                }
            }
            _ => {}
        }
        Ok(out)
    }
}

impl Session for Subs {
    fn call(&self, method: &str, params: &[Value]) -> Option<RpcResult> {
        match method {
            "eth_subscribe" => Some(self.subscribe(params)),
            "eth_unsubscribe" => Some(self.unsubscribe(params)),
            _ => None,
        }
    }
}

fn catch_up(next: &u64, number: u64) -> Result<(), String> {
    if number >= *next && number - *next >= MAX_CATCH_UP {
        return Err(format!(
            "subscriber is {} blocks behind (more than {MAX_CATCH_UP})",
            number - *next
        ));
    }
    Ok(())
}

fn notification(id: &str, result: Value) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": "eth_subscription",
        "params": {"subscription": id, "result": result},
    })
    .to_string()
}

type BlockLogs = Vec<(
    alloy_primitives::Address,
    Vec<alloy_primitives::B256>,
    Value,
)>;

/// Per event: each height's header and logs read and formatted once for all subscriptions.
#[derive(Default)]
struct BlockCache {
    headers: HashMap<u64, Value>,
    logs: HashMap<u64, BlockLogs>,
}

impl BlockCache {
    fn header(&mut self, h: &NodeHandle, n: u64) -> Result<Value, String> {
        if let Some(v) = self.headers.get(&n) {
            return Ok(v.clone());
        }
        let header = h
            .chain
            .header_by_number(n)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("block {n} is not stored"))?;
        let receipts = h
            .chain
            .receipts(n)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let v = format::header_json(&header, header.hash(), &receipts).map_err(|e| e.message)?;
        self.headers.insert(n, v.clone());
        Ok(v)
    }

    fn logs(&mut self, h: &NodeHandle, n: u64) -> Result<&BlockLogs, String> {
        match self.logs.entry(n) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => Ok(e.insert(read_logs(h, n)?)),
        }
    }
}

/// Every log of block `n`, with what filters match on, formatted as `eth_getLogs` does.
fn read_logs(h: &NodeHandle, n: u64) -> Result<BlockLogs, String> {
    let mut logs = Vec::new();
    super::for_each_log(h, n, |l, r, loc, log_index| {
        logs.push((
            l.address,
            l.topics.clone(),
            format::log_json(l, r, loc, log_index),
        ));
    })?;
    Ok(logs)
}

async fn serve(h: NodeHandle, socket: WebSocket) {
    let mut events = h.events.subscribe();
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<Message>(OUT_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            match tokio::time::timeout(SEND_DEADLINE, sink.send(frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    tracing::debug!("JSON-RPC WebSocket client too slow; disconnected");
                    return;
                }
            }
        }
        let _ = sink.close().await;
    });
    let subs = Subs {
        h: h.clone(),
        subs: Mutex::new(HashMap::new()),
    };
    loop {
        tokio::select! {
            frame = stream.next() => {
                let body = match frame {
                    Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => m.into_data(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                let reply = handle(&h, &body, Some(&subs)).await;
                let frame = Message::Text(reply.to_string().into());
                if !matches!(tokio::time::timeout(SEND_DEADLINE, out.send(frame)).await, Ok(Ok(()))) {
                    break;
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(e) => e,
                    // Heights are caught up from the store on the next commit; missed
                    // pending-transaction hashes are gone.
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "JSON-RPC WebSocket connection lagged on the event bus");
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                let notes = match subs.on_event(&event.event) {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::debug!(error = %e, "dropping JSON-RPC WebSocket subscriber");
                        break;
                    }
                };
                let mut full = false;
                for n in notes {
                    if out.try_send(Message::Text(n.into())).is_err() {
                        full = true;
                        break;
                    }
                }
                if full {
                    tracing::debug!("JSON-RPC WebSocket client not reading its notifications; disconnected");
                    writer.abort();
                    return;
                }
            }
            () = out.closed() => break,
        }
    }
    drop(out);
    // Let the writer flush what is queued (within its deadline), then close.
    let _ = writer.await;
}
