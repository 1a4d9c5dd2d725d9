//! Table-driven step tests of the engine (normal case, view change, NEW-VIEW with prepared
//! certificates, checkpoints/GC, watermarks, drop reasons, certificates, retransmission).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;

use tc_types::{Address, B256, CertSignature, Committee, Member, PbftEvent, Seq};

use super::*;

fn signer(i: usize) -> Ed25519Signer {
    let mut seed = [0u8; 32];
    seed[0] = i as u8 + 1;
    seed[31] = 0x5a;
    Ed25519Signer::from_seed(seed)
}

fn committee(n: usize) -> Committee {
    let members = (0..n)
        .map(|i| Member {
            key: signer(i).public_key(),
            coinbase: Address::ZERO,
            weight: 1,
        })
        .collect();
    Committee {
        epoch: 7,
        start_height: 1,
        members,
        seed: B256::ZERO,
    }
}

fn cfg() -> Config {
    Config {
        checkpoint_interval: 2,
        window: 4,
        max_in_flight: 4,
        view_timeout_ms: 100,
        status_interval_ms: 50,
        certificate_retention: 16,
        future_buffer: 64,
    }
}

type E = Engine<Ed25519Signer, Ed25519Verifier>;

fn engine(n: usize, i: usize) -> E {
    Engine::new(committee(n), signer(i), Ed25519Verifier, cfg()).unwrap()
}

fn sign(i: usize, epoch: u64, payload: Payload) -> SignedMessage {
    let signature = signer(i).sign(&signing_bytes(epoch, &payload));
    SignedMessage {
        epoch,
        from: i as u32,
        payload,
        signature,
    }
}

fn d(x: u8) -> B256 {
    B256::repeat_byte(x)
}

fn pp(i: usize, view: u64, seq: Seq, digest: B256) -> SignedMessage {
    sign(
        i,
        7,
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block: vec![],
        },
    )
}
fn prepare(i: usize, view: u64, seq: Seq, digest: B256) -> SignedMessage {
    sign(i, 7, Payload::Prepare { view, seq, digest })
}
fn commit(i: usize, view: u64, seq: Seq, digest: B256) -> SignedMessage {
    sign(i, 7, Payload::Commit { view, seq, digest })
}

/// Compact description of the outputs that matter (events and timers left out).
fn summary(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Persist(PersistRecord::Vote { kind, seq, .. }) => {
                Some(format!("persist {kind} s{seq}"))
            }
            Output::Persist(PersistRecord::View { view }) => Some(format!("persist view {view}")),
            Output::Persist(PersistRecord::StableCheckpoint { seq, .. }) => {
                Some(format!("persist stable s{seq}"))
            }
            Output::Broadcast(m) => Some(format!("broadcast {}", m.payload.kind())),
            Output::Send { to, msg } => Some(format!("send {} to {to}", msg.payload.kind())),
            Output::Decide { seq, .. } => Some(format!("decide s{seq}")),
            _ => None,
        })
        .collect()
}

fn dropped(outs: &[Output]) -> Vec<String> {
    outs.iter()
        .filter_map(|o| match o {
            Output::Event(PbftEvent::MessageDropped { reason, .. }) => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn normal_case_backup_table() {
    // PBFT §4.2 from member 1's point of view, n = 4 (quorum 3), digest D at seq 1.
    let steps: Vec<(SignedMessage, Vec<&str>)> = vec![
        (prepare(2, 0, 1, d(1)), vec![]),
        (
            pp(0, 0, 1, d(1)),
            vec![
                "persist prepare s1",
                "broadcast prepare",
                "persist commit s1",
                "broadcast commit",
            ],
        ),
        (prepare(2, 0, 1, d(1)), vec![]), // duplicate
        (commit(2, 0, 1, d(1)), vec![]),
        (commit(3, 0, 1, d(9)), vec![]), // a different digest does not count
        (commit(0, 0, 1, d(1)), vec!["decide s1"]),
        (commit(3, 0, 1, d(1)), vec![]),
    ];
    let mut e = engine(4, 1);
    for (k, (msg, want)) in steps.into_iter().enumerate() {
        let outs = e.step(Input::Message(msg));
        assert_eq!(summary(&outs), want, "step {k}");
        if let Some(Output::Decide {
            certificate,
            digest,
            ..
        }) = outs.iter().find(|o| matches!(o, Output::Decide { .. }))
        {
            assert_eq!(*digest, d(1));
            assert_eq!(certificate.signers(), vec![0, 1, 2]);
            verify_certificate(&committee(4), certificate, &Ed25519Verifier).unwrap();
        }
    }
    assert_eq!(e.last_decided(), 1);
}

#[test]
fn primary_and_single_member() {
    // n = 1 decides alone; the primary's PRE-PREPARE is persisted before it is broadcast.
    let mut e = engine(1, 0);
    e.step(Input::Start);
    assert_eq!(e.next_proposal_seq(), Some(1));
    let outs = e.step(Input::Propose {
        seq: 1,
        digest: d(3),
        block: vec![1, 2],
    });
    assert_eq!(
        summary(&outs),
        vec![
            "persist pre-prepare s1",
            "broadcast pre-prepare",
            "persist commit s1",
            "broadcast commit",
            "decide s1"
        ]
    );
    // A proposal for the wrong seq is refused.
    let outs = e.step(Input::Propose {
        seq: 5,
        digest: d(3),
        block: vec![],
    });
    assert_eq!(dropped(&outs).len(), 1);
}

#[test]
fn drop_reasons_table() {
    let good = pp(0, 0, 1, d(1));
    let mut bad_sig = good.clone();
    bad_sig.signature.0[3] ^= 1;
    let mut forged_from = prepare(2, 0, 1, d(1));
    forged_from.from = 3;
    let bogus_cert = tc_types::CommitCertificate {
        epoch: 7,
        view: 0,
        seq: 1,
        block_hash: d(1),
        signatures: vec![CertSignature {
            signer: 0,
            signature: commit(0, 0, 1, d(1)).signature,
        }],
    };
    let bad_vc = sign(
        2,
        7,
        Payload::ViewChange {
            new_view: 1,
            stable_seq: 0,
            checkpoint_proof: vec![],
            prepared: vec![PreparedProof {
                pre_prepare: pp(0, 0, 1, d(1)),
                prepares: vec![],
            }],
        },
    );
    let cases: Vec<(&str, SignedMessage, &str)> = vec![
        (
            "wrong epoch",
            sign(
                0,
                8,
                Payload::PrePrepare {
                    view: 0,
                    seq: 1,
                    digest: d(1),
                    block: vec![],
                },
            ),
            "wrong epoch",
        ),
        (
            "non-member",
            {
                let mut m = good.clone();
                m.from = 9;
                m
            },
            "not a committee member",
        ),
        ("bad signature", bad_sig, "invalid signature"),
        ("forged sender", forged_from, "invalid signature"),
        ("above watermarks", pp(0, 0, 99, d(1)), "outside watermarks"),
        (
            "pre-prepare from a backup",
            pp(2, 0, 1, d(1)),
            "pre-prepare not from the primary",
        ),
        (
            "prepare from the primary",
            prepare(0, 0, 1, d(1)),
            "prepare from the primary",
        ),
        ("null digest", pp(0, 0, 1, NULL_DIGEST), "null digest"),
        (
            "certificate without quorum",
            sign(
                2,
                7,
                Payload::Decided {
                    certificate: bogus_cert,
                },
            ),
            "invalid certificate",
        ),
        (
            "view-change with a bad prepared proof",
            bad_vc,
            "invalid view-change",
        ),
    ];
    for (name, msg, want) in cases {
        let mut e = engine(4, 1);
        let outs = e.step(Input::Message(msg));
        let reasons = dropped(&outs);
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "{name}: got {reasons:?}"
        );
    }
    // Conflicting pre-prepare and stale view need some state first.
    let mut e = engine(4, 1);
    e.step(Input::Message(pp(0, 0, 1, d(1))));
    let r = dropped(&e.step(Input::Message(pp(0, 0, 1, d(2)))));
    assert!(r[0].contains("conflicting pre-prepare"), "{r:?}");
    e.step(Input::Timeout(TimeoutKind::Progress {
        view: 0,
        generation: e.progress_gen,
    }));
    assert!(e.is_view_changing());
    let r = dropped(&e.step(Input::Message(prepare(2, 0, 1, d(1)))));
    assert!(r[0].contains("stale view"), "{r:?}");
}

/// Which (from, to, message) deliveries are cut.
type Cut = Box<dyn Fn(usize, usize, &SignedMessage) -> bool>;

/// Synchronous in-memory cluster: delivers every message unless `cut` says otherwise.
struct Cluster {
    engines: Vec<E>,
    queue: VecDeque<(usize, usize, SignedMessage)>,
    decided: Vec<Vec<(Seq, B256)>>,
    events: Vec<(usize, PbftEvent)>,
    cut: Cut,
}

impl Cluster {
    fn new(n: usize) -> Self {
        let mut c = Cluster {
            engines: (0..n).map(|i| engine(n, i)).collect(),
            queue: VecDeque::new(),
            decided: vec![Vec::new(); n],
            events: Vec::new(),
            cut: Box::new(|_, _, _| false),
        };
        for i in 0..n {
            c.input(i, Input::Start);
        }
        c
    }

    fn input(&mut self, i: usize, input: Input) {
        for o in self.engines[i].step(input) {
            match o {
                Output::Broadcast(m) => {
                    for j in 0..self.engines.len() {
                        if j != i {
                            self.queue.push_back((i, j, m.clone()));
                        }
                    }
                }
                Output::Send { to, msg } => self.queue.push_back((i, to as usize, msg)),
                Output::Decide { seq, digest, .. } => self.decided[i].push((seq, digest)),
                Output::Event(e) => self.events.push((i, e)),
                _ => {}
            }
        }
    }

    fn run(&mut self) {
        while let Some((from, to, m)) = self.queue.pop_front() {
            if !(self.cut)(from, to, &m) {
                self.input(to, Input::Message(m));
            }
        }
    }

    fn propose(&mut self, i: usize, digest: B256) {
        let seq = self.engines[i]
            .next_proposal_seq()
            .expect("primary can propose");
        self.input(
            i,
            Input::Propose {
                seq,
                digest,
                block: vec![],
            },
        );
    }

    fn timeout_all(&mut self) {
        for i in 0..self.engines.len() {
            let e = &self.engines[i];
            let kind = if e.is_view_changing() {
                TimeoutKind::ViewChange { view: e.view() }
            } else {
                TimeoutKind::Progress {
                    view: e.view(),
                    generation: e.progress_gen,
                }
            };
            self.input(i, Input::Timeout(kind));
        }
    }
}

#[test]
fn cluster_normal_case_checkpoint_and_gc() {
    // K = 2, window 4: after 4 decisions the checkpoint at 4 is stable and the log is empty.
    let mut c = Cluster::new(4);
    for x in 1..=4 {
        c.propose(0, d(x));
    }
    assert_eq!(
        c.engines[0].next_proposal_seq(),
        None,
        "high watermark reached before decisions"
    );
    c.run();
    for i in 0..4 {
        let want: Vec<(Seq, B256)> = (1..=4).map(|x| (x, d(x as u8))).collect();
        assert_eq!(c.decided[i], want, "member {i}");
        assert_eq!(c.engines[i].stable_checkpoint(), 4);
        assert_eq!(
            c.engines[i].log_len(),
            0,
            "log collected below the stable checkpoint"
        );
    }
    let stable: Vec<u64> = c
        .events
        .iter()
        .filter_map(|(i, e)| match e {
            PbftEvent::CheckpointStable { seq, .. } if *i == 0 => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(stable, vec![2, 4]);
    assert_eq!(
        c.engines[0].next_proposal_seq(),
        Some(5),
        "watermarks moved"
    );
}

#[test]
fn watermarks_and_in_flight_limit() {
    let mut e = engine(4, 0);
    let mut c = Config {
        max_in_flight: 2,
        ..cfg()
    };
    c.window = 4;
    e.cfg = c;
    e.step(Input::Propose {
        seq: 1,
        digest: d(1),
        block: vec![],
    });
    e.step(Input::Propose {
        seq: 2,
        digest: d(2),
        block: vec![],
    });
    assert_eq!(e.next_proposal_seq(), None, "two in flight");
    let r = dropped(&e.step(Input::Propose {
        seq: 3,
        digest: d(3),
        block: vec![],
    }));
    assert_eq!(r.len(), 1);
    // Out-of-window messages are dropped with the watermarks in the reason.
    let r = dropped(&e.step(Input::Message(commit(1, 0, 5, d(5)))));
    assert!(r[0].contains("outside watermarks (0, 4]"), "{r:?}");
}

#[test]
fn view_change_with_silent_primary_and_doubling_timeouts() {
    let mut c = Cluster::new(4);
    c.cut = Box::new(|from, _, _| from == 0); // primary 0 is silent
    c.timeout_all();
    c.run();
    for i in 1..4 {
        assert_eq!(c.engines[i].view(), 1);
        assert!(
            !c.engines[i].is_view_changing(),
            "member {i} installed view 1"
        );
    }
    assert!(c.events.iter().any(|(i, e)| *i == 1
        && matches!(
            e,
            PbftEvent::ViewChangeCompleted {
                view: 1,
                primary: 1,
                ..
            }
        )));
    c.propose(1, d(7));
    c.run();
    assert_eq!(c.decided[2], vec![(1, d(7))]);

    // Consecutive view changes double the timeout: 100, 200, 400 ms.
    let mut e = engine(4, 2);
    let mut waits = Vec::new();
    e.step(Input::Timeout(TimeoutKind::Progress {
        view: 0,
        generation: e.progress_gen,
    }));
    for _ in 0..3 {
        let outs = e.step(Input::Timeout(TimeoutKind::ViewChange { view: e.view() }));
        waits.extend(outs.iter().filter_map(|o| match o {
            Output::ScheduleTimeout {
                kind: TimeoutKind::ViewChange { .. },
                after_ms,
            } => Some(*after_ms),
            _ => None,
        }));
    }
    assert_eq!(waits, vec![200, 400, 800]);
    assert_eq!(e.view(), 4);
}

#[test]
fn new_view_carries_prepared_certificates_and_fills_gaps_with_null() {
    // Seqs 1..3 proposed in view 0; seq 2's PRE-PREPARE is lost everywhere and every COMMIT is
    // lost, so seqs 1 and 3 are prepared but undecided. The NEW-VIEW must re-propose 1 and 3 with
    // their digests and seq 2 as a null request.
    let mut c = Cluster::new(4);
    c.cut = Box::new(|_, _, m| {
        matches!(
            m.payload,
            Payload::PrePrepare {
                view: 0,
                seq: 2,
                ..
            } | Payload::Commit { view: 0, .. }
        )
    });
    for x in 1..=3 {
        c.propose(0, d(x));
    }
    c.run();
    assert!(c.decided.iter().all(Vec::is_empty));
    c.cut = Box::new(|_, _, _| false);
    c.timeout_all();
    c.run();
    let new_view = c
        .events
        .iter()
        .any(|(i, e)| *i == 2 && matches!(e, PbftEvent::ViewChangeCompleted { view: 1, .. }));
    assert!(new_view);
    for i in 0..4 {
        assert_eq!(
            c.decided[i],
            vec![(1, d(1)), (2, NULL_DIGEST), (3, d(3))],
            "member {i}"
        );
    }
}

#[test]
fn retransmission_and_state_transfer_via_status() {
    // Member 3 hears nothing for a while, then STATUS exchanges bring it up to date.
    let mut c = Cluster::new(4);
    c.cut = Box::new(|_, to, _| to == 3);
    for x in 1..=4 {
        c.propose(0, d(x));
    }
    c.run();
    assert!(c.decided[3].is_empty());
    assert_eq!(c.decided[0].len(), 4);
    c.cut = Box::new(|_, _, _| false);
    c.input(3, Input::Timeout(TimeoutKind::Status));
    c.run();
    assert_eq!(
        c.decided[3],
        (1..=4).map(|x| (x, d(x as u8))).collect::<Vec<_>>()
    );
    assert_eq!(c.engines[3].stable_checkpoint(), 4);
}

#[test]
fn certificate_verification_table() {
    let com = committee(4);
    let sig = |i: usize| CertSignature {
        signer: i as u32,
        signature: commit(i, 0, 1, d(1)).signature,
    };
    let cert = |sigs: Vec<CertSignature>| tc_types::CommitCertificate {
        epoch: 7,
        view: 0,
        seq: 1,
        block_hash: d(1),
        signatures: sigs,
    };
    let mut wrong_epoch = cert(vec![sig(0), sig(1), sig(2)]);
    wrong_epoch.epoch = 8;
    let mut tampered = cert(vec![sig(0), sig(1), sig(2)]);
    tampered.block_hash = d(2);
    let cases: Vec<(&str, tc_types::CommitCertificate, Result<(), &str>)> = vec![
        ("quorum", cert(vec![sig(0), sig(1), sig(2)]), Ok(())),
        ("all", cert(vec![sig(0), sig(1), sig(2), sig(3)]), Ok(())),
        ("too few", cert(vec![sig(0), sig(1)]), Err("quorum is 3")),
        (
            "duplicate",
            cert(vec![sig(0), sig(1), sig(1)]),
            Err("strictly increasing"),
        ),
        (
            "non-member",
            cert(vec![
                sig(0),
                sig(1),
                CertSignature {
                    signer: 9,
                    signature: sig(2).signature,
                },
            ]),
            Err("not a member"),
        ),
        ("wrong epoch", wrong_epoch, Err("epoch")),
        ("other digest", tampered, Err("invalid signature")),
    ];
    for (name, c, want) in cases {
        let got = verify_certificate(&com, &c, &Ed25519Verifier).map_err(|e| e.to_string());
        match (got, want) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(w)) => assert!(e.contains(w), "{name}: {e}"),
            (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn recovery_keeps_votes_and_view() {
    // Member 1 prepares D at (0, 1), "crashes", and restarts from its persisted records.
    let mut e = engine(4, 1);
    let outs = e.step(Input::Message(pp(0, 0, 1, d(1))));
    let records: Vec<PersistRecord> = outs
        .iter()
        .filter_map(|o| match o {
            Output::Persist(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(records.len(), 1);
    let mut r = Engine::recover(committee(4), signer(1), Ed25519Verifier, cfg(), &records).unwrap();
    r.step(Input::Start);
    // A (byzantine) primary re-proposing another digest at the same (view, seq) is refused...
    let reasons = dropped(&r.step(Input::Message(pp(0, 0, 1, d(2)))));
    assert!(reasons[0].contains("equivocation"), "{reasons:?}");
    // ...the same digest is accepted again.
    let outs = r.step(Input::Message(pp(0, 0, 1, d(1))));
    assert_eq!(
        summary(&outs),
        vec!["persist prepare s1", "broadcast prepare"]
    );

    // A persisted view above 0: resume view-changing, with the view-change timer armed.
    let mut r = Engine::recover(
        committee(4),
        signer(1),
        Ed25519Verifier,
        cfg(),
        &[PersistRecord::View { view: 3 }],
    )
    .unwrap();
    assert_eq!((r.view(), r.is_view_changing()), (3, true));
    let outs = r.step(Input::Start);
    assert!(outs.iter().any(|o| matches!(
        o,
        Output::ScheduleTimeout {
            kind: TimeoutKind::ViewChange { view: 3 },
            ..
        }
    )));
}

#[test]
fn stored_certificates_are_replayed_in_order() {
    let sig = |i: usize, seq: Seq| CertSignature {
        signer: i as u32,
        signature: commit(i, 0, seq, d(seq as u8)).signature,
    };
    let cert = |seq: Seq| tc_types::CommitCertificate {
        epoch: 7,
        view: 0,
        seq,
        block_hash: d(seq as u8),
        signatures: vec![sig(0, seq), sig(1, seq), sig(2, seq)],
    };
    let mut e = engine(4, 3);
    assert!(
        summary(&e.step(Input::Certificate(cert(2)))).is_empty(),
        "waits for seq 1"
    );
    let outs = e.step(Input::Certificate(cert(1)));
    assert_eq!(
        summary(&outs),
        vec!["decide s1", "decide s2", "broadcast checkpoint"]
    );
    let mut bad = cert(3);
    bad.signatures.pop();
    assert!(dropped(&e.step(Input::Certificate(bad)))[0].contains("quorum"));
}
