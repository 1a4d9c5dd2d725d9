//! Validation of snail headers and blocks against their parent, with typed errors.
//!
//! Checks, in this order (cheap and context-free first):
//! 1. `fruits_hash` matches the body;
//! 2. the proof of work ([`super::pow::check_pow`]);
//! 3. the parent is known (done by the caller, [`super::SnailTree::import`]);
//! 4. `number = parent.number + 1`;
//! 5. `parent.timestamp < timestamp ≤ now + max_future_drift` (`now` is an input);
//! 6. `difficulty` equals the retarget rule ([`super::retarget::next_difficulty`]);
//! 7. fruits ([`crate::committee::fruits::check_fruits`]).
use tc_types::{B256, SnailBlock, SnailHeader, fruits_hash};

use super::pow::{PowError, check_pow};
use super::retarget::{RetargetConfig, next_difficulty};
use crate::committee::fruits::{FruitConfig, FruitError};

/// Snail-chain rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnailConfig {
    /// Difficulty retargeting.
    pub retarget: RetargetConfig,
    /// How far a header's timestamp may run ahead of the validating node's clock (ms).
    pub max_future_drift_ms: u64,
    /// Fruit freshness and limits.
    pub fruits: FruitConfig,
}

/// Why a snail block is rejected. Every variant names the block.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnailError {
    /// The parent is not known (the shell may fetch it and retry).
    #[error("block {hash} (#{number}): unknown parent {parent}")]
    UnknownParent {
        /// Block hash.
        hash: B256,
        /// Block number.
        number: u64,
        /// Missing parent.
        parent: B256,
    },
    /// Number is not parent + 1.
    #[error("block {hash}: number {number}, expected {expected}")]
    BadNumber {
        /// Block hash.
        hash: B256,
        /// Claimed.
        number: u64,
        /// Parent + 1.
        expected: u64,
    },
    /// Timestamp not after the parent's.
    #[error("block {hash}: timestamp {timestamp_ms} is not after the parent's {parent_ms}")]
    TimestampNotAfterParent {
        /// Block hash.
        hash: B256,
        /// Claimed.
        timestamp_ms: u64,
        /// Parent's.
        parent_ms: u64,
    },
    /// Timestamp too far ahead of the local clock (may become valid later).
    #[error("block {hash}: timestamp {timestamp_ms} is beyond now {now_ms} + drift {drift_ms}")]
    TimestampInFuture {
        /// Block hash.
        hash: B256,
        /// Claimed.
        timestamp_ms: u64,
        /// Local clock.
        now_ms: u64,
        /// Allowed drift.
        drift_ms: u64,
    },
    /// Difficulty differs from the retarget rule.
    #[error("block {hash}: difficulty {got}, expected {expected}")]
    WrongDifficulty {
        /// Block hash.
        hash: B256,
        /// Claimed.
        got: u64,
        /// Rule.
        expected: u64,
    },
    /// `fruits_hash` does not commit to the body.
    #[error("block {hash}: fruits_hash {header} does not match the body ({body})")]
    FruitsHashMismatch {
        /// Block hash.
        hash: B256,
        /// In the header.
        header: B256,
        /// Of the body.
        body: B256,
    },
    /// Bad proof of work.
    #[error("block {hash}: {source}")]
    Pow {
        /// Block hash.
        hash: B256,
        /// Detail.
        source: PowError,
    },
    /// Bad fruits.
    #[error("block {hash}: {source}")]
    Fruits {
        /// Block hash.
        hash: B256,
        /// Detail.
        source: FruitError,
    },
    /// A block at number 0 that is not our genesis.
    #[error("block {hash}: a second genesis")]
    ForeignGenesis {
        /// Block hash.
        hash: B256,
    },
}

/// Context-free checks: body commitment and proof of work.
pub fn check_standalone(block: &SnailBlock) -> Result<(), SnailError> {
    let hash = block.header.hash();
    let body = fruits_hash(&block.fruits);
    if body != block.header.fruits_hash {
        return Err(SnailError::FruitsHashMismatch {
            hash,
            header: block.header.fruits_hash,
            body,
        });
    }
    check_pow(&block.header).map_err(|source| SnailError::Pow { hash, source })
}

/// Checks against the parent: number, timestamps, difficulty. `window_start` is the retarget
/// window's first header (see [`next_difficulty`]).
pub fn check_against_parent(
    cfg: &SnailConfig,
    header: &SnailHeader,
    parent: &SnailHeader,
    window_start: Option<&SnailHeader>,
    now_ms: u64,
) -> Result<(), SnailError> {
    let hash = header.hash();
    let expected = parent.number.saturating_add(1);
    if header.number != expected {
        return Err(SnailError::BadNumber {
            hash,
            number: header.number,
            expected,
        });
    }
    if header.timestamp_ms <= parent.timestamp_ms {
        return Err(SnailError::TimestampNotAfterParent {
            hash,
            timestamp_ms: header.timestamp_ms,
            parent_ms: parent.timestamp_ms,
        });
    }
    if header.timestamp_ms > now_ms.saturating_add(cfg.max_future_drift_ms) {
        return Err(SnailError::TimestampInFuture {
            hash,
            timestamp_ms: header.timestamp_ms,
            now_ms,
            drift_ms: cfg.max_future_drift_ms,
        });
    }
    let expected = next_difficulty(&cfg.retarget, parent, window_start);
    if header.difficulty != expected {
        return Err(SnailError::WrongDifficulty {
            hash,
            got: header.difficulty,
            expected,
        });
    }
    Ok(())
}
