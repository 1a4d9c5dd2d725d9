//! The page's HTTP calls, same origin: the launcher's admin API (`/admin/…`, with the session
//! token `devnet up` put into `index.html`) and JSON-RPC (`POST /`, forwarded to a node).
use serde_json::{Value, json};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// The `<meta name="tc-admin-session">` the launcher adds to `index.html` (see
/// `devnet/src/feed/server.rs`); `None` when the page was not served by `devnet up` on a
/// loopback address, and then the fault actions are unavailable.
pub(crate) fn session_token() -> Option<String> {
    let doc = leptos::prelude::document();
    let meta = doc
        .query_selector(r#"meta[name="tc-admin-session"]"#)
        .ok()??;
    meta.get_attribute("content").filter(|t| !t.is_empty())
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// One request; `(status, body text)`.
async fn fetch(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let headers = Headers::new().map_err(js_err)?;
    if let Some(t) = bearer {
        headers
            .set("authorization", &format!("Bearer {t}"))
            .map_err(js_err)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        headers
            .set("content-type", "application/json")
            .map_err(js_err)?;
        init.set_body(&JsValue::from_str(b));
    }
    init.set_headers(&headers);
    let req = Request::new_with_str_and_init(url, &init).map_err(js_err)?;
    let resp = JsFuture::from(leptos::prelude::window().fetch_with_request(&req))
        .await
        .map_err(|e| format!("{method} {url}: {}", js_err(e)))?;
    let resp: Response = resp.dyn_into().map_err(js_err)?;
    let text = JsFuture::from(resp.text().map_err(js_err)?)
        .await
        .map_err(js_err)?
        .as_string()
        .unwrap_or_default();
    Ok((resp.status(), text))
}

/// `method /admin/{path}` with the session token: the answer's JSON, or the launcher's error
/// message (`{"error": …}`) with the HTTP status.
pub(crate) async fn admin(method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let token = session_token()
        .ok_or("no admin session: open the dashboard from `devnet up` on 127.0.0.1 or localhost")?;
    let body = body.map(|b| b.to_string());
    let (status, text) = fetch(
        method,
        &format!("/admin/{path}"),
        Some(&token),
        body.as_deref(),
    )
    .await?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if (200..300).contains(&status) {
        Ok(v)
    } else {
        let msg = v["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string());
        let hint = if status == 401 {
            " (the page's session is from an earlier `devnet up`: reload the page)"
        } else {
            ""
        };
        Err(format!("HTTP {status}: {msg}{hint}"))
    }
}

/// A JSON-RPC error, with its `data` (e.g. revert data) when given.
#[derive(Clone, Debug)]
pub(crate) struct RpcError {
    /// What to show.
    pub message: String,
    /// `error.data` as a hex string, if any.
    pub data: Option<String>,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `POST /` JSON-RPC call: the result, or the error.
pub(crate) async fn rpc(method: &str, params: Value) -> Result<Value, RpcError> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let plain = |message: String| RpcError {
        message,
        data: None,
    };
    let (status, text) = fetch("POST", "/", None, Some(&body)).await.map_err(plain)?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|_| plain(format!("{method}: HTTP {status}, not JSON-RPC: {text}")))?;
    if let Some(e) = v.get("error") {
        let msg = e["message"].as_str().unwrap_or("error");
        return Err(RpcError {
            message: format!("{method}: {msg} (code {})", e["code"]),
            data: e["data"].as_str().map(str::to_owned),
        });
    }
    v.get("result")
        .cloned()
        .ok_or_else(|| plain(format!("{method}: HTTP {status}, no result in {text}")))
}

/// Wait `ms` (a timer; for polling).
pub(crate) async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        let _ = leptos::prelude::window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}
