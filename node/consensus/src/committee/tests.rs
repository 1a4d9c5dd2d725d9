//! Election vectors (mirrored in `docs/election.md`) and epoch-schedule tests.
use tc_types::{Address, B256, Committee, FastHeader, Member, PubKey, SnailHeader, fruits_hash};

use super::*;
use crate::snail::ChainView;

/// A canonical chain without PoW (election and schedule only read it).
#[derive(Debug, Default)]
pub(crate) struct VecView {
    headers: Vec<SnailHeader>,
    hashes: Vec<B256>,
    fast_heads: Vec<u64>,
}

impl VecView {
    /// Genesis plus one block per `(miner byte, difficulty, fast_head)`.
    pub(crate) fn build(blocks: &[(u8, u64, u64)]) -> Self {
        let mut v = Self::default();
        let genesis = SnailHeader {
            difficulty: 100,
            fruits_hash: fruits_hash(&[]),
            ..SnailHeader::default()
        };
        v.hashes.push(genesis.hash());
        v.headers.push(genesis);
        v.fast_heads.push(0);
        for (i, (m, d, fh)) in blocks.iter().enumerate() {
            let n = i as u64 + 1;
            let h = SnailHeader {
                number: n,
                parent_hash: v.hashes[i],
                difficulty: *d,
                nonce: 0,
                miner: PubKey::repeat_byte(*m),
                coinbase: Address::repeat_byte(*m),
                timestamp_ms: n * 1_000,
                fruits_hash: fruits_hash(&[]),
            };
            v.hashes.push(h.hash());
            v.headers.push(h);
            v.fast_heads.push(*fh);
        }
        v
    }
}

impl ChainView for VecView {
    fn head_number(&self) -> u64 {
        self.headers.len() as u64 - 1
    }
    fn canonical_header(&self, number: u64) -> Option<&SnailHeader> {
        self.headers.get(number as usize)
    }
    fn canonical_hash(&self, number: u64) -> Option<B256> {
        self.hashes.get(number as usize).copied()
    }
    fn fast_head_at(&self, number: u64) -> Option<u64> {
        self.fast_heads.get(number as usize).copied()
    }
}

fn ecfg() -> ElectionConfig {
    ElectionConfig {
        epoch_length: 10,
        lambda: 2,
        committee_size: 3,
    }
}

/// The worked example: blocks 1..=10, window of epoch 1 = 1..=8.
fn example(change_block_7_to: Option<u8>) -> Vec<(u8, u64, u64)> {
    let mut b = vec![
        (0xA, 100, 0),
        (0xB, 100, 3),
        (0xA, 120, 7),
        (0xC, 110, 10),
        (0xD, 90, 14),
        (0xA, 100, 20),
        (0xE, 50, 25),
        (0xB, 100, 31),
        (0xF, 100, 37), // 9 and 10 are the λ confirmations: not in the window
        (0xF, 100, 40),
    ];
    if let Some(m) = change_block_7_to {
        b[6].0 = m;
    }
    b
}

fn key(b: u8) -> PubKey {
    PubKey::repeat_byte(b)
}

fn member(b: u8, weight: u64) -> Member {
    Member {
        key: key(b),
        coinbase: Address::repeat_byte(b),
        weight,
    }
}

fn b256(s: &str) -> B256 {
    s.parse().expect("hex")
}

#[test]
fn election_vector_worked_example() {
    let v = VecView::build(&example(None));
    assert_eq!(ecfg().window(1), 1..=8);
    assert_eq!(ecfg().close(1), 10);
    let e = election_for(&ecfg(), 1, &v).expect("elect");
    assert_eq!(
        v.hashes[8],
        b256("0x0cce3e9bc31a2a8b868f5af22bf18aebf6979b17d0bd8399f46c7ea7a096047a")
    );
    assert_eq!(
        e.seed,
        b256("0x19036e70d4bfe7037fbb57e88cd681499675ecb04f86d1d2e9e7866ae5584d36")
    );
    let works: Vec<(PubKey, u64)> = e.candidates.iter().map(|c| (c.key, c.work)).collect();
    assert_eq!(
        works,
        vec![
            (key(0xA), 320),
            (key(0xB), 200),
            (key(0xC), 110),
            (key(0xD), 90),
            (key(0xE), 50)
        ]
    );
    let mut s = SeedStream::new(e.seed);
    assert_eq!(s.next_u128(), 0xc1c819a6c03defae18f2a86333d37dc2);
    assert_eq!(s.next_u128(), 0xb82e87280feaac96df3c91cb59103221);
    assert_eq!(s.next_u128(), 0x459847afb91cd74e2e0f1e5db27248d3);
    // Draws: 174 of 770 → A; 415 of 450 → E; 147 of 400 → B. Members in key order.
    assert_eq!(
        e.members,
        vec![member(0xA, 320), member(0xB, 200), member(0xE, 50)]
    );
}

#[test]
fn election_same_chain_same_committee() {
    let a = election_for(&ecfg(), 1, &VecView::build(&example(None))).expect("a");
    let b = election_for(&ecfg(), 1, &VecView::build(&example(None))).expect("b");
    assert_eq!(a, b);
    // Blocks 9 and 10 (the λ confirmations) do not matter.
    let mut other = example(None);
    other[8].0 = 0x1;
    other[9].0 = 0x2;
    let c = election_for(&ecfg(), 1, &VecView::build(&other)).expect("c");
    assert_eq!(a.members, c.members);
    assert_eq!(a.seed, c.seed);
}

#[test]
fn election_vector_one_miner_changed() {
    // Block 7 mined by A instead of E: E is no longer a candidate, A's work is 370, blocks 7
    // and 8 get new hashes, so the seed and every draw change.
    let e = election_for(&ecfg(), 1, &VecView::build(&example(Some(0xA)))).expect("elect");
    assert_eq!(
        e.seed,
        b256("0xab53d2ea42864a287bef6727239def07ca30c54ca1c2a03ede8e1b7c3d51a8bf")
    );
    assert_eq!(e.candidates.len(), 4);
    // Draws: 49 of 770 → A; 2 of 400 → B; 149 of 200 → D.
    assert_eq!(
        e.members,
        vec![member(0xA, 370), member(0xB, 200), member(0xD, 90)]
    );
}

#[test]
fn election_edge_cases() {
    let cfg = ElectionConfig {
        committee_size: 10,
        ..ecfg()
    };
    // Fewer candidates than C: all of them, key order.
    let e = election_for(&cfg, 1, &VecView::build(&example(None))).expect("elect");
    assert_eq!(
        e.members.iter().map(|m| m.key).collect::<Vec<_>>(),
        [0xA, 0xB, 0xC, 0xD, 0xE].map(key).to_vec()
    );
    // No candidate (empty window): no members; the schedule carries the previous ones over.
    let empty = elect_from_window(&cfg, 3, &[]);
    assert!(empty.members.is_empty());
    assert_eq!(empty.seed, election_seed(3, []));
    // Not yet determined / genesis / bad config.
    let short = VecView::build(&example(None)[..9]);
    assert_eq!(
        election_for(&cfg, 1, &short),
        Err(ElectionError::NotYetDetermined {
            epoch: 1,
            close: 10,
            head: 9
        })
    );
    assert_eq!(
        election_for(&cfg, 0, &short),
        Err(ElectionError::GenesisEpoch)
    );
    let bad = ElectionConfig {
        lambda: 10,
        ..ecfg()
    };
    assert!(matches!(
        election_for(&bad, 1, &short),
        Err(ElectionError::BadConfig(_))
    ));
}

#[test]
fn seed_stream_is_uniform_enough_and_rejects() {
    let mut s = SeedStream::new(B256::repeat_byte(7));
    let mut counts = [0u32; 3];
    for _ in 0..3_000 {
        counts[s.below(3) as usize] += 1;
    }
    assert!(counts.iter().all(|c| (900..1100).contains(c)), "{counts:?}");
    assert_eq!(SeedStream::new(B256::ZERO).below(1), 0);
}

fn rcfg() -> HybridConfig {
    HybridConfig {
        election: ecfg(),
        rotation: RotationConfig {
            switch_margin: 5,
            min_epoch_blocks: 3,
        },
    }
}

fn genesis_committee() -> Committee {
    Committee {
        epoch: 0,
        start_height: 1,
        members: vec![member(0x1, 1), member(0x2, 1)],
        seed: B256::ZERO,
    }
}

/// Epoch 1 = `example`, epoch 2 = blocks 11..=20 with fast heads from `fast2`.
fn two_epochs(miner16: u8, fast2: u64) -> Vec<(u8, u64, u64)> {
    let mut b = example(None);
    for i in 11..=20u64 {
        let m = if i == 16 { miner16 } else { 0xC };
        b.push((m, 100, if i <= 18 { fast2 } else { fast2 + 9 }));
    }
    b
}

#[test]
fn switch_heights_follow_the_rule() {
    // (fast head at block 18, expected H_2): max(fast_head(18) + M, H_1 + min) with H_1 = 36.
    for (fast2, want) in [(60u64, 65u64), (31, 39), (34, 39), (35, 40)] {
        let v = VecView::build(&two_epochs(0xC, fast2));
        let mut s = EpochSchedule::new(rcfg(), genesis_committee()).expect("schedule");
        let out = s.sync(&v).expect("sync");
        assert_eq!(out.elected.len(), 2);
        // H_1 = max(fast_head(8) = 31 + 5, 1 + 3) = 36.
        assert_eq!(s.switch_height(1), Some(36), "fast2 {fast2}");
        assert_eq!(s.switch_height(2), Some(want), "fast2 {fast2}");
        // Epoch 2's window (11..=18) has one miner, C: the two heaviest members of epoch 1's
        // committee (A 320, B 200; E 50 stays out) fill the other seats.
        assert_eq!(
            s.committee(2).map(|c| c.members.clone()),
            Some(vec![member(0xA, 320), member(0xB, 200), member(0xC, 800)])
        );
        assert_eq!(s.epoch(2).map(|i| i.filled), Some(2));
    }
}

#[test]
fn fill_up_vectors() {
    // Vectors of docs/election.md ("Fewer miners than C").
    let previous = [member(0xA, 320), member(0xB, 200), member(0xE, 50)];
    // One drawn, C = 3: A and B fill up (heaviest first), key order.
    assert_eq!(
        fill_up(vec![member(0xC, 800)], &previous, 3),
        (
            vec![member(0xA, 320), member(0xB, 200), member(0xC, 800)],
            2
        )
    );
    // A drawn member keeps its new weight; the previous entry of that key is not used.
    assert_eq!(
        fill_up(vec![member(0xB, 5)], &previous, 2),
        (vec![member(0xA, 320), member(0xB, 5)], 1)
    );
    // Equal weights: key ascending decides.
    let tied = [member(0x2, 1), member(0x1, 1), member(0x3, 1)];
    assert_eq!(
        fill_up(vec![member(0xC, 9)], &tied, 3),
        (vec![member(0x1, 1), member(0x2, 1), member(0xC, 9)], 2)
    );
    // Nobody drawn: the heaviest C of the previous committee continue.
    assert_eq!(
        fill_up(Vec::new(), &previous, 2),
        (vec![member(0xA, 320), member(0xB, 200)], 2)
    );
    // The previous committee runs out: smaller than C, never padded otherwise.
    assert_eq!(
        fill_up(vec![member(0xC, 1)], &previous, 10),
        (
            vec![
                member(0xA, 320),
                member(0xB, 200),
                member(0xC, 1),
                member(0xE, 50)
            ],
            3
        )
    );
    // Enough drawn: nothing filled.
    assert_eq!(
        fill_up(vec![member(0xD, 1), member(0xC, 1)], &previous, 2),
        (vec![member(0xC, 1), member(0xD, 1)], 0)
    );
}

#[test]
fn schedule_fills_a_short_window_from_the_previous_committee() {
    // C = 6, epoch 1's window has five miners (A..E): the genesis committee (0x1, 0x2, weight
    // 1 each) gives the sixth seat to 0x1 (equal weights: lower key).
    let cfg = HybridConfig {
        election: ElectionConfig {
            committee_size: 6,
            ..ecfg()
        },
        ..rcfg()
    };
    let v = VecView::build(&example(None));
    let mut s = EpochSchedule::new(cfg, genesis_committee()).expect("schedule");
    s.sync(&v).expect("sync");
    assert_eq!(
        s.committee(1).map(|c| c.members.clone()),
        Some(vec![
            member(0x1, 1),
            member(0xA, 320),
            member(0xB, 200),
            member(0xC, 110),
            member(0xD, 90),
            member(0xE, 50),
        ])
    );
    assert_eq!(
        s.epoch(1).map(|i| (i.filled, i.carried_over)),
        Some((1, false))
    );
    // The same chain on another node gives the same committee.
    let mut t = EpochSchedule::new(s.config().clone(), genesis_committee()).expect("schedule");
    t.sync(&v).expect("sync");
    assert_eq!(t.committee(1), s.committee(1));
}

#[test]
fn schedule_positions_and_fast_header_checks() {
    let v = VecView::build(&example(None)); // head 10: epoch 1 determined, H_1 = 36
    let mut s = EpochSchedule::new(rcfg(), genesis_committee()).expect("schedule");
    let out = s.sync(&v).expect("sync");
    assert_eq!(out.elected.len(), 1);
    let c1 = s.committee(1).expect("epoch 1").clone();
    assert_eq!(c1.start_height, 36);
    // Lower bound of H_2: max(fast_head(min(10 − 2, 18)) + 5, 36 + 3) = 39.
    assert_eq!(s.next_switch_lower_bound(&v), 39);
    // (height, epoch_of, is_last_block_of_epoch)
    for (h, epoch, last) in [
        (0u64, Some(0u64), Some(false)),
        (1, Some(0), Some(false)),
        (34, Some(0), Some(false)),
        (35, Some(0), Some(true)),
        (36, Some(1), Some(false)),
        (37, Some(1), Some(false)),
        (38, Some(1), None),
        (39, None, None),
    ] {
        assert_eq!(s.epoch_of(h, &v), epoch, "epoch_of({h})");
        assert_eq!(s.is_last_block_of_epoch(h, &v), last, "is_last({h})");
    }
    assert_eq!(s.next_committee_field(35, &v), Some(c1.hash()));
    assert_eq!(s.next_committee_field(34, &v), Some(B256::ZERO));
    let hdr = |number, epoch, next_committee| FastHeader {
        number,
        epoch,
        next_committee,
        ..FastHeader::default()
    };
    assert_eq!(s.check_fast_header(&hdr(35, 0, c1.hash()), &v), Ok(()));
    assert_eq!(s.check_fast_header(&hdr(36, 1, B256::ZERO), &v), Ok(()));
    assert_eq!(
        s.check_fast_header(&hdr(35, 0, B256::ZERO), &v),
        Err(RotationError::WrongNextCommittee {
            height: 35,
            got: B256::ZERO,
            expected: c1.hash()
        })
    );
    assert_eq!(
        s.check_fast_header(&hdr(36, 0, B256::ZERO), &v),
        Err(RotationError::WrongEpoch {
            height: 36,
            got: 0,
            expected: 1
        })
    );
    assert_eq!(
        s.check_fast_header(&hdr(39, 1, B256::ZERO), &v),
        Err(RotationError::Undetermined { height: 39 })
    );
    assert_eq!(
        s.check_fast_header(&hdr(0, 0, B256::repeat_byte(1)), &v),
        Ok(())
    );
}

#[test]
fn schedule_follows_snail_reorgs() {
    let mut s = EpochSchedule::new(rcfg(), genesis_committee()).expect("schedule");
    s.sync(&VecView::build(&two_epochs(0xC, 60))).expect("sync");
    let c2 = s.committee(2).expect("epoch 2").clone();
    // Same prefix up to 15, different block 16: epoch 2 is re-derived, epoch 1 stays.
    let v = VecView::build(&two_epochs(0xD, 60));
    let out = s.sync(&v).expect("resync");
    assert_eq!(out.retracted, vec![2]);
    assert_eq!(out.elected.len(), 1);
    let c2b = s.committee(2).expect("epoch 2").clone();
    assert_ne!(c2.seed, c2b.seed);
    // C and D mined the window; A, the heaviest of epoch 1's committee, fills the third seat.
    assert_eq!(
        c2b.members,
        vec![member(0xA, 320), member(0xC, 700), member(0xD, 100)]
    );
    assert_eq!(s.switch_height(1), Some(36));
    // A shorter chain (reorg to a lighter-numbered head) forgets epoch 2 without re-electing.
    let out = s
        .sync(&VecView::build(&two_epochs(0xD, 60)[..15]))
        .expect("shorter");
    assert_eq!(
        out,
        SyncOutcome {
            retracted: vec![2],
            elected: vec![]
        }
    );
    assert_eq!(s.latest_epoch(), 1);
    // Syncing again with no change is a no-op.
    let out = s
        .sync(&VecView::build(&two_epochs(0xD, 60)[..15]))
        .expect("again");
    assert_eq!(out, SyncOutcome::default());
}

#[test]
fn schedule_on_a_mined_snail_tree() {
    use crate::snail::SnailTree;
    use crate::snail::tests::{cfg, child, genesis};
    let mut t = SnailTree::new(cfg(), genesis());
    let mut p = t.genesis();
    for i in 1..=10u64 {
        let b = child(&t, &p, (i % 3) as u8 + 1, 1_000, vec![]);
        p = b.header.hash();
        t.import(b, 2_000_000).expect("import");
    }
    let mut s = EpochSchedule::new(rcfg(), genesis_committee()).expect("schedule");
    let out = s.sync(&t).expect("sync");
    assert_eq!(out.elected.len(), 1);
    let c = &out.elected[0];
    assert_eq!(c.members.len(), 3, "three distinct miners");
    assert_eq!(c.start_height, 5, "no fruits: max(0 + 5, 1 + 3)");
    let direct = election_for(&rcfg().election, 1, &t).expect("elect");
    assert_eq!(direct.members, c.members);
}

#[test]
fn follower_checks_certificate_against_the_epochs_committee() {
    use crate::pbft::{Ed25519Signer, Ed25519Verifier, Signer};
    use tc_types::{CertSignature, CommitCertificate, commit_signing_bytes};
    let signers: Vec<Ed25519Signer> = (1..=4u8)
        .map(|b| Ed25519Signer::from_seed([b; 32]))
        .collect();
    let genesis = Committee {
        epoch: 0,
        start_height: 1,
        members: signers
            .iter()
            .map(|s| Member {
                key: s.public_key(),
                coinbase: Address::ZERO,
                weight: 1,
            })
            .collect(),
        seed: B256::ZERO,
    };
    let v = VecView::build(&example(None)); // H_1 = 36
    let mut s = EpochSchedule::new(rcfg(), genesis).expect("schedule");
    s.sync(&v).expect("sync");
    let c1 = s.committee(1).expect("epoch 1").hash();
    let header = FastHeader {
        number: 35,
        epoch: 0,
        next_committee: c1,
        ..FastHeader::default()
    };
    let cert = |signed_by: &[usize], epoch: u64, hash: B256| CommitCertificate {
        epoch,
        view: 0,
        seq: 35,
        block_hash: hash,
        signatures: signed_by
            .iter()
            .map(|i| CertSignature {
                signer: *i as u32,
                signature: signers[*i].sign(&commit_signing_bytes(epoch, 0, 35, &hash)),
            })
            .collect(),
    };
    let ok = cert(&[0, 1, 3], 0, header.hash());
    let vf = Ed25519Verifier;
    assert_eq!(check_committed_block(&s, &v, &header, &ok, &vf), Ok(()));
    assert!(matches!(
        check_committed_block(&s, &v, &header, &cert(&[0, 1], 0, header.hash()), &vf),
        Err(FollowError::Certificate {
            number: 35,
            epoch: 0,
            ..
        })
    ));
    assert!(matches!(
        check_committed_block(&s, &v, &header, &cert(&[0, 1, 2], 0, B256::ZERO), &vf),
        Err(FollowError::Mismatch { .. })
    ));
    let unmarked = FastHeader {
        next_committee: B256::ZERO,
        ..header.clone()
    };
    assert!(matches!(
        check_committed_block(
            &s,
            &v,
            &unmarked,
            &cert(&[0, 1, 2], 0, unmarked.hash()),
            &vf
        ),
        Err(FollowError::Rotation(
            RotationError::WrongNextCommittee { .. }
        ))
    ));
}
