//! [`NetworkHandle`]: the node shell's async API to the network task (bounded command channel,
//! one-shot replies).

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::config::MessageLimits;
use crate::error::NetError;
use crate::types::{ChannelId, LinkShape, MessageId, PeerInfo, Protocol, Topic, Validation};

/// Commands from handles to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        topic: Topic,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<MessageId, NetError>>,
    },
    Request {
        peer: PeerId,
        protocol: Protocol,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetError>>,
    },
    Respond {
        channel: ChannelId,
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Validation {
        id: MessageId,
        source: PeerId,
        verdict: Validation,
    },
    Penalise {
        peer: PeerId,
        reason: String,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Block {
        peer: PeerId,
        blocked: bool,
    },
    Shape {
        /// `None`: the default for every peer without its own shape.
        peer: Option<PeerId>,
        shape: LinkShape,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// Cheap-to-clone handle to a running network. All methods fail with [`NetError::Stopped`]
/// once the task has ended.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    pub(crate) tx: mpsc::Sender<Command>,
    pub(crate) local: PeerId,
    pub(crate) limits: MessageLimits,
}

impl NetworkHandle {
    async fn send(&self, cmd: Command) -> Result<(), NetError> {
        self.tx.send(cmd).await.map_err(|_| NetError::Stopped)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetError> {
        let (reply, rx) = oneshot::channel();
        self.send(make(reply)).await?;
        rx.await.map_err(|_| NetError::Stopped)
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local
    }

    /// Publish `bytes` on `topic` (checked against the topic's limit first).
    pub async fn publish(&self, topic: Topic, bytes: Vec<u8>) -> Result<MessageId, NetError> {
        let max = topic.limit(&self.limits);
        if bytes.len() > max {
            return Err(NetError::TooLarge {
                what: topic.name().into(),
                got: bytes.len(),
                max,
            });
        }
        self.ask(|reply| Command::Publish {
            topic,
            bytes,
            reply,
        })
        .await?
    }

    /// Send a request and wait for the response (bounded by `request_timeout_ms`). For
    /// [`Protocol::Consensus`] the response is the empty acknowledgement.
    pub async fn send_request(
        &self,
        peer: PeerId,
        protocol: Protocol,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>, NetError> {
        let max = protocol.request_limit(&self.limits);
        if bytes.len() > max {
            return Err(NetError::TooLarge {
                what: protocol.name().into(),
                got: bytes.len(),
                max,
            });
        }
        self.ask(|reply| Command::Request {
            peer,
            protocol,
            bytes,
            reply,
        })
        .await?
    }

    /// Answer an inbound [`Protocol::Sync`] request.
    pub async fn respond(&self, channel: ChannelId, bytes: Vec<u8>) -> Result<(), NetError> {
        if bytes.len() > self.limits.sync_response {
            return Err(NetError::TooLarge {
                what: Protocol::Sync.name().into(),
                got: bytes.len(),
                max: self.limits.sync_response,
            });
        }
        self.ask(|reply| Command::Respond {
            channel,
            bytes,
            reply,
        })
        .await?
    }

    /// Report the verdict on a gossip message (from [`crate::NetEvent::Gossip`]). Nothing is
    /// relayed before this; `Reject` also gives `source` a strike.
    pub async fn report_validation(
        &self,
        id: MessageId,
        source: PeerId,
        verdict: Validation,
    ) -> Result<(), NetError> {
        self.send(Command::Validation {
            id,
            source,
            verdict,
        })
        .await
    }

    /// Give `peer` a strike; after `ban_after_strikes` it is disconnected and banned for
    /// `ban_duration_secs`.
    pub async fn penalise(&self, peer: PeerId, reason: impl Into<String>) -> Result<(), NetError> {
        self.send(Command::Penalise {
            peer,
            reason: reason.into(),
        })
        .await
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        self.ask(|reply| Command::Peers { reply }).await
    }

    /// Addresses we listen on.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// Dial an address (with or without `/p2p/`); returns once the dial has started.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::Dial { addr, reply }).await?
    }

    /// Refuse all connections with `peer` (closing current ones) until unblocked.
    pub async fn block_peer(&self, peer: PeerId) -> Result<(), NetError> {
        self.send(Command::Block {
            peer,
            blocked: true,
        })
        .await
    }

    /// Undo [`Self::block_peer`] (also lifts a ban).
    pub async fn unblock_peer(&self, peer: PeerId) -> Result<(), NetError> {
        self.send(Command::Block {
            peer,
            blocked: false,
        })
        .await
    }

    /// Shape inbound traffic from `peer` (userspace loss and delay, see [`LinkShape`]);
    /// [`LinkShape::NONE`] clears it (then the all-links default applies).
    pub async fn shape_link(&self, peer: PeerId, shape: LinkShape) -> Result<(), NetError> {
        shape.validate().map_err(NetError::InvalidShape)?;
        self.send(Command::Shape {
            peer: Some(peer),
            shape,
        })
        .await
    }

    /// Shape inbound traffic from every peer that has no shape of its own (also peers that
    /// connect later); [`LinkShape::NONE`] clears the default.
    pub async fn shape_all_links(&self, shape: LinkShape) -> Result<(), NetError> {
        shape.validate().map_err(NetError::InvalidShape)?;
        self.send(Command::Shape { peer: None, shape }).await
    }

    /// Remove `peer`'s own shape (same as `shape_link(peer, LinkShape::NONE)`).
    pub async fn clear_link(&self, peer: PeerId) -> Result<(), NetError> {
        self.shape_link(peer, LinkShape::NONE).await
    }

    /// Stop the network task and wait for it.
    pub async fn shutdown(&self) -> Result<(), NetError> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }
}
