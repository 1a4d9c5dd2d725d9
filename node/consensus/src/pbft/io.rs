//! What goes into and comes out of [`super::Engine::step`], the engine configuration and the
//! reasons a message is dropped.
use tc_types::{B256, CommitCertificate, MemberIndex, PbftEvent, Seq, View};

use super::message::SignedMessage;

/// Engine parameters. Times are in milliseconds of the shell's clock (the engine has none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Checkpoint period `K` (PBFT §4.3): a checkpoint after every seq divisible by `K`.
    pub checkpoint_interval: u64,
    /// Watermark window `L = H - h` (PBFT §4.2); rounded up to a multiple of `K`.
    pub window: u64,
    /// How many undecided instances the primary keeps in flight (≤ `window`).
    pub max_in_flight: u64,
    /// Base progress / view-change timeout; doubles on consecutive view changes (PBFT §4.5.2).
    pub view_timeout_ms: u64,
    /// Period of the STATUS retransmission timer (PBFT §5.2).
    pub status_interval_ms: u64,
    /// How many decided certificates below the last decision are kept to serve lagging peers.
    pub certificate_retention: u64,
    /// Maximum future-view messages buffered until the view is entered.
    pub future_buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            checkpoint_interval: 16,
            window: 64,
            max_in_flight: 4,
            view_timeout_ms: 2_000,
            status_interval_ms: 1_000,
            certificate_retention: 256,
            future_buffer: 4_096,
        }
    }
}

/// Timers the engine asks the shell to run. The shell feeds back [`Input::Timeout`] with the
/// same kind after `after_ms`; stale timers are ignored by the engine (no cancellation needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TimeoutKind {
    /// No in-order decision for a while in `view`: start a view change (PBFT §4.4).
    Progress {
        /// View the timer was armed in.
        view: View,
        /// Arming generation (the latest one is live).
        generation: u64,
    },
    /// The NEW-VIEW for `view` did not arrive in time: move to `view + 1` (PBFT §4.5.2).
    ViewChange {
        /// Target view being waited for.
        view: View,
    },
    /// Periodic STATUS broadcast for retransmission (PBFT §5.2).
    Status,
}

/// Engine input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Start: arms timers. Feed once before anything else.
    Start,
    /// The shell proposes a block for `seq` (must equal [`super::Engine::next_proposal_seq`]).
    Propose {
        /// Sequence number (fast block height).
        seq: Seq,
        /// Block digest (never [`super::NULL_DIGEST`]).
        digest: B256,
        /// Optional opaque block bytes carried in the PRE-PREPARE.
        block: Vec<u8>,
    },
    /// A message received from the network (unverified).
    Message(SignedMessage),
    /// A timer fired.
    Timeout(TimeoutKind),
    /// A commit certificate from outside the protocol (the shell's store after a restart, or
    /// block sync). Verified against the committee; delivered in order like any decision.
    Certificate(CommitCertificate),
}

/// What the engine made durable-worthy. Persistence contract: **the shell carries out outputs in
/// order and a `Persist` must be durable before any later `Send`/`Broadcast` of the same step
/// leaves the node**. A restarted node must not vote differently for a (view, seq) it recorded
/// and must not go back to a lower view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistRecord {
    /// Entered (or started changing to) this view.
    View {
        /// View.
        view: View,
    },
    /// Voted (pre-prepared / prepared / committed) for `digest` at (view, seq).
    Vote {
        /// Message kind ("pre-prepare", "prepare", "commit").
        kind: &'static str,
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Digest voted for.
        digest: B256,
    },
    /// A checkpoint became stable.
    StableCheckpoint {
        /// Sequence number.
        seq: Seq,
        /// State digest.
        state: B256,
    },
}

/// Engine output, to be carried out in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Make this durable before the sends that follow it.
    Persist(PersistRecord),
    /// Send to one member.
    Send {
        /// Recipient.
        to: MemberIndex,
        /// Message.
        msg: SignedMessage,
    },
    /// Send to every other member (not to self: the engine already processed its own copy).
    Broadcast(SignedMessage),
    /// `seq` is decided. Emitted exactly once per seq, in increasing seq order without gaps.
    /// `digest == NULL_DIGEST` means a null request (no block at this seq).
    Decide {
        /// Sequence number.
        seq: Seq,
        /// Decided block digest.
        digest: B256,
        /// Quorum of COMMIT signatures proving it.
        certificate: CommitCertificate,
    },
    /// Fire [`Input::Timeout`] with `kind` after `after_ms`.
    ScheduleTimeout {
        /// Timer kind.
        kind: TimeoutKind,
        /// Delay.
        after_ms: u64,
    },
    /// Observer event.
    Event(PbftEvent),
}

/// Why a received message was dropped (reported as [`PbftEvent::MessageDropped`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropReason {
    /// Another epoch.
    #[error("wrong epoch {got} (engine serves epoch {expected})")]
    WrongEpoch {
        /// Message epoch.
        got: u64,
        /// Engine epoch.
        expected: u64,
    },
    /// Sender index outside the committee.
    #[error("sender {from} is not a committee member")]
    NotMember {
        /// Claimed sender.
        from: MemberIndex,
    },
    /// Signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// Message of an older view.
    #[error("stale view {view} (current view {current})")]
    StaleView {
        /// Message view.
        view: View,
        /// Engine view.
        current: View,
    },
    /// Future-view buffer full.
    #[error("future view {view} and the buffer is full")]
    FutureViewBufferFull {
        /// Message view.
        view: View,
    },
    /// Sequence number outside (h, H].
    #[error("seq {seq} outside watermarks ({low}, {high}]")]
    OutsideWatermarks {
        /// Message seq.
        seq: Seq,
        /// Low watermark h.
        low: Seq,
        /// High watermark H.
        high: Seq,
    },
    /// A PRE-PREPARE not from the view's primary, or a PREPARE from it.
    #[error("wrong role: {0}")]
    WrongRole(&'static str),
    /// A second, different PRE-PREPARE for the same (view, seq).
    #[error("conflicting pre-prepare for seq {seq}: already accepted {accepted}")]
    ConflictingPrePrepare {
        /// Seq.
        seq: Seq,
        /// Digest already accepted.
        accepted: B256,
    },
    /// A normal-case message while view-changing.
    #[error("view change in progress to view {target}")]
    ViewChanging {
        /// Target view.
        target: View,
    },
    /// A malformed or unprovable VIEW-CHANGE / NEW-VIEW / certificate.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// Which part.
        what: &'static str,
        /// Details.
        detail: String,
    },
    /// A second vote of one member for another digest at the same (view, seq).
    #[error("equivocation at seq {seq}: already voted for {other}")]
    Equivocation {
        /// Seq.
        seq: Seq,
        /// The digest voted for first.
        other: B256,
    },
    /// The null digest proposed in the normal case.
    #[error("null digest outside a NEW-VIEW")]
    NullDigest,
}
