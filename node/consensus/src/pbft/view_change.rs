//! View changes (PBFT §4.4, liveness rules §4.5.2): VIEW-CHANGE with the stable checkpoint proof
//! and prepared certificates, NEW-VIEW with the re-proposals "O" (null requests for gaps).
use std::collections::{BTreeMap, BTreeSet};

use tc_types::{B256, PbftEvent, Seq, View};

use super::crypto::{Signer, Verifier};
use super::engine::Engine;
use super::io::{DropReason, Output, PersistRecord, TimeoutKind};
use super::message::{NULL_DIGEST, Payload, PreparedProof, SignedMessage};

/// How far above the current view a VIEW-CHANGE may aim before it is dropped (bounds memory).
pub(crate) const MAX_VIEW_AHEAD: View = 1024;

/// What a NEW-VIEW is computed from: `min-s`, its checkpoint proof and `O` as (seq, digest).
pub(crate) struct NewViewPlan {
    pub(crate) min_s: Seq,
    pub(crate) checkpoint_proof: Vec<SignedMessage>,
    pub(crate) proposals: Vec<(Seq, B256)>,
}

impl<S: Signer, V: Verifier> Engine<S, V> {
    /// PBFT §4.4: stop accepting normal-case messages of the current view and multicast
    /// VIEW-CHANGE(target, h, C, P).
    pub(crate) fn start_view_change(&mut self, target: View, reason: String) {
        if target <= self.view {
            return;
        }
        let epoch = self.committee.epoch;
        self.event(PbftEvent::ViewChangeStarted {
            epoch,
            from_view: self.view,
            to_view: target,
            reason,
        });
        self.view = target;
        self.view_changing = true;
        self.new_view_msg = None;
        self.reset_view_state();
        self.out
            .push(Output::Persist(PersistRecord::View { view: target }));
        let prepared: Vec<PreparedProof> = self
            .log
            .range(self.low + 1..)
            .filter_map(|(_, s)| s.proof.as_ref().map(|(_, p)| p.clone()))
            .collect();
        let vc = self.sign(Payload::ViewChange {
            new_view: target,
            stable_seq: self.low,
            checkpoint_proof: self.stable_proof.clone(),
            prepared,
        });
        self.out.push(Output::Broadcast(vc.clone()));
        self.view_changes = self.view_changes.split_off(&target);
        self.view_changes
            .entry(target)
            .or_default()
            .insert(self.me, vc.clone());
        self.my_view_change = Some(vc);
        let timeout = self.current_timeout();
        self.consecutive_vc = self.consecutive_vc.saturating_add(1);
        self.schedule(TimeoutKind::ViewChange { view: target }, timeout);
        self.try_new_view();
    }

    /// Validate a VIEW-CHANGE's contents (and its own signature when `verify_outer`).
    pub(crate) fn check_view_change(
        &self,
        msg: &SignedMessage,
        verify_outer: bool,
    ) -> Result<(), String> {
        let Payload::ViewChange {
            new_view,
            stable_seq,
            checkpoint_proof,
            prepared,
        } = &msg.payload
        else {
            return Err("not a view-change".into());
        };
        if msg.epoch != self.committee.epoch || self.committee.member(msg.from).is_none() {
            return Err("wrong epoch or sender".into());
        }
        if verify_outer && !self.verify_sig(msg) {
            return Err("bad signature".into());
        }
        let quorum = self.committee.quorum();
        let initial = self.committee.start_height.saturating_sub(1);
        if *stable_seq < initial {
            return Err(format!("stable seq {stable_seq} below the epoch start"));
        }
        if *stable_seq > initial {
            let mut senders = BTreeSet::new();
            let mut agreed: Option<B256> = None;
            for cp in checkpoint_proof {
                let Payload::Checkpoint { seq, state } = &cp.payload else {
                    return Err("checkpoint proof holds a non-checkpoint".into());
                };
                if *seq != *stable_seq
                    || agreed.is_some_and(|a| a != *state)
                    || cp.epoch != msg.epoch
                {
                    return Err("checkpoint proof does not match".into());
                }
                agreed = Some(*state);
                if !self.verify_sig(cp) {
                    return Err("bad checkpoint signature".into());
                }
                senders.insert(cp.from);
            }
            if senders.len() < quorum {
                return Err(format!(
                    "checkpoint proof has {} signers, quorum {quorum}",
                    senders.len()
                ));
            }
        }
        let mut seen = BTreeSet::new();
        for p in prepared {
            let Payload::PrePrepare {
                view: pv,
                seq,
                digest,
                ..
            } = &p.pre_prepare.payload
            else {
                return Err("prepared proof without pre-prepare".into());
            };
            if *pv >= *new_view
                || *seq <= *stable_seq
                || *seq > stable_seq.saturating_add(self.cfg.window)
                || !seen.insert(*seq)
            {
                return Err(format!(
                    "prepared proof for seq {seq} view {pv} out of range"
                ));
            }
            let primary = self.primary_of(*pv);
            if p.pre_prepare.from != primary
                || p.pre_prepare.epoch != msg.epoch
                || !self.verify_sig(&p.pre_prepare)
            {
                return Err(format!("bad pre-prepare in proof for seq {seq}"));
            }
            let mut senders = BTreeSet::new();
            for m in &p.prepares {
                let ok = matches!(&m.payload, Payload::Prepare { view, seq: s, digest: d }
                    if view == pv && s == seq && d == digest);
                if !ok || m.from == primary || m.epoch != msg.epoch || !self.verify_sig(m) {
                    return Err(format!("bad prepare in proof for seq {seq}"));
                }
                senders.insert(m.from);
            }
            if senders.len() + 1 < quorum {
                return Err(format!(
                    "prepared proof for seq {seq} has {} prepares",
                    senders.len()
                ));
            }
        }
        Ok(())
    }

    /// PBFT §4.4: received VIEW-CHANGE (signature already checked).
    pub(crate) fn on_view_change(&mut self, msg: SignedMessage, new_view: View) {
        if new_view < self.view {
            let reason = DropReason::StaleView {
                view: new_view,
                current: self.view,
            };
            return self.drop_msg(Some(msg.from), "view-change", reason);
        }
        if new_view == self.view && !self.view_changing {
            return; // late: the view is already installed (the sender gets our NEW-VIEW via STATUS)
        }
        if new_view > self.view + MAX_VIEW_AHEAD {
            let reason = DropReason::Invalid {
                what: "view-change",
                detail: format!("view {new_view} too far ahead"),
            };
            return self.drop_msg(Some(msg.from), "view-change", reason);
        }
        if let Err(detail) = self.check_view_change(&msg, false) {
            return self.drop_msg(
                Some(msg.from),
                "view-change",
                DropReason::Invalid {
                    what: "view-change",
                    detail,
                },
            );
        }
        self.view_changes
            .entry(new_view)
            .or_default()
            .insert(msg.from, msg);
        // PBFT §4.5.2: f+1 VIEW-CHANGEs for views above ours ⇒ join the smallest of them.
        let mut lowest: BTreeMap<u32, View> = BTreeMap::new();
        for (v, senders) in self.view_changes.range(self.view + 1..) {
            for s in senders.keys() {
                lowest.entry(*s).or_insert(*v);
            }
        }
        if lowest.len() > self.committee.max_faulty()
            && let Some(target) = lowest.values().min().copied()
        {
            self.start_view_change(
                target,
                format!(
                    "{} view-changes for views above {}",
                    lowest.len(),
                    self.view
                ),
            );
            return;
        }
        if self.view_changing && new_view == self.view {
            self.try_new_view();
        }
    }

    /// PBFT §4.4: compute min-s, max-s and O from a set of VIEW-CHANGEs.
    pub(crate) fn plan_new_view(&self, vcs: &[SignedMessage]) -> NewViewPlan {
        let mut min_s = self.committee.start_height.saturating_sub(1);
        let mut checkpoint_proof = Vec::new();
        let mut best: BTreeMap<Seq, (View, B256)> = BTreeMap::new();
        for vc in vcs {
            if let Payload::ViewChange {
                stable_seq,
                checkpoint_proof: cp,
                ..
            } = &vc.payload
                && *stable_seq > min_s
            {
                min_s = *stable_seq;
                checkpoint_proof = cp.clone();
            }
        }
        for vc in vcs {
            if let Payload::ViewChange { prepared, .. } = &vc.payload {
                for p in prepared {
                    if let Payload::PrePrepare {
                        view, seq, digest, ..
                    } = &p.pre_prepare.payload
                        && *seq > min_s
                        && best.get(seq).is_none_or(|(bv, _)| view > bv)
                    {
                        best.insert(*seq, (*view, *digest));
                    }
                }
            }
        }
        let max_s = best.keys().next_back().copied().unwrap_or(min_s).max(min_s);
        let proposals = (min_s + 1..=max_s)
            .map(|n| (n, best.get(&n).map_or(NULL_DIGEST, |(_, d)| *d)))
            .collect();
        NewViewPlan {
            min_s,
            checkpoint_proof,
            proposals,
        }
    }

    /// New primary: with a quorum of VIEW-CHANGEs for our target view, multicast NEW-VIEW.
    pub(crate) fn try_new_view(&mut self) {
        let view = self.view;
        if !self.view_changing || self.primary_of(view) != self.me {
            return;
        }
        let quorum = self.committee.quorum();
        let Some(vcs) = self.view_changes.get(&view).filter(|m| m.len() >= quorum) else {
            return;
        };
        let vcs: Vec<SignedMessage> = vcs.values().take(quorum).cloned().collect();
        let plan = self.plan_new_view(&vcs);
        let pps: Vec<(SignedMessage, Seq, B256)> = plan
            .proposals
            .iter()
            .map(|(seq, digest)| {
                let pp = self.sign(Payload::PrePrepare {
                    view,
                    seq: *seq,
                    digest: *digest,
                    block: Vec::new(),
                });
                (pp, *seq, *digest)
            })
            .collect();
        let nv = self.sign(Payload::NewView {
            view,
            view_changes: vcs,
            pre_prepares: pps.iter().map(|(m, _, _)| m.clone()).collect(),
        });
        self.out.push(Output::Persist(PersistRecord::View { view }));
        self.out.push(Output::Broadcast(nv.clone()));
        self.enter_new_view(nv, view, plan, pps);
    }

    /// PBFT §4.4: received NEW-VIEW (signature already checked): verify V and recompute O.
    pub(crate) fn on_new_view(&mut self, msg: SignedMessage, view: View) {
        if view < self.view {
            let reason = DropReason::StaleView {
                view,
                current: self.view,
            };
            return self.drop_msg(Some(msg.from), "new-view", reason);
        }
        if view == self.view && !self.view_changing {
            return; // already installed
        }
        if msg.from != self.primary_of(view) {
            return self.drop_msg(
                Some(msg.from),
                "new-view",
                DropReason::WrongRole("new-view not from the view's primary"),
            );
        }
        match self.check_new_view(&msg, view) {
            Ok((plan, pps)) => self.enter_new_view(msg, view, plan, pps),
            Err(detail) => self.drop_msg(
                Some(msg.from),
                "new-view",
                DropReason::Invalid {
                    what: "new-view",
                    detail,
                },
            ),
        }
    }

    #[allow(clippy::type_complexity)]
    fn check_new_view(
        &self,
        msg: &SignedMessage,
        view: View,
    ) -> Result<(NewViewPlan, Vec<(SignedMessage, Seq, B256)>), String> {
        let Payload::NewView {
            view_changes,
            pre_prepares,
            ..
        } = &msg.payload
        else {
            return Err("not a new-view".into());
        };
        let mut senders = BTreeSet::new();
        for vc in view_changes {
            if !matches!(&vc.payload, Payload::ViewChange { new_view, .. } if *new_view == view) {
                return Err("view-change for another view".into());
            }
            if !senders.insert(vc.from) {
                return Err(format!("duplicate view-change from {}", vc.from));
            }
            let known = self.view_changes.get(&view).and_then(|m| m.get(&vc.from)) == Some(vc);
            if !known {
                self.check_view_change(vc, true)?;
            }
        }
        if senders.len() < self.committee.quorum() {
            return Err(format!(
                "{} view-changes, quorum {}",
                senders.len(),
                self.committee.quorum()
            ));
        }
        let plan = self.plan_new_view(view_changes);
        if pre_prepares.len() != plan.proposals.len() {
            return Err(format!(
                "{} re-proposals, expected {}",
                pre_prepares.len(),
                plan.proposals.len()
            ));
        }
        let mut pps = Vec::with_capacity(pre_prepares.len());
        for (pp, (seq, digest)) in pre_prepares.iter().zip(&plan.proposals) {
            let ok = matches!(&pp.payload, Payload::PrePrepare { view: v, seq: s, digest: d, .. }
                if *v == view && s == seq && d == digest);
            if !ok || pp.from != msg.from || pp.epoch != msg.epoch || !self.verify_sig(pp) {
                return Err(format!(
                    "re-proposal for seq {seq} does not match the view-changes"
                ));
            }
            pps.push((pp.clone(), *seq, *digest));
        }
        Ok((plan, pps))
    }

    /// Install `view`: adopt the checkpoint, accept the re-proposals, re-arm timers.
    fn enter_new_view(
        &mut self,
        nv: SignedMessage,
        view: View,
        plan: NewViewPlan,
        pps: Vec<(SignedMessage, Seq, B256)>,
    ) {
        if view > self.view {
            self.reset_view_state();
            self.out.push(Output::Persist(PersistRecord::View { view }));
        }
        self.view = view;
        self.view_changing = false;
        self.new_view_msg = Some(nv);
        self.my_view_change = None;
        self.view_changes = self.view_changes.split_off(&(view + 1));
        let epoch = self.committee.epoch;
        let primary = self.primary_of(view);
        self.event(PbftEvent::ViewChangeCompleted {
            epoch,
            view,
            primary,
        });
        for cp in plan.checkpoint_proof {
            if let Payload::Checkpoint { seq, state } = cp.payload
                && seq > self.low
            {
                let from = cp.from;
                self.checkpoints
                    .entry(seq)
                    .or_default()
                    .entry(state)
                    .or_default()
                    .insert(from, cp);
            }
        }
        self.check_stable(plan.min_s);
        let max_s = plan.proposals.last().map_or(plan.min_s, |(s, _)| *s);
        self.next_seq = plan.min_s.max(max_s).max(self.last_decided).max(self.low) + 1;
        for (pp, seq, digest) in pps {
            if seq > self.low && seq <= self.high() {
                self.accept_pre_prepare(pp, seq, digest);
            }
        }
        self.arm_progress();
        self.replay_future();
    }
}
