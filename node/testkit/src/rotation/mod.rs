//! The hybrid simulator: every node mines a real (low-difficulty) snail chain, derives the
//! committees with [`tc_consensus::committee::EpochSchedule`], and the PBFT engines are swapped at the switch heights.
//!
//! Model (one virtual clock, seeded): snail blocks are mined by a random node at exponential
//! intervals on its own head (real PoW via [`tc_consensus::snail::mine`], fruits from its own fast chain) and gossiped
//! reliably with network delay; PBFT messages go through the profile's faulty network;
//! committed fast blocks (certificates) are gossiped reliably to every node, which applies
//! them in order after checking the certificate against the committee of that height's epoch
//! from its *own* schedule. A member starts the engine of epoch `e` once its fast chain reaches
//! `H_e − 1` and drops the engine of the previous epoch; a primary proposes seq `s` only when
//! it has block `s − 1` and its schedule knows `next_committee` for `s`.
//!
//! Checks: agreement on every fast block, certificates valid for the epoch's committee, every
//! node derives the same committee for every epoch, the last block of each epoch names the next
//! committee (and no other block names one), and the commit gap at each rotation against the
//! median interval ([`RotationReport`]).
//!
//! Map: `sim` (state, event loop, engine swapping), `sim::check` (pause/resume faults and the
//! end-of-run checks).
mod sim;

use tc_consensus::committee::{ElectionConfig, HybridConfig, RotationConfig};
use tc_consensus::pbft::Config;

use crate::byzantine::ByzKind;
use crate::network::NetProfile;

/// Wall-clock offset of virtual time 0 (snail timestamps are `GENESIS_MS + now`).
pub(crate) const GENESIS_MS: u64 = 1_700_000_000_000;

/// A hybrid run's parameters.
#[derive(Clone, Debug)]
pub struct RotationProfile {
    /// Name.
    pub name: String,
    /// Nodes (all mine; the genesis committee is nodes `0..committee_size`).
    pub nodes: usize,
    /// Epochs that must complete (the fast chain must enter epoch `epochs`).
    pub epochs: u64,
    /// Mean snail block interval (virtual ms, exponential).
    pub snail_interval_ms: u64,
    /// Network for PBFT messages.
    pub net: NetProfile,
    /// Election and rotation rules.
    pub hybrid: HybridConfig,
    /// PBFT engine configuration.
    pub engine: Config,
    /// Give up after this much virtual time.
    pub deadline_ms: u64,
    /// Check every rotation gap ≤ 2 × the median commit interval.
    pub check_gap: bool,
    /// `(from_ms, duration_ms)`: at `from_ms` one member of both the current and the next
    /// committee stops (receives nothing, timers wait, mines nothing) and then resumes, syncing
    /// the snail chain and the certified fast blocks it missed from a peer.
    pub pause: Option<(u64, u64)>,
    /// Pause the next committee's view-0 primary (else a member that is not its primary).
    pub pause_primary: bool,
    /// `(kind, count)`: nodes `0..count` run this byzantine behaviour on their outgoing PBFT
    /// messages for the whole run (their own state stays honest). Every committee must hold
    /// at most `f` of them, or the run reports a violation.
    pub byzantine: Option<(ByzKind, usize)>,
    /// Chance that a snail block is mined by one of the byzantine nodes (uniform among them),
    /// so they keep being elected and sit in both committees at the handovers; otherwise the
    /// miner is uniform over all nodes.
    pub byzantine_mining: f64,
}

impl RotationProfile {
    /// Seven nodes, committees of four, eight-block epochs (λ = 2), clean network.
    pub fn no_faults() -> Self {
        Self {
            name: "rotation/no-faults".into(),
            nodes: 7,
            epochs: 5,
            snail_interval_ms: 300,
            net: NetProfile::clean(),
            hybrid: HybridConfig {
                election: ElectionConfig {
                    epoch_length: 8,
                    lambda: 2,
                    committee_size: 4,
                },
                rotation: RotationConfig {
                    switch_margin: 120,
                    min_epoch_blocks: 4,
                },
            },
            engine: Config {
                checkpoint_interval: 4,
                window: 8,
                max_in_flight: 4,
                view_timeout_ms: 400,
                status_interval_ms: 400,
                certificate_retention: 64,
                future_buffer: 4_096,
            },
            deadline_ms: 120_000,
            check_gap: true,
            pause: None,
            pause_primary: false,
            byzantine: None,
            byzantine_mining: 0.0,
        }
    }

    /// As [`Self::no_faults`], with one byzantine node (f = 1 in committees of four) that votes
    /// PREPARE and COMMIT for a different wrong digest to every recipient, mines 40 % of the
    /// snail blocks so it is elected into most committees — both sides of most handovers —
    /// and proposes honestly when primary. The rotation gap is checked: a wrong voter cannot
    /// stop the three honest members' quorum.
    pub fn byzantine_members() -> Self {
        let mut p = Self::no_faults();
        p.name = "rotation/byzantine-in-both-committees".into();
        p.byzantine = Some((ByzKind::ConflictingVoter, 1));
        p.byzantine_mining = 0.4;
        p
    }

    /// As [`Self::byzantine_members`] with a node that never proposes as primary (and sends no
    /// NEW-VIEW): when it is the incoming committee's view-0 primary the first block of the
    /// epoch waits for a view change, so the gap is measured, not checked.
    pub fn byzantine_withholder() -> Self {
        let mut p = Self::byzantine_members();
        p.name = "rotation/byzantine-withholder-in-both-committees".into();
        p.byzantine = Some((ByzKind::Withholder, 1));
        p.check_gap = false;
        p
    }

    /// As [`Self::no_faults`], with a committee member paused from 6 s to 10 s, across the first
    /// rotation (`H_1` is committed around 8 s).
    pub fn member_paused() -> Self {
        let mut p = Self::no_faults();
        p.name = "rotation/member-paused".into();
        p.pause = Some((6_000, 4_000));
        p.check_gap = true;
        p
    }

    /// As [`Self::member_paused`], but the paused member is the incoming committee's view-0
    /// primary: its first block needs a view change, so the gap is measured, not checked.
    pub fn primary_paused() -> Self {
        let mut p = Self::member_paused();
        p.name = "rotation/primary-paused".into();
        p.pause_primary = true;
        p.check_gap = false;
        p
    }

    /// As [`Self::no_faults`], with 5 % drops, 2 % duplicates and 5–80 ms delays on PBFT
    /// messages for the whole run. The rotation gap is measured but not checked: when the new
    /// primary's PRE-PREPARE for `H_e` is lost to two of three members the block waits for a
    /// view change (≈ `view_timeout_ms`), exactly as at any other height.
    pub fn drops_delays() -> Self {
        let mut p = Self::no_faults();
        p.name = "rotation/drops-delays".into();
        p.check_gap = false;
        p.net = NetProfile {
            drop_prob: 0.05,
            dup_prob: 0.02,
            delay: crate::network::Delay::Uniform { min: 5, max: 80 },
            stable_delay: crate::network::Delay::Uniform { min: 5, max: 40 },
            stable_ms: 60_000,
            partition: None,
        };
        p
    }
}

/// What a hybrid run measured and found.
#[derive(Clone, Debug, Default)]
pub struct RotationReport {
    /// Seed.
    pub seed: u64,
    /// Violations (empty = pass).
    pub violations: Vec<String>,
    /// Switch heights `H_1, H_2, …` reached.
    pub switch_heights: Vec<u64>,
    /// Committee sizes per epoch (from node 0).
    pub committee_sizes: Vec<usize>,
    /// Median commit interval (ms) between consecutive fast blocks.
    pub median_interval_ms: u64,
    /// Largest commit interval (ms) away from the switch heights.
    pub max_interval_ms: u64,
    /// Commit gap (ms) into each switch height.
    pub rotation_gaps_ms: Vec<u64>,
    /// Fast blocks committed (by every node).
    pub fast_height: u64,
    /// Snail height (node 0).
    pub snail_height: u64,
    /// Virtual end time.
    pub end_ms: u64,
    /// The node paused across a rotation, if any.
    pub paused_node: Option<usize>,
    /// Byzantine members per epoch's committee (from node 0).
    pub byzantine_per_committee: Vec<usize>,
    /// Rotations whose outgoing and incoming committees both hold a byzantine member.
    pub byzantine_handovers: usize,
    /// Outgoing PBFT messages the byzantine hooks changed, suppressed or added.
    pub byzantine_altered: u64,
}

/// Run one hybrid simulation.
pub fn run_rotation(profile: &RotationProfile, seed: u64) -> RotationReport {
    match sim::HybridSim::new(profile, seed) {
        Ok(sim) => sim.run(seed),
        Err(e) => RotationReport {
            seed,
            violations: vec![format!("setup: {e}")],
            ..RotationReport::default()
        },
    }
}
