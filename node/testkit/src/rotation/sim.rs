//! The hybrid simulation state and its event loop.
mod check;

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};
use tc_consensus::committee::{EpochSchedule, FruitConfig};
use tc_consensus::pbft::{
    Ed25519Signer, Engine, Input, Output, SignedMessage, Signer as _, TimeoutKind,
    verify_certificate,
};
use tc_consensus::snail::{RetargetConfig, SnailConfig, SnailError, SnailTree, mine};
use tc_types::{
    Address, B256, CommitCertificate, Committee, Member, PubKey, SnailBlock, SnailHeader,
    fruits_hash,
};

use super::{GENESIS_MS, RotationProfile, RotationReport};
use crate::byzantine::{Behaviour, HookCtx};
use crate::crypto::{CachingSigner, CachingVerifier, test_signer};
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
    Pause,
    Resume {
        node: usize,
    },
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
    /// Byzantine hooks on outgoing PBFT messages (None: honest, no hook runs).
    behaviour: Option<Box<dyn Behaviour>>,
}

pub(super) struct HybridSim {
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
    /// The paused node and when it resumes.
    paused: Option<(usize, u64)>,
    /// Which node was paused (for the report).
    paused_node: Option<usize>,
    /// Digests byzantine hooks made up (equivocation).
    byz_proposed: BTreeSet<B256>,
    /// Outgoing PBFT messages a byzantine hook changed, suppressed or added to.
    byz_altered: u64,
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
    pub(super) fn new(p: &RotationProfile, seed: u64) -> Result<Self, String> {
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
                behaviour: p
                    .byzantine
                    .filter(|(_, count)| i < *count)
                    .map(|(kind, _)| kind.behaviour()),
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
            paused: None,
            paused_node: None,
            byz_proposed: BTreeSet::new(),
            byz_altered: 0,
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
                        for m in self.outgoing(i, epoch, to, msg) {
                            self.send_pbft(j, m);
                        }
                    }
                }
                Output::Broadcast(msg) => {
                    let members: Vec<PubKey> = self.nodes[i]
                        .schedule
                        .committee(epoch)
                        .map(|c| c.members.iter().map(|m| m.key).collect())
                        .unwrap_or_default();
                    for (idx, k) in members.into_iter().enumerate() {
                        if let Some(&j) = self.by_key.get(&k).filter(|j| **j != i) {
                            let idx = u32::try_from(idx).unwrap_or(u32::MAX);
                            for m in self.outgoing(i, epoch, idx, msg.clone()) {
                                self.send_pbft(j, m);
                            }
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

    /// What node `i` actually sends to member `to` of `epoch` in place of `msg` (its
    /// byzantine hook, if it has one).
    fn outgoing(
        &mut self,
        i: usize,
        epoch: u64,
        to: u32,
        msg: SignedMessage,
    ) -> Vec<SignedMessage> {
        let Some(mut b) = self.nodes[i].behaviour.take() else {
            return vec![msg];
        };
        let n = &self.nodes[i];
        let committee = n.schedule.committee(epoch);
        let me = committee.and_then(|c| c.index_of(&n.key)).unwrap_or(0);
        let size = committee.map_or(0, Committee::size);
        let mut ctx = HookCtx {
            signer: &n.signer,
            me,
            n: size,
            rng: &mut self.rng,
            proposed: &mut self.byz_proposed,
        };
        let out = b.outgoing(to, msg.clone(), &mut ctx);
        self.nodes[i].behaviour = Some(b);
        if out.len() != 1 || out[0] != msg {
            self.byz_altered += 1;
        }
        out
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
            // 3. Propose the next height when this node is the primary (and its hook lets it).
            let n = &self.nodes[i];
            let head = n.fast.len() as u64;
            let seq = head + 1;
            if let Some(epoch) = n.schedule.epoch_of(seq, &n.tree)
                && let Some(engine) = n.engines.get(&epoch)
                && engine.next_proposal_seq() == Some(seq)
                && let Some(nc) = n.schedule.next_committee_field(seq, &n.tree)
            {
                let view = engine.view();
                if self.nodes[i]
                    .behaviour
                    .as_mut()
                    .is_some_and(|b| !b.propose())
                {
                    self.byz_altered += 1; // a withheld proposal (asked again on every step)
                } else {
                    let mut h = Sha256::new();
                    for x in [epoch, seq, view, i as u64] {
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
        let byzantine = self
            .p
            .byzantine
            .map_or(0, |(_, count)| count.min(self.nodes.len()));
        let m = if byzantine > 0 && self.rng.gen_bool(self.p.byzantine_mining.clamp(0.0, 1.0)) {
            self.rng.gen_range(0..byzantine)
        } else {
            self.rng.gen_range(0..self.nodes.len())
        };
        if self.paused.is_some_and(|(p, _)| p == m) {
            return;
        }
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

    pub(super) fn run(mut self, seed: u64) -> RotationReport {
        for i in 0..self.nodes.len() {
            self.advance(i);
        }
        self.next_mine();
        if let Some((from, _)) = self.p.pause {
            self.push(from, Ev::Pause);
        }
        while !self.done() {
            let Some(((at, _), ev)) = self.queue.pop_first() else {
                break;
            };
            if at > self.p.deadline_ms {
                break;
            }
            self.now = at;
            let target = match &ev {
                Ev::Msg { to, .. } | Ev::Snail { to, .. } | Ev::Cert { to, .. } => Some(*to),
                Ev::Timer { node, .. } => Some(*node),
                Ev::Mine | Ev::Pause | Ev::Resume { .. } => None,
            };
            if let Some((p, until)) = self.paused
                && target == Some(p)
            {
                if let Ev::Timer { .. } = ev {
                    self.push(until, ev); // a stopped process's timers fire late
                }
                continue; // network input to a stopped process is lost
            }
            match ev {
                Ev::Pause => self.pause(),
                Ev::Resume { node } => self.resume(node),
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
}
