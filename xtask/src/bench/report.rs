//! The bench command's one table and `summary.json`: rows, issue #9's targets, derived
//! comparisons. Pure (no I/O), so it is unit-tested.
use serde_json::{Value, json};

/// How a value is compared with its target.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target {
    /// The value must be at most this.
    AtMost(f64),
    /// The value must be at least this.
    AtLeast(f64),
}

impl Target {
    fn text(self) -> String {
        match self {
            Target::AtMost(v) => format!("≤ {}", num(v)),
            Target::AtLeast(v) => format!("≥ {}", num(v)),
        }
    }

    fn met(self, value: f64) -> bool {
        match self {
            Target::AtMost(t) => value <= t,
            Target::AtLeast(t) => value >= t,
        }
    }
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Row {
    /// Section letter of issue #9 (`a`…`f`) or `api`.
    pub(crate) section: String,
    /// Metric name (unique within the run).
    pub(crate) metric: String,
    /// `None` = not measured; the note says why.
    pub(crate) value: Option<f64>,
    /// Unit.
    pub(crate) unit: String,
    /// Issue #9's target, when it sets one for this metric.
    pub(crate) target: Option<Target>,
    /// Settings, caveats, or why the value is missing.
    pub(crate) note: String,
}

impl Row {
    pub(crate) fn new(section: &str, metric: impl Into<String>, value: f64, unit: &str) -> Self {
        Self {
            section: section.into(),
            metric: metric.into(),
            value: value.is_finite().then_some(value),
            unit: unit.into(),
            target: None,
            note: String::new(),
        }
    }

    /// A row that could not be measured, with the reason.
    pub(crate) fn missing(
        section: &str,
        metric: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Self {
            section: section.into(),
            metric: metric.into(),
            value: None,
            unit: String::new(),
            target: None,
            note: why.into(),
        }
    }

    pub(crate) fn target(mut self, t: Target) -> Self {
        self.target = Some(t);
        self
    }

    pub(crate) fn note(mut self, n: impl Into<String>) -> Self {
        self.note = n.into();
        self
    }

    /// `met`, `missed`, `not measured` (a target but no value) or empty (no target).
    pub(crate) fn verdict(&self) -> &'static str {
        match (self.target, self.value) {
            (None, _) => "",
            (Some(_), None) => "not measured",
            (Some(t), Some(v)) if t.met(v) => "met",
            (Some(_), Some(_)) => "missed",
        }
    }
}

/// A number for the table: integers above 100, two significant decimals below.
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn value_of(rows: &[Row], metric: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.metric == metric)
        .and_then(|r| r.value)
}

/// The comparisons issue #9 asks for, computed from measured rows (missing inputs give
/// missing rows that name them).
pub(crate) fn derived(rows: &[Row]) -> Vec<Row> {
    let mut out = Vec::new();
    let mut ratio =
        |metric: &str, num_m: &str, den_m: &str, scale: f64, unit: &str, target: Target| {
            let row = match (value_of(rows, num_m), value_of(rows, den_m)) {
                (Some(n), Some(d)) if d > 0.0 => {
                    Row::new("vs", metric, n / d * scale, unit).note(format!("{num_m} / {den_m}"))
                }
                _ => Row::missing("vs", metric, format!("needs {num_m} and {den_m}")),
            };
            out.push(row.target(target));
        };
    ratio(
        "devnet_max_transfers_pct_of_limit",
        "devnet_transfer_max_committed_per_s",
        "limit_transfer_combined_per_s",
        100.0,
        "%",
        Target::AtLeast(50.0),
    );
    for kind in ["transfer", "bank"] {
        for (other, factor) in [("anvil", 1.0), ("hardhat", 10.0), ("ganache", 1.0)] {
            ratio(
                &format!("devnet_over_{other}_{kind}_max"),
                &format!("devnet_{kind}_max_committed_per_s"),
                &format!("{other}_{kind}_max_committed_per_s"),
                1.0,
                "×",
                Target::AtLeast(factor),
            );
        }
    }
    ratio(
        "rotation_gap_max_over_median",
        "rotation_gap_max_ms",
        "rotation_block_interval_median_ms",
        1.0,
        "×",
        Target::AtMost(2.0),
    );
    out
}

/// The table: one line per row, columns aligned; notes in the last column.
pub(crate) fn render(rows: &[Row]) -> String {
    let header = ["", "metric", "value", "unit", "target", "result", "note"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.section.clone(),
                r.metric.clone(),
                r.value.map_or_else(|| "—".into(), num),
                r.unit.clone(),
                r.target.map(Target::text).unwrap_or_default(),
                r.verdict().into(),
                r.note.clone(),
            ]
        })
        .collect();
    let mut width = header.map(|h| h.chars().count());
    for c in &cells {
        for (w, s) in width.iter_mut().zip(c) {
            *w = (*w).max(s.chars().count());
        }
    }
    let line = |c: &[String]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in c.iter().zip(width).enumerate() {
            let pad = w.saturating_sub(cell.chars().count());
            match i {
                6 => s.push_str(cell),
                // Numbers right-aligned.
                2 => s.push_str(&format!("{}{cell}  ", " ".repeat(pad))),
                _ => s.push_str(&format!("{cell}{}  ", " ".repeat(pad))),
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&header.map(String::from));
    out.push('\n');
    out.push_str(&"─".repeat(width[..6].iter().sum::<usize>() + 12 + 4));
    out.push('\n');
    for c in &cells {
        out.push_str(&line(c));
        out.push('\n');
    }
    out
}

/// `summary.json`: the bench contract's shape (`bench`, `rows` with metric, value, unit,
/// note) plus section, target and result per row; `value` is `null` when not measured.
pub(crate) fn summary(rows: &[Row], settings: Value) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "section": r.section,
                "metric": r.metric,
                "value": r.value,
                "unit": r.unit,
                "target": r.target.map(Target::text),
                "result": match r.verdict() { "" => Value::Null, v => v.into() },
                "note": r.note,
            })
        })
        .collect();
    json!({"bench": "summary", "settings": settings, "rows": rows})
}

/// Rows of a component bench's JSON (`{"bench","rows":[{metric,value,unit,note?}]}`), with a
/// prefix on each metric and the targets `target_of(metric)` gives.
pub(crate) fn import(
    section: &str,
    prefix: &str,
    json: &Value,
    target_of: impl Fn(&str) -> Option<Target>,
) -> Result<Vec<Row>, String> {
    let rows = json
        .get("rows")
        .and_then(Value::as_array)
        .ok_or("no \"rows\" array")?;
    rows.iter()
        .map(|r| {
            let metric = r
                .get("metric")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("row without a metric: {r}"))?;
            let mut row = match r.get("value").and_then(Value::as_f64) {
                Some(v) => Row::new(section, format!("{prefix}{metric}"), v, ""),
                None => Row::missing(section, format!("{prefix}{metric}"), ""),
            };
            row.unit = r.get("unit").and_then(Value::as_str).unwrap_or("").into();
            row.note = r.get("note").and_then(Value::as_str).unwrap_or("").into();
            row.target = target_of(metric);
            Ok(row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_targets() {
        let r = |v: f64, t: Target| Row::new("b", "m", v, "ms").target(t).verdict();
        assert_eq!(r(10.0, Target::AtMost(10.0)), "met");
        assert_eq!(r(10.5, Target::AtMost(10.0)), "missed");
        assert_eq!(r(19_999.0, Target::AtLeast(20_000.0)), "missed");
        assert_eq!(r(f64::NAN, Target::AtLeast(1.0)), "not measured");
        assert_eq!(Row::new("a", "m", 1.0, "tx/s").verdict(), "");
    }

    #[test]
    fn derived_ratios_and_missing_inputs() {
        let rows = vec![
            Row::new("a", "limit_transfer_combined_per_s", 10_000.0, "tx/s"),
            Row::new("b", "devnet_transfer_max_committed_per_s", 6_000.0, "tx/s"),
            Row::new("c", "hardhat_transfer_max_committed_per_s", 500.0, "tx/s"),
            Row::new("d", "rotation_gap_max_ms", 90.0, "ms"),
            Row::new("d", "rotation_block_interval_median_ms", 30.0, "ms"),
        ];
        let d = derived(&rows);
        let get = |m: &str| {
            d.iter()
                .find(|r| r.metric == m)
                .cloned()
                .unwrap_or_else(|| Row::missing("", m, "absent"))
        };
        let pct = get("devnet_max_transfers_pct_of_limit");
        assert_eq!((pct.value, pct.verdict()), (Some(60.0), "met"));
        let hh = get("devnet_over_hardhat_transfer_max");
        assert_eq!((hh.value, hh.verdict()), (Some(12.0), "met"));
        let anvil = get("devnet_over_anvil_transfer_max");
        assert_eq!((anvil.value, anvil.verdict()), (None, "not measured"));
        assert!(anvil.note.contains("anvil_transfer_max_committed_per_s"));
        let gap = get("rotation_gap_max_over_median");
        assert_eq!((gap.value, gap.verdict()), (Some(3.0), "missed"));
    }

    #[test]
    fn table_and_summary_carry_every_row() {
        let rows = vec![
            Row::new("b", "devnet_transfer_1000_p50_ms", 4.25, "ms")
                .target(Target::AtMost(10.0))
                .note("block interval 2 ms"),
            Row::missing("c", "ganache_transfer_max_committed_per_s", "npm not found"),
        ];
        let t = render(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[2].contains("devnet_transfer_1000_p50_ms"));
        assert!(lines[2].contains("4.25") && lines[2].contains("≤ 10") && lines[2].contains("met"));
        assert!(lines[3].contains('—') && lines[3].ends_with("npm not found"));
        let s = summary(&rows, json!({"quick": true}));
        assert_eq!(s["bench"], "summary");
        assert_eq!(s["rows"][0]["value"], 4.25);
        assert_eq!(s["rows"][0]["result"], "met");
        assert_eq!(s["rows"][0]["target"], "≤ 10");
        assert!(s["rows"][1]["value"].is_null());
        assert!(s["rows"][1]["result"].is_null());
    }

    #[test]
    fn import_reads_the_bench_contract() {
        let j = json!({"bench":"launcher","rows":[
            {"metric":"up_to_first_commit_4_nodes","value":0.8,"unit":"s","note":"3 runs"},
            {"metric":"feed_clients_dropped","value":0,"unit":"clients"}]});
        let rows = import("e", "", &j, |m| {
            (m == "up_to_first_commit_4_nodes").then_some(Target::AtMost(1.0))
        })
        .unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].verdict(), "met");
        assert_eq!(rows[1].value, Some(0.0));
        assert!(import("e", "", &json!({"rows": 3}), |_| None).is_err());
        assert!(import("e", "", &json!({"rows": [{"value": 1}]}), |_| None).is_err());
    }
}
