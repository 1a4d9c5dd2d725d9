//! Public vocabulary: topics, protocols, validation verdicts, peer info and [`NetEvent`].

use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

use crate::config::MessageLimits;

/// Gossipsub topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `tc/txs/2`: batches of transactions (tc-wire `TxBatch`).
    Tx,
    /// `tc/fast/1`: certified fast blocks.
    FastBlock,
    /// `tc/snail/1`: snail blocks.
    SnailBlock,
    /// `tc/consensus/1`: broadcast PBFT messages.
    Consensus,
}

impl Topic {
    /// Every topic (all are subscribed at start).
    pub const ALL: [Topic; 4] = [
        Topic::Tx,
        Topic::FastBlock,
        Topic::SnailBlock,
        Topic::Consensus,
    ];

    /// Topic string on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Topic::Tx => "tc/txs/2",
            Topic::FastBlock => "tc/fast/1",
            Topic::SnailBlock => "tc/snail/1",
            Topic::Consensus => "tc/consensus/1",
        }
    }

    /// Topic from its wire string.
    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Payload limit of this topic.
    pub fn limit(self, limits: &MessageLimits) -> usize {
        match self {
            Topic::Tx => limits.tx,
            Topic::FastBlock => limits.fast_block,
            Topic::SnailBlock => limits.snail_block,
            Topic::Consensus => limits.consensus_gossip,
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Request-response protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// `/tc/sync/1`: `SyncRequest` bytes → `SyncResponse` bytes; the shell answers with
    /// [`crate::NetworkHandle::respond`].
    Sync,
    /// `/tc/consensus/1`: direct consensus message, acknowledged (empty response) by the network
    /// task on receipt; the event carries no channel.
    Consensus,
}

impl Protocol {
    /// Protocol string.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Sync => "/tc/sync/1",
            Protocol::Consensus => "/tc/consensus/1",
        }
    }

    /// Request limit.
    pub fn request_limit(self, limits: &MessageLimits) -> usize {
        match self {
            Protocol::Sync => limits.sync_request,
            Protocol::Consensus => limits.consensus_request,
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Identifies an inbound request awaiting [`crate::NetworkHandle::respond`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelId(pub u64);

/// Identifies a received gossip message awaiting [`crate::NetworkHandle::report_validation`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageId(pub Vec<u8>);

/// The shell's verdict on a gossip message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    /// Valid: deliver and relay.
    Accept,
    /// Invalid: not relayed, the propagating peer gets a strike with this reason.
    Reject(String),
    /// Not relayed, no penalty (e.g. duplicate or stale).
    Ignore,
}

/// A connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// Peer id.
    pub id: PeerId,
    /// Known addresses (connection endpoints and identify-reported listen addresses).
    pub addrs: Vec<Multiaddr>,
    /// Last measured round-trip time.
    pub rtt: Option<Duration>,
}

/// What the network reports to the node shell.
#[derive(Debug, Clone)]
pub enum NetEvent {
    /// A first connection to `peer` was established.
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// Remote address of that connection.
        addr: Multiaddr,
    },
    /// The last connection to `peer` closed.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A ping round trip completed.
    PeerRtt {
        /// The peer.
        peer: PeerId,
        /// Round-trip time.
        rtt: Duration,
    },
    /// A gossip message within limits; not relayed until the shell reports
    /// [`Validation::Accept`] for `id` and `source`.
    Gossip {
        /// Topic.
        topic: Topic,
        /// Payload.
        bytes: Vec<u8>,
        /// Peer that forwarded it to us (the one to report and penalise).
        source: PeerId,
        /// Message id for [`crate::NetworkHandle::report_validation`].
        id: MessageId,
    },
    /// An inbound request within limits.
    Request {
        /// Requesting peer.
        peer: PeerId,
        /// Protocol.
        protocol: Protocol,
        /// Payload.
        bytes: Vec<u8>,
        /// Answer with [`crate::NetworkHandle::respond`]; `None` for [`Protocol::Consensus`]
        /// (already acknowledged).
        channel: Option<ChannelId>,
    },
    /// We are listening on a new address.
    ListenAddr {
        /// The address (without `/p2p/`).
        addr: Multiaddr,
    },
    /// A peer got a strike (malformed/oversized/invalid input, or the shell's
    /// [`crate::NetworkHandle::penalise`]).
    Penalised {
        /// The peer.
        peer: PeerId,
        /// Why.
        reason: String,
        /// Strikes so far (within the current ban window).
        strikes: u32,
        /// Whether this strike got the peer disconnected and banned.
        banned: bool,
    },
}

/// Userspace shaping of the inbound link from one peer (devnet fault injection; this is not
/// kernel netem): each gossip message or request arriving from that peer is dropped with
/// probability `loss`, otherwise handed to the shell `delay_ms` later (in arrival order).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LinkShape {
    /// Drop probability, 0.0..=1.0.
    pub loss: f64,
    /// Extra delivery delay in milliseconds (at most [`LinkShape::MAX_DELAY_MS`]).
    pub delay_ms: u64,
}

impl LinkShape {
    /// No shaping.
    pub const NONE: LinkShape = LinkShape {
        loss: 0.0,
        delay_ms: 0,
    };
    /// Largest accepted delay (one minute).
    pub const MAX_DELAY_MS: u64 = 60_000;

    /// Whether this shape changes nothing.
    pub fn is_none(&self) -> bool {
        self.loss == 0.0 && self.delay_ms == 0
    }

    /// Check the ranges: `loss` finite in 0..=1, `delay_ms` at most [`Self::MAX_DELAY_MS`].
    pub fn validate(&self) -> Result<(), String> {
        if !self.loss.is_finite() || !(0.0..=1.0).contains(&self.loss) {
            return Err(format!(
                "loss must be a probability between 0 and 1, got {}",
                self.loss
            ));
        }
        if self.delay_ms > Self::MAX_DELAY_MS {
            return Err(format!(
                "delay_ms must be at most {}, got {}",
                Self::MAX_DELAY_MS,
                self.delay_ms
            ));
        }
        Ok(())
    }
}
