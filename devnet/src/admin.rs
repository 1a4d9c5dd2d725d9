//! The admin API under `/admin`: loopback clients only, `Authorization: Bearer <token>` with
//! the token the launcher wrote into `<data dir>/admin.token`.
//!
//! - `GET  /admin/nodes`                  every node: name, pid, status, http, p2p, key, upstream
//! - `POST /admin/nodes`                  add a node (new key, same genesis and bootnodes) and start it
//! - `POST /admin/nodes/{name}/{action}`  `stop` | `kill` | `pause` | `resume` | `restart` | `start`
//! - `POST /admin/nodes/{name}/byzantine/{mode}`  `honest` | `silent` | `withhold` | `equivocate`
//!   (forwarded to the node's own fault API)
//! - `GET  /admin/actions[?since=SEQ]`    the action log (oldest first)
//! - `GET  /admin/network`                the current partition (`null`: none)
//! - `POST /admin/network/partition`      `{"groups":[["node-0"],["node-1","node-2"]]}`: every node
//!   blocks the nodes outside its group (unlisted nodes form one more group)
//! - `POST /admin/network/heal`           every node lets every other node in again
//! - `POST /admin/network/link`           per-link loss / delay: 501 (no `sch_netem` here)
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::supervisor::faults::{self, NetworkReport};
use crate::supervisor::{OpError, Supervisor};

/// What the admin routes need.
#[derive(Clone, Debug)]
pub struct AdminState {
    /// The node processes.
    pub sup: Supervisor,
    /// The bearer token.
    pub token: Arc<str>,
    /// Where the token is (named in 401 answers).
    pub token_file: Arc<str>,
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// Equal without an early exit on the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn guard(State(st): State<AdminState>, req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>()
        && !peer.ip().is_loopback()
    {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "the admin API only answers loopback clients (you are {})",
                peer.ip()
            ),
        );
    }
    let hint = format!(
        "send 'Authorization: Bearer <token>' with the token in {}",
        st.token_file
    );
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return error(
            StatusCode::UNAUTHORIZED,
            format!("missing admin token: {hint}"),
        );
    };
    let given = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(t) if same(t.as_bytes(), st.token.as_bytes()) => next.run(req).await,
        Some(_) => error(
            StatusCode::UNAUTHORIZED,
            format!("wrong admin token: {hint}"),
        ),
        None => error(
            StatusCode::UNAUTHORIZED,
            format!("malformed Authorization header: {hint}"),
        ),
    }
}

fn op_result(r: Result<crate::supervisor::NodeView, OpError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e @ OpError::NotFound(_)) => error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ OpError::Conflict(_)) => error(StatusCode::CONFLICT, e.to_string()),
        Err(e @ OpError::Failed(_)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e @ OpError::Invalid(_)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e @ OpError::Node(_)) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

async fn nodes(State(st): State<AdminState>) -> Response {
    Json(st.sup.views()).into_response()
}

async fn add(State(st): State<AdminState>) -> Response {
    match st.sup.add().await {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => op_result(Err(e)),
    }
}

async fn node_action(
    State(st): State<AdminState>,
    Path((name, action)): Path<(String, String)>,
) -> Response {
    let sup = &st.sup;
    op_result(match action.as_str() {
        "stop" => sup.stop(&name).await,
        "kill" => sup.kill(&name).await,
        "pause" => sup.pause(&name).await,
        "resume" => sup.resume(&name).await,
        "restart" => sup.restart(&name).await,
        "start" => sup.start(&name).await,
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown action {other:?}: use stop, kill, pause, resume, restart or start"
                ),
            );
        }
    })
}

async fn byzantine(
    State(st): State<AdminState>,
    Path((name, mode)): Path<(String, String)>,
) -> Response {
    if let Err(e) = st.sup.view(&name) {
        return op_result(Err(e));
    }
    match faults::parse_mode(&mode) {
        Ok(m) => op_result(st.sup.byzantine(&name, m).await),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

#[derive(Debug, Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn actions(State(st): State<AdminState>, Query(q): Query<Since>) -> Response {
    Json(st.sup.actions().since(q.since)).into_response()
}

/// `POST /admin/network/partition` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartitionBody {
    groups: Vec<Vec<String>>,
}

const PARTITION_EXAMPLE: &str = r#"{"groups":[["node-0","node-1"],["node-2","node-3","node-4"]]}"#;

fn report(r: NetworkReport) -> Response {
    let status = if r.ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    (status, Json(r)).into_response()
}

async fn network_state(State(st): State<AdminState>) -> Response {
    Json(json!({"partition": st.sup.partition_groups()})).into_response()
}

async fn network(
    State(st): State<AdminState>,
    Path(op): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    match op.as_str() {
        "partition" => {
            let groups = match serde_json::from_slice::<PartitionBody>(&body) {
                Ok(b) => b.groups,
                Err(e) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("invalid partition body: {e}; expected e.g. {PARTITION_EXAMPLE}"),
                    );
                }
            };
            match st.sup.partition(groups).await {
                Ok(r) => report(r),
                Err(e) => op_result(Err(e)),
            }
        }
        "heal" => report(st.sup.heal().await),
        "link" => error(
            StatusCode::NOT_IMPLEMENTED,
            "per-link loss and delay are not implemented: they need tc netem, and this kernel has no sch_netem (`tc qdisc add dev lo root netem delay 1ms` fails with \"Specified qdisc kind is unknown\"); partition and heal work (see docs/devnet.md)",
        ),
        other => error(
            StatusCode::NOT_FOUND,
            format!("unknown network operation {other:?}: use partition, heal or link"),
        ),
    }
}

/// The `/admin/…` routes with the loopback and token checks.
pub fn router(st: AdminState) -> axum::Router {
    axum::Router::new()
        .route("/admin/nodes", get(nodes).post(add))
        .route("/admin/nodes/{name}/{action}", post(node_action))
        .route("/admin/nodes/{name}/byzantine/{mode}", post(byzantine))
        .route("/admin/actions", get(actions))
        .route("/admin/network", get(network_state))
        .route("/admin/network/{op}", post(network))
        .route_layer(axum::middleware::from_fn_with_state(st.clone(), guard))
        .with_state(st)
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn token_comparison() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
