//! One address for the whole devnet: requests for the nodes' APIs (JSON-RPC `POST /`,
//! `/graphql…`, `/events`, `/metrics`) go to one running node — the same one while it answers,
//! the next running one when it does not (connection refused or reset, no answer in time).
//! WebSocket upgrades (`/events`, `/graphql/ws`) are passed through as byte streams. Every
//! proxied answer carries `x-devnet-node: <name>`.
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::supervisor::Supervisor;

/// Largest request body the proxy buffers (it must, to retry on the next node).
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// Connecting to a node.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// From sending a request to the response head; past it the next node is tried.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(15);
/// Response header naming the node that answered.
pub const NODE_HEADER: &str = "x-devnet-node";

/// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
    )
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
}

/// Why one attempt at one node failed (the proxy then tries the next).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// TCP connect failed or timed out.
    #[error("connect: {0}")]
    Connect(String),
    /// The HTTP exchange failed.
    #[error("http: {0}")]
    Http(String),
    /// No response head in time.
    #[error("no response within {0:?}")]
    Timeout(Duration),
}

/// Send one request to one node; the connection lives until the response body is read
/// (or, with `upgrades`, until the upgraded stream closes).
pub async fn send(
    addr: SocketAddr,
    req: hyper::Request<Body>,
    upgrades: bool,
) -> Result<hyper::Response<hyper::body::Incoming>, SendError> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| SendError::Connect(format!("timed out after {CONNECT_TIMEOUT:?}")))?
        .map_err(|e| SendError::Connect(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| SendError::Http(e.to_string()))?;
    if upgrades {
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
    } else {
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(req))
        .await
        .map_err(|_| SendError::Timeout(RESPONSE_TIMEOUT))?
        .map_err(|e| SendError::Http(e.to_string()))
}

fn build(
    parts: &axum::http::request::Parts,
    addr: SocketAddr,
    body: Body,
    keep_upgrade: bool,
) -> Result<hyper::Request<Body>, String> {
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let mut req = hyper::Request::builder()
        .method(parts.method.clone())
        .uri(path)
        .body(body)
        .map_err(|e| e.to_string())?;
    let headers = req.headers_mut();
    for (k, v) in &parts.headers {
        if !hop_by_hop(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    if keep_upgrade {
        for k in [header::CONNECTION, header::UPGRADE] {
            if let Some(v) = parts.headers.get(&k) {
                headers.insert(k, v.clone());
            }
        }
    }
    let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
    headers.insert(header::HOST, host);
    Ok(req)
}

fn tag(mut resp: Response, node: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(node) {
        resp.headers_mut().insert(NODE_HEADER, v);
    }
    resp
}

fn unavailable(path: &str, tried: &[String]) -> Response {
    let message = if tried.is_empty() {
        "devnet: no node is running (see GET /admin/nodes)".to_string()
    } else {
        format!("devnet: no node answered ({})", tried.join("; "))
    };
    if path == "/" {
        // JSON-RPC clients understand an error object better than a bare 502.
        let body = json!({"jsonrpc": "2.0", "id": Value::Null,
            "error": {"code": -32000, "message": message}});
        (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
    } else {
        (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({"error": message})),
        )
            .into_response()
    }
}

/// axum handler: forward to a running node, failing over to the next.
pub async fn forward(State(sup): State<Supervisor>, req: Request) -> Response {
    if is_upgrade(req.headers()) {
        return forward_upgrade(sup, req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("devnet proxy: request body unreadable or above {MAX_BODY} bytes: {e}"),
            )
                .into_response();
        }
    };
    let mut tried = Vec::new();
    for (name, addr) in sup.live() {
        let req = match build(&parts, addr, Body::from(bytes.clone()), false) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        };
        match send(addr, req, false).await {
            Ok(resp) => {
                sup.set_upstream(&name);
                return tag(resp.map(Body::new), &name);
            }
            Err(e) => {
                tracing::debug!(node = %name, error = %e, "proxy: trying the next node");
                tried.push(format!("{name}: {e}"));
            }
        }
    }
    unavailable(parts.uri.path(), &tried)
}

/// Pass a WebSocket (or any HTTP/1.1 upgrade) through to a running node.
async fn forward_upgrade(sup: Supervisor, mut req: Request) -> Response {
    let Some(client_side) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return (
            StatusCode::BAD_REQUEST,
            "devnet proxy: connection cannot be upgraded",
        )
            .into_response();
    };
    let (parts, _) = req.into_parts();
    let mut tried = Vec::new();
    for (name, addr) in sup.live() {
        let up = match build(&parts, addr, Body::empty(), true) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
        };
        let mut resp = match send(addr, up, true).await {
            Ok(r) => r,
            Err(e) => {
                tried.push(format!("{name}: {e}"));
                continue;
            }
        };
        sup.set_upstream(&name);
        if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
            return tag(resp.map(Body::new), &name);
        }
        let node_side = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            match tokio::try_join!(client_side, node_side) {
                Ok((a, b)) => {
                    let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
                    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                }
                Err(e) => tracing::debug!(error = %e, "proxy: upgrade failed"),
            }
        });
        let (head, _) = resp.into_parts();
        let mut out = Response::from_parts(head, Body::empty());
        *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        return tag(out, &name);
    }
    unavailable(parts.uri.path(), &tried)
}

/// POST a JSON body to `path` on one node and parse the JSON answer (any status).
pub async fn post_json(addr: SocketAddr, path: &str, body: &Value) -> Result<Value, String> {
    let req = hyper::Request::post(path)
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .map_err(|e| e.to_string())?;
    let resp = send(addr, req, false).await.map_err(|e| e.to_string())?;
    let bytes = axum::body::to_bytes(Body::new(resp.into_body()), MAX_BODY)
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// One JSON-RPC call to one node (used to watch the nodes' heads).
pub async fn rpc(addr: SocketAddr, method: &str, params: Value) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let v = post_json(addr, "/", &body).await?;
    match v.get("error") {
        Some(e) => Err(e.to_string()),
        None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
    }
}

/// A JSON-RPC batch to one node: one result per call, in order (`Err` for a call that failed).
pub async fn rpc_batch(
    addr: SocketAddr,
    calls: &[(&str, Value)],
) -> Result<Vec<Result<Value, String>>, String> {
    let body: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (m, p))| json!({"jsonrpc": "2.0", "id": i, "method": m, "params": p}))
        .collect();
    let v = post_json(addr, "/", &Value::Array(body)).await?;
    let answers = v
        .as_array()
        .ok_or_else(|| format!("batch answered with a non-array: {v}"))?;
    let mut out: Vec<Result<Value, String>> = vec![Err("no answer".into()); calls.len()];
    for a in answers {
        let Some(slot) = a["id"]
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| out.get_mut(i))
        else {
            continue;
        };
        *slot = match a.get("error") {
            Some(e) => Err(e.to_string()),
            None => Ok(a.get("result").cloned().unwrap_or(Value::Null)),
        };
    }
    Ok(out)
}

/// A hex quantity (`"0x1a"`) as a number.
pub fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.strip_prefix("0x")?, 16).ok()
}
