//! The assertions, evaluated over what the runner recorded ([`Record`]), and the report: a
//! table of pass/fail, measured value, expectation, and what was seen for each failure. Pure:
//! no I/O, no clock.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::file::{Asserts, CaughtUp, NodeRef};
use super::observe::CommitteeInfo;

/// One observation of every node (by the runner's poller).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    /// Seconds since the first commit.
    pub t: f64,
    /// (node, head height, head epoch) of every node that answered.
    pub heads: Vec<(String, u64, u64)>,
    /// More than f members of the deciding committee were down, paused, byzantine or cut off
    /// by the scenario at this moment.
    pub quorum_down: bool,
}

impl Sample {
    fn top(&self) -> Option<u64> {
        self.heads.iter().map(|h| h.1).max()
    }
    fn head_of(&self, node: &str) -> Option<u64> {
        self.heads.iter().find(|h| h.0 == node).map(|h| h.1)
    }
}

/// What one timeline step did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepOutcome {
    /// Its index in the file.
    pub index: usize,
    /// Its label, if any.
    pub label: Option<String>,
    /// `kill`, `partition`, …
    pub action: String,
    /// The trigger as written (`at 5s`, `at_epoch 2`).
    pub trigger: String,
    /// Seconds since the first commit when it acted (`None`: it never triggered).
    pub t: Option<f64>,
    /// The nodes it resolved to.
    pub nodes: Vec<String>,
    /// Whether every operation succeeded.
    pub ok: bool,
    /// What happened (or why not).
    pub detail: String,
}

impl StepOutcome {
    /// `step[1] "back" start at 12s → node-0: node-0 running (pid 7)`
    pub fn line(&self) -> String {
        format!(
            "step[{}]{} {} {} → {}: {}",
            self.index,
            self.label
                .as_ref()
                .map_or(String::new(), |l| format!(" \"{l}\"")),
            self.action,
            self.trigger,
            if self.nodes.is_empty() {
                "-".into()
            } else {
                self.nodes.join(" ")
            },
            if self.ok {
                self.detail.clone()
            } else {
                format!("FAILED: {}", self.detail)
            }
        )
    }
}

/// A periodic agreement probe: the hash each node has at one height.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// When.
    pub t: f64,
    /// Height compared.
    pub height: u64,
    /// (node, hash).
    pub hashes: Vec<(String, String)>,
}

/// What the load did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadOutcome {
    /// Transactions submitted.
    pub sent: u64,
    /// Hashes of those accepted by a node.
    pub accepted: Vec<String>,
    /// Accepted ones without a receipt at the end.
    pub missing: Vec<String>,
    /// A problem of the load itself.
    pub error: Option<String>,
}

/// A node's block hashes by height, or why it has none.
pub type NodeHashes = (String, Result<Vec<(u64, String)>, String>);
/// A node's committees, or why it has none.
pub type NodeCommittees = (String, Result<Vec<CommitteeInfo>, String>);

/// Everything the assertions look at.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// Polls of every node, in time order.
    pub samples: Vec<Sample>,
    /// The timeline.
    pub steps: Vec<StepOutcome>,
    /// Periodic agreement probes.
    pub probes: Vec<Probe>,
    /// At the end, for every running node: its (height, hash) list, or why none.
    pub end_hashes: Vec<NodeHashes>,
    /// At the end, for every running node: its stored committees, or why none.
    pub end_committees: Vec<NodeCommittees>,
    /// The load, if the scenario had one.
    pub load: Option<LoadOutcome>,
    /// For `caught_up`: (assertion index, node, from when (s)).
    pub caught_up_from: Vec<(usize, String, f64)>,
}

/// One line of the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Assertion name.
    pub name: String,
    /// Held.
    pub pass: bool,
    /// What was measured.
    pub measured: String,
    /// What was expected.
    pub expected: String,
    /// For a failure: what was seen.
    pub seen: Option<String>,
}

fn row(name: &str, pass: bool, measured: String, expected: String, seen: Option<String>) -> Row {
    Row {
        name: name.into(),
        pass,
        measured,
        expected,
        seen: if pass { None } else { seen },
    }
}

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>, max: usize) -> String {
    let all: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    let mut s = all.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if all.len() > max {
        let _ = write!(s, ", … ({} in all)", all.len());
    }
    s
}

/// The timeline row: every step triggered and succeeded.
pub fn timeline(r: &Record) -> Row {
    let ran = r.steps.iter().filter(|s| s.t.is_some()).count();
    let failed = r.steps.iter().filter(|s| s.t.is_some() && !s.ok).count();
    let bad: Vec<String> = r
        .steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| {
            format!(
                "step[{}] {} ({}): {}",
                s.index, s.action, s.trigger, s.detail
            )
        })
        .collect();
    row(
        "timeline",
        bad.is_empty(),
        format!(
            "{ran} of {} steps triggered{}",
            r.steps.len(),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        ),
        "every step triggers in time and succeeds".into(),
        Some(bad.join("; ")),
    )
}

/// Same hash at every height two or more live nodes have (periodic probes and at the end).
pub fn agreement(r: &Record) -> Row {
    let mut bad = Vec::new();
    for p in &r.probes {
        let mut distinct: Vec<&str> = p.hashes.iter().map(|h| h.1.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            bad.push(format!(
                "at {:.1}s height {}: {}",
                p.t,
                p.height,
                list(p.hashes.iter().map(|(n, h)| format!("{n} {h}")), 8)
            ));
        }
    }
    let mut at: BTreeMap<u64, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
    let mut nodes = 0;
    for (node, hashes) in &r.end_hashes {
        match hashes {
            Ok(hs) => {
                nodes += 1;
                for (n, h) in hs {
                    at.entry(*n)
                        .or_default()
                        .entry(h.as_str())
                        .or_default()
                        .push(node);
                }
            }
            Err(e) => bad.push(format!("{node} did not answer at the end: {e}")),
        }
    }
    let common: Vec<_> = at
        .iter()
        .filter(|(_, by)| by.values().map(Vec::len).sum::<usize>() >= 2)
        .collect();
    for (n, by) in common.iter().filter(|(_, by)| by.len() > 1).take(3) {
        bad.push(format!(
            "height {n}: {}",
            list(
                by.iter().map(|(h, ns)| format!("{h} on {}", ns.join(" "))),
                4
            )
        ));
    }
    let forks = common.iter().filter(|(_, by)| by.len() > 1).count();
    row(
        "agreement",
        bad.is_empty() && nodes > 0,
        format!(
            "{} common heights on {nodes} nodes, {forks} with different hashes; {} probes",
            common.len(),
            r.probes.len()
        ),
        "one hash per height".into(),
        Some(if nodes == 0 {
            "no running node answered at the end".into()
        } else {
            bad.join("; ")
        }),
    )
}

/// Longest time without a new highest block, not counting quorum-down time and its grace.
pub fn liveness(r: &Record, max_gap_s: f64, grace_s: f64) -> Row {
    let mut best = 0u64;
    let mut stall = 0.0f64;
    let mut stall_from = 0.0;
    let mut worst = (0.0f64, 0.0f64, 0u64);
    let mut last_down: Option<f64> = None;
    let mut prev_t: Option<f64> = None;
    let mut excused_s = 0.0;
    for s in &r.samples {
        if s.quorum_down {
            last_down = Some(s.t);
        }
        let excused = s.quorum_down || last_down.is_some_and(|d| s.t - d <= grace_s);
        let dt = prev_t.map_or(0.0, |p| s.t - p);
        prev_t = Some(s.t);
        match s.top() {
            Some(top) if top > best => {
                best = top;
                stall = 0.0;
                stall_from = s.t;
            }
            _ if excused => excused_s += dt,
            _ => {
                stall += dt;
                if stall > worst.0 {
                    worst = (stall, stall_from, best);
                }
            }
        }
    }
    let (gap, from, at) = worst;
    row(
        "liveness",
        gap <= max_gap_s && best > 0,
        format!(
            "longest stall {gap:.1}s{}; {excused_s:.1}s excused (quorum down + {grace_s}s grace)",
            if gap > 0.0 {
                format!(" (from {from:.1}s at #{at})")
            } else {
                String::new()
            }
        ),
        format!("no stall over {max_gap_s}s"),
        Some(if best == 0 {
            "no node answered".into()
        } else {
            format!("no block above #{at} from {from:.1}s to {:.1}s", from + gap)
        }),
    )
}

/// Epoch changes of the highest head over the run.
pub fn rotations(r: &Record, min: u64) -> Row {
    let epoch = |s: &Sample| s.heads.iter().map(|h| h.2).max();
    let first = r.samples.iter().find_map(epoch);
    let last = r.samples.iter().filter_map(epoch).max();
    let n = match (first, last) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    row(
        &format!("rotations >= {min}"),
        n >= min,
        format!(
            "{n} (epoch {} → {})",
            first.map_or("?".into(), |e| e.to_string()),
            last.map_or("?".into(), |e| e.to_string())
        ),
        format!("at least {min}"),
        Some(match (first, last) {
            (Some(a), Some(b)) if a == b => format!("the head block's epoch stayed at {a}"),
            (Some(a), Some(b)) => format!("the head block's epoch went from {a} to {b}"),
            _ => "no node answered with its head block".into(),
        }),
    )
}

/// Every accepted transaction has a receipt at the end.
pub fn no_tx_lost(r: &Record) -> Row {
    let Some(l) = &r.load else {
        return row(
            "no_tx_lost",
            false,
            "no load ran".into(),
            "every accepted tx committed".into(),
            Some("the scenario has no [load]".into()),
        );
    };
    let accepted = l.accepted.len();
    let pass = l.missing.is_empty() && accepted > 0 && l.error.is_none();
    let seen = match (&l.error, accepted) {
        (Some(e), _) => format!("the load failed: {e}"),
        (None, 0) => format!("none of {} sent transactions was accepted", l.sent),
        _ => format!("no receipt for {}", list(&l.missing, 5)),
    };
    row(
        "no_tx_lost",
        pass,
        format!(
            "{} of {accepted} accepted committed ({} sent)",
            accepted - l.missing.len().min(accepted),
            l.sent
        ),
        "every accepted tx committed".into(),
        Some(seen),
    )
}

/// A node reaches the others' head within `within_s` of `from`.
pub fn caught_up(r: &Record, node: &str, from: f64, a: &CaughtUp) -> Row {
    let name = match &a.step {
        Some(l) => format!("caught_up {node} ({l})"),
        None => format!("caught_up {node}"),
    };
    let hit = r.samples.iter().filter(|s| s.t >= from).find(|s| {
        let others = s.heads.iter().filter(|h| h.0 != node).map(|h| h.1).max();
        match (s.head_of(node), others) {
            (Some(mine), Some(top)) => mine + a.lag >= top,
            _ => false,
        }
    });
    let expected = format!(
        "within {}s of {from:.1}s, ≤ {} blocks behind",
        a.within_s, a.lag
    );
    // How far behind it was when the clock started (evidence that there was something to
    // catch up).
    let behind = r.samples.iter().rfind(|s| s.t <= from).and_then(|s| {
        let others = s.heads.iter().filter(|h| h.0 != node).map(|h| h.1).max()?;
        Some(others.saturating_sub(s.head_of(node).unwrap_or(0)))
    });
    let behind = behind.map_or(String::new(), |b| format!(" (was {b} blocks behind)"));
    match hit {
        Some(s) => {
            let took = s.t - from;
            row(
                &name,
                took <= a.within_s,
                format!("after {took:.1}s{behind}"),
                expected,
                Some(format!("it reached the others at {:.1}s", s.t)),
            )
        }
        None => {
            let last = r.samples.last();
            let mine = last.and_then(|s| s.head_of(node));
            let top = last.and_then(Sample::top);
            row(
                &name,
                false,
                "never".into(),
                expected,
                Some(format!(
                    "at the end {node} was at {} and the highest node at {}",
                    mine.map_or("no answer".into(), |m| format!("#{m}")),
                    top.map_or("?".into(), |t| format!("#{t}"))
                )),
            )
        }
    }
}

/// Every live node reports the same committee for each epoch.
pub fn committees_agree(r: &Record) -> Row {
    let mut by_epoch: BTreeMap<u64, BTreeMap<String, Vec<&str>>> = BTreeMap::new();
    let mut bad = Vec::new();
    let mut nodes = 0;
    for (node, cs) in &r.end_committees {
        match cs {
            Ok(cs) => {
                nodes += 1;
                for c in cs {
                    let id = format!("{} [{}]", c.hash, short_keys(&c.members));
                    by_epoch
                        .entry(c.epoch)
                        .or_default()
                        .entry(id)
                        .or_default()
                        .push(node);
                }
            }
            Err(e) => bad.push(format!("{node} did not answer: {e}")),
        }
    }
    for (e, by) in by_epoch.iter().filter(|(_, by)| by.len() > 1).take(3) {
        bad.push(format!(
            "epoch {e}: {}",
            list(
                by.iter().map(|(c, ns)| format!("{c} on {}", ns.join(" "))),
                3
            )
        ));
    }
    row(
        "committees_agree",
        bad.is_empty() && nodes > 0,
        format!("{} epochs on {nodes} nodes", by_epoch.len()),
        "one committee per epoch".into(),
        Some(if nodes == 0 {
            "no running node answered".into()
        } else {
            bad.join("; ")
        }),
    )
}

fn short_keys(keys: &[String]) -> String {
    keys.iter()
        .map(|k| k.get(..8).unwrap_or(k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every row the scenario asks for, the timeline first.
pub fn evaluate(a: &Asserts, r: &Record) -> Vec<Row> {
    let mut rows = vec![timeline(r)];
    if a.agreement.is_some() {
        rows.push(agreement(r));
    }
    if let Some(l) = &a.liveness {
        rows.push(liveness(r, l.max_gap_s, l.grace_s));
    }
    if let Some(k) = &a.rotations {
        rows.push(rotations(r, k.min));
    }
    if a.no_tx_lost.is_some() {
        rows.push(no_tx_lost(r));
    }
    for (i, c) in a.caught_up.iter().enumerate() {
        match r.caught_up_from.iter().find(|(k, _, _)| *k == i) {
            Some((_, node, from)) => rows.push(caught_up(r, node, *from, c)),
            None => rows.push(row(
                &format!(
                    "caught_up {}",
                    c.node
                        .as_ref()
                        .map(NodeRef::to_string)
                        .or_else(|| c.step.clone())
                        .unwrap_or_default()
                ),
                false,
                "not measured".into(),
                format!("within {}s", c.within_s),
                Some("its step never ran, so there is no node and no start time".into()),
            )),
        }
    }
    if a.committees_agree.is_some() {
        rows.push(committees_agree(r));
    }
    rows
}

/// The readable report.
pub fn render(name: &str, seed: u64, r: &Record, rows: &[Row]) -> String {
    let failed = rows.iter().filter(|r| !r.pass).count();
    let mut s = String::new();
    let verdict = if failed == 0 {
        format!("PASS — {} checks held", rows.len())
    } else {
        format!("FAIL — {failed} of {} checks failed", rows.len())
    };
    let _ = writeln!(s, "\nscenario {name} (seed {seed}): {verdict}\n");
    if !r.steps.is_empty() {
        let _ = writeln!(s, "timeline:");
        for st in &r.steps {
            let _ = writeln!(
                s,
                "  {:>7}  {}",
                st.t.map_or("-".into(), |t| format!("{t:.1}s")),
                st.line()
            );
        }
        s.push('\n');
    }
    let w0 = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(9);
    let w2 = rows
        .iter()
        .map(|r| r.measured.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let _ = writeln!(
        s,
        "  {:<w0$}  result  {:<w2$}  expected",
        "assertion", "measured"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<w0$}  {:<6}  {:<w2$}  {}",
            r.name,
            if r.pass { "pass" } else { "FAIL" },
            r.measured,
            r.expected
        );
    }
    let failures: Vec<&Row> = rows.iter().filter(|r| !r.pass).collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\nfailures:");
        for r in failures {
            let _ = writeln!(
                s,
                "  {}: {}",
                r.name,
                r.seen.as_deref().unwrap_or("(no detail)")
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, heads: &[(&str, u64)], down: bool) -> Sample {
        Sample {
            t,
            heads: heads
                .iter()
                .map(|(n, h)| ((*n).into(), *h, h / 10))
                .collect(),
            quorum_down: down,
        }
    }

    #[test]
    fn liveness_counts_stalls_but_not_quorum_down_time() {
        let mut r = Record::default();
        for i in 0..10 {
            r.samples.push(sample(
                f64::from(i),
                &[("a", u64::try_from(i).unwrap_or(0) + 1)],
                false,
            ));
        }
        // Stall 4 s with the quorum up.
        for i in 10..15 {
            r.samples.push(sample(f64::from(i), &[("a", 10)], false));
        }
        let row = liveness(&r, 3.0, 2.0);
        assert!(!row.pass, "{row:?}");
        assert!(row.measured.starts_with("longest stall 5.0s"), "{row:?}");
        assert!(
            row.seen.as_deref().unwrap_or_default().contains("#10"),
            "{row:?}"
        );
        assert!(liveness(&r, 6.0, 2.0).pass);
        // The same stall while the quorum is down (and its grace) is excused.
        let mut r2 = Record::default();
        r2.samples.push(sample(0.0, &[("a", 1)], false));
        for i in 1..20 {
            r2.samples.push(sample(f64::from(i), &[("a", 1)], i < 15));
        }
        r2.samples.push(sample(20.0, &[("a", 2)], false));
        let row = liveness(&r2, 3.0, 4.0);
        assert!(row.pass, "{row:?}");
        let row = liveness(&r2, 3.0, 1.0);
        assert!(!row.pass, "grace too short: {row:?}");
    }

    #[test]
    fn agreement_finds_forks_and_silent_nodes() {
        let mut r = Record::default();
        let hs = |v: &[(u64, &str)]| Ok(v.iter().map(|(n, h)| (*n, (*h).to_string())).collect());
        r.end_hashes = vec![
            ("a".into(), hs(&[(1, "x"), (2, "y"), (3, "z")])),
            ("b".into(), hs(&[(1, "x"), (2, "y")])),
        ];
        let ok = agreement(&r);
        assert!(ok.pass, "{ok:?}");
        assert!(
            ok.measured.starts_with("2 common heights on 2 nodes, 0"),
            "{ok:?}"
        );
        r.end_hashes.push(("c".into(), hs(&[(1, "x"), (2, "q")])));
        let bad = agreement(&r);
        assert!(!bad.pass);
        let seen = bad.seen.unwrap_or_default();
        assert!(seen.contains("height 2: q on c, y on a b"), "{seen}");
        r.end_hashes = vec![("a".into(), Err("refused".into()))];
        assert!(!agreement(&r).pass);
    }

    #[test]
    fn rotations_caught_up_and_report() {
        let r = Record {
            samples: vec![
                sample(0.0, &[("a", 5), ("b", 5)], false),
                sample(5.0, &[("a", 25), ("b", 1)], false),
                sample(9.0, &[("a", 31), ("b", 30)], false),
            ],
            ..Record::default()
        };
        let rot = rotations(&r, 2);
        assert!(
            rot.pass && rot.measured.starts_with("3 (epoch 0 → 3)"),
            "{rot:?}"
        );
        assert!(!rotations(&r, 4).pass);
        let c = CaughtUp {
            node: None,
            step: Some("x".into()),
            within_s: 5.0,
            lag: 2,
        };
        let row = caught_up(&r, "b", 3.0, &c);
        assert!(
            !row.pass && row.measured == "after 6.0s (was 0 blocks behind)",
            "{row:?}"
        );
        let row = caught_up(&r, "b", 3.0, &CaughtUp { within_s: 8.0, ..c });
        assert!(row.pass, "{row:?}");
        let rows = vec![timeline(&r), rot, row];
        let text = render("demo", 7, &r, &rows);
        assert!(
            text.contains("scenario demo (seed 7): PASS — 3 checks held"),
            "{text}"
        );
        let rows = vec![rotations(&r, 9)];
        let text = render("demo", 7, &r, &rows);
        assert!(text.contains("FAIL — 1 of 1 checks failed"), "{text}");
        assert!(text.contains("rotations >= 9  FAIL"), "{text}");
        assert!(
            text.contains("failures:\n  rotations >= 9: the head block's epoch went from 0 to 3"),
            "{text}"
        );
    }
}
