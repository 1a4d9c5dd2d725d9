//! The admin API under `/admin`: loopback clients only, `Authorization: Bearer <token>` with
//! the token the launcher wrote into `<data dir>/admin.token`.
//!
//! - `GET  /admin/nodes`                  every node: name, pid, status, http, p2p, key, upstream
//! - `POST /admin/nodes`                  add a node (new key, same genesis and bootnodes) and start it
//! - `POST /admin/nodes/{name}/{action}`  `stop` | `kill` | `pause` | `resume` | `restart` | `start`
//! - `GET  /admin/actions[?since=SEQ]`    the action log (oldest first)
//! - `POST /admin/network/{op}`           `partition` | `heal` | `link`: not implemented yet (501)
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

#[derive(Debug, Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn actions(State(st): State<AdminState>, Query(q): Query<Since>) -> Response {
    Json(st.sup.actions().since(q.since)).into_response()
}

async fn network(Path(op): Path<String>) -> Response {
    error(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "network fault {op:?} (partition / heal / link loss and delay) is not implemented yet; see docs/devnet.md"
        ),
    )
}

/// The `/admin/…` routes with the loopback and token checks.
pub fn router(st: AdminState) -> axum::Router {
    axum::Router::new()
        .route("/admin/nodes", get(nodes).post(add))
        .route("/admin/nodes/{name}/{action}", post(node_action))
        .route("/admin/actions", get(actions))
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
