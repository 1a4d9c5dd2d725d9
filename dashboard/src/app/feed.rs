//! The WebSocket client of `/feed` (same origin): applies frames to the model, schedules a
//! render, and reconnects with capped exponential backoff when the feed drops.
use std::cell::{Cell, RefCell};
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use super::{ConnState, Ctx, RENDER_EVERY};

/// First reconnect delay.
const BACKOFF_MIN_MS: u64 = 250;
/// Longest reconnect delay.
const BACKOFF_MAX_MS: u64 = 5_000;

/// The open socket and the callbacks it holds (dropped together, after detaching).
struct Conn {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

thread_local! {
    static CONN: RefCell<Option<Conn>> = const { RefCell::new(None) };
    static FAILURES: Cell<u32> = const { Cell::new(0) };
    static RENDER_PENDING: Cell<bool> = const { Cell::new(false) };
    static LAST_RENDER_MS: Cell<f64> = const { Cell::new(0.0) };
}

/// `ws(s)://<page host>/feed`.
fn feed_url() -> String {
    let loc = window().location();
    let scheme = match loc.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = loc.host().unwrap_or_else(|_| "127.0.0.1".into());
    format!("{scheme}://{host}/feed")
}

/// Open (or re-open) the feed.
pub(crate) fn connect(ctx: Ctx) {
    // Drop the previous connection (its callbacks are not running: we come from a timer).
    CONN.with(|c| c.borrow_mut().take());
    ctx.conn.set(ConnState::Connecting);
    let ws = match WebSocket::new(&feed_url()) {
        Ok(ws) => ws,
        Err(e) => {
            leptos::logging::warn!("cannot open the feed socket: {e:?}");
            retry(ctx);
            return;
        }
    };
    let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        FAILURES.with(|f| f.set(0));
        ctx.conn.set(ConnState::Open);
    });
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            ctx.model.update_value(|m| m.apply_text(&text));
            schedule_render(ctx);
        }
    });
    // `close` follows every `error`, so one handler covers both.
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| retry(ctx));
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    CONN.with(|c| {
        *c.borrow_mut() = Some(Conn {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    });
}

/// Schedule the next attempt: 250 ms doubling up to 5 s.
fn retry(ctx: Ctx) {
    let attempt = FAILURES.with(|f| {
        let n = f.get().saturating_add(1);
        f.set(n);
        n
    });
    let in_ms = BACKOFF_MIN_MS
        .saturating_mul(1 << attempt.saturating_sub(1).min(5))
        .min(BACKOFF_MAX_MS);
    ctx.conn.set(ConnState::Retrying { in_ms, attempt });
    set_timeout(move || connect(ctx), Duration::from_millis(in_ms));
}

/// Bump `tick` at most once per render interval, however many frames arrive: at once when
/// the last render is older than the interval (so the first snapshot shows without delay),
/// otherwise at the end of the interval.
fn schedule_render(ctx: Ctx) {
    if RENDER_PENDING.with(Cell::get) {
        return;
    }
    let every = RENDER_EVERY.as_millis() as f64;
    let since = js_sys::Date::now() - LAST_RENDER_MS.with(Cell::get);
    if since >= every {
        render(ctx);
        return;
    }
    RENDER_PENDING.with(|p| p.set(true));
    set_timeout(
        move || {
            RENDER_PENDING.with(|p| p.set(false));
            render(ctx);
        },
        Duration::from_millis((every - since).max(1.0) as u64),
    );
}

fn render(ctx: Ctx) {
    LAST_RENDER_MS.with(|l| l.set(js_sys::Date::now()));
    ctx.tick.update(|t| *t = t.wrapping_add(1));
}
