//! PBFT (Castro & Liskov, OSDI '99 / TOCS 2002) as a pure state machine.
//!
//! Map:
//! - [`message`]     signed wire messages, canonical signing bytes (COMMIT signs `commit_signing_bytes`)
//! - [`crypto`]      `Signer`/`Verifier` traits, ed25519 implementation, [`verify_certificate`]
//! - [`io`]          `Input`, `Output`, `Config`, `TimeoutKind`, `PersistRecord`, `DropReason`
//! - `engine`        state, `step`, admission and drop reasons, normal case (§4.2), in-order delivery
//! - `checkpoint`    checkpoints/GC (§4.3), STATUS retransmission (§5.2), certificate state transfer (§5.3)
//! - `view_change`   VIEW-CHANGE / NEW-VIEW (§4.4) and the liveness rules (§4.5.2)
//!
//! Driving it: build an [`Engine`], feed `Input::Start`, then every received message, fired
//! timer and (on the primary, whenever [`Engine::next_proposal_seq`] is `Some`) a proposal;
//! carry out the outputs in order.
mod checkpoint;
pub mod crypto;
mod engine;
pub mod io;
pub mod message;
mod view_change;

#[cfg(test)]
mod tests;

pub use crypto::{
    CertificateError, Ed25519Signer, Ed25519Verifier, Signer, Verifier, verify_certificate,
};
pub use engine::{Engine, EngineError};
pub use io::{Config, DropReason, Input, Output, PersistRecord, TimeoutKind};
pub use message::{NULL_DIGEST, Payload, PreparedProof, SignedMessage, signing_bytes};
