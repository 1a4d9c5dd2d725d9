//! Checkpoints and garbage collection (PBFT §4.3), retransmission on STATUS (§5.2) and state
//! transfer by commit certificates (§5.3, simplified: certificates instead of state pages).
use tc_types::{B256, CommitCertificate, MemberIndex, PbftEvent, Seq, View};

use super::crypto::{Signer, Verifier, verify_certificate};
use super::engine::{Engine, voted_other};
use super::io::{DropReason, Output, PersistRecord};
use super::message::{Payload, SignedMessage};

impl<S: Signer, V: Verifier> Engine<S, V> {
    // ----- PBFT §4.3 checkpoints and garbage collection -----

    pub(crate) fn on_checkpoint(&mut self, msg: SignedMessage, seq: Seq, state: B256) {
        if seq <= self.low {
            return; // already stable here; a retransmission
        }
        let limit = self.low + 4 * self.cfg.window;
        if seq > limit || !seq.is_multiple_of(self.cfg.checkpoint_interval) {
            let reason = DropReason::OutsideWatermarks {
                seq,
                low: self.low,
                high: limit,
            };
            return self.drop_msg(Some(msg.from), "checkpoint", reason);
        }
        let at = self.checkpoints.entry(seq).or_default();
        if let Some(other) = voted_other(at, msg.from, &state) {
            let reason = DropReason::Equivocation { seq, other };
            return self.drop_msg(Some(msg.from), "checkpoint", reason);
        }
        at.entry(state).or_default().insert(msg.from, msg);
        self.check_stable(seq);
    }

    /// A checkpoint is stable with a quorum of matching CHECKPOINTs and our own state at it.
    pub(crate) fn check_stable(&mut self, seq: Seq) {
        if seq <= self.low {
            return;
        }
        let Some(own) = self.states.get(&seq).copied() else {
            return;
        };
        let quorum = self.committee.quorum();
        let Some(proof) = self
            .checkpoints
            .get(&seq)
            .and_then(|m| m.get(&own))
            .filter(|m| m.len() >= quorum)
        else {
            return;
        };
        let proof: Vec<SignedMessage> = proof.values().take(quorum).cloned().collect();
        self.low = seq;
        self.stable_proof = proof;
        self.out
            .push(Output::Persist(PersistRecord::StableCheckpoint {
                seq,
                state: own,
            }));
        self.event(PbftEvent::CheckpointStable {
            epoch: self.committee.epoch,
            seq,
        });
        // Garbage collection below the stable checkpoint.
        self.log = self.log.split_off(&(seq + 1));
        self.checkpoints = self.checkpoints.split_off(&(seq + 1));
        self.states = self.states.split_off(&(seq + 1));
        self.own_checkpoints = self.own_checkpoints.split_off(&seq);
        self.voted.retain(|(_, s), _| *s > seq);
        self.next_seq = self.next_seq.max(seq + 1);
    }

    // ----- PBFT §5.2 retransmission / §5.3 state transfer -----

    pub(crate) fn on_status(
        &mut self,
        from: MemberIndex,
        view: View,
        changing: bool,
        last_decided: Seq,
        stable: Seq,
    ) {
        // Answer each peer at most once per STATUS period of ours: a peer cannot make us sign
        // and send certificates faster than that.
        if !self.status_answered.insert(from) {
            return;
        }
        // State transfer: certificates the peer lacks.
        let start = last_decided.saturating_add(1);
        let upto = self
            .last_decided
            .min(last_decided.saturating_add(self.cfg.window));
        let certs: Vec<CommitCertificate> = if start <= upto {
            self.certs
                .range(start..=upto)
                .map(|(_, c)| c.clone())
                .collect()
        } else {
            Vec::new()
        };
        for certificate in certs {
            let msg = self.sign(Payload::Decided { certificate });
            self.out.push(Output::Send { to: from, msg });
        }
        if stable < self.low
            && let Some(cp) = self.own_checkpoints.get(&self.low).cloned()
        {
            self.out.push(Output::Send { to: from, msg: cp });
        }
        if self.view_changing {
            // PBFT §4.4: resend our VIEW-CHANGE to a peer not past our target.
            if view <= self.view
                && let Some(vc) = self.my_view_change.clone()
            {
                self.out.push(Output::Send { to: from, msg: vc });
            }
            return;
        }
        if view < self.view || (view == self.view && changing) {
            if let Some(nv) = self.new_view_msg.clone() {
                self.out.push(Output::Send { to: from, msg: nv });
            }
        } else if view == self.view {
            // Resend our normal-case messages of this view for instances the peer has not decided.
            let mut resend = Vec::new();
            for (_, slot) in self.log.range(start..) {
                if let Some(pp) = &slot.pre_prepare
                    && pp.from == self.me
                {
                    resend.push(pp.clone());
                }
                resend.extend(slot.my_prepare.iter().cloned());
                resend.extend(slot.my_commit.iter().cloned());
            }
            for msg in resend {
                self.out.push(Output::Send { to: from, msg });
            }
        }
    }

    /// A certified decision (from a peer's DECIDED, or from the shell when `from` is us).
    pub(crate) fn on_decided(&mut self, from: MemberIndex, cert: CommitCertificate) {
        if cert.seq <= self.last_decided || self.committed.contains_key(&cert.seq) {
            return;
        }
        if cert.seq > self.last_decided + 4 * self.cfg.window + self.cfg.certificate_retention {
            let reason = DropReason::OutsideWatermarks {
                seq: cert.seq,
                low: self.low,
                high: self.last_decided,
            };
            return self.drop_msg(Some(from), "decided", reason);
        }
        if let Err(e) = verify_certificate(&self.committee, &cert, &self.verifier) {
            let reason = DropReason::Invalid {
                what: "certificate",
                detail: e.to_string(),
            };
            return self.drop_msg(Some(from), "decided", reason);
        }
        self.committed.insert(cert.seq, cert);
        self.deliver();
    }
}
