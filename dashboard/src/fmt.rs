//! Formatting shared by the panels (plain functions, tested natively).
use tc_types::{B256, NodeStatus, PbftPhase};

/// `0x1234…cdef` for a hash or key.
pub fn short_hash(h: &B256) -> String {
    let s = format!("{h:x}");
    match (s.get(..4), s.get(s.len().saturating_sub(4)..)) {
        (Some(a), Some(b)) if s.len() > 10 => format!("0x{a}…{b}"),
        _ => format!("0x{s}"),
    }
}

/// Bytes in B / KiB / MiB / GiB with one decimal.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in UNITS.iter().skip(1) {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A count with thousands separators: `1 234 567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A duration in ms as `850 ms`, `3.2 s`, `4 min`, `2 h`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min", ms / 60_000),
        _ => format!("{} h", ms / 3_600_000),
    }
}

/// "3.2 s ago" from an event time and now (ms since the Unix epoch); "—" when unknown.
pub fn ago(then_ms: Option<u64>, now_ms: u64) -> String {
    match then_ms {
        Some(t) => format!("{} ago", duration_ms(now_ms.saturating_sub(t))),
        None => "—".into(),
    }
}

/// Two-letter chip label of a PBFT phase.
pub fn phase_label(p: PbftPhase) -> &'static str {
    match p {
        PbftPhase::PrePrepare => "PP",
        PbftPhase::Prepare => "P",
        PbftPhase::Commit => "C",
        PbftPhase::Decided => "D",
    }
}

/// CSS class of a phase chip.
pub fn phase_class(p: PbftPhase) -> &'static str {
    match p {
        PbftPhase::PrePrepare => "phase pp",
        PbftPhase::Prepare => "phase p",
        PbftPhase::Commit => "phase c",
        PbftPhase::Decided => "phase d",
    }
}

/// CSS class of a status badge.
pub fn status_class(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Running => "badge ok",
        NodeStatus::Starting => "badge info",
        NodeStatus::Paused | NodeStatus::Stopped => "badge warn",
        NodeStatus::Killed | NodeStatus::Unreachable => "badge bad",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(short_hash(&B256::repeat_byte(0xab)), "0xabab…abab");
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (5 * 1024 * 1024, "5.0 MiB"),
            (3 * 1024 * 1024 * 1024, "3.0 GiB"),
        ] {
            assert_eq!(bytes(n), want, "{n}");
        }
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1\u{202f}000"),
            (1234567, "1\u{202f}234\u{202f}567"),
        ] {
            assert_eq!(count(n), want, "{n}");
        }
        for (ms, want) in [
            (5, "5 ms"),
            (3200, "3.2 s"),
            (240_000, "4 min"),
            (7_200_000, "2 h"),
        ] {
            assert_eq!(duration_ms(ms), want, "{ms}");
        }
        assert_eq!(ago(Some(1000), 1500), "500 ms ago");
        assert_eq!(ago(Some(2000), 1500), "0 ms ago", "clock skew clamps to 0");
        assert_eq!(ago(None, 1), "—");
        assert_eq!(phase_label(PbftPhase::Decided), "D");
        assert_eq!(status_class(NodeStatus::Unreachable), "badge bad");
    }
}
