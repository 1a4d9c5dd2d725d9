//! HTTP side of the merger: `GET /feed` (WebSocket) and the dashboard's static files.
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::{FeedHandle, Shared};

/// `GET /feed` for this merger, plus the dashboard's files at `GET /` when `dist` is given
/// (a directory with `index.html`, its `.js`, `.wasm` and `.css`, as built by
/// `cargo xtask dashboard`).
pub fn router(feed: FeedHandle, dist: Option<PathBuf>) -> Router {
    let r = Router::new().route("/feed", get(upgrade)).with_state(feed);
    match dist {
        Some(dir) => r.merge(static_files(dir, None)),
        None => r,
    }
}

async fn upgrade(State(feed): State<FeedHandle>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve_client(feed, socket))
}

/// A client's position in the feed: it yields the next frame to send, replacing a lost stretch
/// of the ring with a resync snapshot.
#[derive(Debug)]
struct Cursor<'a> {
    shared: &'a Shared,
    rx: broadcast::Receiver<Utf8Bytes>,
}

impl<'a> Cursor<'a> {
    /// Hello and snapshot to send first, and the cursor right after them.
    fn open(shared: &'a Shared) -> ([Utf8Bytes; 2], Self) {
        let (snapshot, rx) = shared.subscribe(false);
        ([shared.hello.clone(), snapshot], Self { shared, rx })
    }

    /// Next frame, or `None` when the merger stopped.
    async fn next(&mut self) -> Option<Utf8Bytes> {
        match self.rx.recv().await {
            Ok(frame) => Some(frame),
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "feed client lagged; sending a resync snapshot");
                let (snapshot, rx) = self.shared.subscribe(true);
                self.rx = rx;
                Some(snapshot)
            }
            Err(RecvError::Closed) => None,
        }
    }
}

async fn serve_client(feed: FeedHandle, mut socket: WebSocket) {
    let shared = &*feed.shared;
    let deadline = shared.config.send_deadline;
    let (first, mut cursor) = Cursor::open(shared);
    for frame in first {
        if !send(&mut socket, frame, deadline).await {
            return;
        }
    }
    loop {
        let frame = tokio::select! {
            f = cursor.next() => match f {
                Some(f) => f,
                None => return,
            },
            msg = socket.recv() => match msg {
                // Clients have nothing to say; a close or an error ends the session.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        };
        if !send(&mut socket, frame, deadline).await {
            tracing::debug!("feed client too slow or gone; disconnected");
            return;
        }
    }
}

/// Send one frame; false when the client is gone or did not take it within `deadline`.
async fn send(socket: &mut WebSocket, frame: Utf8Bytes, deadline: std::time::Duration) -> bool {
    matches!(
        tokio::time::timeout(deadline, socket.send(Message::Text(frame))).await,
        Ok(Ok(()))
    )
}

/// The dashboard's files and, optionally, the admin session token its `index.html` carries.
#[derive(Clone, Debug)]
struct Dist {
    dir: PathBuf,
    session: Option<Arc<str>>,
}

/// The `<meta>` tag `index.html` gets when the page may use the admin API (read by the
/// dashboard's `app/api.rs`).
pub const SESSION_META: &str = "tc-admin-session";

/// Serve the flat directory `dir`: `GET /` is `index.html`, `GET /{file}` a file in it
/// (plain names only: letters, digits, `.`, `-`, `_`; no sub-directories).
///
/// With `session`, `index.html` served to a request whose `Host` is a loopback name carries
/// `<meta name="tc-admin-session" content="<token>">` before `</head>` (and `Cache-Control:
/// no-store`), so the page can call `/admin/…`; any other `Host` (e.g. a DNS-rebinding name)
/// gets the plain file, and the dashboard shows its fault actions as unavailable.
pub fn static_files(dir: PathBuf, session: Option<Arc<str>>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/{file}", get(file))
        .with_state(Dist { dir, session })
}

async fn index(State(dist): State<Dist>, headers: HeaderMap) -> Response {
    let session = dist.session.as_deref().filter(|_| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(crate::admin::loopback_host)
    });
    let Some(token) = session else {
        return serve_file(&dist.dir, "index.html").await;
    };
    let path = dist.dir.join("index.html");
    let read = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match read {
        Ok(html) => {
            let meta = format!(r#"<meta name="{SESSION_META}" content="{token}">"#);
            let html = match html.find("</head>") {
                Some(at) => format!("{}{meta}{}", &html[..at], &html[at..]),
                None => format!("{meta}{html}"),
            };
            (
                [
                    (header::CONTENT_TYPE, content_type("index.html")),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                html,
            )
                .into_response()
        }
        Err(_) => serve_file(&dist.dir, "index.html").await,
    }
}

async fn file(State(dist): State<Dist>, UrlPath(name): UrlPath<String>) -> Response {
    if !is_plain_name(&name) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    serve_file(&dist.dir, &name).await
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Content type by extension (what the dashboard's dist holds).
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn serve_file(dir: &Path, name: &str) -> Response {
    let path = dir.join(name);
    let read = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match read {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(name)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "not found").into_response()
        }
        Err(e) => {
            tracing::warn!(file = %dir.join(name).display(), error = %e, "cannot read dashboard file");
            (StatusCode::INTERNAL_SERVER_ERROR, "cannot read file").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tc_types::{FeedMessage, NodeEvent, Stamped};

    use super::super::{FeedConfig, FeedHub, Input, NodeSource};
    use super::*;

    #[test]
    fn only_plain_file_names_are_served() {
        for (name, ok) in [
            ("index.html", true),
            ("tc_dashboard_bg.wasm", true),
            ("style-1.css", true),
            ("..", false),
            (".env", false),
            ("a/b", false),
            ("a%2Fb", false),
            ("", false),
        ] {
            assert_eq!(is_plain_name(name), ok, "{name}");
        }
        assert_eq!(content_type("x_bg.wasm"), "application/wasm");
        assert_eq!(content_type("x.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("README"), "application/octet-stream");
    }

    #[tokio::test]
    async fn index_carries_the_session_token_only_for_loopback_hosts() {
        use tower::ServiceExt;
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            dir.path().join("index.html"),
            "<html><head><title>t</title></head><body></body></html>",
        )
        .expect("index");
        let app = static_files(dir.path().into(), Some(Arc::from("s3cret")));
        let get = |host: &'static str| {
            let app = app.clone();
            async move {
                let req = axum::http::Request::get("/")
                    .header(header::HOST, host)
                    .body(axum::body::Body::empty())
                    .expect("request");
                let res = app.oneshot(req).await.expect("response");
                let cache = res.headers().get(header::CACHE_CONTROL).cloned();
                let body = axum::body::to_bytes(res.into_body(), 1 << 20)
                    .await
                    .expect("body");
                (String::from_utf8_lossy(&body).into_owned(), cache)
            }
        };
        let (html, cache) = get("127.0.0.1:8545").await;
        assert!(
            html.contains(r#"<meta name="tc-admin-session" content="s3cret"></head>"#),
            "{html}"
        );
        assert_eq!(
            cache.as_ref().and_then(|c| c.to_str().ok()),
            Some("no-store")
        );
        assert!(get("localhost:1").await.0.contains("s3cret"));
        let (html, _) = get("evil.example:8545").await;
        assert!(
            !html.contains("s3cret") && html.contains("<title>t</title>"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn a_lagging_client_gets_a_resync_snapshot_then_live_frames() {
        let hub = FeedHub::start_with(
            vec![NodeSource::at("a", "127.0.0.1:1")],
            FeedConfig {
                ring: 2,
                batch_window: Duration::from_millis(1),
                ..FeedConfig::default()
            },
            false,
        )
        .expect("hub");
        let h = hub.handle();
        let (first, mut cursor) = Cursor::open(&h.shared);
        let hello: FeedMessage = serde_json::from_str(first[0].as_str()).expect("hello");
        assert!(matches!(hello, FeedMessage::Hello { .. }));
        // Five separate frames (statuses publish at once) overflow a ring of two.
        use tc_types::NodeStatus::{Killed, Paused, Running};
        for status in [Paused, Running, Paused, Running, Killed] {
            h.set_status("a", status, None).await.expect("status");
        }
        // Let the hub publish them all.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while h.nodes()[0].status != Killed {
            assert!(
                tokio::time::Instant::now() < deadline,
                "hub did not publish"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let f = cursor.next().await.expect("frame");
        match serde_json::from_str::<FeedMessage>(f.as_str()).expect("decode") {
            FeedMessage::Snapshot { resync, nodes, .. } => {
                assert!(resync);
                assert_eq!(nodes[0].status, Killed, "latest status");
            }
            other => panic!("expected a resync snapshot, got {other:?}"),
        }
        // After the resync the cursor follows live frames again.
        h.input(Input::Events {
            node: "a".into(),
            events: vec![Stamped {
                seq: 9,
                time_ms: 0,
                event: NodeEvent::PeerConnected { peer: "p".into() },
            }],
        })
        .await
        .expect("input");
        let f = tokio::time::timeout(Duration::from_secs(5), cursor.next())
            .await
            .expect("live frame in time")
            .expect("frame");
        assert!(matches!(
            serde_json::from_str::<FeedMessage>(f.as_str()).expect("decode"),
            FeedMessage::Events { events } if events[0].seq == 9
        ));
    }
}
