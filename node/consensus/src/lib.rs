//! Pure consensus state machines. No tokio, no clock, no RNG, no I/O.
//!
//! Map:
//! - [`pbft`] the PBFT committee engine (`Engine::step(Input) -> Vec<Output>`), its messages,
//!   signatures and commit-certificate verification.
//! - [`snail`] the proof-of-work snail chain: puzzle, miner helper, difficulty retargeting,
//!   header validation, block tree with heaviest-chain fork choice and reorgs.
//! - [`committee`] fruits and freshness, committee election from the snail chain, the epoch
//!   schedule (rotation heights, `next_committee`).
//! - [`events`] which [`tc_types::NodeEvent`]s the shell emits for snail/committee transitions.

pub mod committee;
pub mod events;
pub mod pbft;
pub mod snail;
