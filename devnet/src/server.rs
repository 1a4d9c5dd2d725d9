//! The launcher's one address (`ports.http`, default 127.0.0.1:8545):
//!
//! | route | what |
//! |-------|------|
//! | `POST /` | JSON-RPC, forwarded to a running node ([`crate::proxy`]) |
//! | `GET /` with `Upgrade: websocket` | JSON-RPC over WebSocket (`eth_subscribe`), passed through to a running node; a new connection goes to the next live node when the upstream is gone |
//! | `GET /` | the dashboard ([`Integrations::dashboard`]); a placeholder page when it is not built |
//! | `/graphql`, `/graphql/…` | GraphQL (and its UI / WebSocket), forwarded |
//! | `/events`, `/metrics` | the upstream node's own event stream and metrics, forwarded |
//! | `GET /feed` | the merged feed of every node ([`Integrations::feed`]); 501 without it |
//! | `GET /devnet/nodes` | the nodes (name, status, addresses, key), no token needed |
//! | `/admin/…` | the token-protected admin API ([`crate::admin`]) |
//! | anything else | the dashboard's static files when plugged in, else 404 |
use std::path::PathBuf;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use tower::ServiceExt;

use crate::admin::{self, AdminState};
use crate::proxy;
use crate::supervisor::Supervisor;

/// What a plugged-in router gets to work with.
#[derive(Clone, Debug)]
pub struct Context {
    /// The node processes: `views()` lists every node with its HTTP address (its `/events`);
    /// `actions().subscribe()` streams the action log (starts, kills, added nodes, exits…).
    pub sup: Supervisor,
    /// The devnet's data dir.
    pub data_dir: PathBuf,
    /// The dashboard's per-start admin token (accepted by `/admin/…` from a same-origin
    /// loopback page, see [`crate::admin::session_request_ok`]); the dashboard plugin embeds
    /// it in the `index.html` it serves to loopback hosts.
    pub admin_session: std::sync::Arc<str>,
}

/// Builds a router from the launcher's [`Context`].
pub type Plugin = Box<dyn FnOnce(&Context) -> Router + Send>;

/// Routers other parts of the project plug into the launcher's address.
///
/// Integration points (both `None` today):
/// - `feed`: `devnet/src/feed.rs` (merged `/events` of every node + the action log). Its router
///   must serve `GET /feed`; it is merged as is, so it must not claim other routes.
/// - `dashboard`: the static-file server of the built dashboard. It answers `GET /` and every
///   path no other route takes (it is the fallback service), so its files may live anywhere
///   except under `/admin`, `/graphql`, `/events`, `/metrics`, `/feed` and `/devnet`.
#[derive(Default)]
pub struct Integrations {
    /// Serves `GET /feed`; `None` answers 501.
    pub feed: Option<Plugin>,
    /// Serves the dashboard; `None` shows a placeholder page.
    pub dashboard: Option<Plugin>,
}

impl std::fmt::Debug for Integrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrations")
            .field("feed", &self.feed.is_some())
            .field("dashboard", &self.dashboard.is_some())
            .finish()
    }
}

#[derive(Clone, Debug)]
struct Root {
    sup: Supervisor,
    dashboard: Option<Router>,
}

const PLACEHOLDER: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>trueconsensus devnet</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto">
<h1>trueconsensus devnet</h1>
<p>The dashboard will be served here, at <code>/</code>, once it is built into the launcher.</p>
<ul>
<li>JSON-RPC: <code>POST /</code> (forwarded to a running node)</li>
<li>GraphQL: <code>POST /graphql</code></li>
<li>Nodes: <a href="/devnet/nodes"><code>GET /devnet/nodes</code></a></li>
<li>Merged event feed: <code>GET /feed</code> (not implemented yet)</li>
<li>Admin API: <code>/admin/…</code> with the token in the data dir (see docs/devnet.md)</li>
</ul>
</body></html>
"#;

async fn root(State(st): State<Root>, req: Request) -> Response {
    if req.headers().contains_key(header::UPGRADE) {
        return proxy::forward(State(st.sup), req).await;
    }
    match st.dashboard {
        Some(d) => match d.oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        },
        None => Html(PLACEHOLDER).into_response(),
    }
}

async fn feed_not_implemented() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        axum::Json(serde_json::json!({
            "error": "the merged feed (/feed) is not implemented yet: it plugs in as Integrations::feed (devnet/src/server.rs); until then each node's own stream is at ws://<node http>/events, or /events here for the upstream node"
        })),
    )
        .into_response()
}

async fn public_nodes(State(sup): State<Supervisor>) -> Response {
    let nodes: Vec<serde_json::Value> = sup
        .views()
        .into_iter()
        .map(|v| {
            serde_json::json!({
                "name": v.name, "status": v.status, "http": v.http, "p2p": v.p2p,
                "key": v.key, "upstream": v.upstream,
            })
        })
        .collect();
    axum::Json(nodes).into_response()
}

async fn not_found(req: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("devnet: nothing at {}", req.uri().path()),
    )
        .into_response()
}

/// The launcher's router.
pub fn app(ctx: &Context, admin: AdminState, plugins: Integrations) -> Router {
    let dashboard = plugins.dashboard.map(|p| p(ctx));
    let proxied = Router::new()
        .route("/graphql", any(proxy::forward))
        .route("/graphql/{*rest}", any(proxy::forward))
        .route("/events", any(proxy::forward))
        .route("/metrics", any(proxy::forward))
        .route("/devnet/nodes", get(public_nodes))
        .with_state(ctx.sup.clone());
    let root_state = Root {
        sup: ctx.sup.clone(),
        dashboard: dashboard.clone(),
    };
    let mut app = Router::new()
        .route(
            "/",
            get(root).post(|State(r): State<Root>, req: Request| proxy::forward(State(r.sup), req)),
        )
        .with_state(root_state)
        .merge(proxied)
        .merge(admin::router(admin));
    app = match plugins.feed {
        Some(p) => app.merge(p(ctx)),
        None => app.route("/feed", any(feed_not_implemented)),
    };
    match dashboard {
        Some(d) => app.fallback_service(d),
        None => app.fallback(not_found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ActionLog;
    use crate::supervisor::Launch;
    use axum::body::Body;
    use std::sync::Arc;
    use std::time::Duration;

    fn ctx() -> (Context, AdminState) {
        let launch = Launch {
            node_bin: "tc-node".into(),
            shim: None,
            grace: Duration::from_millis(10),
            data_dir: "unused".into(),
            node_http: 1,
            node_p2p: 2,
        };
        let sup = Supervisor::new(launch, Vec::new(), ActionLog::new());
        let admin = AdminState {
            sup: sup.clone(),
            token: Arc::from("secret"),
            token_file: Arc::from("dir/admin.token"),
            session: Some(Arc::from("session")),
        };
        (
            Context {
                sup,
                data_dir: "unused".into(),
                admin_session: Arc::from("session"),
            },
            admin,
        )
    }

    async fn call(app: &Router, method: &str, path: &str, auth: Option<&str>) -> (u16, String) {
        send(app, method, path, auth, "").await
    }

    async fn send(
        app: &Router,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: &str,
    ) -> (u16, String) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).expect("request"))
            .await
            .expect("infallible");
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn without_plugins_placeholders_answer() {
        let (ctx, admin) = ctx();
        let app = app(&ctx, admin, Integrations::default());
        let (s, b) = call(&app, "GET", "/", None).await;
        assert_eq!(s, 200);
        assert!(b.contains("The dashboard will be served here"), "{b}");
        let (s, b) = call(&app, "GET", "/feed", None).await;
        assert_eq!(s, 501);
        assert!(b.contains("not implemented yet"), "{b}");
        let (s, b) = call(&app, "POST", "/", None).await;
        assert_eq!(s, 502);
        assert!(
            b.contains("-32000") && b.contains("no node is running"),
            "{b}"
        );
        assert_eq!(call(&app, "GET", "/nope", None).await.0, 404);
        let (s, b) = call(&app, "GET", "/admin/nodes", None).await;
        assert_eq!(s, 401);
        assert!(
            b.contains("missing admin token") && b.contains("dir/admin.token"),
            "{b}"
        );
        let (s, b) = call(&app, "GET", "/admin/nodes", Some("Bearer secreT")).await;
        assert_eq!(s, 401);
        assert!(b.contains("wrong admin token"), "{b}");
        let (s, b) = call(&app, "GET", "/admin/nodes", Some("Basic c2VjcmV0")).await;
        assert_eq!(s, 401);
        assert!(b.contains("malformed Authorization"), "{b}");
        assert_eq!(
            call(&app, "GET", "/admin/nodes", Some("Bearer secret")).await,
            (200, "[]".into())
        );
        let (s, b) = call(
            &app,
            "POST",
            "/admin/nodes/node-9/kill",
            Some("Bearer secret"),
        )
        .await;
        assert_eq!(s, 404, "{b}");
        // Network faults: bad bodies and names are 400s naming the problem; link is 501.
        let auth = Some("Bearer secret");
        let (s, b) = call(&app, "POST", "/admin/network/partition", auth).await;
        assert_eq!(s, 400, "{b}");
        assert!(
            b.contains("invalid partition body") && b.contains("groups"),
            "{b}"
        );
        let (s, b) = send(
            &app,
            "POST",
            "/admin/network/partition",
            auth,
            r#"{"group":[]}"#,
        )
        .await;
        assert_eq!(s, 400, "{b}");
        assert!(b.contains("unknown field `group`"), "{b}");
        let (s, b) = send(
            &app,
            "POST",
            "/admin/network/partition",
            auth,
            r#"{"groups":[["node-7"],["node-8"]]}"#,
        )
        .await;
        assert_eq!(s, 400, "{b}");
        assert!(
            b.contains("groups[0]: no node named") && b.contains("node-7"),
            "{b}"
        );
        let (s, b) = call(&app, "POST", "/admin/network/link", auth).await;
        assert_eq!(s, 400, "{b}");
        assert!(b.contains("invalid link body"), "{b}");
        for (body, needle) in [
            (
                r#"{"nodes":[9],"loss":0.1,"delay_ms":5}"#,
                "nodes[0]: no node with index 9",
            ),
            (
                r#"{"nodes":["node-7"],"loss":0.1,"delay_ms":5}"#,
                "nodes[0]: no node",
            ),
            (r#"{"nodes":[],"loss":0.1,"delay_ms":5}"#, "nodes is empty"),
            (
                r#"{"nodes":"some","loss":0.1,"delay_ms":5}"#,
                "nodes must be",
            ),
            (r#"{"loss":2,"delay_ms":5}"#, "loss must be a probability"),
            (
                r#"{"loss":0.1,"delay_ms":5,"jitter":1}"#,
                "unknown field `jitter`",
            ),
        ] {
            let (s, b) = send(&app, "POST", "/admin/network/link", auth, body).await;
            assert_eq!(s, 400, "{body}: {b}");
            assert!(b.contains(needle), "{body}: {b}");
        }
        assert_eq!(call(&app, "POST", "/admin/network/jam", auth).await.0, 404);
        assert_eq!(
            call(&app, "GET", "/admin/network", auth).await,
            (200, r#"{"link":null,"partition":null}"#.into())
        );
        let (s, b) = call(&app, "POST", "/admin/network/heal", auth).await;
        assert_eq!(s, 200, "{b}");
        let (s, b) = call(&app, "POST", "/admin/nodes/node-9/byzantine/silent", auth).await;
        assert_eq!(s, 404, "{b}");
        assert_eq!(call(&app, "POST", "/admin/network/heal", None).await.0, 401);
    }

    #[tokio::test]
    async fn the_dashboard_session_token_needs_a_same_origin_loopback_page() {
        let (ctx, admin) = ctx();
        let app = app(&ctx, admin, Integrations::default());
        let with = |host: &str, origin: Option<&str>| {
            let mut req = Request::get("/admin/nodes")
                .header("authorization", "Bearer session")
                .header("host", host);
            if let Some(o) = origin {
                req = req.header("origin", o);
            }
            let app = app.clone();
            let req = req.body(Body::empty()).expect("request");
            async move {
                let resp = app.oneshot(req).await.expect("infallible");
                let status = resp.status().as_u16();
                let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                    .await
                    .expect("body");
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(with("127.0.0.1:8545", None).await, (200, "[]".into()));
        assert_eq!(
            with("127.0.0.1:8545", Some("http://127.0.0.1:8545")).await,
            (200, "[]".into())
        );
        let (s, b) = with("127.0.0.1:8545", Some("http://evil.example")).await;
        assert_eq!(s, 403, "{b}");
        assert!(b.contains("own origin"), "{b}");
        let (s, b) = with("evil.example:8545", None).await;
        assert_eq!(s, 403, "{b}");
        assert!(b.contains("loopback host name"), "{b}");
        // The file token works whatever the Host (curl, scripts).
        let req = Request::get("/admin/nodes")
            .header("authorization", "Bearer secret")
            .header("host", "evil.example:8545")
            .body(Body::empty())
            .expect("request");
        let resp = app.clone().oneshot(req).await.expect("infallible");
        assert_eq!(resp.status().as_u16(), 200);
    }

    #[tokio::test]
    async fn feed_and_dashboard_plug_in() {
        let (ctx, admin) = ctx();
        let plugins = Integrations {
            feed: Some(Box::new(|_: &Context| {
                Router::new().route("/feed", get(|| async { "merged feed" }))
            })),
            dashboard: Some(Box::new(|_: &Context| {
                Router::new().fallback(|req: Request| async move {
                    format!("dashboard file {}", req.uri().path())
                })
            })),
        };
        let app = app(&ctx, admin, plugins);
        assert_eq!(
            call(&app, "GET", "/feed", None).await,
            (200, "merged feed".into())
        );
        assert_eq!(
            call(&app, "GET", "/", None).await,
            (200, "dashboard file /".into())
        );
        assert_eq!(
            call(&app, "GET", "/pkg/app.wasm", None).await,
            (200, "dashboard file /pkg/app.wasm".into())
        );
        // The launcher's own routes still win.
        assert_eq!(call(&app, "GET", "/admin/nodes", None).await.0, 401);
        assert_eq!(call(&app, "POST", "/", None).await.0, 502);
    }
}
