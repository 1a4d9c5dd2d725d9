//! Committee rules derived from the snail chain: fruits, election, epoch schedule. Pure.
//!
//! Map:
//! - [`fruits`]   fruit freshness (`k > fast_head(s − F)`), block fruit checks, fruit selection
//! - [`election`] the election of epoch `e` from snail window `(e−1)·E+1 ..= e·E−λ`: seed,
//!   work-weighted sampling without replacement ([`SeedStream`]), canonical member order
//! - [`follow`]   [`check_committed_block`]: a follower's check of a certified fast block
//!   against the committee of its epoch (from its own snail chain)
//! - [`schedule`] [`EpochSchedule`]: committees by epoch, the switch height
//!   `H_e = max(fast_head(e·E−λ) + M, H_{e−1} + min)`, last-block / `next_committee` rules
//!
//! The full election rule with a worked example is `docs/election.md`.
pub mod election;
pub mod follow;
pub mod fruits;
pub mod schedule;

#[cfg(test)]
mod tests;

pub use election::{
    Candidate, Election, ElectionConfig, ElectionError, SeedStream, WindowBlock, elect_from_window,
    election_for, election_seed, fill_up,
};
pub use follow::{FollowError, check_committed_block};
pub use fruits::{
    FruitConfig, FruitContext, FruitError, check_fruit_hashes, check_fruits, select_fruits,
};
pub use schedule::{
    EpochInfo, EpochSchedule, HybridConfig, RotationConfig, RotationError, SyncOutcome,
};
