//! Panels: Network (node cards), Consensus live, Committee timeline, fault-injection actions.
use leptos::prelude::*;
use tc_types::{ActionResult, PbftPhase, PubKey};

use super::{Ctx, faults};
use crate::fmt;
use crate::model::{Model, NodeState, RotationStep};

/// A key as the node name holding it, else a short hex.
pub(crate) fn key_label(m: &Model, key: &PubKey) -> String {
    m.node_of_key(key)
        .map(str::to_owned)
        .unwrap_or_else(|| fmt::short_hash(key))
}

fn empty(text: &'static str) -> AnyView {
    view! { <p class="empty">{text}</p> }.into_any()
}

/// Node cards: status, role, heads, peers, mempool, last event, and the fault actions.
///
/// One card per node, keyed by name: its figures re-render with the model, its controls
/// ([`faults::node_actions`]) are built once.
pub(crate) fn network(ctx: Ctx) -> impl IntoView {
    let f = faults::Faults::new(ctx);
    let names = move || {
        ctx.with(|m| {
            m.nodes
                .iter()
                .map(|n| n.view.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let waiting = move || {
        ctx.with(|m| m.nodes.is_empty())
            .then(|| empty("waiting for the feed's snapshot…"))
    };
    let card = move |name: String| {
        let status = {
            let name = name.clone();
            move || ctx.with(|m| m.node(&name).map_or("", |n| n.view.status.as_str()))
        };
        let body = {
            let name = name.clone();
            move || {
                let now = ctx.now();
                ctx.with(|m| m.node(&name).map(|n| node_card(n, now)))
            }
        };
        let actions = faults::node_actions(ctx, f, name.clone());
        view! {
            <article class="card node" data-node=name data-status=status>
                {body}
                {actions}
            </article>
        }
    };
    view! {
        <section id="network" class="panel wide">
            <h2>"Network"</h2>
            {faults::network_bar(f)}
            {waiting}
            <div class="cards">
                <For each=names key=|n: &String| n.clone() children=card />
            </div>
        </section>
    }
}

fn node_card(n: &NodeState, now: u64) -> impl IntoView + use<> {
    let v = &n.view;
    let role = n.role();
    let role_class = match role {
        crate::model::Role::Primary(_) => "role primary",
        crate::model::Role::Member(_) => "role backup",
        _ => "role",
    };
    let rtts: Vec<u64> = n.peers.values().filter_map(|r| *r).collect();
    let peers = if rtts.is_empty() {
        format!("{}", n.peers.len())
    } else {
        let avg = rtts.iter().sum::<u64>() / rtts.len() as u64;
        format!("{} · {} avg", n.peers.len(), fmt::duration_ms(avg / 1000))
    };
    let rows = vec![
        ("epoch / view", format!("{} / {}", n.epoch, n.pbft_view)),
        ("peers", peers),
        ("mempool ≈", fmt::count(n.pending_estimate())),
        ("last event", fmt::ago(n.last_event_ms, now)),
        ("chain id", v.chain_id.map_or("—".into(), |c| c.to_string())),
    ];
    view! {
            <div class="card-head">
                <span class="name">{v.name.clone()}</span>
                <span class=fmt::status_class(v.status)>{v.status.as_str()}</span>
            </div>
            <div class=role_class>{role.label()}</div>
            <div class="heads">
                <div>
                    <span class="k">"fast"</span>
                    <span class="v fast-head">{v.fast_head.to_string()}</span>
                    <span class="hash">{fmt::short_hash(&v.fast_head_hash)}</span>
                </div>
                <div>
                    <span class="k">"snail"</span>
                    <span class="v snail-head">{v.snail_head.to_string()}</span>
                    <span class="hash">{fmt::short_hash(&v.snail_head_hash)}</span>
                </div>
            </div>
            <dl>
                {rows
                    .into_iter()
                    .map(|(k, val)| view! { <dt>{k}</dt><dd>{val}</dd> })
                    .collect_view()}
            </dl>
            {v.reason.clone().map(|r| view! { <p class="reason">{r}</p> })}
            {n.resynced.then(|| view! { <p class="reason">"re-synced: some events may be missing"</p> })}
            <a class="rpc" href=v.rpc.clone()>{v.rpc.clone()}</a>
    }
}

/// Current epoch/view/seq, recent PBFT instances per member, view changes.
pub(crate) fn consensus(ctx: Ctx) -> impl IntoView {
    let now_line = move || {
        ctx.with(|m| {
            let (e, v, s) = m.consensus_now().unwrap_or((0, 0, 0));
            [("epoch", e), ("view", v), ("seq", s)]
                .into_iter()
                .map(|(k, x)| {
                    view! {
                        <div class="big">
                            <span class="v">{x.to_string()}</span>
                            <span class="k">{k}</span>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    let instances = move || ctx.with(instances_table);
    let view_changes = move || ctx.with(view_changes_list);
    view! {
        <section id="consensus" class="panel">
            <h2>"Consensus live"</h2>
            <div class="bigs">{now_line}</div>
            <h3>"Recent PBFT instances"</h3>
            {instances}
            <h3>"View changes"</h3>
            {view_changes}
        </section>
    }
}

fn instances_table(m: &Model) -> AnyView {
    if m.instances.is_empty() {
        return empty("no PBFT phase events yet (a solo committee decides without messages)");
    }
    let names: Vec<String> = m.nodes.iter().map(|n| n.view.name.clone()).collect();
    let head = names
        .iter()
        .map(|n| view! { <th>{n.clone()}</th> })
        .collect_view();
    let rows = m
        .instances
        .values()
        .rev()
        .take(12)
        .map(|i| {
            let cells = names
                .iter()
                .map(|n| {
                    let chip = i.phase_of(n).map(|p: PbftPhase| {
                        view! { <span class=fmt::phase_class(p)>{fmt::phase_label(p)}</span> }
                    });
                    view! { <td>{chip}</td> }
                })
                .collect_view();
            let latency = i.decided_ms.map_or("…".into(), |d| {
                fmt::duration_ms(d.saturating_sub(i.first_ms))
            });
            view! {
                <tr>
                    <td class="num">{format!("{}/{}", i.epoch, i.seq)}</td>
                    <td class="num">{i.view.to_string()}</td>
                    {cells}
                    <td class="num">{latency}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="instances">
            <thead>
                <tr>
                    <th>"epoch/seq"</th>
                    <th>"view"</th>
                    {head}
                    <th>"decided in"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="legend">
            <span class="phase pp">"PP"</span>" pre-prepare "
            <span class="phase p">"P"</span>" prepare "
            <span class="phase c">"C"</span>" commit "
            <span class="phase d">"D"</span>" decided"
        </p>
    }
    .into_any()
}

fn view_changes_list(m: &Model) -> AnyView {
    if m.view_changes.is_empty() {
        return empty("none");
    }
    m.view_changes
        .iter()
        .rev()
        .take(10)
        .map(|r| {
            let done = r.completed.map_or("in progress".to_owned(), |(p, _)| {
                format!("new primary #{p}")
            });
            view! {
                <div class="row vc">
                    <span class="tag">{r.node.clone()}</span>
                    {format!(" epoch {} view {} → {}: ", r.epoch, r.from_view, r.to_view)}
                    <span class="dim">{r.reason.clone()}</span>
                    {format!(" · {done}")}
                </div>
            }
        })
        .collect_view()
        .into_any()
}

/// Committees by epoch and the rotation steps between them.
pub(crate) fn committee(ctx: Ctx) -> impl IntoView {
    let epochs = move || {
        ctx.with(|m| {
            if m.committees.is_empty() {
                return empty("no committee reported yet");
            }
            m.committees
                .values()
                .rev()
                .map(|c| {
                    let members = c
                        .members
                        .iter()
                        .enumerate()
                        .map(|(i, mem)| {
                            view! {
                                <span class="member" title=format!("0x{:x}", mem.key)>
                                    {format!("#{i} {} ·w{}", key_label(m, &mem.key), mem.weight)}
                                </span>
                            }
                        })
                        .collect_view();
                    let q = tc_types::committee::quorum(c.members.len());
                    view! {
                        <div class="epoch">
                            <div class="epoch-head">
                                <span class="tag">{format!("epoch {}", c.epoch)}</span>
                                {format!(
                                    " from fast #{} · n = {} · quorum {}",
                                    c.start_height,
                                    c.members.len(),
                                    q,
                                )}
                            </div>
                            <div class="members">{members}</div>
                            {c.conflict.then(|| view! {
                                <p class="note">"nodes report different committees for this epoch"</p>
                            })}
                        </div>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    let rotations = move || {
        ctx.with(|m| {
            if m.rotations.is_empty() {
                return empty("no rotation yet");
            }
            m.rotations
                .iter()
                .rev()
                .take(12)
                .map(|r| {
                    let what = match r.step {
                        RotationStep::Scheduled { at_height } => {
                            format!("scheduled at fast #{at_height}")
                        }
                        RotationStep::Started { last_height } => {
                            format!("outgoing committee's last block #{last_height}")
                        }
                        RotationStep::Done { first_height } => {
                            format!("took over at fast #{first_height}")
                        }
                    };
                    view! {
                        <div class="row">
                            <span class="tag">{format!("→ epoch {}", r.epoch)}</span>
                            {format!(" {what} · {} node(s)", r.seen_by.len())}
                        </div>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <section id="committee" class="panel">
            <h2>"Committee timeline"</h2>
            {epochs}
            <h3>"Rotations"</h3>
            {rotations}
        </section>
    }
}

/// The launcher's fault-injection log (shown once there is one).
pub(crate) fn actions(ctx: Ctx) -> impl IntoView {
    move || {
        ctx.with(|m| {
            if m.actions.is_empty() {
                return ().into_any();
            }
            let rows = m
                .actions
                .iter()
                .rev()
                .map(|a| {
                    let (class, result) = match &a.result {
                        ActionResult::Pending => ("badge info", "pending".to_owned()),
                        ActionResult::Ok => ("badge ok", "ok".to_owned()),
                        ActionResult::Failed { error } => ("badge bad", error.clone()),
                    };
                    view! {
                        <div class="row">
                            <span class="tag">{format!("#{}", a.id)}</span>
                            {format!(" {} [{}] ", a.what, a.nodes.join(", "))}
                            <span class=class>{result}</span>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <section id="actions" class="panel">
                    <h2>"Fault injection"</h2>
                    {rows}
                </section>
            }
            .into_any()
        })
    }
}
