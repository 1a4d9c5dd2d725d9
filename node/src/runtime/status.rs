//! What this node's PBFT is doing, followed from its engine events: the phase of the newest
//! instance, view changes (count, the last one and why), and the phase timings the metrics
//! histograms record. Answers the API's `consensus` and `peers` questions.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tc_graphql::node::{ConsensusPhase, ConsensusRole, ConsensusStatus, Peer, ViewChange};
use tc_graphql::scalars::{Bytes32, Long};
use tc_types::{PbftEvent, PbftPhase};

use super::Node;
use crate::events::now_ms;
use crate::metrics::Metrics;

/// Most instances whose start time is kept (heights above the committed head).
const MAX_TRACKED: usize = 1_024;

/// Followed from engine events.
#[derive(Debug, Default)]
pub(super) struct Tracker {
    /// Newest `PhaseEntered`: (epoch, view, seq, phase).
    phase: Option<(u64, u64, u64, PbftPhase)>,
    /// When this node accepted the first PRE-PREPARE of (epoch, seq).
    started: BTreeMap<(u64, u64), Instant>,
    /// View changes started since start.
    view_changes: u64,
    last_view_change: Option<ViewChange>,
    /// (epoch, when) of the first VIEW-CHANGE not yet followed by a NEW-VIEW.
    changing_since: Option<(u64, Instant)>,
}

impl Tracker {
    /// Follow one engine event; record the timings it completes.
    pub(super) fn on_event(&mut self, e: &PbftEvent, now: Instant, metrics: &Metrics) {
        match e {
            PbftEvent::PhaseEntered {
                epoch,
                view,
                seq,
                phase,
                ..
            } => {
                self.phase = Some((*epoch, *view, *seq, *phase));
                if *phase == PbftPhase::Prepare && self.started.len() < MAX_TRACKED {
                    self.started.entry((*epoch, *seq)).or_insert(now);
                }
            }
            PbftEvent::QuorumReached {
                epoch, seq, phase, ..
            } => {
                let step = match phase {
                    PbftPhase::Prepare => "prepare_quorum",
                    PbftPhase::Commit => "commit_quorum",
                    _ => return,
                };
                if let Some(t0) = self.started.get(&(*epoch, *seq)) {
                    metrics.pbft_phase(step, now.saturating_duration_since(*t0));
                }
            }
            PbftEvent::ViewChangeStarted {
                epoch,
                from_view,
                to_view,
                reason,
            } => {
                self.view_changes += 1;
                self.last_view_change = Some(ViewChange {
                    epoch: Long(*epoch),
                    from_view: Long(*from_view),
                    to_view: Long(*to_view),
                    reason: reason.clone(),
                    time_ms: Long(now_ms()),
                });
                match self.changing_since {
                    Some((e, _)) if e == *epoch => {}
                    _ => self.changing_since = Some((*epoch, now)),
                }
            }
            PbftEvent::ViewChangeCompleted { epoch, .. } => {
                if let Some((e, t0)) = self.changing_since.take()
                    && e == *epoch
                {
                    metrics
                        .view_change_seconds
                        .observe(now.saturating_duration_since(t0).as_secs_f64());
                }
            }
            PbftEvent::CheckpointStable { .. } | PbftEvent::MessageDropped { .. } => {}
        }
    }

    /// The block of (epoch, seq) is committed to the chain here: record the whole step and
    /// forget instances at or below it.
    pub(super) fn on_commit(&mut self, epoch: u64, seq: u64, now: Instant, metrics: &Metrics) {
        if let Some(t0) = self.started.get(&(epoch, seq)) {
            metrics.pbft_phase("block_committed", now.saturating_duration_since(*t0));
        }
        self.started.retain(|(_, s), _| *s > seq);
    }
}

/// Duration as whole microseconds.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Node {
    /// The API's `consensus` answer.
    pub(super) fn consensus_status(&self) -> ConsensusStatus {
        let (head, _) = self.head();
        let seq = head + 1;
        let epoch = self.schedule.epoch_of(seq, self.snail.tree());
        let committee = epoch.and_then(|e| self.schedule.committee(e));
        let engine = self.pbft.status().filter(|s| Some(s.epoch) == epoch);
        let t = &self.tracker;
        let (role, phase) = match (&engine, committee) {
            (Some(s), Some(c)) => {
                let role = if c.primary(s.view) == Some(s.me) {
                    ConsensusRole::Primary
                } else {
                    ConsensusRole::Member
                };
                let phase = match t.phase {
                    Some((e, v, s2, p)) if e == s.epoch && v == s.view && s2 == seq => p,
                    _ => PbftPhase::PrePrepare,
                };
                (role, Some(ConsensusPhase::from(phase)))
            }
            _ => (ConsensusRole::Follower, None),
        };
        ConsensusStatus {
            epoch: epoch.map(Long),
            role,
            member_index: engine.map(|s| i32::try_from(s.me).unwrap_or(i32::MAX)),
            committee_size: committee.map(|c| i32::try_from(c.size()).unwrap_or(i32::MAX)),
            view: engine.map(|s| Long(s.view)),
            seq: Long(seq),
            phase,
            view_changing: engine.is_some_and(|s| s.view_changing),
            last_decided: Long(engine.map_or(head, |s| s.last_decided.max(head))),
            head: Long(head),
            stable_checkpoint: engine.map(|s| Long(s.stable_checkpoint)),
            view_changes: Long(t.view_changes),
            last_view_change: t.last_view_change.clone(),
        }
    }

    /// The API's `peers` answer.
    pub(super) fn peer_list(&self) -> Vec<Peer> {
        let (head, _) = self.head();
        let committee = self
            .schedule
            .epoch_of(head + 1, self.snail.tree())
            .and_then(|e| self.schedule.committee(e));
        // A node's peer id follows from its consensus key, so members are recognised by it.
        let members: BTreeMap<tc_net::PeerId, tc_types::PubKey> = committee
            .map(|c| {
                c.members
                    .iter()
                    .filter_map(|m| Some((super::network::peer_of(&m.key)?, m.key)))
                    .collect()
            })
            .unwrap_or_default();
        self.peers
            .iter()
            .map(|(id, p)| Peer {
                peer_id: id.to_string(),
                address: p.addr.clone(),
                rtt_micros: p.rtt.map(|d| Long(micros(d))),
                member_key: members.get(id).map(|k| Bytes32(*k)),
                committee_member: committee.map(|_| members.contains_key(id)),
                fast_head: p.status.as_ref().map(|s| Long(s.fast_head)),
            })
            .collect()
    }
}
