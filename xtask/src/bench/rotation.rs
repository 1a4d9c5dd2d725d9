//! Section (d): the fast-block gap across committee rotations. A devnet with short epochs runs
//! for a while; a 1 ms poller of node-0's `eth_blockNumber` records when each height first
//! appears there (block headers carry ms timestamps, but JSON-RPC and GraphQL expose only
//! seconds, so the arrival time at node-0 is what is measured). Rotation heights are the
//! `startHeight`s of GraphQL `epochs`. The gap at a rotation = the largest arrival interval
//! among the first three blocks of the new epoch (the handover's first proposals).
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::procs;
use super::report::Row;
use super::{Ctx, start_devnet};
use crate::{Result, say};

const SPEC: &str = "nodes = 5\ncommittee = 4\n\n[chain]\nepoch_length = 6\nlambda = 1\nswitch_margin = 6\nmin_epoch_blocks = 4\nsnail_interval_ms = 700\nhashrate_cap = 20000\n\n[consensus]\nblock_interval_ms = 2\nempty_block_interval_ms = 20\n\n[launcher]\nnode_log_level = \"warn\"\n";

/// First-seen times (ms since the start) per height → (interval per height, rotation gaps).
/// `arrivals[h]` = when height `h` was first seen; heights seen in one poll share the time.
pub(crate) fn gaps(arrivals: &BTreeMap<u64, f64>, starts: &[u64]) -> (Vec<f64>, Vec<(u64, f64)>) {
    let intervals: BTreeMap<u64, f64> = arrivals
        .iter()
        .zip(arrivals.iter().skip(1))
        .filter(|((h0, _), (h1, _))| **h1 == **h0 + 1)
        .map(|((_, t0), (h1, t1))| (*h1, t1 - t0))
        .collect();
    let rotations = starts
        .iter()
        .filter_map(|&s| {
            let window: Vec<f64> = (s..s + 3)
                .filter_map(|h| intervals.get(&h).copied())
                .collect();
            (window.len() == 3).then(|| (s, window.iter().copied().fold(0.0, f64::max)))
        })
        .collect();
    (intervals.into_values().collect(), rotations)
}

fn long(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| procs::quantity(v))
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(super) fn run(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let secs = if ctx.quick { 20 } else { 60 };
    ctx.settings
        .insert("rotation".into(), json!({"spec": SPEC, "secs": secs}));
    let mut d = start_devnet(ctx, "d", 5, SPEC)?;
    let node0 = d.node_urls[0].clone();
    let agent = procs::agent();
    let t0 = Instant::now();
    let mut arrivals = BTreeMap::new();
    let mut last = 0u64;
    say(&format!("rotation: polling {node0} for {secs} s"));
    while t0.elapsed() < Duration::from_secs(secs) {
        if let Some(h) = procs::block_number(&agent, &node0) {
            let now = t0.elapsed().as_secs_f64() * 1e3;
            for height in (last + 1)..=h {
                arrivals.insert(height, now);
            }
            last = last.max(h);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    d.proc.check_alive()?;
    let answer: Value = agent
        .post(&format!("{}/graphql", d.url))
        .send_json(json!({"query": "{ epochs { epoch startHeight } }"}))
        .map_err(|e| format!("GraphQL epochs: {e}"))?
        .body_mut()
        .read_json()
        .map_err(|e| format!("GraphQL epochs: {e}"))?;
    let epochs = answer["data"]["epochs"]
        .as_array()
        .ok_or_else(|| format!("GraphQL epochs answered {answer}"))?;
    let starts: Vec<u64> = epochs
        .iter()
        .filter(|e| long(&e["epoch"]).is_some_and(|n| n > 0))
        .filter_map(|e| long(&e["startHeight"]))
        .collect();
    drop(d);
    let (intervals, rotations) = gaps(&arrivals, &starts);
    let med = median(intervals.clone());
    let max_gap = rotations.iter().map(|r| r.1).fold(f64::NAN, f64::max);
    let settings = format!(
        "5 nodes, committee 4, epoch 6 snail blocks × 700 ms, block interval 2 ms / empty 20 ms, no load, {secs} s"
    );
    let worst = rotations
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(String::new(), |(h, g)| {
            format!("worst at height {h}: {g:.0} ms")
        });
    Ok(vec![
        Row::new("d", "rotation_block_interval_median_ms", med, "ms").note(format!(
            "{} blocks seen at node-0 (1 ms polls); {settings}",
            intervals.len() + 1
        )),
        Row::new(
            "d",
            "rotation_block_interval_p99_ms",
            {
                let mut v = intervals;
                v.sort_by(f64::total_cmp);
                v.get(v.len().saturating_sub(1) * 99 / 100)
                    .copied()
                    .unwrap_or(f64::NAN)
            },
            "ms",
        ),
        Row::new("d", "rotations_seen", rotations.len() as f64, "rotations")
            .note(format!("epoch start heights {:?}", starts)),
        Row::new("d", "rotation_gap_max_ms", max_gap, "ms").note(format!(
            "largest interval among the first 3 blocks of each new epoch; {worst}"
        )),
        Row::new(
            "d",
            "rotation_gap_median_ms",
            median(rotations.iter().map(|r| r.1).collect()),
            "ms",
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_gaps_from_arrivals() {
        // Heights 1..=10 every 20 ms, except a 100 ms gap before 6 (a rotation at 5).
        let mut a = BTreeMap::new();
        let mut t = 0.0;
        for h in 1..=10u64 {
            t += if h == 6 { 100.0 } else { 20.0 };
            a.insert(h, t);
        }
        let (intervals, rot) = gaps(&a, &[5, 9, 42]);
        assert_eq!(intervals.len(), 9);
        assert_eq!(median(intervals), 20.0);
        // 9 has only intervals 9 and 10 seen: no full window; 42 unseen.
        assert_eq!(rot, vec![(5, 100.0)]);
    }
}
