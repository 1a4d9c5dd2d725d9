//! Pure consensus state machines. No tokio, no clock, no RNG, no I/O.
//!
//! Map:
//! - [`pbft`] the PBFT committee engine (`Engine::step(Input) -> Vec<Output>`), its messages,
//!   signatures and commit-certificate verification.
//!
//! Snail-chain PoW rules and committee election are separate issues.

pub mod pbft;
