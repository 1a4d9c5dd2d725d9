//! Difficulty retargeting toward a configured block interval.
//!
//! Rule (for a block whose parent is `P`, number `p`):
//! - `k = min(window, p)`; if `k = 0` (the parent is genesis) the difficulty is the parent's;
//! - otherwise let `A` be the ancestor of `P` at number `p − k` and
//!   `avg = max(1, (P.timestamp − A.timestamp) / k)` (ms, integer division);
//! - `raw = P.difficulty × target_interval / avg` (u128 arithmetic);
//! - `step = max(1, P.difficulty / max_adjust_divisor)`; clamp `raw` into
//!   `[P.difficulty − step, P.difficulty + step]` (bounded change per block);
//! - the result is `max(min_difficulty, clamped)` (and never above `u64::MAX`).
//!
//! Timestamps strictly increase along a valid chain, so `P.timestamp > A.timestamp`.
use tc_types::SnailHeader;

/// Retargeting parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetargetConfig {
    /// Desired snail block interval in ms.
    pub target_interval_ms: u64,
    /// Number of past intervals averaged.
    pub window: u64,
    /// Maximum change per block is `difficulty / max_adjust_divisor` (at least 1).
    pub max_adjust_divisor: u64,
    /// Floor.
    pub min_difficulty: u64,
}

impl Default for RetargetConfig {
    /// A devnet default: 2 s blocks, 8-block window, ±12.5 % per block, difficulty ≥ 16.
    fn default() -> Self {
        Self {
            target_interval_ms: 2_000,
            window: 8,
            max_adjust_divisor: 8,
            min_difficulty: 16,
        }
    }
}

/// Expected difficulty of the child of `parent`, where `window_start` is the ancestor of
/// `parent` at number `parent.number − min(window, parent.number)` (`None` only when that
/// offset is 0, i.e. the parent is genesis or the window is 0).
pub fn next_difficulty(
    cfg: &RetargetConfig,
    parent: &SnailHeader,
    window_start: Option<&SnailHeader>,
) -> u64 {
    let d = parent.difficulty;
    let k = cfg.window.min(parent.number);
    let Some(start) = window_start.filter(|_| k > 0) else {
        return d.max(cfg.min_difficulty);
    };
    let span = parent.timestamp_ms.saturating_sub(start.timestamp_ms);
    let avg = (span / k).max(1);
    let raw = u128::from(d) * u128::from(cfg.target_interval_ms.max(1)) / u128::from(avg);
    let step = u128::from((d / cfg.max_adjust_divisor.max(1)).max(1));
    let lo = u128::from(d).saturating_sub(step);
    let hi = u128::from(d) + step;
    let clamped = raw.clamp(lo, hi);
    u64::try_from(clamped)
        .unwrap_or(u64::MAX)
        .max(cfg.min_difficulty)
        .max(1)
}

/// How many blocks back the window start is for a child of a block at `parent_number`.
pub fn window_offset(cfg: &RetargetConfig, parent_number: u64) -> u64 {
    cfg.window.min(parent_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(number: u64, ts: u64, difficulty: u64) -> SnailHeader {
        SnailHeader {
            number,
            timestamp_ms: ts,
            difficulty,
            ..SnailHeader::default()
        }
    }

    #[test]
    fn retarget_table() {
        let cfg = RetargetConfig {
            target_interval_ms: 1_000,
            window: 4,
            max_adjust_divisor: 8,
            min_difficulty: 10,
        };
        // (parent number, parent ts, start ts, parent difficulty, expected)
        let cases = [
            // parent is genesis: keep (floored)
            (0u64, 0u64, 0u64, 800u64, 800u64),
            (0, 0, 0, 5, 10),
            // on target: unchanged
            (4, 4_000, 0, 800, 800),
            // twice too slow: halves → clamped to −1/8
            (4, 8_000, 0, 800, 700),
            // slightly slow: 800 × 1000/1100 = 727 → clamp floor 700? no: 727 within bounds
            (4, 4_400, 0, 800, 727),
            // too fast: clamped to +1/8
            (4, 400, 0, 800, 900),
            // zero span (impossible on a valid chain) → avg 1 → +step
            (4, 0, 0, 800, 900),
            // small difficulty still moves by at least 1
            (4, 400, 0, 11, 12),
            // floor
            (4, 40_000, 0, 10, 10),
            // window shorter than chain: k = min(window, p) = 2
            (2, 4_000, 0, 800, 700),
            // near u64::MAX: saturates, no overflow
            (4, 400, 0, u64::MAX, u64::MAX),
        ];
        for (p, pts, sts, d, want) in cases {
            let parent = h(p, pts, d);
            let start = h(p - window_offset(&cfg, p), sts, d);
            assert_eq!(
                next_difficulty(&cfg, &parent, Some(&start)),
                want,
                "parent #{p} ts {pts} start ts {sts} difficulty {d}"
            );
        }
    }

    #[test]
    fn converges_toward_target() {
        // A miner doing 0.4 hashes/ms needs `difficulty × 2.5` ms per block; with a 1 s
        // target the difficulty settles at 400 from either side.
        let cfg = RetargetConfig {
            target_interval_ms: 1_000,
            window: 1,
            max_adjust_divisor: 8,
            min_difficulty: 1,
        };
        for start in [100u64, 2_000] {
            let (mut d, mut ts, mut prev_ts) = (start, 0u64, 0u64);
            for n in 1..60u64 {
                prev_ts = ts;
                ts += d * 5 / 2;
                let parent = h(n, ts, d);
                d = next_difficulty(&cfg, &parent, Some(&h(n - 1, prev_ts, d)));
            }
            assert_eq!(d, 400, "from {start} (last interval {})", ts - prev_ts);
        }
    }
}
