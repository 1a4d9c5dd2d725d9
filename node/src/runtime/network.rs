//! The network side of the loop: tc-net events in, an ordered outbound queue out, gossip
//! validation, the sync client, and peer bookkeeping.
//!
//! Identity: a node's libp2p key *is* its ed25519 consensus key, so the peer id of any
//! committee member follows from the committee (no directory needed). Consensus messages go
//! point-to-point over `/tc/consensus/1` (a broadcast is one request per other member; lost
//! ones are covered by the engine's STATUS retransmission). Transactions, certified fast blocks
//! and snail blocks are gossiped and relayed only after they validate here.
use std::time::{Duration, Instant};

use tc_net::{NetEvent, NetworkHandle, PeerId, Protocol, Topic, Validation};
use tc_types::{NodeEvent, PubKey, SnailBlock};
use tc_wire::{ChainStatus, SyncRequest, SyncResponse};
use tokio::sync::{Semaphore, mpsc};

use super::Node;
use crate::events::now_ms;
use crate::snail::SnailChainError;

/// Outbound work for the network task (kept in order for publishes).
#[derive(Debug)]
pub(super) enum Out {
    Publish(Topic, Vec<u8>),
    Consensus(PeerId, Vec<u8>),
    Validation(tc_net::MessageId, PeerId, Validation),
    Penalise(PeerId, String),
    Respond(tc_net::ChannelId, Vec<u8>),
    Sync(PeerId, SyncRequest),
}

/// Results of asynchronous requests, back into the loop.
#[derive(Debug)]
pub(super) enum Internal {
    Sync {
        peer: PeerId,
        request: SyncRequest,
        result: Result<SyncResponse, String>,
    },
}

/// The running network: its handle and our outbound queue.
#[derive(Debug)]
pub(super) struct Net {
    pub(super) handle: NetworkHandle,
    out: mpsc::Sender<Out>,
}

/// What we know of a connected peer.
#[derive(Debug, Default, Clone)]
pub(super) struct PeerState {
    /// Address of the connection.
    pub(super) addr: String,
    pub(super) status: Option<ChainStatus>,
    pub(super) rtt: Option<Duration>,
}

/// Most outbound items queued; beyond this they are dropped (PBFT retransmits).
const OUT_QUEUE: usize = 16_384;
/// Most concurrent outbound requests.
const MAX_REQUESTS: usize = 256;
/// How long an outstanding fetch blocks the next one.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Blocks asked per range request.
const FETCH_FAST: u32 = 128;
const FETCH_SNAIL: u32 = 128;
/// Most snail orphans kept.
const MAX_ORPHANS: usize = 512;

/// The peer id of the node with this consensus key.
pub(super) fn peer_of(key: &PubKey) -> Option<PeerId> {
    tc_net::peer_id_of_ed25519(&key.0)
}

async fn outbound(
    handle: NetworkHandle,
    mut rx: mpsc::Receiver<Out>,
    internal: mpsc::Sender<Internal>,
) {
    let permits = std::sync::Arc::new(Semaphore::new(MAX_REQUESTS));
    while let Some(o) = rx.recv().await {
        match o {
            Out::Publish(topic, bytes) => {
                if let Err(e) = handle.publish(topic, bytes).await {
                    tracing::debug!(%topic, error = %e, "publish failed");
                }
            }
            Out::Validation(id, source, verdict) => {
                let _ = handle.report_validation(id, source, verdict).await;
            }
            Out::Penalise(peer, reason) => {
                let _ = handle.penalise(peer, reason).await;
            }
            Out::Respond(channel, bytes) => {
                let _ = handle.respond(channel, bytes).await;
            }
            Out::Consensus(peer, bytes) => {
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    tracing::debug!(%peer, "too many consensus requests in flight; dropped (PBFT retransmits)");
                    continue;
                };
                let h = handle.clone();
                tokio::spawn(async move {
                    if let Err(e) = h.send_request(peer, Protocol::Consensus, bytes).await {
                        tracing::debug!(%peer, error = %e, "consensus message not delivered");
                    }
                    drop(permit);
                });
            }
            Out::Sync(peer, request) => {
                let h = handle.clone();
                let internal = internal.clone();
                tokio::spawn(async move {
                    let bytes = tc_wire::encode_sync_request(&request);
                    let result = match h.send_request(peer, Protocol::Sync, bytes).await {
                        Ok(resp) => tc_wire::decode_sync_response(&resp)
                            .map_err(|e| format!("malformed sync response: {e}")),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = internal
                        .send(Internal::Sync {
                            peer,
                            request,
                            result,
                        })
                        .await;
                });
            }
        }
    }
}

impl Node {
    /// Start libp2p with the consensus key as identity and the outbound queue.
    pub(super) fn start_network(&mut self) -> anyhow::Result<mpsc::Receiver<NetEvent>> {
        let keypair = tc_net::keypair_from_secret(self.key.signing_key().to_bytes())
            .map_err(|e| anyhow::anyhow!("network identity: {e}"))?;
        let (handle, events) = tc_net::Network::start(&self.cfg.network, keypair)
            .map_err(|e| anyhow::anyhow!("network: {e}"))?;
        tracing::info!(peer_id = %handle.local_peer_id(), "network started");
        let (tx, rx) = mpsc::channel(OUT_QUEUE);
        tokio::spawn(outbound(handle.clone(), rx, self.internal.0.clone()));
        self.net = Some(Net { handle, out: tx });
        Ok(events)
    }

    fn out(&self, o: Out) {
        if let Some(net) = &self.net
            && let Err(e) = net.out.try_send(o)
        {
            tracing::debug!(error = %e, "outbound queue full; dropped");
        }
    }

    /// Gossip `bytes` on `topic`.
    pub(super) fn publish(&self, topic: Topic, bytes: Vec<u8>) {
        self.out(Out::Publish(topic, bytes));
    }

    /// Send a consensus message to each of `to` (consensus keys).
    pub(super) fn send_consensus(&self, to: &[PubKey], msg: &tc_consensus::pbft::SignedMessage) {
        if to.is_empty() {
            return;
        }
        let bytes = tc_wire::encode_consensus(msg);
        for key in to {
            if let Some(peer) = peer_of(key) {
                self.out(Out::Consensus(peer, bytes.clone()));
            }
        }
    }

    fn penalise(&self, peer: PeerId, reason: String) {
        tracing::warn!(%peer, %reason, "peer sent invalid data");
        self.metrics.peer_penalties.inc();
        self.events.emit(NodeEvent::PeerPenalized {
            peer: peer.to_string(),
            reason: reason.clone(),
        });
        self.out(Out::Penalise(peer, reason));
    }

    /// One network event.
    pub(super) fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::PeerConnected { peer, addr } => {
                tracing::info!(%peer, %addr, "peer connected");
                self.peers.insert(
                    peer,
                    PeerState {
                        addr: addr.to_string(),
                        ..PeerState::default()
                    },
                );
                self.metrics
                    .peers
                    .set(i64::try_from(self.peers.len()).unwrap_or(i64::MAX));
                self.events.emit(NodeEvent::PeerConnected {
                    peer: peer.to_string(),
                });
                // Learn where it stands right away.
                self.out(Out::Sync(peer, SyncRequest::Status));
            }
            NetEvent::PeerDisconnected { peer } => {
                tracing::info!(%peer, "peer disconnected");
                self.peers.remove(&peer);
                self.metrics.remove_peer(&peer.to_string());
                self.metrics
                    .peers
                    .set(i64::try_from(self.peers.len()).unwrap_or(i64::MAX));
                self.events.emit(NodeEvent::PeerDisconnected {
                    peer: peer.to_string(),
                });
            }
            NetEvent::PeerRtt { peer, rtt } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.rtt = Some(rtt);
                    self.metrics.set_peer_rtt(&peer.to_string(), rtt);
                }
                self.events.emit(NodeEvent::PeerRtt {
                    peer: peer.to_string(),
                    rtt_us: u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX),
                });
            }
            NetEvent::Gossip {
                topic,
                bytes,
                source,
                id,
                ..
            } => {
                let verdict = self.on_gossip(topic, &bytes, source);
                if let Validation::Reject(reason) = &verdict {
                    tracing::warn!(%source, %topic, %reason, "gossip rejected");
                    self.metrics.peer_penalties.inc();
                    self.events.emit(NodeEvent::PeerPenalized {
                        peer: source.to_string(),
                        reason: format!("{topic}: {reason}"),
                    });
                }
                self.out(Out::Validation(id, source, verdict));
            }
            NetEvent::Request {
                peer,
                protocol: Protocol::Consensus,
                bytes,
                ..
            } => match tc_wire::decode_consensus(&bytes) {
                Ok(msg) => self.on_consensus(msg),
                Err(e) => self.penalise(peer, format!("malformed consensus message: {e}")),
            },
            NetEvent::Request {
                peer,
                protocol: Protocol::Sync,
                bytes,
                channel,
            } => {
                let Some(channel) = channel else { return };
                let resp = match tc_wire::decode_sync_request(&bytes) {
                    Ok(req) => {
                        crate::sync::serve(&self.chain, &req, self.cfg.network.limits.sync_response)
                    }
                    Err(e) => {
                        let reason = format!("malformed sync request: {e}");
                        self.penalise(peer, reason.clone());
                        SyncResponse::Error(reason)
                    }
                };
                self.out(Out::Respond(channel, tc_wire::encode_sync_response(&resp)));
            }
            NetEvent::ListenAddr { addr } => tracing::info!(%addr, "listening (p2p)"),
            NetEvent::Penalised {
                peer,
                reason,
                strikes,
                banned,
            } => {
                tracing::warn!(%peer, %reason, strikes, banned, "peer penalised");
                if banned {
                    self.events.emit(NodeEvent::PeerPenalized {
                        peer: peer.to_string(),
                        reason: format!("banned after {strikes} strikes: {reason}"),
                    });
                }
            }
        }
    }

    fn on_gossip(&mut self, topic: Topic, bytes: &[u8], source: PeerId) -> Validation {
        match topic {
            Topic::Tx => match self.submit(bytes) {
                Ok(_) => Validation::Accept,
                Err(tc_types::TxError::Decode(e)) => {
                    Validation::Reject(format!("transaction does not decode: {e}"))
                }
                Err(tc_types::TxError::BadSignature) => {
                    Validation::Reject("transaction signature invalid".into())
                }
                Err(_) => Validation::Ignore,
            },
            Topic::FastBlock => match tc_wire::decode_certified_block(bytes) {
                Err(e) => Validation::Reject(format!("certified block does not decode: {e}")),
                Ok((block, cert)) => {
                    let (head, _) = self.head();
                    let n = block.header.number;
                    if n <= head {
                        return Validation::Ignore;
                    }
                    match tc_consensus::committee::check_committed_block(
                        &self.schedule,
                        self.snail.tree(),
                        &block.header,
                        &cert,
                        &tc_consensus::pbft::Ed25519Verifier,
                    ) {
                        Ok(()) => {
                            self.pool_block(block, cert, true);
                            Validation::Accept
                        }
                        Err(tc_consensus::committee::FollowError::Rotation(
                            tc_consensus::committee::RotationError::Undetermined { .. },
                        )) => {
                            self.pool_block(block, cert, false);
                            self.fetch_snail(source);
                            Validation::Ignore
                        }
                        Err(e) => Validation::Reject(e.to_string()),
                    }
                }
            },
            Topic::SnailBlock => match tc_wire::decode_snail_block(bytes) {
                Err(e) => Validation::Reject(format!("snail block does not decode: {e}")),
                Ok(block) => self.import_snail(block, Some(source)),
            },
            Topic::Consensus => Validation::Ignore,
        }
    }

    /// Import a received snail block (and any orphans it unblocks).
    fn import_snail(&mut self, block: SnailBlock, source: Option<PeerId>) -> Validation {
        let mut todo = vec![block];
        let mut first = Validation::Ignore;
        let mut changed = false;
        let mut is_first = true;
        while let Some(b) = todo.pop() {
            let hash = b.header.hash();
            let verdict = match self.snail.import(&self.chain, b.clone(), now_ms(), false) {
                Ok(events) => {
                    if !events.is_empty() {
                        changed = true;
                        if let Some(NodeEvent::SnailBlockImported { number, .. }) = events.first() {
                            self.metrics
                                .snail_head
                                .set(i64::try_from(*number).unwrap_or(i64::MAX));
                        }
                    }
                    for e in events {
                        self.events.emit(e);
                    }
                    if let Some(children) = self.orphans.remove(&hash) {
                        todo.extend(children);
                    }
                    Validation::Accept
                }
                Err(SnailChainError::UnknownParent { parent, .. }) => {
                    let n: usize = self.orphans.values().map(Vec::len).sum();
                    if n < MAX_ORPHANS {
                        self.orphans.entry(parent).or_default().push(b);
                    }
                    if let Some(p) = source {
                        self.fetch_snail(p);
                    }
                    Validation::Ignore
                }
                Err(SnailChainError::Invalid { reason, .. }) => Validation::Reject(reason),
                Err(e) => {
                    tracing::error!(error = %e, "snail import failed");
                    Validation::Ignore
                }
            };
            if is_first {
                first = verdict;
                is_first = false;
            }
        }
        if changed {
            self.sync_schedule();
        }
        first
    }

    /// Ask the next connected peer for its status.
    pub(super) fn sync_poll(&mut self) {
        if self.peers.is_empty() {
            return;
        }
        self.sync_cursor = self.sync_cursor.wrapping_add(1);
        let i = self.sync_cursor % self.peers.len();
        if let Some(peer) = self.peers.keys().nth(i).copied() {
            self.out(Out::Sync(peer, SyncRequest::Status));
        }
    }

    fn fetch_due(at: Option<Instant>) -> bool {
        at.is_none_or(|t| t.elapsed() > FETCH_TIMEOUT)
    }

    /// Fetch certified fast blocks from `next` from a peer that has them.
    pub(super) fn fetch_fast(&mut self, next: u64) {
        if !Self::fetch_due(self.fetching_fast) {
            return;
        }
        let peer = self
            .peers
            .iter()
            .filter(|(_, s)| s.status.as_ref().is_some_and(|st| st.fast_head >= next))
            .map(|(p, _)| *p)
            .next()
            .or_else(|| self.peers.keys().next().copied());
        if let Some(peer) = peer {
            self.fetching_fast = Some(Instant::now());
            self.out(Out::Sync(
                peer,
                SyncRequest::FastBlocks {
                    from: next,
                    count: FETCH_FAST,
                },
            ));
        }
    }

    /// Fetch canonical snail blocks above (a little below) our head from `peer`.
    fn fetch_snail(&mut self, peer: PeerId) {
        if !Self::fetch_due(self.fetching_snail) {
            return;
        }
        let (head, _) = self.snail.head();
        self.fetching_snail = Some(Instant::now());
        self.out(Out::Sync(
            peer,
            SyncRequest::SnailBlocks {
                from: head.saturating_sub(8).max(1),
                count: FETCH_SNAIL,
            },
        ));
    }

    /// A sync answer.
    pub(super) fn on_internal(&mut self, msg: Internal) {
        let Internal::Sync {
            peer,
            request,
            result,
        } = msg;
        match request {
            SyncRequest::FastBlocks { .. } => self.fetching_fast = None,
            SyncRequest::SnailBlocks { .. } => self.fetching_snail = None,
            SyncRequest::Status => {}
        }
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "sync request failed");
                return;
            }
        };
        match resp {
            SyncResponse::Status(st) => {
                if st.genesis_hash != self.genesis_hash {
                    self.penalise(
                        peer,
                        format!("on another chain (genesis {})", st.genesis_hash),
                    );
                    return;
                }
                let (head, _) = self.head();
                let (snail_head, snail_hash) = self.snail.head();
                let fast_behind = st.fast_head > head;
                let snail_behind = st.snail_head > snail_head
                    || (st.snail_head == snail_head
                        && st.snail_head_hash != snail_hash
                        && self.snail.tree().block(&st.snail_head_hash).is_none());
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.status = Some(st);
                }
                if snail_behind {
                    self.fetch_snail(peer);
                }
                if fast_behind {
                    self.fetch_fast(head + 1);
                }
            }
            SyncResponse::FastBlocks(blocks) => {
                tracing::debug!(%peer, n = blocks.len(), "fast blocks received");
                for (block, cert) in blocks {
                    self.pool_block(block, cert, false);
                }
            }
            SyncResponse::SnailBlocks(blocks) => {
                tracing::debug!(%peer, n = blocks.len(), "snail blocks received");
                let mut unknown_parent = false;
                for b in blocks {
                    let known = self.snail.tree().block(&b.header.parent_hash).is_some();
                    unknown_parent |= !known && self.orphans.is_empty();
                    if let Validation::Reject(reason) = self.import_snail(b, None) {
                        self.penalise(peer, format!("sync: invalid snail block: {reason}"));
                        break;
                    }
                }
                if unknown_parent {
                    // Forked deeper than we asked: go further back next time.
                    let (head, _) = self.snail.head();
                    self.fetching_snail = Some(Instant::now());
                    self.out(Out::Sync(
                        peer,
                        SyncRequest::SnailBlocks {
                            from: head.saturating_sub(256).max(1),
                            count: FETCH_SNAIL,
                        },
                    ));
                }
            }
            SyncResponse::Error(e) => {
                tracing::debug!(%peer, error = %e, "peer could not serve sync")
            }
        }
    }
}
