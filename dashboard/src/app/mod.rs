//! The Leptos app (wasm32 only): shared context, page layout, header.
//!
//! Data flow: the WebSocket client ([`feed`]) applies every frame to the non-reactive
//! [`Model`] at once and bumps the `tick` signal at most every [`RENDER_EVERY`]; each panel is a
//! closure that reads `tick` and re-renders from the model. So a busy feed costs one render
//! per interval, not one per frame.
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::fmt;
use crate::model::Model;

mod api;
mod chains;
mod contracts;
mod faults;
mod feed;
mod panels;

/// Longest delay between a frame and its rendering.
pub(crate) const RENDER_EVERY: Duration = Duration::from_millis(150);

/// State of the connection to `/feed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnState {
    /// Opening the WebSocket.
    Connecting,
    /// Receiving frames.
    Open,
    /// Closed; the next attempt is scheduled.
    Retrying {
        /// Delay before it (ms).
        in_ms: u64,
        /// Attempts so far.
        attempt: u32,
    },
}

/// What every panel needs; `Copy` so closures can capture it freely.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    /// The reducer's state (not reactive by itself).
    pub model: StoredValue<Model>,
    /// Bumped after the model changed (throttled).
    pub tick: RwSignal<u64>,
    /// Connection state.
    pub conn: RwSignal<ConnState>,
    /// Wall clock (ms since the Unix epoch), updated every second for "… ago" labels.
    pub now: RwSignal<u64>,
}

impl Ctx {
    /// Read the model, re-running the caller when it changes.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Model) -> T) -> T {
        self.tick.track();
        self.model.with_value(f)
    }

    /// Current wall clock, re-running the caller every second (and read afresh at each render,
    /// so "… ago" never lags the events by the timer's second).
    pub(crate) fn now(&self) -> u64 {
        self.now.get().max(now_ms())
    }
}

/// Entry point: called by the wasm-bindgen glue when the module loads.
#[wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx {
        model: StoredValue::new(Model::default()),
        tick: RwSignal::new(0),
        conn: RwSignal::new(ConnState::Connecting),
        now: RwSignal::new(now_ms()),
    };
    set_interval(move || ctx.now.set(now_ms()), Duration::from_secs(1));
    feed::connect(ctx);
    view! {
        {header(ctx)}
        <main>
            {move || {
                ctx.with(|m| m.incompatible.clone())
                    .map(|why| view! { <div class="banner bad">{why}</div> })
            }}
            <div class="grid">
                {panels::network(ctx)}
                {panels::consensus(ctx)}
                {panels::committee(ctx)}
                {chains::chains(ctx)}
                {chains::mempool(ctx)}
                {chains::storage(ctx)}
                {panels::actions(ctx)}
                {contracts::contracts()}
            </div>
        </main>
        <footer>
            "trueconsensus devnet dashboard · merged feed "
            <code>"/feed"</code>
            {move || {
                ctx.with(|m| {
                    m.versions.map(|(s, f)| format!(" · schema v{s} · feed v{f}"))
                })
            }}
            {move || {
                ctx.with(|m| {
                    (m.parse_errors > 0)
                        .then(|| format!(" · {} unreadable frames", m.parse_errors))
                })
            }}
        </footer>
    }
}

fn header(ctx: Ctx) -> impl IntoView {
    let conn = move || match ctx.conn.get() {
        ConnState::Connecting => ("conn info", "connecting…".to_owned()),
        ConnState::Open => ("conn ok", "live".to_owned()),
        ConnState::Retrying { in_ms, attempt } => (
            "conn bad",
            format!("feed lost · retry {attempt} in {}", fmt::duration_ms(in_ms)),
        ),
    };
    let summary = move || {
        let now = ctx.now();
        ctx.with(|m| {
            let running = m
                .nodes
                .iter()
                .filter(|n| n.view.status == tc_types::NodeStatus::Running)
                .count();
            let epoch = m.consensus_now().map_or(0, |(e, _, _)| e);
            vec![
                ("nodes", format!("{running}/{}", m.nodes.len())),
                ("fast head", fmt::count(m.max_fast_head())),
                ("snail head", fmt::count(m.max_snail_head())),
                ("epoch", epoch.to_string()),
                ("last event", fmt::ago(m.last_event_ms, now)),
            ]
        })
        .into_iter()
        .map(|(k, v)| {
            view! {
                <div class="stat">
                    <span class="k">{k}</span>
                    <span class="v">{v}</span>
                </div>
            }
        })
        .collect_view()
    };
    view! {
        <header class="top">
            <div class="brand">
                <span class="logo">"◆"</span>
                " trueconsensus "
                <span class="dim">"devnet"</span>
            </div>
            <nav>
                <a href="#network">"Network"</a>
                <a href="#consensus">"Consensus"</a>
                <a href="#committee">"Committee"</a>
                <a href="#chains">"Chains"</a>
                <a href="#mempool">"Mempool"</a>
                <a href="#storage">"Storage"</a>
                <a href="#contracts">"Contracts"</a>
            </nav>
            <div class="summary">{summary}</div>
            <span id="conn" class=move || conn().0>{move || conn().1}</span>
        </header>
    }
}
