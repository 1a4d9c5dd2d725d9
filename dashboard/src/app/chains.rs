//! Panels: Chains (fast + snail blocks, inline SVG charts), Mempool, Storage.
use leptos::prelude::*;

use super::Ctx;
use super::panels::key_label;
use crate::chart;
use crate::fmt;
use crate::model::Model;

const CHART_W: f64 = 320.0;
const CHART_H: f64 = 56.0;

fn bar_chart(title: &'static str, values: Vec<u64>, unit: &'static str) -> impl IntoView {
    let (bars, max) = chart::bars(&values, CHART_W, CHART_H);
    let rects = bars
        .into_iter()
        .map(|b| {
            view! {
                <rect
                    x=format!("{:.1}", b.x)
                    y=format!("{:.1}", b.y)
                    width=format!("{:.1}", b.w)
                    height=format!("{:.1}", b.h)
                    rx="1"
                />
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <figcaption>
                {title}
                <span class="dim">{format!(" · last {} · max {max}{unit}", values.len())}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") preserveAspectRatio="none">
                {rects}
            </svg>
        </figure>
    }
}

/// Fast and snail blocks with charts.
pub(crate) fn chains(ctx: Ctx) -> impl IntoView {
    let charts = move || {
        ctx.with(|m| {
            let intervals: Vec<u64> = m
                .fast_intervals()
                .into_iter()
                .rev()
                .take(60)
                .rev()
                .map(|(_, ms)| ms)
                .collect();
            let txs: Vec<u64> = m
                .fast_blocks
                .iter()
                .rev()
                .take(60)
                .rev()
                .map(|b| u64::from(b.tx_count))
                .collect();
            view! {
                <div class="charts">
                    {bar_chart("fast block interval", intervals, " ms")}
                    {bar_chart("transactions per block", txs, "")}
                </div>
            }
        })
    };
    view! {
        <section id="chains" class="panel wide">
            <h2>"Chains"</h2>
            {charts}
            <div class="two">
                <div>
                    <h3>"Fast blocks"</h3>
                    {move || ctx.with(fast_table)}
                </div>
                <div>
                    <h3>"Snail blocks"</h3>
                    {move || ctx.with(snail_table)}
                </div>
            </div>
        </section>
    }
}

fn fast_table(m: &Model) -> AnyView {
    if m.fast_blocks.is_empty() {
        return view! { <p class="empty">"no fast block committed yet"</p> }.into_any();
    }
    let total = m.nodes.len();
    let rows = m
        .fast_blocks
        .iter()
        .rev()
        .take(14)
        .map(|b| {
            let seen = format!("{}/{total}", b.seen_by.len());
            let class = if b.conflict { "conflict" } else { "" };
            view! {
                <tr class=class>
                    <td class="num fast-number">{b.number.to_string()}</td>
                    <td class="hash">{fmt::short_hash(&b.hash)}</td>
                    <td class="num">{format!("{}/{}", b.epoch, b.view)}</td>
                    <td>{key_label(m, &b.proposer)}</td>
                    <td class="num">{b.tx_count.to_string()}</td>
                    <td class="num">{fmt::count(b.gas_used)}</td>
                    <td class="num">{b.signers.len().to_string()}</td>
                    <td class="num">{seen}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table id="fast-blocks">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"hash"</th>
                    <th>"epoch/view"</th>
                    <th>"proposer"</th>
                    <th>"txs"</th>
                    <th>"gas"</th>
                    <th>"signers"</th>
                    <th>"nodes"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {m.fast_blocks.iter().any(|b| b.conflict).then(|| view! {
            <p class="note">
                "highlighted: nodes committed different blocks at this height (separate chains, or a safety violation)"
            </p>
        })}
    }
    .into_any()
}

fn snail_table(m: &Model) -> AnyView {
    if m.snail_blocks.is_empty() {
        return view! { <p class="empty">"no snail block mined yet"</p> }.into_any();
    }
    let rows = m
        .snail_blocks
        .iter()
        .rev()
        .take(14)
        .map(|b| {
            let miner = match (&b.mined_by, &b.miner_key) {
                (Some(n), _) => n.clone(),
                (None, Some(k)) => key_label(m, k),
                (None, None) => "—".into(),
            };
            let fruits = match b.fruit_range {
                Some((lo, hi)) => format!("{} (#{lo}–#{hi})", b.fruits),
                None => b.fruits.to_string(),
            };
            view! {
                <tr>
                    <td class="num">{b.number.to_string()}</td>
                    <td class="hash">{fmt::short_hash(&b.hash)}</td>
                    <td>{miner}</td>
                    <td class="num">{fmt::count(b.difficulty)}</td>
                    <td class="num">{fruits}</td>
                </tr>
            }
        })
        .collect_view();
    let reorgs = (!m.reorgs.is_empty()).then(|| {
        let r = m
            .reorgs
            .back()
            .map(|r| (r.node.clone(), r.depth, r.time_ms));
        view! {
            <p class="dim">
                {format!("{} reorg(s); latest: ", m.reorgs.len())}
                {r.map(|(n, d, _)| format!("{n} rolled back {d} block(s)"))}
            </p>
        }
    });
    view! {
        <table id="snail-blocks">
            <thead>
                <tr>
                    <th>"#"</th>
                    <th>"hash"</th>
                    <th>"miner"</th>
                    <th>"difficulty"</th>
                    <th>"fruits"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {reorgs}
    }
    .into_any()
}

/// Per-node admission counters and the latest decisions.
pub(crate) fn mempool(ctx: Ctx) -> impl IntoView {
    let body = move || {
        let now = ctx.now();
        ctx.with(|m| {
            let per_node = m
                .nodes
                .iter()
                .map(|n| {
                    view! {
                        <tr>
                            <td>{n.view.name.clone()}</td>
                            <td class="num">{fmt::count(n.tx_admitted)}</td>
                            <td class="num">{fmt::count(n.tx_rejected)}</td>
                            <td class="num">{fmt::count(n.tx_included)}</td>
                            <td class="num">{fmt::count(n.pending_estimate())}</td>
                        </tr>
                    }
                })
                .collect_view();
            let recent = m
                .txs
                .iter()
                .rev()
                .take(10)
                .map(|t| {
                    let hash = t.hash.as_ref().map_or("—".into(), fmt::short_hash);
                    let (class, what) = match &t.rejected {
                        None => (
                            "badge ok",
                            format!("admitted · nonce {}", t.nonce.unwrap_or_default()),
                        ),
                        Some(r) => ("badge bad", format!("rejected · {r}")),
                    };
                    view! {
                        <div class="row">
                            <span class="tag">{t.node.clone()}</span>
                            " "
                            <span class="hash">{hash}</span>
                            " "
                            <span class=class>{what}</span>
                            <span class="dim">{format!(" {}", fmt::ago(Some(t.time_ms), now))}</span>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <table>
                    <thead>
                        <tr>
                            <th>"node"</th>
                            <th>"admitted"</th>
                            <th>"rejected"</th>
                            <th>"in blocks"</th>
                            <th>"pending ≈"</th>
                        </tr>
                    </thead>
                    <tbody>{per_node}</tbody>
                </table>
                <h3>"Latest decisions"</h3>
                {if m.txs.is_empty() {
                    view! { <p class="empty">"no transaction yet"</p> }.into_any()
                } else {
                    recent.into_any()
                }}
            }
        })
    };
    view! {
        <section id="mempool" class="panel">
            <h2>"Mempool"</h2>
            {body}
        </section>
    }
}

/// Latest per-table RocksDB statistics of each node.
pub(crate) fn storage(ctx: Ctx) -> impl IntoView {
    let body = move || {
        let now = ctx.now();
        ctx.with(|m| {
            let any = m.nodes.iter().any(|n| n.storage.is_some());
            if !any {
                return view! { <p class="empty">"no storage statistics yet (nodes report every few seconds)"</p> }
                    .into_any();
            }
            m.nodes
                .iter()
                .filter_map(|n| n.storage.as_ref().map(|s| (n.view.name.clone(), s)))
                .map(|(name, (at, tables))| {
                    let total_sst: u64 = tables.iter().map(|t| t.live_sst_bytes).sum();
                    let total_mem: u64 = tables.iter().map(|t| t.memtable_bytes).sum();
                    let rows = tables
                        .iter()
                        .map(|t| {
                            view! {
                                <tr>
                                    <td>{t.name.clone()}</td>
                                    <td class="num">{fmt::count(t.estimated_keys)}</td>
                                    <td class="num">{fmt::bytes(t.live_sst_bytes)}</td>
                                    <td class="num">{fmt::bytes(t.memtable_bytes)}</td>
                                    <td class="num">{fmt::count(t.reads)}</td>
                                    <td class="num">{fmt::count(t.writes)}</td>
                                    <td class="num">{fmt::bytes(t.bytes_written)}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <details class="storage">
                            <summary>
                                <span class="tag">{name}</span>
                                {format!(
                                    " SST {} · memtables {} · {}",
                                    fmt::bytes(total_sst),
                                    fmt::bytes(total_mem),
                                    fmt::ago(Some(*at), now),
                                )}
                            </summary>
                            <table>
                                <thead>
                                    <tr>
                                        <th>"table"</th>
                                        <th>"keys ≈"</th>
                                        <th>"SST"</th>
                                        <th>"memtable"</th>
                                        <th>"reads"</th>
                                        <th>"writes"</th>
                                        <th>"written"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </details>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <section id="storage" class="panel">
            <h2>"Storage"</h2>
            {body}
        </section>
    }
}
