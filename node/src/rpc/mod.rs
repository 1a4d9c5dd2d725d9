//! Ethereum JSON-RPC 2.0 over HTTP (`POST /`) and WebSocket (`GET /` upgrade, same port),
//! single and batch requests, geth's error codes and messages. Methods: see [`METHODS`];
//! over WebSocket also `eth_subscribe` / `eth_unsubscribe` (`newHeads`, `logs`,
//! `newPendingTransactions`).
//!
//! Map: this file = router, dispatch, parameter parsing, state/tag resolution;
//! `format` = geth-compatible JSON of blocks, headers, transactions, receipts, logs;
//! `ws` = the WebSocket connection: requests, subscriptions, bounded outgoing queue.
mod format;
mod ws;

pub use ws::{MAX_SUBSCRIPTIONS, OUT_QUEUE, SEND_DEADLINE};

/// Every method served.
pub const METHODS: &[&str] = &[
    "web3_clientVersion",
    "net_version",
    "net_listening",
    "net_peerCount",
    "eth_chainId",
    "eth_syncing",
    "eth_blockNumber",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_accounts",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getLogs",
    "tc_snailHead",
    "eth_subscribe",
    "eth_unsubscribe",
];

/// Widest block range one `eth_getLogs` may scan.
pub const MAX_LOG_RANGE: u64 = 10_000;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::{Filter, FilterBlockOption, TransactionRequest};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tc_exec::call::CallError;
use tc_exec::{BlockEnv, CallRequest};
use tc_types::{BlockNumber, FastHeader, RecoveredTx, StateReader, TxLocation};
use tokio::sync::oneshot;

use crate::runtime::{Command, NodeHandle};

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// Standard code (-32700 parse, -32600 request, -32601 method, -32602 params, -32000 server).
    pub code: i64,
    /// geth-like message.
    pub message: String,
    /// Extra data (revert bytes for code 3).
    pub data: Option<Value>,
}

impl RpcError {
    fn params(message: impl Into<String>) -> Self {
        Self {
            code: -32602,
            message: message.into(),
            data: None,
        }
    }
    pub(crate) fn server(message: impl Into<String>) -> Self {
        Self {
            code: -32000,
            message: message.into(),
            data: None,
        }
    }
}

type RpcResult = Result<Value, RpcError>;

/// The router: JSON-RPC at `POST /`, and over WebSocket on `GET /` (upgrade). The body limit
/// also bounds WebSocket messages.
pub fn router(handle: NodeHandle, max_body_bytes: usize) -> Router {
    Router::new()
        .route(
            "/",
            get(
                move |State(h): State<NodeHandle>, up: axum::extract::WebSocketUpgrade| {
                    ws::upgrade(h, up, max_body_bytes)
                },
            )
            .post(serve),
        )
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(handle)
}

async fn serve(State(h): State<NodeHandle>, body: axum::body::Bytes) -> Json<Value> {
    Json(handle(&h, &body, None).await)
}

/// Methods that belong to one connection (`eth_subscribe` / `eth_unsubscribe` over WebSocket).
pub(crate) trait Session: Sync {
    /// Answer `method` if it is a session method.
    fn call(&self, method: &str, params: &[Value]) -> Option<RpcResult>;
}

/// Answer one JSON-RPC message (a call or a batch).
pub(crate) async fn handle(h: &NodeHandle, body: &[u8], session: Option<&dyn Session>) -> Value {
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return error_response(
                Value::Null,
                RpcError {
                    code: -32700,
                    message: format!("parse error: {e}"),
                    data: None,
                },
            );
        }
    };
    match parsed {
        Value::Array(calls) if calls.is_empty() => error_response(
            Value::Null,
            RpcError {
                code: -32600,
                message: "empty batch".into(),
                data: None,
            },
        ),
        Value::Array(calls) => {
            let mut out = Vec::with_capacity(calls.len());
            for c in calls {
                out.push(one(h, c, session).await);
            }
            Value::Array(out)
        }
        call => one(h, call, session).await,
    }
}

fn error_response(id: Value, e: RpcError) -> Value {
    let mut err = json!({"code": e.code, "message": e.message});
    if let (Some(d), Value::Object(m)) = (e.data, &mut err) {
        m.insert("data".into(), d);
    }
    json!({"jsonrpc": "2.0", "id": id, "error": err})
}

async fn one(h: &NodeHandle, call: Value, session: Option<&dyn Session>) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error_response(
            id,
            RpcError {
                code: -32600,
                message: "invalid request: missing \"method\"".into(),
                data: None,
            },
        );
    };
    let params = match call.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return error_response(id, RpcError::params("params must be an array")),
    };
    let started = std::time::Instant::now();
    let result = match session.and_then(|s| s.call(method, &params)) {
        Some(r) => r,
        None if matches!(method, "eth_subscribe" | "eth_unsubscribe") => Err(RpcError {
            code: -32601,
            message: "notifications not supported".into(),
            data: None,
        }),
        None => dispatch(h, method, &params).await,
    };
    h.metrics.api_request(method, started.elapsed());
    match result {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => error_response(id, e),
    }
}

pub(crate) fn hex_u64(v: u64) -> Value {
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
    let at = match t {
        Tag::Latest | Tag::Pending => None,
        Tag::Number(n) if *n > head_number(h)? => return Err(RpcError::server("header not found")),
        Tag::Number(n) => Some(*n),
    };
    h.chain
        .state_reader(at)
        .map_err(|e| RpcError::server(e.to_string()))
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
                Some((_, receipt, loc)) => format::receipt_json(&receipt, &loc, &h.chain),
            }
        }
        "net_listening" => Ok(json!(true)),
        "net_peerCount" => Ok(hex_u64(u64::try_from(h.metrics.peers.get()).unwrap_or(0))),
        "eth_syncing" => Ok(json!(false)),
        "eth_maxPriorityFeePerGas" => Ok(hex_u64(1_000_000_000)),
        "eth_accounts" => Ok(json!(
            h.dev_accounts
                .iter()
                .map(|s| s.address())
                .collect::<Vec<_>>()
        )),
        "eth_feeHistory" => fee_history(h, p),
        "eth_call" | "eth_estimateGas" => call(h, method, p),
        "eth_sendTransaction" => send_transaction(h, p).await,
        "eth_getTransactionByHash" => {
            let hash: B256 = param(p, 0, "hash")?;
            match h.chain.transaction(&hash).map_err(|e| server(&e))? {
                Some((tx, _, loc)) => {
                    let rec = RecoveredTx::recover(tx).map_err(|e| server(&e))?;
                    let base = h
                        .chain
                        .header_by_number(loc.block_number)
                        .map_err(|e| server(&e))?
                        .map_or(0, |hd| hd.base_fee);
                    format::transaction_json(&rec, Some(&loc), base)
                }
                None => {
                    let (reply, rx) = oneshot::channel();
                    if h.commands
                        .send(Command::PooledTx { hash, reply })
                        .await
                        .is_ok()
                        && let Ok(Some(rec)) = rx.await
                    {
                        return format::transaction_json(&rec, None, 0);
                    }
                    Ok(Value::Null)
                }
            }
        }
        "eth_getBlockByNumber" | "eth_getBlockTransactionCountByNumber" => {
            let n = match tag(p, 0)? {
                Tag::Latest | Tag::Pending => head_number(h)?,
                Tag::Number(n) => n,
            };
            let Some(block) = h.chain.block_by_number(n).map_err(|e| server(&e))? else {
                return Ok(Value::Null);
            };
            if method == "eth_getBlockTransactionCountByNumber" {
                return Ok(hex_u64(block.transactions.len() as u64));
            }
            let full: bool = p
                .get(1)
                .map(|_| param(p, 1, "full"))
                .transpose()?
                .unwrap_or(false);
            format::block_json(&h.chain, &block, full)
        }
        "eth_getBlockByHash" => {
            let hash: B256 = param(p, 0, "hash")?;
            let full: bool = p
                .get(1)
                .map(|_| param(p, 1, "full"))
                .transpose()?
                .unwrap_or(false);
            match h.chain.block_by_hash(&hash).map_err(|e| server(&e))? {
                Some(block) => format::block_json(&h.chain, &block, full),
                None => Ok(Value::Null),
            }
        }
        "eth_getLogs" => logs(h, p),
        "tc_snailHead" => {
            let (n, hash) = h
                .chain
                .snail_head()
                .map_err(|e| server(&e))?
                .unwrap_or_default();
            let header = h.chain.snail_header(&hash).map_err(|e| server(&e))?;
            Ok(
                json!({"number": hex_u64(n), "hash": hash, "difficulty": header.map(|x| hex_u64(x.difficulty))}),
            )
        }
        other => Err(RpcError {
            code: -32601,
            message: format!("the method {other} does not exist/is not available"),
            data: None,
        }),
    }
}

fn head_number(h: &NodeHandle) -> Result<BlockNumber, RpcError> {
    Ok(h.chain
        .fast_head()
        .map_err(|e| RpcError::server(e.to_string()))?
        .map_or(0, |(n, _)| n))
}

fn header(h: &NodeHandle, n: BlockNumber) -> Result<FastHeader, RpcError> {
    h.chain
        .header_by_number(n)
        .map_err(|e| RpcError::server(e.to_string()))?
        .ok_or_else(|| RpcError::server("header not found"))
}

/// `eth_call` / `eth_estimateGas`: execute against the state at the tag, in the environment of
/// the block after it.
fn call(h: &NodeHandle, method: &str, p: &[Value]) -> RpcResult {
    let req: TransactionRequest = param(p, 0, "transaction")?;
    let t = tag(p, 1)?;
    let at = match t {
        Tag::Latest | Tag::Pending => head_number(h)?,
        Tag::Number(n) => n,
    };
    let parent = header(h, at)?;
    let state = state_for(h, &t)?;
    let env = BlockEnv::child_of(
        &parent,
        h.chain_id,
        parent.coinbase,
        crate::events::now_ms(),
    );
    let creq = CallRequest {
        from: req.from,
        to: req.to.and_then(|k| k.to().copied()),
        data: req.input.input().cloned().unwrap_or_default(),
        value: req.value.unwrap_or_default(),
        gas: req.gas,
        gas_price: req.gas_price.or(req.max_fee_per_gas),
    };
    let reverted = |reason: Option<String>, output: Bytes| RpcError {
        code: 3,
        message: match reason {
            Some(r) => format!("execution reverted: {r}"),
            None => "execution reverted".into(),
        },
        data: Some(json!(output)),
    };
    if method == "eth_estimateGas" {
        return match tc_exec::estimate_gas(state.as_ref(), &env, &creq) {
            Ok(g) => Ok(hex_u64(g)),
            Err(CallError::Reverted { reason, output }) => Err(reverted(reason, output)),
            Err(e) => Err(RpcError::server(e.to_string())),
        };
    }
    match tc_exec::call(state.as_ref(), &env, &creq) {
        Ok(out) if out.success => Ok(json!(out.output)),
        Ok(out) => match out.halt {
            Some(halt) => Err(RpcError::server(halt)),
            None => Err(reverted(out.revert_reason, out.output)),
        },
        Err(e) => Err(RpcError::server(e.to_string())),
    }
}

/// `eth_sendTransaction` for the node's dev accounts: fill nonce/gas/fees, sign, submit.
async fn send_transaction(h: &NodeHandle, p: &[Value]) -> RpcResult {
    let req: TransactionRequest = param(p, 0, "transaction")?;
    let from = req
        .from
        .ok_or_else(|| RpcError::params("invalid argument 0 (transaction): missing \"from\""))?;
    let signer = h
        .dev_accounts
        .iter()
        .find(|s| s.address() == from)
        .ok_or_else(|| {
            RpcError::server(format!(
                "unknown account {from}: eth_sendTransaction signs only for eth_accounts"
            ))
        })?;
    let nonce = match req.nonce {
        Some(n) => n,
        None => {
            let latest = h
                .chain
                .latest_state()
                .account(&from)
                .map_err(|e| RpcError::server(e.to_string()))?
                .map_or(0, |a| a.nonce);
            let (reply, rx) = oneshot::channel();
            let pooled = if h
                .commands
                .send(Command::PendingNonce {
                    address: from,
                    reply,
                })
                .await
                .is_ok()
            {
                rx.await.ok().flatten()
            } else {
                None
            };
            latest.max(pooled.unwrap_or(0))
        }
    };
    let gas = match req.gas {
        Some(g) => g,
        None => {
            let mut q = req.clone();
            q.nonce = None;
            let est = call(
                h,
                "eth_estimateGas",
                &[serde_json::to_value(&q).map_err(|e| RpcError::server(e.to_string()))?],
            )?;
            let est = est
                .as_str()
                .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
                .unwrap_or(21_000);
            est + est / 5
        }
    };
    let base = header(h, head_number(h)?)?.base_fee;
    let tip = req.max_priority_fee_per_gas.unwrap_or(1_000_000_000);
    let params = crate::keys::TxParams {
        chain_id: h.chain_id,
        nonce,
        to: req.to.and_then(|k| k.to().copied()),
        value: req.value.unwrap_or_default(),
        input: req.input.input().cloned().unwrap_or_default(),
        gas_limit: gas,
        max_fee_per_gas: req
            .max_fee_per_gas
            .or(req.gas_price)
            .unwrap_or(u128::from(base) * 2 + tip),
        max_priority_fee_per_gas: tip,
    };
    let tx =
        crate::keys::sign_eip1559(signer, &params).map_err(|e| RpcError::server(e.to_string()))?;
    let raw = Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(&tx));
    let (reply, rx) = oneshot::channel();
    h.commands
        .send(Command::SubmitTx { raw, reply })
        .await
        .map_err(|_| RpcError::server("node is shutting down"))?;
    match rx.await {
        Ok(Ok(hash)) => Ok(json!(hash)),
        Ok(Err(e)) => Err(RpcError::server(e.to_string())),
        Err(_) => Err(RpcError::server("node is shutting down")),
    }
}

/// `eth_feeHistory(blockCount, newestBlock, rewardPercentiles)`.
fn fee_history(h: &NodeHandle, p: &[Value]) -> RpcResult {
    let count: Value = p
        .first()
        .cloned()
        .ok_or_else(|| RpcError::params("missing value for required argument 0 (blockCount)"))?;
    let count = match &count {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).ok(),
        _ => None,
    }
    .ok_or_else(|| RpcError::params(format!("invalid argument 0 (blockCount): {count}")))?
    .clamp(1, 1024);
    let newest = match tag(p, 1)? {
        Tag::Latest | Tag::Pending => head_number(h)?,
        Tag::Number(n) => n.min(head_number(h)?),
    };
    let percentiles: Vec<f64> = p
        .get(2)
        .map(|_| param(p, 2, "rewardPercentiles"))
        .transpose()?
        .unwrap_or_default();
    let oldest = newest.saturating_sub(count - 1);
    let mut base = Vec::new();
    let mut ratio = Vec::new();
    let mut reward = Vec::new();
    for n in oldest..=newest {
        let hd = header(h, n)?;
        base.push(hex_u64(hd.base_fee));
        ratio.push(json!(if hd.gas_limit == 0 {
            0.0
        } else {
            hd.gas_used as f64 / hd.gas_limit as f64
        }));
        reward.push(Value::Array(
            percentiles.iter().map(|_| hex_u64(1_000_000_000)).collect(),
        ));
    }
    base.push(hex_u64(header(h, newest)?.base_fee));
    let mut out =
        json!({"oldestBlock": hex_u64(oldest), "baseFeePerGas": base, "gasUsedRatio": ratio});
    if !percentiles.is_empty()
        && let Value::Object(m) = &mut out
    {
        m.insert("reward".into(), Value::Array(reward));
    }
    Ok(out)
}

/// `eth_getLogs(filter)`: scans receipts of the block range (at most [`MAX_LOG_RANGE`] blocks).
fn logs(h: &NodeHandle, p: &[Value]) -> RpcResult {
    let filter: Filter = param(p, 0, "filter")?;
    let head = head_number(h)?;
    let resolve = |b: Option<&alloy_rpc_types_eth::BlockNumberOrTag>, default: u64| match b {
        Some(alloy_rpc_types_eth::BlockNumberOrTag::Number(n)) => *n,
        Some(alloy_rpc_types_eth::BlockNumberOrTag::Earliest) => 0,
        Some(_) => head,
        None => default,
    };
    let (from, to) = match &filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let n = h
                .chain
                .block_number(hash)
                .map_err(|e| RpcError::server(e.to_string()))?
                .ok_or_else(|| RpcError::server("unknown block"))?;
            (n, n)
        }
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => (
            resolve(from_block.as_ref(), head),
            resolve(to_block.as_ref(), head).min(head),
        ),
    };
    if to >= from && to - from >= MAX_LOG_RANGE {
        return Err(RpcError::server(format!(
            "query exceeds max block range {MAX_LOG_RANGE}"
        )));
    }
    let mut out = Vec::new();
    for n in from..=to {
        for_each_log(h, n, |l, r, loc, log_index| {
            if filter.matches_address(l.address) && filter.matches_topics(&l.topics) {
                out.push(format::log_json(l, r, loc, log_index));
            }
        })
        .map_err(RpcError::server)?;
    }
    Ok(Value::Array(out))
}

/// Walk every log of committed block `n` in order with its receipt, location and block-wide
/// log index (what `eth_getLogs` and the `logs` subscription both format).
pub(super) fn for_each_log(
    h: &NodeHandle,
    n: u64,
    mut f: impl FnMut(&tc_types::Log, &tc_types::Receipt, &TxLocation, u64),
) -> Result<(), String> {
    let receipts = h
        .chain
        .receipts(n)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    if receipts.iter().all(|r| r.logs.is_empty()) {
        return Ok(());
    }
    let block_hash = h
        .chain
        .block_hash(n)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let mut log_index = 0u64;
    for (i, r) in receipts.iter().enumerate() {
        let loc = TxLocation {
            block_number: n,
            block_hash,
            index: i as u64,
        };
        for l in &r.logs {
            f(l, r, &loc, log_index);
            log_index += 1;
        }
    }
    Ok(())
}
