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
//! - `POST /admin/network/link`           `{"nodes":[0,"node-2"] or "all","loss":0.1,"delay_ms":50}`:
//!   userspace loss/delay on every link of those nodes, both directions (`nodes` defaults to
//!   all; `loss 0, delay_ms 0` clears); not kernel netem, see docs/devnet.md
//!
//! The dashboard's session token ([`AdminState::session`]) is accepted too, but only from a
//! same-origin page on a loopback host name: see [`session_request_ok`] and docs/devnet.md
//! ("The dashboard and the admin API").
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
    /// The dashboard's per-start token (never written to disk), handed to the page the
    /// launcher serves at `/` (see `feed::server::static_files`); `None`: not accepted.
    pub session: Option<Arc<str>>,
}

/// Whether a `Host` header value names a loopback host: `127.x.x.x`, `[::1]` or `localhost`,
/// with or without a port. A DNS-rebinding page (`evil.example` resolving to 127.0.0.1) sends
/// its own name, so it fails this.
pub fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, _)) => ip,
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request may use the dashboard's session token: its `Host` is a loopback name and
/// its `Origin`, when the browser sends one, is exactly `http://<Host>` (the page the launcher
/// served). `Err` says why not.
pub fn session_request_ok(headers: &axum::http::HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !loopback_host(host) {
        return Err(format!(
            "the dashboard token is only accepted on a loopback host name (127.0.0.1, localhost, [::1]), not {host:?}"
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        if origin != format!("http://{host}") {
            return Err(format!(
                "the dashboard token is only accepted from the dashboard's own origin http://{host}, not {origin:?}"
            ));
        }
    }
    Ok(())
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
    let session = st
        .session
        .as_deref()
        .is_some_and(|s| given.is_some_and(|t| same(t.as_bytes(), s.as_bytes())));
    if session {
        return match session_request_ok(req.headers()) {
            Ok(()) => next.run(req).await,
            Err(why) => error(StatusCode::FORBIDDEN, why),
        };
    }
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

/// `POST /admin/network/link` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    #[serde(default)]
    nodes: Option<serde_json::Value>,
    loss: f64,
    delay_ms: u64,
}

const LINK_EXAMPLE: &str = r#"{"nodes":"all","loss":0.1,"delay_ms":50}"#;

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
    Json(json!({"partition": st.sup.partition_groups(), "link": st.sup.link_plan()}))
        .into_response()
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
        "link" => {
            let b = match serde_json::from_slice::<LinkBody>(&body) {
                Ok(b) => b,
                Err(e) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("invalid link body: {e}; expected e.g. {LINK_EXAMPLE}"),
                    );
                }
            };
            let nodes = match b.nodes {
                None => None,
                Some(serde_json::Value::String(s)) if s == "all" => None,
                Some(serde_json::Value::Array(list)) => Some(list),
                Some(other) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "invalid link body: nodes must be \"all\" or a list of node indices or names, got {other}"
                        ),
                    );
                }
            };
            match st.sup.link(nodes, b.loss, b.delay_ms).await {
                Ok(r) => report(r),
                Err(e) => op_result(Err(e)),
            }
        }
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
    use super::{loopback_host, same, session_request_ok};
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn loopback_host_names() {
        for (host, ok) in [
            ("127.0.0.1:8545", true),
            ("127.0.0.1", true),
            ("127.1.2.3:80", true),
            ("localhost:8545", true),
            ("LOCALHOST", true),
            ("[::1]:8545", true),
            ("[::1]", true),
            ("evil.example:8545", false),
            ("localhost.evil.example", false),
            ("10.0.0.1:8545", false),
            ("[::2]:1", false),
            ("[::1", false),
            ("", false),
        ] {
            assert_eq!(loopback_host(host), ok, "{host}");
        }
    }

    #[test]
    fn session_requests_must_be_same_origin_on_loopback() {
        let headers = |host: &str, origin: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
            }
            h
        };
        assert!(session_request_ok(&headers("127.0.0.1:8545", None)).is_ok());
        assert!(
            session_request_ok(&headers("127.0.0.1:8545", Some("http://127.0.0.1:8545"))).is_ok()
        );
        let e = session_request_ok(&headers("127.0.0.1:8545", Some("http://evil.example")))
            .expect_err("cross origin");
        assert!(e.contains("evil.example"), "{e}");
        let e = session_request_ok(&headers(
            "evil.example:8545",
            Some("http://evil.example:8545"),
        ))
        .expect_err("rebinding");
        assert!(e.contains("loopback host name"), "{e}");
        assert!(session_request_ok(&HeaderMap::new()).is_err());
    }

    #[test]
    fn token_comparison() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
    }
}
