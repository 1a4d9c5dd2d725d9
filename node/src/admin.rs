//! `POST /admin/fault`: devnet fault injection on one node (byzantine behaviours, blocking
//! peers). Off unless `api.admin_token` is set; every request must carry
//! `Authorization: Bearer <token>`. Body: `{"fault":"byzantine","mode":"silent"}` (modes
//! `honest`, `silent`, `withhold`, `equivocate`), `{"fault":"block","peers":["12D3…"]}`,
//! `{"fault":"unblock","peers":[…]}`, `{"fault":"link","peers":["12D3…" or "all"],"loss":0.1,
//! "delay_ms":50}` (userspace shaping of inbound libp2p traffic from those peers, not kernel
//! netem; `loss 0, delay_ms 0` clears).
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::sync::oneshot;

use crate::runtime::{Command, Fault, NodeHandle};

#[derive(Clone)]
struct AdminState {
    handle: NodeHandle,
    token: String,
}

/// Router with `POST /admin/fault`.
pub fn router(handle: NodeHandle, token: String) -> Router {
    Router::new()
        .route("/admin/fault", post(fault))
        .with_state(AdminState { handle, token })
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn fault(
    State(s): State<AdminState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if s.token.is_empty() {
        return reply(
            StatusCode::NOT_FOUND,
            json!({"error": "the admin API is off on this node (api.admin_token is empty)"}),
        );
    }
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given != Some(s.token.as_str()) {
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": "missing or wrong bearer token (Authorization: Bearer <api.admin_token>)"}),
        );
    }
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return reply(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("invalid fault: {e}; expected e.g. {{\"fault\":\"byzantine\",\"mode\":\"silent\"}}")}),
            );
        }
    };
    let (tx, rx) = oneshot::channel();
    if s.handle
        .commands
        .send(Command::Fault { fault, reply: tx })
        .await
        .is_err()
    {
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "node is stopping"}),
        );
    }
    match rx.await {
        Ok(Ok(done)) => reply(StatusCode::OK, json!({"ok": done})),
        Ok(Err(e)) => reply(StatusCode::BAD_REQUEST, json!({"error": e})),
        Err(_) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "node is stopping"}),
        ),
    }
}
