//! The proof-of-work puzzle: `keccak256(seal_hash ‖ nonce as 8 big-endian bytes) ≤ 2^256 / difficulty`.
//!
//! [`mine`] is a pure bounded search; [`Miner`] wraps it with a per-call budget so the node shell
//! can apply a hash-rate cap and cancel (see [`Miner`]).
use tc_types::{B256, SnailHeader, U256, keccak256};

/// Why a header's proof of work is rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// Difficulty 0 has no target (every header must have difficulty ≥ 1).
    #[error("difficulty 0 is not allowed (block {number})")]
    ZeroDifficulty {
        /// Block number.
        number: u64,
    },
    /// The PoW hash is above the target.
    #[error("block {number}: PoW hash {pow_hash} is above the target for difficulty {difficulty}")]
    AboveTarget {
        /// Block number.
        number: u64,
        /// The puzzle hash.
        pow_hash: B256,
        /// Declared difficulty.
        difficulty: u64,
    },
}

/// `⌊2^256 / difficulty⌋`, saturated to `U256::MAX` for difficulty 1; `None` for difficulty 0.
///
/// Computed exactly: `⌊(2^256 − 1)/d⌋` plus one when `d` divides `2^256` (a power of two).
pub fn pow_target(difficulty: u64) -> Option<U256> {
    match difficulty {
        0 => None,
        1 => Some(U256::MAX),
        d => {
            let base = U256::MAX / U256::from(d);
            Some(if d.is_power_of_two() {
                base + U256::from(1u8)
            } else {
                base
            })
        }
    }
}

/// The puzzle hash for a seal hash and nonce: `keccak256(seal_hash ‖ nonce_be8)`.
pub fn pow_hash(seal_hash: &B256, nonce: u64) -> B256 {
    let mut buf = [0u8; 40];
    buf[..32].copy_from_slice(seal_hash.as_slice());
    buf[32..].copy_from_slice(&nonce.to_be_bytes());
    keccak256(buf)
}

/// Does `hash` meet `target` (`hash ≤ target`, hash read as a big-endian integer)?
pub fn meets_target(hash: &B256, target: &U256) -> bool {
    U256::from_be_bytes(hash.0) <= *target
}

/// Check a header's proof of work.
pub fn check_pow(header: &SnailHeader) -> Result<(), PowError> {
    let target = pow_target(header.difficulty).ok_or(PowError::ZeroDifficulty {
        number: header.number,
    })?;
    let h = pow_hash(&header.seal_hash(), header.nonce);
    if meets_target(&h, &target) {
        Ok(())
    } else {
        Err(PowError::AboveTarget {
            number: header.number,
            pow_hash: h,
            difficulty: header.difficulty,
        })
    }
}

/// Pure bounded search: try nonces `start_nonce, start_nonce+1, …` (wrapping) for at most
/// `max_attempts` hashes; the first nonce that solves the puzzle, if any. The header's own
/// `nonce` field is ignored. `None` also for difficulty 0.
pub fn mine(header: &SnailHeader, start_nonce: u64, max_attempts: u64) -> Option<u64> {
    let target = pow_target(header.difficulty)?;
    let seal = header.seal_hash();
    let mut nonce = start_nonce;
    for _ in 0..max_attempts {
        if meets_target(&pow_hash(&seal, nonce), &target) {
            return Some(nonce);
        }
        nonce = nonce.wrapping_add(1);
    }
    None
}

/// Result of one [`Miner::work`] call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MineStep {
    /// Solved: the header with its nonce set (passes [`check_pow`]).
    Found(SnailHeader),
    /// Budget spent without a solution; call again.
    Continue {
        /// Hashes tried so far by this miner.
        attempts: u64,
    },
    /// All 2^64 nonces tried (change the timestamp or fruits and start a new miner).
    Exhausted,
}

/// An incremental miner over one block template.
///
/// The node shell owns the effects: it runs a loop that calls [`Miner::work`] with a budget of
/// `cap_hps × slice_ms / 1000` hashes, then sleeps for whatever is left of `slice_ms`; that caps
/// the hash rate at `cap_hps` per node while keeping the loop responsive. Cancelling is
/// dropping the miner (e.g. when a new snail head arrives, build a new template and a new
/// miner). The miner holds no clock and no randomness; the shell picks `start_nonce` (e.g.
/// derived from the node key so nodes don't search the same nonces).
#[derive(Clone, Debug)]
pub struct Miner {
    header: SnailHeader,
    seal: B256,
    target: U256,
    next_nonce: u64,
    attempts: u64,
}

impl Miner {
    /// A miner for `template` starting at `start_nonce`.
    pub fn new(template: SnailHeader, start_nonce: u64) -> Result<Self, PowError> {
        let target = pow_target(template.difficulty).ok_or(PowError::ZeroDifficulty {
            number: template.number,
        })?;
        Ok(Self {
            seal: template.seal_hash(),
            header: template,
            target,
            next_nonce: start_nonce,
            attempts: 0,
        })
    }

    /// The template being mined.
    pub fn template(&self) -> &SnailHeader {
        &self.header
    }

    /// Hashes tried so far.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    /// Try up to `budget` nonces.
    pub fn work(&mut self, budget: u64) -> MineStep {
        for _ in 0..budget {
            if self.attempts == u64::MAX {
                return MineStep::Exhausted;
            }
            let nonce = self.next_nonce;
            self.next_nonce = nonce.wrapping_add(1);
            self.attempts += 1;
            if meets_target(&pow_hash(&self.seal, nonce), &self.target) {
                let mut h = self.header.clone();
                h.nonce = nonce;
                return MineStep::Found(h);
            }
        }
        MineStep::Continue {
            attempts: self.attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(difficulty: u64) -> SnailHeader {
        SnailHeader {
            number: 1,
            difficulty,
            timestamp_ms: 1_000,
            ..SnailHeader::default()
        }
    }

    #[test]
    fn target_table() {
        let two_255 = U256::from(1u8) << 255;
        for (d, want) in [
            (0u64, None),
            (1, Some(U256::MAX)),
            (2, Some(two_255)),
            (3, Some(U256::MAX / U256::from(3u8))),
            (4, Some(two_255 >> 1)),
            (1 << 20, Some(U256::from(1u8) << 236)),
        ] {
            assert_eq!(pow_target(d), want, "difficulty {d}");
        }
    }

    #[test]
    fn mined_header_validates_and_tampering_fails() {
        for d in [1u64, 2, 16, 300] {
            let mut h = header(d);
            let nonce = mine(&h, 0, 1_000_000).expect("solvable at low difficulty");
            h.nonce = nonce;
            assert_eq!(check_pow(&h), Ok(()), "difficulty {d}");
        }
        // Find a nonce that fails at difficulty 1000 and check the error is typed.
        let mut h = header(1000);
        let target = pow_target(1000).expect("target");
        let bad = (0..).find(|n| !meets_target(&pow_hash(&h.seal_hash(), *n), &target));
        h.nonce = bad.expect("some nonce fails");
        assert!(matches!(
            check_pow(&h),
            Err(PowError::AboveTarget {
                difficulty: 1000,
                ..
            })
        ));
        h.difficulty = 0;
        assert_eq!(check_pow(&h), Err(PowError::ZeroDifficulty { number: 1 }));
    }

    #[test]
    fn miner_budget_matches_pure_search() {
        let h = header(64);
        let want = mine(&h, 7, 100_000).expect("solvable");
        let mut m = Miner::new(h, 7).expect("miner");
        let mut calls = 0;
        let found = loop {
            calls += 1;
            match m.work(3) {
                MineStep::Found(h) => break h,
                MineStep::Continue { attempts } => assert_eq!(attempts, 3 * calls),
                MineStep::Exhausted => panic!("exhausted"),
            }
        };
        assert_eq!(found.nonce, want);
        assert_eq!(check_pow(&found), Ok(()));
        assert!(mine(&header(64), 7, 0).is_none());
    }
}
