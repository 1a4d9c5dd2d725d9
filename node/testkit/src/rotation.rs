//! The hybrid simulator: every node mines a real (low-difficulty) snail chain, derives the
//! committees with [`EpochSchedule`], and the PBFT engines are swapped at the switch heights.
//!
//! Model (one virtual clock, seeded): snail blocks are mined by a random node at exponential
//! intervals on its own head (real PoW via [`mine`], fruits from its own fast chain) and gossiped
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
use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};
use tc_consensus::committee::{
    ElectionConfig, EpochSchedule, FruitConfig, HybridConfig, RotationConfig,
};
use tc_consensus::pbft::{
    Config, Ed25519Signer, Engine, Input, Output, SignedMessage, Signer as _, TimeoutKind,
    verify_certificate,
};
use tc_consensus::snail::{RetargetConfig, SnailConfig, SnailError, SnailTree, mine};
use tc_types::{
    Address, B256, CommitCertificate, Committee, Member, PubKey, SnailBlock, SnailHeader,
    fruits_hash,
};

use crate::crypto::{CachingSigner, CachingVerifier, test_signer};
use crate::network::NetProfile;

/// Wall-clock offset of virtual time 0 (snail timestamps are `GENESIS_MS + now`).
const GENESIS_MS: u64 = 1_700_000_000_000;

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
        }
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
}

#[derive(Debug)]
enum Ev {
    Msg {
        to: usize,
        msg: SignedMessage,
    },
    Timer {
        node: usize,
        epoch: u64,
        kind: TimeoutKind,
    },
    Snail {
        to: usize,
        block: SnailBlock,
    },
    Cert {
        to: usize,
        cert: CommitCertificate,
    },
    Mine,
}

struct RNode {
    signer: Ed25519Signer,
    key: PubKey,
    tree: SnailTree,
    schedule: EpochSchedule,
    orphans: BTreeMap<B256, Vec<SnailBlock>>,
    /// Fast chain: `fast[s-1]` = (digest, certificate) of seq `s`.
    fast: Vec<(B256, CommitCertificate)>,
    pending: BTreeMap<u64, CommitCertificate>,
    engines: BTreeMap<u64, Engine<CachingSigner, CachingVerifier>>,
    retired: BTreeSet<u64>,
    buffered: BTreeMap<u64, Vec<SignedMessage>>,
}

struct HybridSim {
    p: RotationProfile,
    nodes: Vec<RNode>,
    by_key: BTreeMap<PubKey, usize>,
    rng: ChaCha8Rng,
    now: u64,
    counter: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    verifier: CachingVerifier,
    /// digest → (epoch, seq, next_committee) of every proposal.
    proposals: BTreeMap<B256, (u64, u64, B256)>,
    first_commit: BTreeMap<u64, u64>,
    violations: Vec<String>,
}

fn snail_config(p: &RotationProfile) -> SnailConfig {
    SnailConfig {
        retarget: RetargetConfig {
            target_interval_ms: p.snail_interval_ms,
            window: 4,
            max_adjust_divisor: 8,
            min_difficulty: 2,
        },
        max_future_drift_ms: 1_000,
        fruits: FruitConfig {
            freshness: 17,
            max_fruits: 256,
        },
    }
}

impl HybridSim {
    fn new(p: &RotationProfile, seed: u64) -> Result<Self, String> {
        let genesis_snail = SnailBlock {
            header: SnailHeader {
                difficulty: 4,
                timestamp_ms: GENESIS_MS,
                fruits_hash: fruits_hash(&[]),
                ..SnailHeader::default()
            },
            fruits: vec![],
        };
        let size = p.hybrid.election.committee_size.min(p.nodes);
        let genesis = Committee {
            epoch: 0,
            start_height: 1,
            members: (0..size)
                .map(|i| Member {
                    key: test_signer(i).public_key(),
                    coinbase: Address::ZERO,
                    weight: 1,
                })
                .collect(),
            seed: B256::ZERO,
        };
        let mut nodes = Vec::new();
        let mut by_key = BTreeMap::new();
        for i in 0..p.nodes {
            let signer = test_signer(i);
            let key = signer.public_key();
            by_key.insert(key, i);
            nodes.push(RNode {
                signer,
                key,
                tree: SnailTree::new(snail_config(p), genesis_snail.clone()),
                schedule: EpochSchedule::new(p.hybrid.clone(), genesis.clone())
                    .map_err(|e| e.to_string())?,
                orphans: BTreeMap::new(),
                fast: Vec::new(),
                pending: BTreeMap::new(),
                engines: BTreeMap::new(),
                retired: BTreeSet::new(),
                buffered: BTreeMap::new(),
            });
        }
        Ok(Self {
            p: p.clone(),
            nodes,
            by_key,
            rng: ChaCha8Rng::seed_from_u64(seed),
            now: 0,
            counter: 0,
            queue: BTreeMap::new(),
            verifier: CachingVerifier::new(),
            proposals: BTreeMap::new(),
            first_commit: BTreeMap::new(),
            violations: Vec::new(),
        })
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.counter += 1;
        self.queue.insert((at, self.counter), ev);
    }

    fn delay(&mut self) -> u64 {
        let d = if self.now >= self.p.net.stable_ms {
            self.p.net.stable_delay
        } else {
            self.p.net.delay
        };
        d.sample(&mut self.rng)
    }

    fn next_mine(&mut self) {
        let u: f64 = self.rng.gen_range(1e-9..1.0);
        let dt = (-u.ln() * self.p.snail_interval_ms as f64).max(1.0) as u64;
        self.push(self.now + dt, Ev::Mine);
    }

    fn send_pbft(&mut self, to: usize, msg: SignedMessage) {
        if self.now < self.p.net.stable_ms && self.rng.gen_bool(self.p.net.drop_prob) {
            self.dbg(|| format!("LOST e{} n{} -> n{to}", msg.epoch, msg.from));
            return;
        }
        if self.rng.gen_bool(self.p.net.dup_prob) {
            let d = self.delay();
            self.push(
                self.now + d,
                Ev::Msg {
                    to,
                    msg: msg.clone(),
                },
            );
        }
        let d = self.delay();
        self.push(self.now + d, Ev::Msg { to, msg });
    }

    fn member_node(&self, epoch: u64, from: usize, index: u32) -> Option<usize> {
        let c = self.nodes[from].schedule.committee(epoch)?;
        self.by_key.get(&c.member(index)?.key).copied()
    }

    fn step_engine(&mut self, i: usize, epoch: u64, input: Input) {
        let Some(engine) = self.nodes[i].engines.get_mut(&epoch) else {
            return;
        };
        for out in engine.step(input) {
            match out {
                Output::Send { to, msg } => {
                    if let Some(j) = self.member_node(epoch, i, to) {
                        self.send_pbft(j, msg);
                    }
                }
                Output::Broadcast(msg) => {
                    let members: Vec<PubKey> = self.nodes[i]
                        .schedule
                        .committee(epoch)
                        .map(|c| c.members.iter().map(|m| m.key).collect())
                        .unwrap_or_default();
                    for k in members {
                        if let Some(&j) = self.by_key.get(&k).filter(|j| **j != i) {
                            self.send_pbft(j, msg.clone());
                        }
                    }
                }
                Output::Decide {
                    seq, certificate, ..
                } => {
                    self.dbg(|| format!("n{i} decide e{epoch} s{seq}"));
                    self.first_commit.entry(seq).or_insert(self.now);
                    for j in 0..self.nodes.len() {
                        if j != i {
                            let d = self.delay();
                            let cert = certificate.clone();
                            self.push(self.now + d, Ev::Cert { to: j, cert });
                        }
                    }
                    self.nodes[i].pending.insert(seq, certificate);
                }
                Output::ScheduleTimeout { kind, after_ms } => {
                    self.push(
                        self.now + after_ms,
                        Ev::Timer {
                            node: i,
                            epoch,
                            kind,
                        },
                    );
                }
                Output::Event(e) => {
                    if matches!(e, tc_types::PbftEvent::MessageDropped { .. }) {
                        self.dbg(|| format!("n{i} e{epoch} {e:?}"));
                    }
                }
                Output::Persist(_) => {}
            }
        }
    }

    /// Apply certificates, swap engines, propose; until nothing changes.
    fn advance(&mut self, i: usize) {
        loop {
            let mut changed = false;
            // 1. In-order certificates, checked against this node's own schedule.
            let head = self.nodes[i].fast.len() as u64;
            if let Some(cert) = self.nodes[i].pending.remove(&(head + 1)) {
                let n = &self.nodes[i];
                let Some(epoch) = n.schedule.epoch_of(head + 1, &n.tree) else {
                    self.nodes[i].pending.insert(head + 1, cert);
                    break; // wait for the snail chain
                };
                let Some(committee) = n.schedule.committee(epoch) else {
                    break;
                };
                if let Err(e) = verify_certificate(committee, &cert, &self.verifier) {
                    self.violations.push(format!(
                        "node {i}: certificate of seq {} invalid for epoch {epoch}: {e}",
                        head + 1
                    ));
                    continue;
                }
                let digest = cert.block_hash;
                self.nodes[i].fast.push((digest, cert.clone()));
                if self.nodes[i].engines.contains_key(&epoch) {
                    self.step_engine(i, epoch, Input::Certificate(cert));
                }
                changed = true;
            }
            // 2. Engine of the epoch of the next height; retire older ones.
            let head = self.nodes[i].fast.len() as u64;
            let n = &self.nodes[i];
            if let Some(epoch) = n.schedule.epoch_of(head + 1, &n.tree) {
                let old: Vec<u64> = n.engines.keys().copied().filter(|e| *e < epoch).collect();
                for e in old {
                    self.nodes[i].engines.remove(&e);
                    self.nodes[i].retired.insert(e);
                }
                let n = &self.nodes[i];
                let member = n
                    .schedule
                    .committee(epoch)
                    .is_some_and(|c| c.index_of(&n.key).is_some());
                if member && !n.engines.contains_key(&epoch) && !n.retired.contains(&epoch) {
                    self.start_engine(i, epoch);
                    changed = true;
                }
            }
            // 3. Propose the next height when this node is the primary.
            let n = &self.nodes[i];
            let head = n.fast.len() as u64;
            let seq = head + 1;
            if let Some(epoch) = n.schedule.epoch_of(seq, &n.tree)
                && let Some(engine) = n.engines.get(&epoch)
                && engine.next_proposal_seq() == Some(seq)
                && let Some(nc) = n.schedule.next_committee_field(seq, &n.tree)
            {
                let mut h = Sha256::new();
                for x in [epoch, seq, engine.view(), i as u64] {
                    h.update(x.to_be_bytes());
                }
                h.update(nc.as_slice());
                let digest = B256::from_slice(&h.finalize());
                self.proposals.insert(digest, (epoch, seq, nc));
                self.dbg(|| format!("n{i} propose e{epoch} s{seq}"));
                let block = Vec::new();
                self.step_engine(i, epoch, Input::Propose { seq, digest, block });
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }

    fn dbg(&self, f: impl FnOnce() -> String) {
        if std::env::var("TC_ROTATION_TRACE").is_ok_and(|v| {
            let mut it = v.split('-').filter_map(|x| x.parse::<u64>().ok());
            matches!((it.next(), it.next()), (Some(a), Some(b)) if self.now >= a && self.now <= b)
        }) {
            eprintln!("{:>6} {}", self.now, f());
        }
    }

    fn start_engine(&mut self, i: usize, epoch: u64) {
        self.dbg(|| {
            format!(
                "n{i} start engine epoch {epoch} at head {}",
                self.nodes[i].fast.len()
            )
        });
        let Some(committee) = self.nodes[i].schedule.committee(epoch).cloned() else {
            return;
        };
        let signer = CachingSigner::new(self.nodes[i].signer.clone());
        match Engine::new(
            committee,
            signer,
            self.verifier.clone(),
            self.p.engine.clone(),
        ) {
            Ok(engine) => {
                self.nodes[i].engines.insert(epoch, engine);
                self.step_engine(i, epoch, Input::Start);
                let msgs = self.nodes[i].buffered.remove(&epoch).unwrap_or_default();
                for m in msgs {
                    self.step_engine(i, epoch, Input::Message(m));
                }
            }
            Err(e) => self
                .violations
                .push(format!("node {i}: engine for epoch {epoch}: {e}")),
        }
    }

    fn import_snail(&mut self, i: usize, block: SnailBlock) {
        let mut todo = vec![block];
        while let Some(b) = todo.pop() {
            let hash = b.header.hash();
            let parent = b.header.parent_hash;
            match self.nodes[i].tree.import(b.clone(), GENESIS_MS + self.now) {
                Ok(_) => {
                    if let Some(children) = self.nodes[i].orphans.remove(&hash) {
                        todo.extend(children);
                    }
                }
                Err(SnailError::UnknownParent { .. }) => {
                    self.nodes[i].orphans.entry(parent).or_default().push(b);
                }
                Err(e) => self.violations.push(format!("node {i}: snail import: {e}")),
            }
        }
        let n = &mut self.nodes[i];
        if let Err(e) = n.schedule.sync(&n.tree) {
            self.violations.push(format!("node {i}: schedule: {e}"));
        }
        self.advance(i);
    }

    fn mine_block(&mut self) {
        let m = self.rng.gen_range(0..self.nodes.len());
        let n = &self.nodes[m];
        let fast = &n.fast;
        let fruits = n.tree.select_fruits(fast.len() as u64, |k| {
            fast.get((k as usize).checked_sub(1)?).map(|f| f.0)
        });
        let head = n.tree.head();
        let Some(mut block) = n.tree.template(
            &head,
            n.key,
            Address::with_last_byte(m as u8),
            GENESIS_MS + self.now,
            fruits,
        ) else {
            return;
        };
        match mine(&block.header, self.rng.r#gen(), 1 << 24) {
            Some(nonce) => block.header.nonce = nonce,
            None => return,
        }
        for j in 0..self.nodes.len() {
            if j != m {
                let d = self.delay();
                self.push(
                    self.now + d,
                    Ev::Snail {
                        to: j,
                        block: block.clone(),
                    },
                );
            }
        }
        self.import_snail(m, block);
    }

    fn done(&self) -> bool {
        let e = self.p.epochs;
        self.nodes.iter().all(|n| {
            n.schedule
                .switch_height(e)
                .is_some_and(|h| n.fast.len() as u64 > h + 2)
        })
    }

    fn run(mut self, seed: u64) -> RotationReport {
        for i in 0..self.nodes.len() {
            self.advance(i);
        }
        self.next_mine();
        while !self.done() {
            let Some(((at, _), ev)) = self.queue.pop_first() else {
                break;
            };
            if at > self.p.deadline_ms {
                break;
            }
            self.now = at;
            match ev {
                Ev::Msg { to, msg } => {
                    let epoch = msg.epoch;
                    if self.nodes[to].engines.contains_key(&epoch) {
                        self.step_engine(to, epoch, Input::Message(msg));
                    } else if !self.nodes[to].retired.contains(&epoch) {
                        self.nodes[to].buffered.entry(epoch).or_default().push(msg);
                    }
                    self.advance(to);
                }
                Ev::Timer { node, epoch, kind } => {
                    if !matches!(kind, TimeoutKind::Status)
                        && self.nodes[node].engines.contains_key(&epoch)
                    {
                        self.dbg(|| format!("n{node} timer e{epoch} {kind:?}"));
                    }
                    self.step_engine(node, epoch, Input::Timeout(kind));
                    self.advance(node);
                }
                Ev::Snail { to, block } => {
                    self.dbg(|| format!("n{to} snail #{}", block.header.number));
                    self.import_snail(to, block)
                }
                Ev::Cert { to, cert } => {
                    let head = self.nodes[to].fast.len() as u64;
                    if cert.seq > head {
                        self.nodes[to].pending.entry(cert.seq).or_insert(cert);
                    }
                    self.advance(to);
                }
                Ev::Mine => {
                    self.mine_block();
                    self.next_mine();
                }
            }
        }
        self.report(seed)
    }

    fn report(mut self, seed: u64) -> RotationReport {
        let mut r = RotationReport {
            seed,
            end_ms: self.now,
            ..RotationReport::default()
        };
        if !self.done() {
            let heads: Vec<usize> = self.nodes.iter().map(|n| n.fast.len()).collect();
            let epochs: Vec<u64> = self
                .nodes
                .iter()
                .map(|n| n.schedule.latest_epoch())
                .collect();
            self.violations.push(format!(
                "liveness: not all nodes entered epoch {} by {} ms (fast heads {heads:?}, epochs {epochs:?})",
                self.p.epochs, self.now
            ));
        }
        // Agreement on the fast chain.
        let common = self.nodes.iter().map(|n| n.fast.len()).min().unwrap_or(0);
        r.fast_height = common as u64;
        for s in 0..common {
            let d = self.nodes[0].fast[s].0;
            if let Some(j) = self.nodes.iter().position(|n| n.fast[s].0 != d) {
                self.violations
                    .push(format!("agreement: seq {} differs at node {j}", s + 1));
            }
        }
        // Committees: identical on every node for every epoch they all determined.
        let last = self
            .nodes
            .iter()
            .map(|n| n.schedule.latest_epoch())
            .min()
            .unwrap_or(0);
        for e in 0..=last {
            let h0 = self.nodes[0].schedule.committee(e).map(Committee::hash);
            if let Some(j) = self
                .nodes
                .iter()
                .position(|n| n.schedule.committee(e).map(Committee::hash) != h0)
            {
                self.violations
                    .push(format!("committee of epoch {e} differs at node {j}"));
            }
            if let Some(c) = self.nodes[0].schedule.committee(e) {
                r.committee_sizes.push(c.size());
            }
        }
        // next_committee markers and rotation gaps.
        let n0 = &self.nodes[0];
        let switches: BTreeMap<u64, B256> = (1..=last)
            .filter_map(|e| n0.schedule.committee(e).map(|c| (c.start_height, c.hash())))
            .collect();
        for s in 1..=common as u64 {
            let digest = n0.fast[s as usize - 1].0;
            let Some(&(_, seq, nc)) = self.proposals.get(&digest) else {
                self.violations
                    .push(format!("validity: seq {s} decided an unproposed block"));
                continue;
            };
            let want = switches.get(&(s + 1)).copied().unwrap_or(B256::ZERO);
            if seq != s || nc != want {
                self.violations.push(format!(
                    "seq {s}: next_committee {nc} (proposed for seq {seq}), expected {want}"
                ));
            }
        }
        let mut intervals = Vec::new();
        for s in 2..=common as u64 {
            if let (Some(a), Some(b)) = (self.first_commit.get(&(s - 1)), self.first_commit.get(&s))
            {
                if switches.contains_key(&s) {
                    r.rotation_gaps_ms.push(b - a);
                    r.switch_heights.push(s);
                } else {
                    intervals.push(b - a);
                }
            }
        }
        intervals.sort_unstable();
        r.max_interval_ms = intervals.last().copied().unwrap_or(0);
        r.median_interval_ms = intervals.get(intervals.len() / 2).copied().unwrap_or(0);
        for (h, g) in r.switch_heights.iter().zip(&r.rotation_gaps_ms) {
            if self.p.check_gap && *g > 2 * r.median_interval_ms.max(1) {
                self.violations.push(format!(
                    "rotation gap at height {h}: {g} ms > 2 × median {} ms",
                    r.median_interval_ms
                ));
            }
        }
        r.snail_height = tc_consensus::snail::ChainView::head_number(&self.nodes[0].tree);
        r.violations = self.violations;
        r
    }
}

/// Run one hybrid simulation.
pub fn run_rotation(profile: &RotationProfile, seed: u64) -> RotationReport {
    match HybridSim::new(profile, seed) {
        Ok(sim) => sim.run(seed),
        Err(e) => RotationReport {
            seed,
            violations: vec![format!("setup: {e}")],
            ..RotationReport::default()
        },
    }
}
