//! The proof-of-work snail chain: puzzle, difficulty, validation and fork choice. Pure.
//!
//! Map:
//! - [`pow`]      the puzzle (`keccak256(seal_hash ‖ nonce_be8) ≤ 2^256 / difficulty`),
//!   [`mine`] (bounded pure search) and [`Miner`] (budget-per-call, for a rate-capped shell loop)
//! - [`retarget`] difficulty retargeting toward a target interval (bounded per block, floor)
//! - [`validate`] [`SnailConfig`], [`SnailError`] and the header/body checks
//! - [`tree`]     [`SnailTree`]: import, total difficulty, heaviest-chain fork choice with
//!   reorgs ([`ImportOutcome`]), block templates, the [`ChainView`] used by election
//!
//! Driving it (the shell's contract): build the tree from the genesis snail block; feed every
//! block (mined locally or received) to [`SnailTree::import`] with the local clock as `now_ms`;
//! on [`SnailError::UnknownParent`] fetch the parent and retry, on
//! [`SnailError::TimestampInFuture`] retry later, on anything else penalise the sender. Before
//! importing a peer's block also check its fruits against the committed fast chain with
//! [`crate::committee::fruits::check_fruit_hashes`]. To mine: [`SnailTree::select_fruits`],
//! [`SnailTree::template`] on the head, then [`Miner::work`] in a loop; rebuild on a new head.
pub mod pow;
pub mod retarget;
pub mod tree;
pub mod validate;

#[cfg(test)]
pub(crate) mod tests;

pub use pow::{MineStep, Miner, PowError, check_pow, meets_target, mine, pow_hash, pow_target};
pub use retarget::{RetargetConfig, next_difficulty};
pub use tree::{ChainView, ImportOutcome, Reorg, SnailTree};
pub use validate::{SnailConfig, SnailError};
