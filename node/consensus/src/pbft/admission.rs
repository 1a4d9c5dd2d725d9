//! Admission of received messages: epoch, membership, view and watermark checks, signature
//! verification (each failure reported as a drop with its reason), dispatch to the PBFT handlers,
//! and the bounded buffer of messages for views not yet installed.
use tc_types::View;

use super::crypto::{Signer, Verifier};
use super::engine::Engine;
use super::io::DropReason;
use super::message::{Payload, SignedMessage};

impl<S: Signer, V: Verifier> Engine<S, V> {
    /// Admission: epoch, membership, cheap view/watermark checks, then the signature.
    pub(crate) fn on_message(&mut self, msg: SignedMessage) {
        let kind = msg.payload.kind();
        if msg.epoch != self.committee.epoch {
            let reason = DropReason::WrongEpoch {
                got: msg.epoch,
                expected: self.committee.epoch,
            };
            return self.drop_msg(Some(msg.from), kind, reason);
        }
        if self.committee.member(msg.from).is_none() {
            return self.drop_msg(
                Some(msg.from),
                kind,
                DropReason::NotMember { from: msg.from },
            );
        }
        if msg.from == self.me {
            return; // our own message echoed back: nothing to learn
        }
        if let Some((view, seq, _)) = msg.payload.normal_view_seq() {
            if view < self.view {
                let reason = DropReason::StaleView {
                    view,
                    current: self.view,
                };
                return self.drop_msg(Some(msg.from), kind, reason);
            }
            if view > self.view || self.view_changing {
                if !self.verify_sig(&msg) {
                    return self.drop_msg(Some(msg.from), kind, DropReason::BadSignature);
                }
                return self.buffer_future(view, msg);
            }
            if seq <= self.low || seq > self.high() {
                let reason = DropReason::OutsideWatermarks {
                    seq,
                    low: self.low,
                    high: self.high(),
                };
                return self.drop_msg(Some(msg.from), kind, reason);
            }
        }
        if !self.verify_sig(&msg) {
            return self.drop_msg(Some(msg.from), kind, DropReason::BadSignature);
        }
        let from = msg.from;
        match msg.payload {
            Payload::PrePrepare { seq, digest, .. } => self.on_pre_prepare(msg, seq, digest),
            Payload::Prepare { seq, digest, .. } => self.on_prepare(msg, seq, digest),
            Payload::Commit { seq, digest, .. } => self.on_commit(msg, seq, digest),
            Payload::Checkpoint { seq, state } => self.on_checkpoint(msg, seq, state),
            Payload::ViewChange { new_view, .. } => self.on_view_change(msg, new_view),
            Payload::NewView { view, .. } => self.on_new_view(msg, view),
            Payload::Status {
                view,
                view_changing,
                last_decided,
                stable_seq,
            } => self.on_status(from, view, view_changing, last_decided, stable_seq),
            Payload::Decided { certificate } => self.on_decided(from, certificate),
        }
    }

    /// Buffer a normal-case message of a view not yet installed. Bounded overall and per sender
    /// (a byzantine member cannot crowd out the others), and only for views not far ahead.
    pub(crate) fn buffer_future(&mut self, view: View, msg: SignedMessage) {
        let per_sender = self.cfg.future_buffer / self.committee.size().max(1);
        let from = msg.from;
        let mine = || {
            self.future
                .values()
                .flatten()
                .filter(|m| m.from == from)
                .count()
        };
        if self.future_len >= self.cfg.future_buffer
            || view > self.view.saturating_add(super::view_change::MAX_VIEW_AHEAD)
            || mine() >= per_sender
        {
            let kind = msg.payload.kind();
            return self.drop_msg(
                Some(msg.from),
                kind,
                DropReason::FutureViewBufferFull { view },
            );
        }
        self.future_len += 1;
        self.future.entry(view).or_default().push(msg);
    }

    /// Re-admit buffered messages of the view just entered; forget older ones.
    pub(crate) fn replay_future(&mut self) {
        let keep = self.future.split_off(&(self.view + 1));
        let old = std::mem::replace(&mut self.future, keep);
        self.future_len = self.future.values().map(Vec::len).sum();
        if let Some(msgs) = old
            .into_iter()
            .find_map(|(v, m)| (v == self.view).then_some(m))
        {
            for m in msgs {
                self.on_message(m);
            }
        }
    }
}
