//! The simulator: N engines, a virtual clock, a seeded faulty network, byzantine hooks and the
//! safety/liveness checks run after every run.
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};
use tc_consensus::pbft::{
    Ed25519Signer, Engine, Input, NULL_DIGEST, Output, Payload, PersistRecord, SignedMessage,
    TimeoutKind, verify_certificate,
};
use tc_types::{B256, CommitCertificate, Committee, MemberIndex, PbftEvent};

use crate::byzantine::{Behaviour, Honest, HookCtx};
use crate::crypto::{CachingSigner, CachingVerifier, test_committee, test_signer};
use crate::network::Profile;

/// A property violated by a run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// Two honest members decided different digests for one seq.
    #[error("agreement: seq {seq} decided {a} by member {ma} and {b} by member {mb}")]
    Agreement {
        /// Seq.
        seq: u64,
        /// First digest.
        a: B256,
        /// Its member.
        ma: MemberIndex,
        /// Second digest.
        b: B256,
        /// Its member.
        mb: MemberIndex,
    },
    /// A decided digest nobody proposed.
    #[error("validity: member {member} decided unproposed {digest} at seq {seq}")]
    Validity {
        /// Member.
        member: MemberIndex,
        /// Seq.
        seq: u64,
        /// Digest.
        digest: B256,
    },
    /// Decisions out of order.
    #[error("order: member {member} decided seq {seq} after {prev}")]
    Order {
        /// Member.
        member: MemberIndex,
        /// Seq.
        seq: u64,
        /// Previous.
        prev: u64,
    },
    /// Invalid certificate.
    #[error("certificate of member {member} for seq {seq}: {detail}")]
    Certificate {
        /// Member.
        member: MemberIndex,
        /// Seq.
        seq: u64,
        /// Why.
        detail: String,
    },
    /// No progress within the bound after stabilisation.
    #[error("liveness: member {member} decided up to {decided} of {target} by {deadline_ms} ms")]
    Liveness {
        /// Member.
        member: MemberIndex,
        /// Last decided seq.
        decided: u64,
        /// Target.
        target: u64,
        /// Deadline.
        deadline_ms: u64,
    },
}

/// Figures of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Virtual time at the end.
    pub end_ms: u64,
    /// Messages put on the network.
    pub messages: u64,
    /// Messages dropped by receivers (with a reason).
    pub rejected: u64,
    /// View changes completed (max over honest members).
    pub max_view: u64,
    /// Seqs decided by every honest member.
    pub decided: u64,
    /// Real signature verifications.
    pub verifications: u64,
}

/// Result of one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Seed.
    pub seed: u64,
    /// Violations (empty = pass).
    pub violations: Vec<Violation>,
    /// Figures.
    pub stats: RunStats,
    /// Readable trace (only when tracing was on).
    pub trace: Vec<String>,
}

#[derive(Debug)]
enum Ev {
    Deliver {
        to: usize,
        msg: SignedMessage,
    },
    Timer {
        node: usize,
        kind: TimeoutKind,
        incarnation: u64,
    },
    Crash {
        node: usize,
    },
    Restart {
        node: usize,
    },
}

struct Node {
    engine: Engine<CachingSigner, CachingVerifier>,
    signer: Ed25519Signer,
    behaviour: Box<dyn Behaviour>,
    honest: bool,
    decisions: Vec<(u64, B256, CommitCertificate)>,
    /// What the shell made durable (for crash recovery).
    persisted: Vec<PersistRecord>,
    down: bool,
    incarnation: u64,
    /// A restarted engine re-decided a seq differently from before the crash.
    redecided_otherwise: Vec<u64>,
}

/// One simulated run.
struct Sim {
    profile: Profile,
    committee: Committee,
    nodes: Vec<Node>,
    rng: ChaCha8Rng,
    now: u64,
    counter: u64,
    queue: BTreeMap<(u64, u64), Ev>,
    proposed: BTreeSet<B256>,
    side_a: Vec<bool>,
    partition: Option<(u64, u64)>,
    stable_ms: u64,
    seed: u64,
    verifier: CachingVerifier,
    crashes: Vec<(usize, u64, u64)>,
    trace: Option<Vec<String>>,
    stats: RunStats,
}

fn short(d: &B256) -> String {
    if *d == NULL_DIGEST {
        "null".into()
    } else {
        format!("{:02x}{:02x}", d[0], d[1])
    }
}

fn describe(msg: &SignedMessage) -> String {
    match &msg.payload {
        Payload::PrePrepare {
            view, seq, digest, ..
        } => format!("pre-prepare v{view} s{seq} {}", short(digest)),
        Payload::Prepare { view, seq, digest } => {
            format!("prepare v{view} s{seq} {}", short(digest))
        }
        Payload::Commit { view, seq, digest } => format!("commit v{view} s{seq} {}", short(digest)),
        Payload::Checkpoint { seq, state } => format!("checkpoint s{seq} {}", short(state)),
        Payload::ViewChange {
            new_view,
            stable_seq,
            prepared,
            ..
        } => {
            format!(
                "view-change ->v{new_view} h{stable_seq} P{}",
                prepared.len()
            )
        }
        Payload::NewView {
            view, pre_prepares, ..
        } => format!("new-view v{view} O{}", pre_prepares.len()),
        Payload::Status {
            view,
            view_changing,
            last_decided,
            ..
        } => {
            format!(
                "status v{view}{} d{last_decided}",
                if *view_changing { "*" } else { "" }
            )
        }
        Payload::Decided { certificate } => format!(
            "decided s{} {}",
            certificate.seq,
            short(&certificate.block_hash)
        ),
    }
}

impl Sim {
    fn new(profile: &Profile, seed: u64, trace: bool) -> Self {
        let committee = test_committee(profile.n, 1, 1);
        let verifier = CachingVerifier::new();
        let f = committee.max_faulty();
        let nodes = (0..profile.n)
            .map(|i| {
                let signer = test_signer(i);
                let byz = profile.byzantine.filter(|_| i < f);
                let engine = Engine::new(
                    committee.clone(),
                    CachingSigner::new(signer.clone()),
                    verifier.clone(),
                    profile.engine.clone(),
                );
                Node {
                    // The committee holds test_signer(i), so construction cannot fail.
                    engine: engine.unwrap_or_else(|e| unreachable!("test committee: {e}")),
                    signer,
                    behaviour: byz
                        .map_or_else(|| Box::new(Honest) as Box<dyn Behaviour>, |k| k.behaviour()),
                    honest: byz.is_none(),
                    decisions: Vec::new(),
                    persisted: Vec::new(),
                    down: false,
                    incarnation: 0,
                    redecided_otherwise: Vec::new(),
                }
            })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let side_a = (0..profile.n).map(|_| rng.gen_bool(0.5)).collect();
        let partition = profile.net.partition.map(|(max_from, max_heal)| {
            let from = rng.gen_range(0..=max_from);
            (from, rng.gen_range(from.max(1_000)..=max_heal.max(1_000)))
        });
        let mut crashes = Vec::new();
        if let Some((max_at, max_down)) = profile.crashes {
            let f = test_committee(profile.n, 1, 1).max_faulty();
            let mut pool: Vec<usize> = (0..profile.n).collect();
            for _ in 0..f {
                let node = pool.swap_remove(rng.gen_range(0..pool.len()));
                let at = rng.gen_range(0..=max_at);
                crashes.push((node, at, at + rng.gen_range(50..=max_down.max(50))));
            }
        }
        let last_restart = crashes.iter().map(|c| c.2).max().unwrap_or(0);
        let stable_ms = profile
            .net
            .stable_ms
            .max(partition.map_or(0, |p| p.1))
            .max(last_restart);
        Sim {
            profile: profile.clone(),
            committee,
            nodes,
            rng,
            now: 0,
            counter: 0,
            queue: BTreeMap::new(),
            proposed: BTreeSet::new(),
            side_a,
            partition,
            stable_ms,
            seed,
            verifier,
            crashes,
            trace: trace.then(Vec::new),
            stats: RunStats::default(),
        }
    }

    fn log(&mut self, f: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            t.push(format!("{:>6}ms {}", self.now, f()));
        }
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.counter += 1;
        self.queue.insert((at, self.counter), ev);
    }

    fn route(&mut self, from: usize, to: usize, msg: SignedMessage) {
        let msgs = {
            let node = &mut self.nodes[from];
            let mut ctx = HookCtx {
                signer: &node.signer,
                me: from as MemberIndex,
                n: self.profile.n,
                rng: &mut self.rng,
                proposed: &mut self.proposed,
            };
            node.behaviour.outgoing(to as MemberIndex, msg, &mut ctx)
        };
        for msg in msgs {
            self.stats.messages += 1;
            let cut = self
                .partition
                .is_some_and(|(a, b)| self.now >= a && self.now < b)
                && self.side_a[from] != self.side_a[to];
            let stable = self.now >= self.stable_ms;
            if cut || (!stable && self.rng.gen_bool(self.profile.net.drop_prob)) {
                self.log(|| format!("n{from} -> n{to} LOST {}", describe(&msg)));
                continue;
            }
            let delay = if stable {
                self.profile.net.stable_delay
            } else {
                self.profile.net.delay
            };
            if self.rng.gen_bool(self.profile.net.dup_prob) {
                let d = delay.sample(&mut self.rng);
                self.push(
                    self.now + d,
                    Ev::Deliver {
                        to,
                        msg: msg.clone(),
                    },
                );
            }
            let d = delay.sample(&mut self.rng);
            self.push(self.now + d, Ev::Deliver { to, msg });
        }
    }

    fn step(&mut self, i: usize, input: Input) {
        if self.nodes[i].down {
            return;
        }
        let outputs = self.nodes[i].engine.step(input);
        for out in outputs {
            match out {
                Output::Persist(r) => self.nodes[i].persisted.push(r),
                Output::Send { to, msg } => self.route(i, to as usize, msg),
                Output::Broadcast(msg) => {
                    for j in 0..self.nodes.len() {
                        if j != i {
                            self.route(i, j, msg.clone());
                        }
                    }
                }
                Output::Decide {
                    seq,
                    digest,
                    certificate,
                } => {
                    self.log(|| format!("n{i} DECIDE s{seq} {}", short(&digest)));
                    let node = &mut self.nodes[i];
                    // After a restart the shell ignores decisions at or below its head.
                    match node.decisions.get((seq as usize).wrapping_sub(1)) {
                        Some((_, d, _)) if *d != digest => node.redecided_otherwise.push(seq),
                        Some(_) => {}
                        None => node.decisions.push((seq, digest, certificate)),
                    }
                }
                Output::ScheduleTimeout { kind, after_ms } => {
                    let incarnation = self.nodes[i].incarnation;
                    self.push(
                        self.now + after_ms,
                        Ev::Timer {
                            node: i,
                            kind,
                            incarnation,
                        },
                    )
                }
                Output::Event(e) => {
                    if let PbftEvent::MessageDropped { .. } = e {
                        self.stats.rejected += 1;
                    }
                    if self.trace.is_some()
                        && !matches!(
                            e,
                            PbftEvent::PhaseEntered { .. } | PbftEvent::QuorumReached { .. }
                        )
                    {
                        self.log(|| format!("n{i} event {e:?}"));
                    }
                }
            }
        }
        self.maybe_propose(i);
    }

    fn maybe_propose(&mut self, i: usize) {
        while let Some(seq) = self.nodes[i].engine.next_proposal_seq() {
            if seq > self.profile.target || !self.nodes[i].behaviour.propose() {
                return;
            }
            // The digest names (proposer, seq, view) but not the seed, so identical messages recur
            // across seeds and the per-thread signature caches hit; the network differs per seed.
            let mut h = Sha256::new();
            h.update((i as u64).to_be_bytes());
            h.update(seq.to_be_bytes());
            h.update(self.nodes[i].engine.view().to_be_bytes());
            let digest = B256::from_slice(&h.finalize());
            self.proposed.insert(digest);
            self.log(|| format!("n{i} PROPOSE s{seq} {}", short(&digest)));
            self.step(
                i,
                Input::Propose {
                    seq,
                    digest,
                    block: Vec::new(),
                },
            );
        }
    }

    /// Restart from the persisted records; the shell then replays its stored certificates.
    fn restart(&mut self, i: usize) {
        let engine = Engine::recover(
            self.committee.clone(),
            CachingSigner::new(self.nodes[i].signer.clone()),
            self.verifier.clone(),
            self.profile.engine.clone(),
            &self.nodes[i].persisted,
        );
        let node = &mut self.nodes[i];
        node.engine = engine.unwrap_or_else(|e| unreachable!("test committee: {e}"));
        node.down = false;
        node.incarnation += 1;
        let view = node.engine.view();
        let stored: Vec<CommitCertificate> = node.decisions.iter().map(|d| d.2.clone()).collect();
        self.log(|| {
            format!(
                "n{i} RESTART in view {view}, replaying {} certificates",
                stored.len()
            )
        });
        self.step(i, Input::Start);
        for cert in stored {
            self.step(i, Input::Certificate(cert));
        }
    }

    fn all_done(&self) -> bool {
        self.nodes
            .iter()
            .filter(|n| n.honest)
            .all(|n| n.engine.last_decided() >= self.profile.target)
    }

    fn run(mut self) -> RunReport {
        let deadline = self.stable_ms + self.profile.liveness_ms;
        if let Some((a, b)) = self.partition {
            let sides = self.side_a.clone();
            self.log(|| format!("partition {sides:?} from {a} ms, heals at {b} ms"));
        }
        for (node, at, back) in self.crashes.clone() {
            self.log(|| format!("n{node} will crash at {at} ms and restart at {back} ms"));
            self.push(at, Ev::Crash { node });
            self.push(back, Ev::Restart { node });
        }
        for i in 0..self.nodes.len() {
            self.step(i, Input::Start);
        }
        while !self.all_done() {
            let Some(((at, _), ev)) = self.queue.pop_first() else {
                break;
            };
            if at > deadline {
                break;
            }
            self.now = at;
            match ev {
                Ev::Deliver { to, msg } => {
                    let down = if self.nodes[to].down { " (down)" } else { "" };
                    self.log(|| format!("n{} -> n{to}{down} {}", msg.from, describe(&msg)));
                    self.step(to, Input::Message(msg));
                }
                Ev::Crash { node } => {
                    self.log(|| format!("n{node} CRASH"));
                    self.nodes[node].down = true;
                }
                Ev::Restart { node } => self.restart(node),
                Ev::Timer {
                    node,
                    kind,
                    incarnation,
                } => {
                    if incarnation != self.nodes[node].incarnation {
                        continue;
                    }
                    if !matches!(kind, TimeoutKind::Status) {
                        self.log(|| format!("n{node} timer {kind:?}"));
                    }
                    self.step(node, Input::Timeout(kind));
                }
            }
        }
        let violations = self.check(deadline);
        self.stats.end_ms = self.now;
        let honest = || self.nodes.iter().filter(|n| n.honest);
        self.stats.max_view = honest().map(|n| n.engine.view()).max().unwrap_or(0);
        self.stats.decided = honest().map(|n| n.engine.last_decided()).min().unwrap_or(0);
        self.stats.verifications = self.verifier.stats().0;
        RunReport {
            seed: self.seed,
            violations,
            stats: self.stats,
            trace: self.trace.unwrap_or_default(),
        }
    }

    fn check(&self, deadline: u64) -> Vec<Violation> {
        let mut v = Vec::new();
        let mut first: BTreeMap<u64, (B256, MemberIndex)> = BTreeMap::new();
        let checker = &self.verifier;
        for (i, node) in self.nodes.iter().enumerate().filter(|(_, n)| n.honest) {
            let member = i as MemberIndex;
            for seq in &node.redecided_otherwise {
                let (a, b) = (B256::ZERO, B256::ZERO);
                v.push(Violation::Agreement {
                    seq: *seq,
                    a,
                    ma: member,
                    b,
                    mb: member,
                });
            }
            let mut prev = self.committee.start_height.saturating_sub(1);
            for (seq, digest, cert) in &node.decisions {
                if *seq != prev + 1 {
                    v.push(Violation::Order {
                        member,
                        seq: *seq,
                        prev,
                    });
                }
                prev = *seq;
                match first.get(seq) {
                    Some((d, m)) if d != digest => v.push(Violation::Agreement {
                        seq: *seq,
                        a: *d,
                        ma: *m,
                        b: *digest,
                        mb: member,
                    }),
                    Some(_) => {}
                    None => {
                        first.insert(*seq, (*digest, member));
                    }
                }
                if *digest != NULL_DIGEST && !self.proposed.contains(digest) {
                    v.push(Violation::Validity {
                        member,
                        seq: *seq,
                        digest: *digest,
                    });
                }
                if cert.seq != *seq || cert.block_hash != *digest {
                    v.push(Violation::Certificate {
                        member,
                        seq: *seq,
                        detail: "does not match the decision".into(),
                    });
                } else if let Err(e) = verify_certificate(&self.committee, cert, checker) {
                    v.push(Violation::Certificate {
                        member,
                        seq: *seq,
                        detail: e.to_string(),
                    });
                }
            }
            if prev < self.profile.target {
                v.push(Violation::Liveness {
                    member,
                    decided: prev,
                    target: self.profile.target,
                    deadline_ms: deadline,
                });
            }
        }
        v
    }
}

/// Run `profile` with `seed`; `trace` records a readable trace.
pub fn run(profile: &Profile, seed: u64, trace: bool) -> RunReport {
    Sim::new(profile, seed, trace).run()
}

/// Run seeds `from..from+count`; on the first failing seed, re-run it with a trace and return a
/// readable failure text (seed, violations, the trace's tail and how to replay it).
pub fn run_seeds(profile: &Profile, from: u64, count: u64) -> Result<RunStats, String> {
    let mut total = RunStats::default();
    for seed in from..from + count {
        let r = run(profile, seed, false);
        if !r.violations.is_empty() {
            let traced = run(profile, seed, true);
            let mut s = String::new();
            let _ = writeln!(s, "profile {} seed {seed} FAILED:", profile.name);
            for x in &r.violations {
                let _ = writeln!(s, "  {x}");
            }
            let tail = traced.trace.len().saturating_sub(400);
            let _ = writeln!(
                s,
                "trace (last {} of {} lines):",
                traced.trace.len() - tail,
                traced.trace.len()
            );
            for line in &traced.trace[tail..] {
                let _ = writeln!(s, "  {line}");
            }
            let _ = writeln!(
                s,
                "replay: tc_testkit::run(&profile, {seed}, true)  (profile {})",
                profile.name
            );
            return Err(s);
        }
        total.messages += r.stats.messages;
        total.rejected += r.stats.rejected;
        total.decided += r.stats.decided;
        total.end_ms = total.end_ms.max(r.stats.end_ms);
        total.max_view = total.max_view.max(r.stats.max_view);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// The checks are not vacuous: tampered decisions are reported.
    #[test]
    fn checks_catch_tampered_decisions() {
        let profile = Profile::no_faults(4);
        let mut sim = Sim::new(&profile, 1, false);
        let done = Sim::new(&profile, 1, false).run();
        assert!(done.violations.is_empty());
        // Re-run to get real decisions, then tamper with copies of them.
        let mut ok = Sim::new(&profile, 1, false);
        for i in 0..4 {
            ok.step(i, Input::Start);
        }
        while !ok.all_done() {
            let Some(((at, _), ev)) = ok.queue.pop_first() else {
                break;
            };
            ok.now = at;
            match ev {
                Ev::Deliver { to, msg } => ok.step(to, Input::Message(msg)),
                Ev::Timer { node, kind, .. } => ok.step(node, Input::Timeout(kind)),
                _ => {}
            }
        }
        for i in 0..4 {
            sim.nodes[i].decisions = ok.nodes[i].decisions.clone();
        }
        sim.proposed = ok.proposed.clone();
        assert!(sim.check(0).is_empty());

        // Member 1 decides another (unproposed) digest at seq 2, with seq 1's certificate.
        let (_, _, cert1) = sim.nodes[1].decisions[0].clone();
        sim.nodes[1].decisions[1].1 = B256::repeat_byte(0xee);
        sim.nodes[1].decisions[1].2 = cert1;
        // Member 2 skips seq 3; member 3's certificate loses its signatures.
        sim.nodes[2].decisions.remove(2);
        sim.nodes[3].decisions[0].2.signatures.truncate(1);
        let found: Vec<String> = sim.check(0).iter().map(|v| v.to_string()).collect();
        let has = |s: &str| found.iter().any(|f| f.starts_with(s));
        assert!(has("agreement"), "{found:?}");
        assert!(has("validity"), "{found:?}");
        assert!(has("order"), "{found:?}");
        assert!(has("certificate"), "{found:?}");
    }
}
