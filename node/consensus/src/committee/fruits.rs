//! Fruits: references to committed fast blocks carried by snail blocks, and their freshness.
//!
//! **Freshness rule** (checkable from the snail chain alone). Let `fast_head(b)` be the highest
//! fast-block number referenced by a fruit in snail blocks `0..=b` of a chain (0 when none;
//! fast block 0 is genesis and never a fruit). A fruit for fast block `k` is *fresh* in snail
//! block `s` iff `k > floor(s)` with `floor(s) = fast_head(s − F)` (`F` = freshness, default 17;
//! `floor = 0` while `s ≤ F`). In words: once a later fast block has been checkpointed `F`
//! snail blocks deep, an older fast block can no longer be referenced.
//!
//! A block's fruits are **valid** iff: at most `max_fruits`; strictly ascending by number (so no
//! duplicates); every number fresh; none already referenced by the block's ancestors (only the
//! ancestors numbered `s − F + 1 ..= s − 1` can hold fresh numbers, see [`FruitContext`]).
//! That the `(number, hash)` pair names a block of the *committed* fast chain is checked by the
//! shell against its fast chain with [`check_fruit_hashes`] (committed fast blocks are final,
//! so this is a local, deterministic lookup).
use std::collections::BTreeSet;

use tc_types::{B256, FruitRef};

/// Fruit parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FruitConfig {
    /// Freshness window `F` in snail blocks (TrueChain: 17).
    pub freshness: u64,
    /// Maximum fruits per snail block.
    pub max_fruits: usize,
}

impl Default for FruitConfig {
    fn default() -> Self {
        Self {
            freshness: 17,
            max_fruits: 1_024,
        }
    }
}

/// What a new snail block at `number` must know about its ancestors to check fruits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FruitContext {
    /// The new block's number `s`.
    pub number: u64,
    /// `fast_head(s − F)` (0 when `s ≤ F`): fruits must be above it.
    pub floor: u64,
    /// Fruit numbers in ancestors `s − F + 1 ..= s − 1` that are above `floor`.
    pub recent: BTreeSet<u64>,
}

/// Why a block's fruits are rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FruitError {
    /// Too many fruits.
    #[error("{count} fruits exceed the maximum of {max}")]
    TooMany {
        /// Fruits in the block.
        count: usize,
        /// Allowed.
        max: usize,
    },
    /// Not strictly ascending (covers duplicates).
    #[error("fruit #{index} (fast block {number}) does not follow fast block {prev}")]
    NotAscending {
        /// Position in the block.
        index: usize,
        /// Its number.
        number: u64,
        /// The previous fruit's number.
        prev: u64,
    },
    /// Not fresh: at or below the floor.
    #[error("fruit for fast block {number} is stale in snail block {snail}: floor is {floor}")]
    Stale {
        /// Fast block number.
        number: u64,
        /// Snail block number.
        snail: u64,
        /// `fast_head(s − F)`.
        floor: u64,
    },
    /// Already referenced by an ancestor.
    #[error("fast block {number} is already a fruit on this chain")]
    AlreadyIncluded {
        /// Fast block number.
        number: u64,
    },
    /// The shell has no committed fast block at this number (yet).
    #[error("fruit references fast block {number}, which is not committed here")]
    UnknownFastBlock {
        /// Fast block number.
        number: u64,
    },
    /// The hash does not match the committed fast block.
    #[error("fruit for fast block {number} has hash {got}, the committed block is {expected}")]
    HashMismatch {
        /// Fast block number.
        number: u64,
        /// Committed hash.
        expected: B256,
        /// Hash in the fruit.
        got: B256,
    },
}

/// Structural and freshness checks (everything decidable from the snail chain).
pub fn check_fruits(
    fruits: &[FruitRef],
    ctx: &FruitContext,
    cfg: &FruitConfig,
) -> Result<(), FruitError> {
    if fruits.len() > cfg.max_fruits {
        return Err(FruitError::TooMany {
            count: fruits.len(),
            max: cfg.max_fruits,
        });
    }
    let mut prev: Option<u64> = None;
    for (index, f) in fruits.iter().enumerate() {
        if let Some(p) = prev.filter(|p| f.number <= *p) {
            return Err(FruitError::NotAscending {
                index,
                number: f.number,
                prev: p,
            });
        }
        prev = Some(f.number);
        if f.number <= ctx.floor {
            return Err(FruitError::Stale {
                number: f.number,
                snail: ctx.number,
                floor: ctx.floor,
            });
        }
        if ctx.recent.contains(&f.number) {
            return Err(FruitError::AlreadyIncluded { number: f.number });
        }
    }
    Ok(())
}

/// Check every fruit against the committed fast chain (`fast_hash(n)` = hash of the committed
/// fast block `n`, `None` if not committed locally).
pub fn check_fruit_hashes(
    fruits: &[FruitRef],
    fast_hash: impl Fn(u64) -> Option<B256>,
) -> Result<(), FruitError> {
    for f in fruits {
        let expected =
            fast_hash(f.number).ok_or(FruitError::UnknownFastBlock { number: f.number })?;
        if expected != f.hash {
            return Err(FruitError::HashMismatch {
                number: f.number,
                expected,
                got: f.hash,
            });
        }
    }
    Ok(())
}

/// Fruits for a new snail block: committed fast blocks `floor+1 ..= fast_head` not already in
/// `ctx.recent`, ascending, at most `max_fruits` (the oldest first, so nothing goes stale while
/// newer blocks are preferred). Stops at the first number `fast_hash` does not know.
pub fn select_fruits(
    ctx: &FruitContext,
    cfg: &FruitConfig,
    fast_head: u64,
    fast_hash: impl Fn(u64) -> Option<B256>,
) -> Vec<FruitRef> {
    let mut out = Vec::new();
    let mut n = ctx.floor.saturating_add(1);
    while n <= fast_head && out.len() < cfg.max_fruits {
        if !ctx.recent.contains(&n) {
            let Some(hash) = fast_hash(n) else { break };
            out.push(FruitRef { number: n, hash });
        }
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(n: u64) -> FruitRef {
        FruitRef {
            number: n,
            hash: B256::repeat_byte(n as u8),
        }
    }

    fn ctx(floor: u64, recent: &[u64]) -> FruitContext {
        FruitContext {
            number: 30,
            floor,
            recent: recent.iter().copied().collect(),
        }
    }

    #[test]
    fn check_table() {
        let cfg = FruitConfig {
            freshness: 17,
            max_fruits: 3,
        };
        type Case = (&'static str, Vec<u64>, FruitContext, Result<(), FruitError>);
        let cases: Vec<Case> = vec![
            ("empty", vec![], ctx(5, &[]), Ok(())),
            ("fresh ascending", vec![6, 7, 9], ctx(5, &[8]), Ok(())),
            (
                "too many",
                vec![6, 7, 8, 9],
                ctx(5, &[]),
                Err(FruitError::TooMany { count: 4, max: 3 }),
            ),
            (
                "duplicate",
                vec![6, 6],
                ctx(5, &[]),
                Err(FruitError::NotAscending {
                    index: 1,
                    number: 6,
                    prev: 6,
                }),
            ),
            (
                "descending",
                vec![7, 6],
                ctx(5, &[]),
                Err(FruitError::NotAscending {
                    index: 1,
                    number: 6,
                    prev: 7,
                }),
            ),
            (
                "at floor is stale",
                vec![5],
                ctx(5, &[]),
                Err(FruitError::Stale {
                    number: 5,
                    snail: 30,
                    floor: 5,
                }),
            ),
            (
                "below floor",
                vec![2, 6],
                ctx(5, &[]),
                Err(FruitError::Stale {
                    number: 2,
                    snail: 30,
                    floor: 5,
                }),
            ),
            (
                "already included",
                vec![6, 8],
                ctx(5, &[8]),
                Err(FruitError::AlreadyIncluded { number: 8 }),
            ),
            (
                "genesis never a fruit",
                vec![0],
                ctx(0, &[]),
                Err(FruitError::Stale {
                    number: 0,
                    snail: 30,
                    floor: 0,
                }),
            ),
        ];
        for (name, nums, c, want) in cases {
            let fruits: Vec<_> = nums.into_iter().map(fr).collect();
            assert_eq!(check_fruits(&fruits, &c, &cfg), want, "{name}");
        }
    }

    #[test]
    fn select_skips_included_and_respects_bounds() {
        let cfg = FruitConfig {
            freshness: 17,
            max_fruits: 3,
        };
        let known = |n: u64| (n <= 10).then(|| B256::repeat_byte(n as u8));
        let got = select_fruits(&ctx(5, &[7]), &cfg, 10, known);
        assert_eq!(got, vec![fr(6), fr(8), fr(9)]);
        let got = select_fruits(&ctx(8, &[]), &cfg, 12, known);
        assert_eq!(got, vec![fr(9), fr(10)], "stops at the first unknown block");
        assert_eq!(check_fruits(&got, &ctx(8, &[]), &cfg), Ok(()));
        assert_eq!(check_fruit_hashes(&got, known), Ok(()));
        let bad = [FruitRef {
            number: 9,
            hash: B256::ZERO,
        }];
        assert!(matches!(
            check_fruit_hashes(&bad, known),
            Err(FruitError::HashMismatch { number: 9, .. })
        ));
        assert_eq!(
            check_fruit_hashes(&[fr(11)], known),
            Err(FruitError::UnknownFastBlock { number: 11 })
        );
    }
}
