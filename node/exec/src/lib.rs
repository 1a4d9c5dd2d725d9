//! Execution of fast blocks over revm: receipts, logs, state diffs, read-only calls and gas
//! estimation, plus the sample `Bank` ledger contract.
//!
//! Map:
//! - [`env`](mod@env)     [`BlockEnv`] (what a block gives the EVM) and the chain rules (spec = Prague)
//! - [`db`]      revm `Database` adapter over any [`StateReader`] with a per-block cache
//! - [`txenv`]   transaction → revm `TxEnv`, pre-checks and mapping of revm rejections to [`TxError`]
//! - [`diff`]    accumulates revm state changes of a block into a canonical [`StateDiff`]
//! - [`block`]   [`execute_block`] in [`Mode::Build`] (proposer) or [`Mode::Verify`] (follower)
//! - [`call`](mod@call)    read-only [`call()`] and [`estimate_gas`] (binary search), revert-reason decoding
//! - [`memory`]  [`memory::MemoryState`]: an in-memory `StateReader` that applies diffs (tests)
//! - [`bank`]    the `Bank` sample contract: compiled artifact, fixed address, ABI helpers
//!
//! Flow for a block: [`BlockEnv::from_header`] → [`execute_block`] over the parent state (any
//! [`StateReader`]; reads are cached per block, nothing is written) → [`BlockOutcome`] with
//! receipts, rejections and the canonical [`StateDiff`] → [`BlockOutcome::roots`] for the
//! header (`tx_root`, `receipts_root`, `state_root = next_state_root(parent, diff)`) → the store
//! applies the diff (order: `wiped`, `accounts`, `storage`, `code`; see
//! [`memory::MemoryState::apply`]).
//!
//! Sender recovery: tc-exec turns on alloy's `secp256k1` feature (libsecp256k1, already linked by
//! revm), which makes `RecoveredTx::decode` ≈5× faster in every native build that includes it.
//!
//! Errors: a transaction that cannot be included is a [`TxError`] (user-facing reason);
//! a failure of the state backend or the EVM itself is an [`ExecError`].

pub mod bank;
pub mod block;
pub mod call;
pub mod db;
pub mod diff;
pub mod env;
pub mod memory;
pub mod txenv;

pub use block::{BlockOutcome, BlockRoots, Mode, execute_block};
pub use call::{CallOutcome, CallRequest, call, decode_revert_reason, estimate_gas};
pub use env::{BlockEnv, SPEC};
pub use tc_types::{StateDiff, StateError, StateReader, TxError};

use alloy_primitives::B256;

/// Execution failed for a reason that is not the transaction's fault (or, in
/// [`Mode::Verify`], because a certified block contains an invalid transaction).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The state backend failed.
    #[error("state backend failed while executing tx {index}: {source}")]
    State {
        /// Index of the transaction being executed (or 0 for calls).
        index: usize,
        /// The storage error.
        #[source]
        source: StateError,
    },
    /// In verify mode: a transaction of a certified block is invalid.
    #[error("block contains invalid tx {index} ({hash}): {reason}")]
    InvalidTx {
        /// Position in the block.
        index: usize,
        /// Transaction hash.
        hash: B256,
        /// Why it is invalid.
        reason: TxError,
    },
    /// In verify mode: the transactions need more gas than the block gas limit.
    #[error("block gas limit exceeded at tx {index}: needs {needed}, block limit {limit}")]
    BlockGasExceeded {
        /// Position in the block.
        index: usize,
        /// Cumulative gas including this transaction's gas limit.
        needed: u64,
        /// Block gas limit.
        limit: u64,
    },
    /// The EVM refused the block environment or failed internally.
    #[error("evm failure: {0}")]
    Evm(String),
}
