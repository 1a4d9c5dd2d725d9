//! PBFT (Castro & Liskov, OSDI '99 / TOCS 2002) as a pure state machine.
//!
//! Map:
//! - [`message`]     signed wire messages, canonical signing bytes (COMMIT signs `commit_signing_bytes`)
//! - [`crypto`]      `Signer`/`Verifier` traits, ed25519 implementation, [`verify_certificate`]
//! - [`io`]          `Input`, `Output`, `Config`, `TimeoutKind`, `PersistRecord`, `DropReason`
//! - `engine`        state, `step`, inputs, normal case (§4.2), in-order delivery
//! - `admission`     checks and drop reasons for received messages, future-view buffer
//! - `checkpoint`    checkpoints/GC (§4.3), STATUS retransmission (§5.2), certificate state transfer (§5.3)
//! - `view_change`   VIEW-CHANGE / NEW-VIEW (§4.4) and the liveness rules (§4.5.2)
//!
//! Driving it (the shell's contract):
//! - Build one [`Engine`] per epoch ([`Engine::new`], or [`Engine::recover`] from the persisted
//!   records after a crash), feed [`Input::Start`], then every received [`SignedMessage`] as
//!   [`Input::Message`], every fired timer as [`Input::Timeout`] (timers are never cancelled:
//!   stale ones are ignored), and stored or synced certificates as [`Input::Certificate`].
//! - On the primary, whenever [`Engine::next_proposal_seq`] is `Some(seq)`, build the block for
//!   height `seq` and feed [`Input::Propose`]. The progress timer always runs, so the primary
//!   should keep proposing (empty blocks when idle) or the committee changes view.
//! - Carry out outputs in order. **Persistence:** a [`Output::Persist`] must be durable before
//!   any later `Send`/`Broadcast` of the same step leaves the node (order is the contract; there
//!   is no acknowledgement input). `Broadcast` goes to every member but ourselves.
//! - [`Output::Decide`] arrives once per seq, in order, with a [`tc_types::CommitCertificate`]
//!   (a quorum of COMMIT signatures over `commit_signing_bytes`); anyone holding the committee
//!   checks it with [`verify_certificate`]. A decision of [`NULL_DIGEST`] is a NEW-VIEW null
//!   request: no block at that seq. It only happens after a view change, when a seq was left
//!   unprepared below a prepared one (pipelining, or a faulty primary skipping a seq).
mod admission;
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
