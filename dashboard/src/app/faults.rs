//! Fault actions of the Network panel, through the launcher's admin API ([`super::api`]):
//! kill, pause/resume, restart/start and byzantine mode per node; partition the selected
//! nodes from the rest, and heal. Each action's answer (or error) shows under its node or the
//! partition bar; the launcher's action log then brings it into the feed (the Fault injection
//! panel).
//!
//! The controls are built once per node (not re-rendered with the feed), so a selection or an
//! open drop-down survives the model's updates.
use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use tc_types::NodeStatus;

use super::{Ctx, api};

/// An action's outcome: `"ok"`, `"bad"` or `"pending"` (its CSS class), and what to show.
type Outcome = (&'static str, String);

fn done(ok: bool, text: String) -> Outcome {
    (if ok { "ok" } else { "bad" }, text)
}

/// The fault controls' state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Faults {
    /// The page has an admin session (served by `devnet up` on a loopback host).
    pub enabled: bool,
    /// Nodes picked for a partition.
    selected: RwSignal<BTreeSet<String>>,
    /// Nodes with an action in flight.
    busy: RwSignal<BTreeSet<String>>,
    /// Last outcome per node.
    results: RwSignal<BTreeMap<String, Outcome>>,
    /// Byzantine mode per node, from the admin API's answers.
    modes: RwSignal<BTreeMap<String, String>>,
    /// Current partition (`None`: none) and the last partition/heal outcome.
    partition: RwSignal<Option<Vec<Vec<String>>>>,
    network_result: RwSignal<Option<Outcome>>,
    network_busy: RwSignal<bool>,
}

impl Faults {
    /// New state; with a session, loads the nodes' byzantine modes and the partition, and
    /// reloads them whenever the feed brings a new launcher action (also those of other
    /// clients: curl, another tab).
    pub(crate) fn new(ctx: Ctx) -> Self {
        let f = Faults {
            enabled: api::session_token().is_some(),
            selected: RwSignal::new(BTreeSet::new()),
            busy: RwSignal::new(BTreeSet::new()),
            results: RwSignal::new(BTreeMap::new()),
            modes: RwSignal::new(BTreeMap::new()),
            partition: RwSignal::new(None),
            network_result: RwSignal::new(None),
            network_busy: RwSignal::new(false),
        };
        if f.enabled {
            // The latest action id; the effect reruns on every render tick, reloads on a change.
            Effect::new(move |last: Option<Option<u64>>| {
                let id = ctx.with(|m| m.actions.back().map(|a| a.id));
                if last != Some(id) {
                    spawn_local(f.reload());
                }
                id
            });
        }
        f
    }

    async fn reload(self) {
        match api::admin("GET", "nodes", None).await {
            Ok(Value::Array(nodes)) => nodes.iter().for_each(|n| self.note_node(n)),
            Ok(other) => self
                .network_result
                .set(Some(done(false, format!("GET /admin/nodes: {other}")))),
            Err(e) => self.network_result.set(Some(done(false, e))),
        }
        self.refresh_partition().await;
    }

    /// Remember what an admin answer says about a node (its byzantine mode).
    fn note_node(&self, v: &Value) {
        if let Some(name) = v["name"].as_str() {
            let mode = v["byzantine"].as_str().unwrap_or("honest").to_owned();
            self.modes.update(|m| {
                m.insert(name.to_owned(), mode);
            });
        }
    }

    async fn refresh_partition(&self) {
        if let Ok(v) = api::admin("GET", "network", None).await {
            self.partition.set(
                serde_json::from_value(v["partition"].clone())
                    .ok()
                    .flatten(),
            );
        }
    }

    /// `POST /admin/{path}` for `node`; the outcome shows under its card.
    fn run(self, node: String, what: String, path: String) {
        self.busy.update(|b| {
            b.insert(node.clone());
        });
        self.results.update(|r| {
            r.insert(node.clone(), ("pending", format!("{what}…")));
        });
        spawn_local(async move {
            let outcome = match api::admin("POST", &path, None).await {
                Ok(v) => {
                    self.note_node(&v);
                    let status = v["status"].as_str().unwrap_or("?");
                    done(true, format!("{what}: ok, now {status}"))
                }
                Err(e) => done(false, format!("{what} failed: {e}")),
            };
            self.results.update(|r| {
                r.insert(node.clone(), outcome);
            });
            self.busy.update(|b| {
                b.remove(&node);
            });
        });
    }

    /// Partition (`Some(groups)`) or heal (`None`).
    fn network(self, groups: Option<Vec<Vec<String>>>) {
        self.network_busy.set(true);
        self.network_result.set(Some(("pending", "…".into())));
        spawn_local(async move {
            let (what, r) = match &groups {
                Some(g) => (
                    "partition",
                    api::admin("POST", "network/partition", Some(json!({"groups": g}))).await,
                ),
                None => ("heal", api::admin("POST", "network/heal", None).await),
            };
            let outcome = match r {
                Ok(v) => done(
                    v["ok"].as_bool().unwrap_or(false),
                    format!("{what}: {}", node_results(&v)),
                ),
                Err(e) => done(false, format!("{what} failed: {e}")),
            };
            self.network_result.set(Some(outcome));
            self.refresh_partition().await;
            self.network_busy.set(false);
        });
    }
}

/// `node-0 applied (blocks node-3), …` from a partition/heal answer.
fn node_results(v: &Value) -> String {
    let Some(nodes) = v["nodes"].as_array() else {
        return v.to_string();
    };
    nodes
        .iter()
        .map(|n| {
            format!(
                "{} {} ({})",
                n["node"].as_str().unwrap_or("?"),
                n["result"].as_str().unwrap_or("?"),
                n["detail"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn outcome_view(o: Option<Outcome>) -> impl IntoView {
    o.map(|(class, text)| view! { <p class=format!("result {class}")>{text}</p> })
}

/// Above the cards: the partition controls (or why there are no fault actions).
pub(crate) fn network_bar(f: Faults) -> impl IntoView {
    if !f.enabled {
        return view! {
            <p class="note">
                "Fault actions need the page as served by "<code>"devnet up"</code>
                " on 127.0.0.1 or localhost (it carries the admin session)."
            </p>
        }
        .into_any();
    }
    let selected = move || f.selected.with(|s| s.iter().cloned().collect::<Vec<_>>());
    let current = move || {
        f.partition.get().map_or("none".to_owned(), |groups| {
            groups
                .iter()
                .map(|g| format!("{{{}}}", g.join(", ")))
                .collect::<Vec<_>>()
                .join(" | ")
        })
    };
    view! {
        <div class="faultbar">
            <span class="k">"partition: "</span>
            <span id="partition-now">{current}</span>
            <button
                id="partition"
                disabled=move || f.network_busy.get() || f.selected.with(BTreeSet::is_empty)
                on:click=move |_| f.network(Some(vec![selected()]))
                title="the selected nodes form one group; every other node another"
            >
                {move || {
                    let s = selected();
                    if s.is_empty() {
                        "select nodes to partition".to_owned()
                    } else {
                        format!("cut {} from the rest", s.join(", "))
                    }
                }}
            </button>
            <button id="heal" disabled=move || f.network_busy.get() on:click=move |_| f.network(None)>
                "heal"
            </button>
            {move || outcome_view(f.network_result.get())}
        </div>
    }
    .into_any()
}

/// A node's fault controls (inside its card).
pub(crate) fn node_actions(ctx: Ctx, f: Faults, name: String) -> impl IntoView {
    if !f.enabled {
        return ().into_any();
    }
    let status = {
        let name = name.clone();
        Signal::derive(move || ctx.with(|m| m.node(&name).map(|n| n.view.status)))
    };
    let busy = {
        let name = name.clone();
        Signal::derive(move || f.busy.with(|b| b.contains(&name)))
    };
    let button = |action: &'static str, ok: fn(NodeStatus) -> bool| {
        let name = name.clone();
        let path = format!("nodes/{name}/{action}");
        view! {
            <button
                data-action=action
                disabled=move || busy.get() || !status.get().is_some_and(ok)
                on:click=move |_| f.run(name.clone(), action.to_owned(), path.clone())
            >
                {action}
            </button>
        }
    };
    use NodeStatus::*;
    let has_process = |s: NodeStatus| matches!(s, Running | Paused | Starting | Unreachable);
    let pick = {
        let name = name.clone();
        let checked = name.clone();
        view! {
            <label class="pick">
                <input
                    type="checkbox"
                    prop:checked=move || f.selected.with(|s| s.contains(&checked))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        f.selected.update(|s| {
                            if on { s.insert(name.clone()); } else { s.remove(&name); }
                        });
                    }
                />
                " select"
            </label>
        }
    };
    let byzantine = {
        let name = name.clone();
        view! {
            <select
                class="byzantine"
                disabled=move || busy.get() || status.get() != Some(Running)
                on:change=move |ev| {
                    let mode = event_target_value(&ev);
                    if !mode.is_empty() {
                        f.run(name.clone(), format!("byzantine {mode}"), format!("nodes/{name}/byzantine/{mode}"));
                    }
                }
                prop:value=""
            >
                <option value="">"byzantine…"</option>
                <option value="honest">"honest"</option>
                <option value="silent">"silent"</option>
                <option value="withhold">"withhold"</option>
                <option value="equivocate">"equivocate"</option>
            </select>
        }
    };
    let mode = {
        let name = name.clone();
        move || {
            f.modes
                .with(|m| m.get(&name).cloned())
                .filter(|m| m != "honest")
                .map(|m| view! { <span class="badge bad byz">{format!("byzantine: {m}")}</span> })
        }
    };
    let buttons = (
        button("kill", has_process),
        button("pause", |s| s == Running),
        button("resume", |s| s == Paused),
        button("restart", has_process),
        button("start", |s| matches!(s, Killed | Stopped)),
    );
    let result = move || outcome_view(f.results.with(|r| r.get(&name).cloned()));
    view! {
        <div class="actions">
            {buttons}
            {byzantine}
            {pick}
        </div>
        {mode}
        {result}
    }
    .into_any()
}
