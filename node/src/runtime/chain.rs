//! The chain side of the loop: commit decided or certified blocks in order, run the engine of
//! the epoch of the next height, admit PRE-PREPAREs only for blocks we executed and checked,
//! propose when we are the primary.
use std::time::Instant;

use tc_consensus::committee::{FollowError, RotationError, check_committed_block};
use tc_consensus::pbft::{Ed25519Verifier, Input, NULL_DIGEST, SignedMessage, Verifier as _};
use tc_types::{B256, CommitCertificate, NodeEvent};

use super::Node;
use crate::block::{self, Executed, Proposal};
use crate::consensus::{Effect, Route, pre_prepare};
use crate::events::now_ms;

/// Most held PRE-PREPAREs (heights above head + 1).
const MAX_HELD: usize = 256;
/// Certified blocks kept above our head while their parents arrive.
const MAX_POOL: usize = 4_096;

/// What to do with a received PRE-PREPARE.
enum Admit {
    Feed,
    Hold,
    Drop(String),
}

impl Node {
    pub(super) fn head(&self) -> (u64, B256) {
        self.head
    }

    /// Commit, switch engines, feed held messages, propose, until nothing changes.
    pub(super) fn advance(&mut self) {
        for _ in 0..10_000 {
            let mut changed = self.commit_next();
            changed |= self.run_epoch_engine();
            changed |= self.feed_held();
            changed |= self.try_propose();
            if !changed {
                break;
            }
        }
    }

    /// Commit the block at head + 1 if it is decided here or certified by a peer.
    fn commit_next(&mut self) -> bool {
        let (head, _) = self.head();
        let next = head + 1;
        if let Some(cert) = self.pbft.decided.get(&next).cloned() {
            if cert.block_hash == NULL_DIGEST {
                tracing::error!(
                    seq = next,
                    "PBFT decided a null request at the head: no block at this height; waiting for a peer's certified block"
                );
                self.pbft.decided.remove(&next);
                return false;
            }
            let exec = match self.proposals.remove(&cert.block_hash) {
                Some(e) => Some(e),
                None => match self.pool.remove(&next) {
                    Some((block, _, _)) if block.hash() == cert.block_hash => {
                        self.verify_block(block)
                    }
                    _ => None,
                },
            };
            return match exec {
                Some(e) => self.commit(e, cert, true),
                None => {
                    // Decided without the block (we missed the PRE-PREPARE): fetch it.
                    self.fetch_fast(next);
                    false
                }
            };
        }
        let Some((block, cert, checked)) = self.pool.remove(&next) else {
            return false;
        };
        let check = if checked {
            Ok(())
        } else {
            check_committed_block(
                &self.schedule,
                self.snail.tree(),
                &block.header,
                &cert,
                &Ed25519Verifier,
            )
        };
        match check {
            Ok(()) => match self.verify_block(block) {
                Some(e) => self.commit(e, cert, false),
                None => false,
            },
            Err(FollowError::Rotation(RotationError::Undetermined { .. })) => {
                // Our snail chain is behind: keep it, sync snail blocks.
                self.pool.insert(next, (block, cert, false));
                false
            }
            Err(e) => {
                tracing::warn!(number = next, error = %e, "certified block rejected");
                false
            }
        }
    }

    fn verify_block(&mut self, block: tc_types::FastBlock) -> Option<Executed> {
        let number = block.header.number;
        // A certified block was accepted by a quorum: its timestamp is not ours to judge.
        match block::verify(&self.chain, &self.mempool, block, self.chain_id, u64::MAX) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(number, error = %e, "block does not execute to its header");
                None
            }
        }
    }

    /// Persist a decided block, publish its events, feed engines, gossip it if we proposed it.
    fn commit(&mut self, e: Executed, cert: CommitCertificate, decided_here: bool) -> bool {
        if let Err(err) = block::commit(&self.chain, &mut self.mempool, &e, &cert) {
            tracing::error!(error = %err, "commit failed");
            return false;
        }
        let h = &e.block.header;
        let number = h.number;
        let hash = e.block.hash();
        self.head = (number, hash);
        tracing::info!(number, %hash, epoch = h.epoch, view = h.view, txs = e.block.transactions.len(), gas = h.gas_used, "fast block committed");
        self.last_commit_ms = now_ms();
        self.tracker
            .on_commit(h.epoch, number, Instant::now(), &self.metrics);
        self.metrics.blocks_committed.inc();
        self.metrics.txs_committed.inc_by(e.receipts.len() as u64);
        self.metrics
            .fast_head
            .set(i64::try_from(number).unwrap_or(i64::MAX));
        self.metrics
            .epoch
            .set(i64::try_from(h.epoch).unwrap_or(i64::MAX));
        for (hash, why) in &e.rejected {
            self.metrics.txs_rejected.inc();
            self.events.emit(NodeEvent::TxRejected {
                hash: Some(*hash),
                reason: why.to_string(),
            });
        }
        self.events.emit(NodeEvent::FastBlockCommitted {
            number,
            hash,
            epoch: h.epoch,
            view: h.view,
            proposer: h.proposer,
            tx_count: u32::try_from(e.receipts.len()).unwrap_or(u32::MAX),
            gas_used: h.gas_used,
            timestamp_ms: h.timestamp_ms,
            signers: cert.signers(),
        });
        if h.next_committee != B256::ZERO {
            self.events.emit(NodeEvent::RotationStarted {
                epoch: h.epoch + 1,
                last_height: number,
                next_committee: h.next_committee,
            });
        }
        if h.epoch > 0 && self.schedule.switch_height(h.epoch) == Some(number) {
            self.events.emit(NodeEvent::RotationDone {
                epoch: h.epoch,
                first_height: number,
            });
        }
        if h.proposer == self.key.public() {
            self.publish(
                tc_net::Topic::FastBlock,
                tc_wire::encode_certified_block(&e.block, &cert),
            );
        }
        let epoch = h.epoch;
        self.pbft.decided.retain(|s, _| *s > number);
        self.proposals.retain(|_, p| p.block.header.number > number);
        self.pool.retain(|n, _| *n > number);
        self.held.retain(|n, _| *n > number);
        if !decided_here && self.pbft.has_engine(epoch) {
            // A lagging member learns the decision from the certificate.
            self.step(epoch, Input::Certificate(cert));
        }
        true
    }

    /// Start the engine of the epoch of head + 1 if we are a member; stop older ones.
    fn run_epoch_engine(&mut self) -> bool {
        let (head, _) = self.head();
        let Some(epoch) = self.schedule.epoch_of(head + 1, self.snail.tree()) else {
            return false;
        };
        match self.pbft.retire_below(&self.chain, epoch) {
            Ok(old) if !old.is_empty() => {
                tracing::info!(?old, epoch, "left the committee of earlier epochs");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot delete an old consensus log"),
        }
        if self.pbft.has_engine(epoch) || self.pbft.is_retired(epoch) {
            return false;
        }
        let Some(committee) = self.schedule.committee(epoch).cloned() else {
            return false;
        };
        let member = committee.index_of(&self.key.public()).is_some();
        self.metrics.committee_member.set(i64::from(member));
        if !member {
            tracing::info!(epoch, "not a member of this epoch's committee: following");
            self.pbft.skip(epoch);
            return false;
        }
        let stored: Vec<CommitCertificate> = (committee.start_height..=head)
            .filter_map(|n| self.chain.certificate(n).ok().flatten())
            .collect();
        tracing::info!(
            epoch,
            members = committee.size(),
            start = committee.start_height,
            "starting PBFT for this epoch"
        );
        match self.pbft.start(&self.chain, committee, stored) {
            Ok((fx, buffered)) => {
                self.apply(fx);
                for m in buffered {
                    self.on_consensus(m);
                }
            }
            Err(e) => {
                tracing::error!(epoch, error = %e, "cannot start the PBFT engine");
                self.pbft.skip(epoch);
            }
        }
        true
    }

    /// Run one input through an engine and carry out its effects.
    pub(super) fn step(&mut self, epoch: u64, input: Input) {
        match self.pbft.step(&self.chain, epoch, input) {
            Ok(fx) => self.apply(fx),
            Err(e) => tracing::error!(epoch, error = %e, "consensus step failed"),
        }
    }

    /// Carry out engine effects: sends go to the outbound queue, events to the bus.
    pub(super) fn apply(&mut self, fx: Vec<Effect>) {
        let silent = self.byzantine == super::Byzantine::Silent;
        for f in fx {
            if silent && !matches!(f, Effect::Event(_)) {
                continue;
            }
            match f {
                Effect::Send { to, msg } => self.send_consensus(&[to], &msg),
                Effect::Broadcast(msg) => {
                    let others: Vec<tc_types::PubKey> = self
                        .schedule
                        .committee(msg.epoch)
                        .map(|c| {
                            c.members
                                .iter()
                                .map(|m| m.key)
                                .filter(|k| *k != self.key.public())
                                .collect()
                        })
                        .unwrap_or_default();
                    self.send_consensus(&others, &msg);
                }
                Effect::Event(e) => {
                    if let NodeEvent::Pbft(p) = &e {
                        if let tc_types::PbftEvent::ViewChangeStarted { .. } = p {
                            tracing::warn!(event = ?e, "view change");
                            self.metrics.view_changes.inc();
                        }
                        self.tracker.on_event(p, Instant::now(), &self.metrics);
                    }
                    self.events.emit(e);
                }
            }
        }
    }

    /// A consensus message from a peer (already decoded).
    pub(super) fn on_consensus(&mut self, msg: SignedMessage) {
        match self.pbft.route(&msg) {
            Route::Engine => {}
            Route::Buffered => return,
            Route::Dropped(why) => {
                tracing::trace!(epoch = msg.epoch, why, "consensus message dropped");
                return;
            }
        }
        if let Some((_, _, seq, _, _)) = pre_prepare(&msg) {
            match self.admit(&msg) {
                Admit::Feed => {}
                Admit::Hold => {
                    let held: usize = self.held.values().map(Vec::len).sum();
                    if held < MAX_HELD {
                        self.held.entry(seq).or_default().push(msg);
                    }
                    return;
                }
                Admit::Drop(why) => {
                    tracing::warn!(epoch = msg.epoch, seq, from = msg.from, reason = %why, "PRE-PREPARE refused");
                    self.events
                        .emit(NodeEvent::Pbft(tc_types::PbftEvent::MessageDropped {
                            from: Some(msg.from),
                            message: "pre-prepare".into(),
                            reason: why,
                        }));
                    return;
                }
            }
        }
        let epoch = msg.epoch;
        self.step(epoch, Input::Message(msg));
    }

    /// Check the block a PRE-PREPARE carries before the engine may prepare it.
    fn admit(&mut self, msg: &SignedMessage) -> Admit {
        let Some((epoch, _view, seq, digest, bytes)) = pre_prepare(msg) else {
            return Admit::Feed;
        };
        let (head, _) = self.head();
        if seq <= head || self.proposals.contains_key(&digest) {
            return Admit::Feed; // the engine sorts out old or already-checked proposals
        }
        if seq > head + 1 {
            return Admit::Hold;
        }
        // Signature first: never execute a block on behalf of a forged sender.
        let Some(committee) = self.schedule.committee(epoch) else {
            return Admit::Hold;
        };
        let Some(sender) = committee.member(msg.from) else {
            return Admit::Drop(format!("sender {} is not a member", msg.from));
        };
        if !Ed25519Verifier.verify(&sender.key, &msg.signing_bytes(), &msg.signature) {
            return Admit::Drop("invalid signature".into());
        }
        if bytes.is_empty() {
            return Admit::Drop("no block attached and the digest is unknown here".into());
        }
        let block = match tc_wire::decode_fast_block(bytes) {
            Ok(b) => b,
            Err(e) => return Admit::Drop(format!("block does not decode: {e}")),
        };
        if block.hash() != digest {
            return Admit::Drop(format!(
                "block hash {} is not the digest {digest}",
                block.hash()
            ));
        }
        if block.header.number != seq || block.header.epoch != epoch {
            return Admit::Drop(format!(
                "block #{} of epoch {} proposed as seq {seq} of epoch {epoch}",
                block.header.number, block.header.epoch
            ));
        }
        if block.header.proposer != sender.key {
            return Admit::Drop("block proposer is not the sender".into());
        }
        match self
            .schedule
            .check_fast_header(&block.header, self.snail.tree())
        {
            Ok(()) => {}
            Err(RotationError::Undetermined { .. }) => return Admit::Hold,
            Err(e) => return Admit::Drop(e.to_string()),
        }
        let limit = now_ms().saturating_add(self.cfg.consensus.max_future_drift_ms);
        match block::verify(&self.chain, &self.mempool, block, self.chain_id, limit) {
            Ok(e) => {
                self.proposals.insert(digest, e);
                Admit::Feed
            }
            Err(e) => Admit::Drop(e.to_string()),
        }
    }

    /// Feed PRE-PREPAREs held for head + 1.
    fn feed_held(&mut self) -> bool {
        let (head, _) = self.head();
        self.held.retain(|n, _| *n > head);
        let Some(msgs) = self.held.remove(&(head + 1)) else {
            return false;
        };
        let mut fed = false;
        for m in msgs {
            match self.admit(&m) {
                Admit::Feed => {
                    let epoch = m.epoch;
                    self.step(epoch, Input::Message(m));
                    fed = true;
                }
                Admit::Hold => self.held.entry(head + 1).or_default().push(m),
                Admit::Drop(why) => tracing::warn!(reason = %why, "held PRE-PREPARE refused"),
            }
        }
        fed
    }

    /// As the primary of the next height's epoch, build and propose a block when one is due.
    fn try_propose(&mut self) -> bool {
        let (head, _) = self.head();
        let seq = head + 1;
        let tree = self.snail.tree();
        let Some(epoch) = self.schedule.epoch_of(seq, tree) else {
            return false;
        };
        let Some((next, view)) = self.pbft.next_proposal(epoch) else {
            return false;
        };
        if next != seq
            || self.last_proposal == Some((epoch, view, seq))
            || self.byzantine == super::Byzantine::Withhold
        {
            return false;
        }
        let Some(next_committee) = self.schedule.next_committee_field(seq, tree) else {
            return false;
        };
        let since = now_ms().saturating_sub(self.last_commit_ms);
        let c = &self.cfg.consensus;
        let due = since >= c.empty_block_interval_ms
            || (since >= c.block_interval_ms && !self.mempool.is_empty());
        if !due {
            return false;
        }
        let p = Proposal {
            chain_id: self.chain_id,
            epoch,
            view,
            proposer: self.key.public(),
            coinbase: self.key.coinbase(),
            next_committee,
            max_txs: c.max_block_txs,
            now_ms: now_ms(),
        };
        let started = Instant::now();
        let exec = match block::build(&self.chain, &self.mempool, &p) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "cannot build a block");
                return false;
            }
        };
        let digest = exec.block.hash();
        let bytes = tc_wire::encode_fast_block(&exec.block);
        tracing::debug!(
            seq,
            epoch,
            view,
            txs = exec.block.transactions.len(),
            took_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "proposing"
        );
        if self.byzantine == super::Byzantine::Equivocate {
            self.equivocate(&p, epoch, view, seq);
        }
        self.proposals.insert(digest, exec);
        self.last_proposal = Some((epoch, view, seq));
        self.step(
            epoch,
            Input::Propose {
                seq,
                digest,
                block: bytes,
            },
        );
        true
    }

    /// Byzantine primary: sign a second, different block for `seq` and send it to half of the
    /// backups (the engine's PRE-PREPARE of the first block goes to everyone).
    fn equivocate(&mut self, p: &Proposal, epoch: u64, view: u64, seq: u64) {
        use tc_consensus::pbft::{Payload, Signer as _};
        let other = Proposal {
            now_ms: p.now_ms + 1,
            ..*p
        };
        let Ok(b) = block::build(&self.chain, &self.mempool, &other) else {
            return;
        };
        let Some(committee) = self.schedule.committee(epoch) else {
            return;
        };
        let Some(me) = committee.index_of(&self.key.public()) else {
            return;
        };
        let payload = Payload::PrePrepare {
            view,
            seq,
            digest: b.block.hash(),
            block: tc_wire::encode_fast_block(&b.block),
        };
        let signer = self.key.pbft_signer();
        let msg = SignedMessage {
            epoch,
            from: me,
            signature: signer.sign(&tc_consensus::pbft::signing_bytes(epoch, &payload)),
            payload,
        };
        let half: Vec<tc_types::PubKey> = committee
            .members
            .iter()
            .map(|m| m.key)
            .filter(|k| *k != self.key.public())
            .step_by(2)
            .collect();
        tracing::warn!(
            seq,
            view,
            to = half.len(),
            "equivocating: a second block for this seq"
        );
        self.send_consensus(&half, &msg);
    }

    /// Keep a certified block from a peer (gossip or sync) until it can be committed.
    pub(super) fn pool_block(
        &mut self,
        block: tc_types::FastBlock,
        cert: CommitCertificate,
        checked: bool,
    ) {
        let (head, _) = self.head();
        let n = block.header.number;
        if n > head && (self.pool.len() < MAX_POOL || n <= head + 64) {
            self.pool.entry(n).or_insert((block, cert, checked));
        }
    }

    /// Refresh the epoch schedule after the snail chain changed; persist and announce newly
    /// elected committees.
    pub(super) fn sync_schedule(&mut self) {
        let out = match self.schedule.sync(self.snail.tree()) {
            Ok(o) => o,
            Err(e) => {
                tracing::error!(error = %e, "epoch schedule cannot follow the snail chain");
                return;
            }
        };
        for e in out.retracted {
            tracing::warn!(
                epoch = e,
                "snail reorg deeper than lambda retracted an election"
            );
        }
        for c in out.elected {
            if let Err(e) = self.chain.put_committee(&c) {
                tracing::error!(error = %e, "cannot store committee");
            }
            let member = c.index_of(&self.key.public()).is_some();
            tracing::info!(
                epoch = c.epoch,
                start = c.start_height,
                members = c.size(),
                member,
                "committee elected"
            );
            self.events.emit(NodeEvent::CommitteeElected {
                epoch: c.epoch,
                members: c.members.clone(),
                seed: c.seed,
                start_height: c.start_height,
            });
            self.events.emit(NodeEvent::RotationScheduled {
                epoch: c.epoch,
                at_height: c.start_height,
            });
        }
    }
}
