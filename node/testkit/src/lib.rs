//! Seeded deterministic simulator for the PBFT engine: virtual clock, faulty network,
//! byzantine hooks, and the agreement / validity / liveness / certificate checks.
//!
//! Map:
//! - [`crypto`]    seeded test keys and committees, the memoising ed25519 verifier
//! - [`network`]   delay distributions, partitions, drop/duplication, run [`Profile`]s
//! - [`byzantine`] the [`Behaviour`] hook trait (honest defaults) and the stock byzantine kinds
//! - [`sim`]       the run loop ([`run`], [`run_seeds`]) and the checks ([`Violation`])
//! - [`rotation`]  the hybrid run: snail mining, elections, PBFT engines swapped at each
//!   switch height ([`run_rotation`])

pub mod byzantine;
pub mod crypto;
pub mod network;
pub mod rotation;
pub mod sim;

pub use byzantine::{Behaviour, ByzKind, HookCtx};
pub use network::{Delay, NetProfile, Profile};
pub use rotation::{RotationProfile, RotationReport, run_rotation};
pub use sim::{RunReport, RunStats, Violation, run, run_seeds};
