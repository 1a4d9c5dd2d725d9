//! [`EpochSchedule`]: which committee decides which fast height, derived from the snail chain.
//!
//! **Rotation rule.** `H_e` is the first fast height of epoch `e` (= `Committee::start_height`).
//! `H_0` is the genesis committee's start height. For `e ≥ 1`, once the canonical snail head
//! reaches `close(e) = e·E`:
//!
//! `H_e = max( fast_head(e·E − λ) + M , H_{e−1} + min_epoch_blocks )`
//!
//! where `fast_head(n)` is the highest fast-block number referenced by fruits in canonical snail
//! blocks `0..=n` (see [`crate::committee::fruits`]) and `M` = `switch_margin`. Everything on the
//! right is read from the same λ-confirmed snail prefix as the election, so the committee and
//! its start height become known together and identically on every node. The last block of
//! epoch `e−1` is `H_e − 1`; its `next_committee` is `Committee::hash()` of epoch `e`; every
//! other block carries zero. The new committee starts PBFT at view 0 at seq `H_e`.
//!
//! **Enforcing it (the shell).** The PBFT engine prepares any digest the primary proposes, so the
//! shell checks the block carried in a PRE-PREPARE before feeding it to the engine: decode it and
//! run [`EpochSchedule::check_fast_header`]; drop it when invalid (a byzantine primary then costs
//! a view change), hold it on [`RotationError::Undetermined`] until the snail chain catches up.
//! Followers use [`crate::committee::check_committed_block`].
//!
//! **Tuning / liveness.** `M · fast_interval` must exceed the time the snail chain needs to go
//! from `e·E − λ` to `e·E` plus fruit lag, or the outgoing committee reaches `H_e − 1` before
//! the schedule is known and must wait ([`EpochSchedule::is_last_block_of_epoch`] = `None`).
//! Until `H_e` is determined, heights below a safe lower bound ([`EpochSchedule::next_switch_lower_bound`])
//! are known to belong to the current epoch, assuming no snail reorg deeper than λ (the same
//! assumption the election makes).
use tc_types::{B256, Committee, FastHeader};

use super::election::{Candidate, ElectionConfig, ElectionError, election_for};
use crate::snail::ChainView;

/// Rotation parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationConfig {
    /// `M`: fast blocks between the λ-confirmed checkpointed fast height and the switch. It does
    /// not lengthen epochs (`H_e − H_{e−1}` is the fast progress between two windows); it only
    /// delays each switch, so err on the large side (see the module docs).
    pub switch_margin: u64,
    /// Every epoch has at least this many fast blocks (≥ 1).
    pub min_epoch_blocks: u64,
}

impl Default for RotationConfig {
    fn default() -> Self {
        Self {
            switch_margin: 256,
            min_epoch_blocks: 16,
        }
    }
}

/// Election + rotation parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HybridConfig {
    /// Election.
    pub election: ElectionConfig,
    /// Rotation.
    pub rotation: RotationConfig,
}

/// One determined epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochInfo {
    /// Its committee (`start_height = H_e`).
    pub committee: Committee,
    /// Hash of snail block `close(e)` (zero for genesis): the prefix it was derived from.
    pub close_hash: B256,
    /// The election's candidates (empty for genesis).
    pub candidates: Vec<Candidate>,
    /// No candidate: the previous members continue.
    pub carried_over: bool,
    /// Seats filled from the previous committee (fewer than `C` candidates; see
    /// [`super::election::fill_up`]).
    pub filled: usize,
}

/// What [`EpochSchedule::sync`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Epochs forgotten because a snail reorg replaced their `close` block.
    pub retracted: Vec<u64>,
    /// Newly determined epochs.
    pub elected: Vec<Committee>,
}

/// A fast header that breaks the rotation rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    /// The schedule cannot tell yet (snail chain behind).
    #[error("fast height {height}: epoch boundary not determined yet")]
    Undetermined {
        /// Height.
        height: u64,
    },
    /// Wrong epoch.
    #[error("fast height {height}: epoch {got}, expected {expected}")]
    WrongEpoch {
        /// Height.
        height: u64,
        /// In the header.
        got: u64,
        /// By the schedule.
        expected: u64,
    },
    /// Wrong `next_committee`.
    #[error("fast height {height}: next_committee {got}, expected {expected}")]
    WrongNextCommittee {
        /// Height.
        height: u64,
        /// In the header.
        got: B256,
        /// By the schedule.
        expected: B256,
    },
}

/// The epochs determined so far. Pure; refresh with [`EpochSchedule::sync`] after snail imports.
#[derive(Clone, Debug)]
pub struct EpochSchedule {
    cfg: HybridConfig,
    epochs: Vec<EpochInfo>,
}

impl EpochSchedule {
    /// A schedule holding the genesis committee (epoch 0).
    pub fn new(cfg: HybridConfig, genesis: Committee) -> Result<Self, ElectionError> {
        cfg.election.validate()?;
        if cfg.rotation.min_epoch_blocks == 0 {
            return Err(ElectionError::BadConfig("min_epoch_blocks must be ≥ 1"));
        }
        if genesis.epoch != 0 {
            return Err(ElectionError::BadConfig(
                "the genesis committee must have epoch 0",
            ));
        }
        Ok(Self {
            cfg,
            epochs: vec![EpochInfo {
                committee: genesis,
                close_hash: B256::ZERO,
                candidates: vec![],
                carried_over: false,
                filled: 0,
            }],
        })
    }

    /// Parameters.
    pub fn config(&self) -> &HybridConfig {
        &self.cfg
    }

    /// Latest determined epoch.
    pub fn latest_epoch(&self) -> u64 {
        self.epochs.len().saturating_sub(1) as u64
    }

    /// A determined epoch.
    pub fn epoch(&self, epoch: u64) -> Option<&EpochInfo> {
        self.epochs.get(usize::try_from(epoch).ok()?)
    }

    /// A determined epoch's committee.
    pub fn committee(&self, epoch: u64) -> Option<&Committee> {
        self.epoch(epoch).map(|e| &e.committee)
    }

    /// `H_e` of a determined epoch.
    pub fn switch_height(&self, epoch: u64) -> Option<u64> {
        self.committee(epoch).map(|c| c.start_height)
    }

    /// Follow the canonical snail chain: forget epochs whose `close` block was reorged away,
    /// then determine every epoch whose `close` the head has reached.
    pub fn sync(&mut self, view: &impl ChainView) -> Result<SyncOutcome, ElectionError> {
        let mut out = SyncOutcome::default();
        let keep = (1..self.epochs.len())
            .find(|&i| {
                let close = self.cfg.election.close(i as u64);
                view.canonical_hash(close) != Some(self.epochs[i].close_hash)
            })
            .unwrap_or(self.epochs.len());
        out.retracted = (keep..self.epochs.len()).map(|e| e as u64).collect();
        self.epochs.truncate(keep);
        loop {
            let e = self.epochs.len() as u64;
            let close = self.cfg.election.close(e);
            if view.head_number() < close {
                break;
            }
            let prev =
                self.epochs
                    .last()
                    .map(|i| i.committee.clone())
                    .ok_or(ElectionError::BadConfig(
                        "schedule lost its genesis committee",
                    ))?;
            let election = election_for(&self.cfg.election, e, view)?;
            let window_end = close.saturating_sub(self.cfg.election.lambda);
            let fast_head = view
                .fast_head_at(window_end)
                .ok_or(ElectionError::MissingBlock { number: window_end })?;
            let start_height = fast_head
                .saturating_add(self.cfg.rotation.switch_margin)
                .max(
                    prev.start_height
                        .saturating_add(self.cfg.rotation.min_epoch_blocks),
                );
            let carried_over = election.members.is_empty();
            let (members, filled) = super::election::fill_up(
                election.members,
                &prev.members,
                self.cfg.election.committee_size,
            );
            let committee = Committee {
                epoch: e,
                start_height,
                members,
                seed: election.seed,
            };
            out.elected.push(committee.clone());
            self.epochs.push(EpochInfo {
                committee,
                close_hash: view
                    .canonical_hash(close)
                    .ok_or(ElectionError::MissingBlock { number: close })?,
                candidates: election.candidates,
                carried_over,
                filled,
            });
        }
        Ok(out)
    }

    /// A height below which nothing belongs to the next, undetermined epoch:
    /// `max(fast_head(min(head − λ, e·E − λ)) + M, H_L + min_epoch_blocks)` for `e = L + 1`.
    pub fn next_switch_lower_bound(&self, view: &impl ChainView) -> u64 {
        let e = self.latest_epoch().saturating_add(1);
        let lambda = self.cfg.election.lambda;
        let window_end = self.cfg.election.close(e).saturating_sub(lambda);
        let n = view.head_number().saturating_sub(lambda).min(window_end);
        let fast_head = view.fast_head_at(n).unwrap_or(0);
        let latest = self.switch_height(self.latest_epoch()).unwrap_or(0);
        fast_head
            .saturating_add(self.cfg.rotation.switch_margin)
            .max(latest.saturating_add(self.cfg.rotation.min_epoch_blocks))
    }

    /// The epoch deciding fast height `h`, or `None` while undetermined. Height 0 (and anything
    /// below `H_0`) is epoch 0.
    pub fn epoch_of(&self, h: u64, view: &impl ChainView) -> Option<u64> {
        let e = self
            .epochs
            .iter()
            .rposition(|i| i.committee.start_height <= h)
            .unwrap_or(0) as u64;
        if e < self.latest_epoch() || h < self.next_switch_lower_bound(view) {
            Some(e)
        } else {
            None
        }
    }

    /// Is `h` the last fast block of its epoch (`h + 1 = H_{e+1}`)? `None` while undetermined.
    pub fn is_last_block_of_epoch(&self, h: u64, view: &impl ChainView) -> Option<bool> {
        let e = self.epoch_of(h, view)?;
        match self.switch_height(e.saturating_add(1)) {
            Some(next) => Some(h.saturating_add(1) == next),
            None => (h.saturating_add(1) < self.next_switch_lower_bound(view)).then_some(false),
        }
    }

    /// The `next_committee` field for fast height `h`: the next committee's hash for the last
    /// block of an epoch, zero otherwise; `None` while undetermined.
    pub fn next_committee_field(&self, h: u64, view: &impl ChainView) -> Option<B256> {
        let e = self.epoch_of(h, view)?;
        if self.is_last_block_of_epoch(h, view)? {
            self.committee(e.saturating_add(1)).map(Committee::hash)
        } else {
            Some(B256::ZERO)
        }
    }

    /// Check a fast header's `epoch` and `next_committee` against the schedule (genesis, height
    /// 0, is trusted and not checked).
    pub fn check_fast_header(
        &self,
        header: &FastHeader,
        view: &impl ChainView,
    ) -> Result<(), RotationError> {
        let height = header.number;
        if height == 0 {
            return Ok(()); // genesis is trusted (it names the genesis committee)
        }
        let undetermined = RotationError::Undetermined { height };
        let expected = self.epoch_of(height, view).ok_or(undetermined.clone())?;
        if header.epoch != expected {
            return Err(RotationError::WrongEpoch {
                height,
                got: header.epoch,
                expected,
            });
        }
        let expected = self
            .next_committee_field(height, view)
            .ok_or(undetermined)?;
        if header.next_committee != expected {
            return Err(RotationError::WrongNextCommittee {
                height,
                got: header.next_committee,
                expected,
            });
        }
        Ok(())
    }
}
