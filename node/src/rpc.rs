//! Minimal Ethereum JSON-RPC 2.0 over HTTP (`POST /`), single and batch requests: enough to
//! submit raw transactions and inspect the chain with any Ethereum tool or `tc-node send`.
//! Methods: `web3_clientVersion`, `net_version`, `eth_chainId`, `eth_blockNumber`, `eth_gasPrice`,
//! `eth_getBalance`, `eth_getTransactionCount`, `eth_getCode`, `eth_getStorageAt`,
//! `eth_sendRawTransaction`, `eth_getTransactionReceipt`. The full API surface (GraphQL, the
//! rest of JSON-RPC, WebSocket) is issue 6.
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tc_types::{Receipt, StateReader, TxLocation};
use tokio::sync::oneshot;

use crate::runtime::{Command, NodeHandle};

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Standard code (-32700 parse, -32600 request, -32601 method, -32602 params, -32000 server).
    pub code: i64,
    /// geth-like message.
    pub message: String,
}

impl RpcError {
    fn params(message: impl Into<String>) -> Self {
        Self {
            code: -32602,
            message: message.into(),
        }
    }
    fn server(message: impl Into<String>) -> Self {
        Self {
            code: -32000,
            message: message.into(),
        }
    }
}

type RpcResult = Result<Value, RpcError>;

/// The HTTP router (JSON-RPC at `POST /`).
pub fn router(handle: NodeHandle, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/", post(serve))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(handle)
}

async fn serve(State(h): State<NodeHandle>, body: axum::body::Bytes) -> Json<Value> {
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return Json(error_response(
                Value::Null,
                RpcError {
                    code: -32700,
                    message: format!("parse error: {e}"),
                },
            ));
        }
    };
    match parsed {
        Value::Array(calls) if calls.is_empty() => Json(error_response(
            Value::Null,
            RpcError {
                code: -32600,
                message: "empty batch".into(),
            },
        )),
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(one(&h, c).await);
            }
            Json(Value::Array(out))
        }
        call => Json(one(&h, call).await),
    }
}

fn error_response(id: Value, e: RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": e.code, "message": e.message}})
}

async fn one(h: &NodeHandle, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error_response(
            id,
            RpcError {
                code: -32600,
                message: "invalid request: missing \"method\"".into(),
            },
        );
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return error_response(id, RpcError::params("params must be an array")),
    };
    match dispatch(h, method, &params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => error_response(id, e),
    }
}

fn hex_u64(v: u64) -> Value {
    Value::String(format!("{v:#x}"))
}

fn param<T: serde::de::DeserializeOwned>(
    params: &[Value],
    i: usize,
    name: &str,
) -> Result<T, RpcError> {
    let v = params.get(i).ok_or_else(|| {
        RpcError::params(format!("missing value for required argument {i} ({name})"))
    })?;
    serde_json::from_value(v.clone())
        .map_err(|e| RpcError::params(format!("invalid argument {i} ({name}): {e}")))
}

/// Block selector of state queries.
enum Tag {
    Latest,
    Pending,
    Number(u64),
}

fn tag(params: &[Value], i: usize) -> Result<Tag, RpcError> {
    match params.get(i) {
        None | Some(Value::Null) => Ok(Tag::Latest),
        Some(Value::String(s)) => match s.as_str() {
            "latest" | "safe" | "finalized" => Ok(Tag::Latest),
            "pending" => Ok(Tag::Pending),
            "earliest" => Ok(Tag::Number(0)),
            hex => u64::from_str_radix(hex.trim_start_matches("0x"), 16)
                .map(Tag::Number)
                .map_err(|_| {
                    RpcError::params(format!(
                        "invalid argument {i} (block): {hex:?} is not a block number or tag"
                    ))
                }),
        },
        Some(other) => Err(RpcError::params(format!(
            "invalid argument {i} (block): expected a string, got {other}"
        ))),
    }
}

fn state_for(h: &NodeHandle, t: &Tag) -> Result<Box<dyn StateReader + Send>, RpcError> {
    match t {
        Tag::Latest | Tag::Pending => Ok(Box::new(h.chain.latest_state())),
        Tag::Number(n) => {
            let head = h
                .chain
                .fast_head()
                .map_err(|e| RpcError::server(e.to_string()))?
                .map_or(0, |(n, _)| n);
            if *n >= head {
                return if *n == head {
                    Ok(Box::new(h.chain.latest_state()))
                } else {
                    Err(RpcError::server("header not found"))
                };
            }
            h.chain
                .state_at(*n)
                .map(|s| Box::new(s) as Box<dyn StateReader + Send>)
                .map_err(|e| RpcError::server(e.to_string()))
        }
    }
}

async fn dispatch(h: &NodeHandle, method: &str, p: &[Value]) -> RpcResult {
    let server = |e: &dyn std::fmt::Display| RpcError::server(e.to_string());
    match method {
        "web3_clientVersion" => Ok(json!(format!(
            "trueconsensus/v{}",
            env!("CARGO_PKG_VERSION")
        ))),
        "net_version" => Ok(json!(h.chain_id.to_string())),
        "eth_chainId" => Ok(hex_u64(h.chain_id)),
        "eth_blockNumber" => Ok(hex_u64(
            h.chain
                .fast_head()
                .map_err(|e| server(&e))?
                .map_or(0, |(n, _)| n),
        )),
        "eth_gasPrice" => {
            let head = h
                .chain
                .fast_head()
                .map_err(|e| server(&e))?
                .map_or(0, |(n, _)| n);
            let base = h
                .chain
                .header_by_number(head)
                .map_err(|e| server(&e))?
                .map_or(0, |hd| hd.base_fee);
            Ok(hex_u64(base.saturating_add(1_000_000_000)))
        }
        "eth_getBalance" => {
            let addr: Address = param(p, 0, "address")?;
            let st = state_for(h, &tag(p, 1)?)?;
            let bal = st
                .account(&addr)
                .map_err(|e| server(&e))?
                .map_or(U256::ZERO, |a| a.balance);
            Ok(json!(bal))
        }
        "eth_getTransactionCount" => {
            let addr: Address = param(p, 0, "address")?;
            let t = tag(p, 1)?;
            let mut nonce = state_for(h, &t)?
                .account(&addr)
                .map_err(|e| server(&e))?
                .map_or(0, |a| a.nonce);
            if matches!(t, Tag::Pending) {
                let (reply, rx) = oneshot::channel();
                if h.commands
                    .send(Command::PendingNonce {
                        address: addr,
                        reply,
                    })
                    .await
                    .is_ok()
                    && let Ok(Some(n)) = rx.await
                {
                    nonce = nonce.max(n);
                }
            }
            Ok(hex_u64(nonce))
        }
        "eth_getCode" => {
            let addr: Address = param(p, 0, "address")?;
            let st = state_for(h, &tag(p, 1)?)?;
            let code = match st.account(&addr).map_err(|e| server(&e))? {
                Some(a) => st
                    .code(&a.code_hash)
                    .map_err(|e| server(&e))?
                    .unwrap_or_default(),
                None => Bytes::new(),
            };
            Ok(json!(code))
        }
        "eth_getStorageAt" => {
            let addr: Address = param(p, 0, "address")?;
            let slot: U256 = param(p, 1, "slot")?;
            let st = state_for(h, &tag(p, 2)?)?;
            let v = st.storage(&addr, &slot).map_err(|e| server(&e))?;
            Ok(json!(B256::from(v)))
        }
        "eth_sendRawTransaction" => {
            let raw: Bytes = param(p, 0, "data")?;
            let (reply, rx) = oneshot::channel();
            h.commands
                .send(Command::SubmitTx { raw, reply })
                .await
                .map_err(|_| server(&"node is shutting down"))?;
            match rx.await {
                Ok(Ok(hash)) => Ok(json!(hash)),
                Ok(Err(e)) => Err(RpcError::server(e.to_string())),
                Err(_) => Err(server(&"node is shutting down")),
            }
        }
        "eth_getTransactionReceipt" => {
            let hash: B256 = param(p, 0, "hash")?;
            match h.chain.transaction(&hash).map_err(|e| server(&e))? {
                None => Ok(Value::Null),
                Some((_, receipt, loc)) => Ok(receipt_json(&receipt, &loc, h)?),
            }
        }
        other => Err(RpcError {
            code: -32601,
            message: format!("the method {other} does not exist/is not available"),
        }),
    }
}

fn receipt_json(r: &Receipt, loc: &TxLocation, h: &NodeHandle) -> RpcResult {
    let receipts = h
        .chain
        .receipts(loc.block_number)
        .map_err(|e| RpcError::server(e.to_string()))?
        .unwrap_or_default();
    let first_log_index: usize = receipts
        .iter()
        .take(loc.index as usize)
        .map(|r| r.logs.len())
        .sum();
    let mut bloom = Bloom::default();
    let logs: Vec<Value> = r
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            bloom.accrue_raw_log(l.address, &l.topics);
            json!({
                "address": l.address, "topics": l.topics, "data": l.data,
                "blockNumber": hex_u64(loc.block_number), "blockHash": loc.block_hash,
                "transactionHash": r.tx_hash, "transactionIndex": hex_u64(loc.index),
                "logIndex": hex_u64((first_log_index + i) as u64), "removed": false,
            })
        })
        .collect();
    let contract = (r.contract_address != Address::ZERO).then_some(r.contract_address);
    let to = (contract.is_none()).then_some(r.to);
    Ok(json!({
        "transactionHash": r.tx_hash,
        "transactionIndex": hex_u64(loc.index),
        "blockHash": loc.block_hash,
        "blockNumber": hex_u64(loc.block_number),
        "from": r.from,
        "to": to,
        "cumulativeGasUsed": hex_u64(r.cumulative_gas_used),
        "gasUsed": hex_u64(r.gas_used),
        "effectiveGasPrice": format!("{:#x}", r.effective_gas_price),
        "contractAddress": contract,
        "logs": logs,
        "logsBloom": bloom,
        "status": if r.success { "0x1" } else { "0x0" },
        "type": hex_u64(u64::from(r.tx_type)),
    }))
}
