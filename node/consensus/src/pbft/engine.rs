//! The engine: state, `step`, message admission, the normal case (PBFT §4.2), in-order delivery,
//! checkpoints and garbage collection (§4.3) and retransmission (§5.2). View changes live in
//! [`super::view_change`].
use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use tc_types::{
    B256, CertSignature, CommitCertificate, Committee, MemberIndex, PbftEvent, PbftPhase, Seq, View,
};

use super::crypto::{Signer, Verifier};
use super::io::{Config, DropReason, Input, Output, PersistRecord, TimeoutKind};
use super::message::{NULL_DIGEST, Payload, PreparedProof, SignedMessage, signing_bytes};

/// Per-sequence-number log entry (PBFT §4.2). Per-view fields are reset on a view change; the
/// prepared certificate survives it (it is what VIEW-CHANGE carries).
#[derive(Clone, Debug, Default)]
pub(crate) struct Slot {
    pub(crate) pre_prepare: Option<SignedMessage>,
    pub(crate) digest: Option<B256>,
    pub(crate) prepares: BTreeMap<B256, BTreeMap<MemberIndex, SignedMessage>>,
    pub(crate) commits: BTreeMap<B256, BTreeMap<MemberIndex, SignedMessage>>,
    pub(crate) my_prepare: Option<SignedMessage>,
    pub(crate) my_commit: Option<SignedMessage>,
    pub(crate) prepared: bool,
    pub(crate) committed: bool,
    /// Highest-view prepared certificate.
    pub(crate) proof: Option<(View, PreparedProof)>,
}

impl Slot {
    fn reset_view(&mut self) {
        let proof = self.proof.take();
        *self = Slot {
            proof,
            ..Slot::default()
        };
    }
}

/// The PBFT engine of one committee member for one epoch. Pure: drive it with [`Engine::step`].
#[derive(Debug)]
pub struct Engine<S, V> {
    pub(crate) committee: Committee,
    pub(crate) me: MemberIndex,
    pub(crate) cfg: Config,
    pub(crate) signer: S,
    pub(crate) verifier: V,
    pub(crate) view: View,
    /// Waiting for the NEW-VIEW of `view`.
    pub(crate) view_changing: bool,
    pub(crate) consecutive_vc: u32,
    pub(crate) progress_gen: u64,
    /// Low watermark h = stable checkpoint.
    pub(crate) low: Seq,
    pub(crate) stable_proof: Vec<SignedMessage>,
    pub(crate) last_decided: Seq,
    pub(crate) state: B256,
    /// Own state digests at checkpoint seqs above `low`.
    pub(crate) states: BTreeMap<Seq, B256>,
    pub(crate) next_seq: Seq,
    pub(crate) log: BTreeMap<Seq, Slot>,
    /// Committed but not yet delivered (waiting for a gap below).
    pub(crate) committed: BTreeMap<Seq, CommitCertificate>,
    /// Delivered certificates kept for lagging peers.
    pub(crate) certs: BTreeMap<Seq, CommitCertificate>,
    pub(crate) checkpoints: BTreeMap<Seq, BTreeMap<B256, BTreeMap<MemberIndex, SignedMessage>>>,
    pub(crate) own_checkpoints: BTreeMap<Seq, SignedMessage>,
    pub(crate) view_changes: BTreeMap<View, BTreeMap<MemberIndex, SignedMessage>>,
    pub(crate) my_view_change: Option<SignedMessage>,
    pub(crate) new_view_msg: Option<SignedMessage>,
    pub(crate) future: BTreeMap<View, Vec<SignedMessage>>,
    pub(crate) future_len: usize,
    /// Votes recovered from persisted records: never vote otherwise at (view, seq).
    pub(crate) voted: BTreeMap<(View, Seq), B256>,
    /// Peers whose STATUS was answered since our last STATUS tick (rate limit, no clock needed).
    pub(crate) status_answered: std::collections::BTreeSet<MemberIndex>,
    pub(crate) out: Vec<Output>,
}

/// Why an engine could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The signer's key is not in the committee.
    #[error("signer key is not a member of the epoch {epoch} committee")]
    NotAMember {
        /// Epoch.
        epoch: u64,
    },
    /// Bad configuration.
    #[error("invalid config: {0}")]
    Config(&'static str),
}

impl<S: Signer, V: Verifier> Engine<S, V> {
    /// A fresh engine for `committee` (view 0, first seq `committee.start_height`).
    pub fn new(
        committee: Committee,
        signer: S,
        verifier: V,
        mut cfg: Config,
    ) -> Result<Self, EngineError> {
        let me = committee
            .index_of(&signer.public_key())
            .ok_or(EngineError::NotAMember {
                epoch: committee.epoch,
            })?;
        if cfg.checkpoint_interval == 0 || cfg.window == 0 || cfg.max_in_flight == 0 {
            return Err(EngineError::Config(
                "checkpoint_interval, window and max_in_flight must be > 0",
            ));
        }
        let k = cfg.checkpoint_interval;
        cfg.window = cfg.window.div_ceil(k).max(1) * k;
        cfg.max_in_flight = cfg.max_in_flight.min(cfg.window);
        let low = committee.start_height.saturating_sub(1);
        Ok(Self {
            committee,
            me,
            cfg,
            signer,
            verifier,
            view: 0,
            view_changing: false,
            consecutive_vc: 0,
            progress_gen: 0,
            low,
            stable_proof: Vec::new(),
            last_decided: low,
            state: B256::ZERO,
            states: BTreeMap::new(),
            next_seq: low + 1,
            log: BTreeMap::new(),
            committed: BTreeMap::new(),
            certs: BTreeMap::new(),
            checkpoints: BTreeMap::new(),
            own_checkpoints: BTreeMap::new(),
            view_changes: BTreeMap::new(),
            my_view_change: None,
            new_view_msg: None,
            future: BTreeMap::new(),
            future_len: 0,
            voted: BTreeMap::new(),
            status_answered: Default::default(),
            out: Vec::new(),
        })
    }

    /// An engine restarted after a crash, from the records it persisted (any order). It resumes
    /// in the highest persisted view (waiting for that view's NEW-VIEW when it is above 0) and
    /// never votes for another digest at a (view, seq) it recorded a vote for. Decisions restart
    /// at the epoch's first seq: the shell feeds its stored certificates back with
    /// [`Input::Certificate`] (and ignores `Decide`s at or below its chain head); peers supply
    /// the rest through STATUS.
    pub fn recover(
        committee: Committee,
        signer: S,
        verifier: V,
        cfg: Config,
        records: &[PersistRecord],
    ) -> Result<Self, EngineError> {
        let mut e = Self::new(committee, signer, verifier, cfg)?;
        for r in records {
            match r {
                PersistRecord::View { view } => e.view = e.view.max(*view),
                PersistRecord::Vote {
                    view, seq, digest, ..
                } => {
                    e.voted.insert((*view, *seq), *digest);
                }
                PersistRecord::StableCheckpoint { .. } => {}
            }
        }
        e.view_changing = e.view > 0;
        e.next_seq = e
            .voted
            .keys()
            .filter(|(v, _)| *v == e.view)
            .map(|(_, s)| s + 1)
            .max()
            .unwrap_or(e.next_seq)
            .max(e.next_seq);
        Ok(e)
    }

    /// This member's index.
    pub fn me(&self) -> MemberIndex {
        self.me
    }
    /// Current view (the target view while view-changing).
    pub fn view(&self) -> View {
        self.view
    }
    /// Whether a view change is in progress.
    pub fn is_view_changing(&self) -> bool {
        self.view_changing
    }
    /// Last seq decided in order.
    pub fn last_decided(&self) -> Seq {
        self.last_decided
    }
    /// Low watermark (last stable checkpoint).
    pub fn stable_checkpoint(&self) -> Seq {
        self.low
    }
    /// The committee served.
    pub fn committee(&self) -> &Committee {
        &self.committee
    }
    /// Running state digest after `last_decided` (what CHECKPOINT messages carry).
    pub fn state_digest(&self) -> B256 {
        self.state
    }
    /// Number of log slots held (for GC tests).
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// The seq the next [`Input::Propose`] must carry, when this member is the primary, no view
    /// change runs, and the watermarks and in-flight limit allow another instance.
    pub fn next_proposal_seq(&self) -> Option<Seq> {
        let primary = self.committee.primary(self.view)?;
        (primary == self.me
            && !self.view_changing
            && self.next_seq <= self.low + self.cfg.window
            && self.next_seq <= self.last_decided + self.cfg.max_in_flight)
            .then_some(self.next_seq)
    }

    /// Feed one input; carry out the returned outputs in order (see [`PersistRecord`]).
    pub fn step(&mut self, input: Input) -> Vec<Output> {
        match input {
            Input::Start => {
                if self.view_changing {
                    let kind = TimeoutKind::ViewChange { view: self.view };
                    self.schedule(kind, self.current_timeout());
                } else {
                    self.arm_progress();
                }
                self.schedule(TimeoutKind::Status, self.cfg.status_interval_ms);
            }
            Input::Propose { seq, digest, block } => self.on_propose(seq, digest, block),
            Input::Message(msg) => self.on_message(msg),
            Input::Certificate(certificate) => self.on_decided(self.me, certificate),
            Input::Timeout(kind) => self.on_timeout(kind),
        }
        std::mem::take(&mut self.out)
    }

    // ----- helpers -----

    pub(crate) fn sign(&self, payload: Payload) -> SignedMessage {
        let epoch = self.committee.epoch;
        let signature = self.signer.sign(&signing_bytes(epoch, &payload));
        SignedMessage {
            epoch,
            from: self.me,
            payload,
            signature,
        }
    }

    pub(crate) fn event(&mut self, e: PbftEvent) {
        self.out.push(Output::Event(e));
    }

    pub(crate) fn drop_msg(&mut self, from: Option<MemberIndex>, kind: &str, reason: DropReason) {
        self.event(PbftEvent::MessageDropped {
            from,
            message: kind.to_string(),
            reason: reason.to_string(),
        });
    }

    pub(crate) fn schedule(&mut self, kind: TimeoutKind, after_ms: u64) {
        self.out.push(Output::ScheduleTimeout { kind, after_ms });
    }

    pub(crate) fn arm_progress(&mut self) {
        self.progress_gen += 1;
        let kind = TimeoutKind::Progress {
            view: self.view,
            generation: self.progress_gen,
        };
        self.schedule(kind, self.current_timeout());
    }

    /// Timeout doubling on consecutive view changes (PBFT §4.5.2).
    pub(crate) fn current_timeout(&self) -> u64 {
        self.cfg
            .view_timeout_ms
            .saturating_mul(1u64 << self.consecutive_vc.min(16))
    }

    pub(crate) fn primary_of(&self, view: View) -> MemberIndex {
        self.committee.primary(view).unwrap_or(0)
    }

    pub(crate) fn high(&self) -> Seq {
        self.low + self.cfg.window
    }

    /// Signature check of a message whose sender is a member.
    pub(crate) fn verify_sig(&self, msg: &SignedMessage) -> bool {
        match self.committee.member(msg.from) {
            Some(m) => self
                .verifier
                .verify(&m.key, &msg.signing_bytes(), &msg.signature),
            None => false,
        }
    }

    // ----- inputs -----

    fn on_propose(&mut self, seq: Seq, digest: B256, block: Vec<u8>) {
        if self.next_proposal_seq() != Some(seq) || digest == NULL_DIGEST {
            let reason = DropReason::Invalid {
                what: "proposal",
                detail: format!(
                    "seq {seq} but next proposal seq is {:?} (or null digest)",
                    self.next_proposal_seq()
                ),
            };
            self.drop_msg(Some(self.me), "propose", reason);
            return;
        }
        // PBFT §4.2 normal case: the primary multicasts PRE-PREPARE.
        let pp = self.sign(Payload::PrePrepare {
            view: self.view,
            seq,
            digest,
            block,
        });
        self.next_seq = seq + 1;
        self.out.push(Output::Persist(PersistRecord::Vote {
            kind: "pre-prepare",
            view: self.view,
            seq,
            digest,
        }));
        self.out.push(Output::Broadcast(pp.clone()));
        self.accept_pre_prepare(pp, seq, digest);
    }

    fn on_timeout(&mut self, kind: TimeoutKind) {
        match kind {
            // PBFT §4.4: the timer expired in view v: start a view change to v+1.
            TimeoutKind::Progress { view, generation } => {
                if generation == self.progress_gen && view == self.view && !self.view_changing {
                    let reason =
                        format!("progress timeout waiting for seq {}", self.last_decided + 1);
                    self.start_view_change(self.view + 1, reason);
                }
            }
            // PBFT §4.5.2: no NEW-VIEW in time: move on to v+1 with a doubled timeout.
            TimeoutKind::ViewChange { view } => {
                if self.view_changing && view == self.view {
                    self.start_view_change(
                        view + 1,
                        format!("no new-view for view {view} in time"),
                    );
                }
            }
            // PBFT §5.2 retransmission: tell peers where we are.
            TimeoutKind::Status => {
                self.status_answered.clear();
                let status = self.sign(Payload::Status {
                    view: self.view,
                    view_changing: self.view_changing,
                    last_decided: self.last_decided,
                    stable_seq: self.low,
                });
                self.out.push(Output::Broadcast(status));
                self.schedule(TimeoutKind::Status, self.cfg.status_interval_ms);
            }
        }
    }

    // ----- PBFT §4.2 normal case -----

    pub(crate) fn on_pre_prepare(&mut self, msg: SignedMessage, seq: Seq, digest: B256) {
        if msg.from != self.primary_of(self.view) {
            return self.drop_msg(
                Some(msg.from),
                "pre-prepare",
                DropReason::WrongRole("pre-prepare not from the primary"),
            );
        }
        if digest == NULL_DIGEST {
            return self.drop_msg(Some(msg.from), "pre-prepare", DropReason::NullDigest);
        }
        if let Some(accepted) = self.log.get(&seq).and_then(|s| s.digest) {
            if accepted != digest {
                let reason = DropReason::ConflictingPrePrepare { seq, accepted };
                self.drop_msg(Some(msg.from), "pre-prepare", reason);
            }
            return;
        }
        self.accept_pre_prepare(msg, seq, digest);
    }

    /// Accept a PRE-PREPARE of the current view (also used for NEW-VIEW re-proposals).
    pub(crate) fn accept_pre_prepare(&mut self, pp: SignedMessage, seq: Seq, digest: B256) {
        let view = self.view;
        let is_primary = self.primary_of(view) == self.me;
        if let Some(other) = self
            .voted
            .get(&(view, seq))
            .filter(|d| **d != digest)
            .copied()
        {
            let reason = DropReason::Equivocation { seq, other };
            return self.drop_msg(Some(pp.from), "pre-prepare", reason);
        }
        let slot = self.log.entry(seq).or_default();
        if slot.digest.is_some() {
            return;
        }
        slot.digest = Some(digest);
        slot.pre_prepare = Some(pp);
        let epoch = self.committee.epoch;
        self.event(PbftEvent::PhaseEntered {
            epoch,
            view,
            seq,
            phase: PbftPhase::Prepare,
            digest,
        });
        if !is_primary {
            // PBFT §4.2: a backup accepting a PRE-PREPARE multicasts PREPARE.
            let prepare = self.sign(Payload::Prepare { view, seq, digest });
            self.out.push(Output::Persist(PersistRecord::Vote {
                kind: "prepare",
                view,
                seq,
                digest,
            }));
            self.out.push(Output::Broadcast(prepare.clone()));
            let slot = self.log.entry(seq).or_default();
            slot.prepares
                .entry(digest)
                .or_default()
                .insert(self.me, prepare.clone());
            slot.my_prepare = Some(prepare);
        }
        self.check_prepared(seq);
    }

    pub(crate) fn on_prepare(&mut self, msg: SignedMessage, seq: Seq, digest: B256) {
        if msg.from == self.primary_of(self.view) {
            return self.drop_msg(
                Some(msg.from),
                "prepare",
                DropReason::WrongRole("prepare from the primary"),
            );
        }
        let slot = self.log.entry(seq).or_default();
        if let Some(other) = voted_other(&slot.prepares, msg.from, &digest) {
            let reason = DropReason::Equivocation { seq, other };
            return self.drop_msg(Some(msg.from), "prepare", reason);
        }
        slot.prepares
            .entry(digest)
            .or_default()
            .insert(msg.from, msg);
        self.check_prepared(seq);
    }

    pub(crate) fn on_commit(&mut self, msg: SignedMessage, seq: Seq, digest: B256) {
        let slot = self.log.entry(seq).or_default();
        if let Some(other) = voted_other(&slot.commits, msg.from, &digest) {
            let reason = DropReason::Equivocation { seq, other };
            return self.drop_msg(Some(msg.from), "commit", reason);
        }
        slot.commits
            .entry(digest)
            .or_default()
            .insert(msg.from, msg);
        self.check_committed(seq);
    }

    /// PBFT §4.2: prepared = PRE-PREPARE + `quorum - 1` matching PREPAREs from distinct backups.
    fn check_prepared(&mut self, seq: Seq) {
        let quorum = self.committee.quorum();
        let primary = self.primary_of(self.view);
        let view = self.view;
        let Some(slot) = self.log.get_mut(&seq) else {
            return;
        };
        let (Some(digest), Some(pp), false) =
            (slot.digest, slot.pre_prepare.clone(), slot.prepared)
        else {
            return;
        };
        let prepares: Vec<SignedMessage> = slot
            .prepares
            .get(&digest)
            .map(|m| {
                m.iter()
                    .filter(|(i, _)| **i != primary)
                    .map(|(_, m)| m.clone())
                    .collect()
            })
            .unwrap_or_default();
        if prepares.len() + 1 < quorum {
            return;
        }
        slot.prepared = true;
        let votes = prepares.len() as u32 + 1;
        let proof = PreparedProof {
            pre_prepare: pp,
            prepares: prepares.into_iter().take(quorum - 1).collect(),
        };
        slot.proof = Some((view, proof));
        let epoch = self.committee.epoch;
        self.event(PbftEvent::QuorumReached {
            epoch,
            view,
            seq,
            phase: PbftPhase::Prepare,
            votes,
        });
        self.event(PbftEvent::PhaseEntered {
            epoch,
            view,
            seq,
            phase: PbftPhase::Commit,
            digest,
        });
        // PBFT §4.2: prepared ⇒ multicast COMMIT (signs commit_signing_bytes).
        let commit = self.sign(Payload::Commit { view, seq, digest });
        self.out.push(Output::Persist(PersistRecord::Vote {
            kind: "commit",
            view,
            seq,
            digest,
        }));
        self.out.push(Output::Broadcast(commit.clone()));
        if let Some(slot) = self.log.get_mut(&seq) {
            slot.commits
                .entry(digest)
                .or_default()
                .insert(self.me, commit.clone());
            slot.my_commit = Some(commit);
        }
        self.check_committed(seq);
    }

    /// PBFT §4.2: committed-local = prepared + a quorum of matching COMMITs.
    fn check_committed(&mut self, seq: Seq) {
        let quorum = self.committee.quorum();
        let view = self.view;
        let Some(slot) = self.log.get_mut(&seq) else {
            return;
        };
        let (Some(digest), true, false) = (slot.digest, slot.prepared, slot.committed) else {
            return;
        };
        let Some(commits) = slot.commits.get(&digest) else {
            return;
        };
        if commits.len() < quorum {
            return;
        }
        slot.committed = true;
        let signatures: Vec<CertSignature> = commits
            .values()
            .map(|m| CertSignature {
                signer: m.from,
                signature: m.signature,
            })
            .collect();
        let votes = signatures.len() as u32;
        let epoch = self.committee.epoch;
        let certificate = CommitCertificate {
            epoch,
            view,
            seq,
            block_hash: digest,
            signatures,
        };
        self.event(PbftEvent::QuorumReached {
            epoch,
            view,
            seq,
            phase: PbftPhase::Commit,
            votes,
        });
        self.event(PbftEvent::PhaseEntered {
            epoch,
            view,
            seq,
            phase: PbftPhase::Decided,
            digest,
        });
        if seq > self.last_decided {
            self.committed.entry(seq).or_insert(certificate);
            self.deliver();
        }
    }

    /// Deliver committed instances in seq order without gaps; checkpoint every K.
    pub(crate) fn deliver(&mut self) {
        let mut progressed = false;
        while let Some(cert) = self.committed.remove(&(self.last_decided + 1)) {
            let seq = cert.seq;
            let digest = cert.block_hash;
            self.last_decided = seq;
            let mut h = Sha256::new();
            h.update(self.state);
            h.update(seq.to_be_bytes());
            h.update(digest);
            self.state = B256::from_slice(&h.finalize());
            self.out.push(Output::Decide {
                seq,
                digest,
                certificate: cert.clone(),
            });
            self.certs.insert(seq, cert);
            progressed = true;
            if seq.is_multiple_of(self.cfg.checkpoint_interval) {
                // PBFT §4.3: multicast CHECKPOINT after executing seq divisible by K.
                self.states.insert(seq, self.state);
                let cp = self.sign(Payload::Checkpoint {
                    seq,
                    state: self.state,
                });
                self.out.push(Output::Broadcast(cp.clone()));
                self.own_checkpoints.insert(seq, cp.clone());
                self.checkpoints
                    .entry(seq)
                    .or_default()
                    .entry(self.state)
                    .or_default()
                    .insert(self.me, cp);
                self.check_stable(seq);
            }
        }
        if progressed {
            // PBFT §4.5.2: the timeout doubles until a request executes *in the new view*.
            // Decisions learnt from certificates while still changing view do not count, or
            // a member that ran ahead in views would keep short timeouts and stay ahead.
            if !self.view_changing {
                self.consecutive_vc = 0;
            }
            self.next_seq = self.next_seq.max(self.last_decided + 1);
            let keep_from = self
                .last_decided
                .saturating_sub(self.cfg.certificate_retention);
            self.certs = self.certs.split_off(&keep_from);
            if !self.view_changing {
                self.arm_progress();
            }
        }
    }

    pub(crate) fn reset_view_state(&mut self) {
        for slot in self.log.values_mut() {
            slot.reset_view();
        }
    }
}

/// The digest `from` already voted for in this slot, when it differs from `digest` (one vote per
/// member and (view, seq): a second, conflicting vote is equivocation and is not stored).
pub(crate) fn voted_other(
    votes: &BTreeMap<B256, BTreeMap<MemberIndex, SignedMessage>>,
    from: MemberIndex,
    digest: &B256,
) -> Option<B256> {
    votes
        .iter()
        .find(|(d, m)| *d != digest && m.contains_key(&from))
        .map(|(d, _)| *d)
}
