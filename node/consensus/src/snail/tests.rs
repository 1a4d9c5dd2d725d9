//! Snail tree tests: validation errors, fork choice, reorgs, fruits through the tree.
use tc_types::{Address, B256, FruitRef, PubKey, SnailBlock, SnailHeader, fruits_hash};

use super::*;
use crate::committee::fruits::{FruitConfig, FruitError};

pub(crate) fn cfg() -> SnailConfig {
    SnailConfig {
        retarget: RetargetConfig {
            target_interval_ms: 1_000,
            window: 4,
            max_adjust_divisor: 8,
            min_difficulty: 4,
        },
        max_future_drift_ms: 5_000,
        fruits: FruitConfig {
            freshness: 3,
            max_fruits: 16,
        },
    }
}

pub(crate) fn genesis() -> SnailBlock {
    SnailBlock {
        header: SnailHeader {
            difficulty: 8,
            timestamp_ms: 1_000_000,
            fruits_hash: fruits_hash(&[]),
            ..SnailHeader::default()
        },
        fruits: vec![],
    }
}

pub(crate) fn key(b: u8) -> PubKey {
    PubKey::repeat_byte(b)
}

pub(crate) fn fr(n: u64) -> FruitRef {
    FruitRef {
        number: n,
        hash: B256::with_last_byte(n as u8),
    }
}

/// Mine a valid child of `parent`, `dt` ms later, by miner `m`.
pub(crate) fn child(
    t: &SnailTree,
    parent: &B256,
    m: u8,
    dt: u64,
    fruits: Vec<FruitRef>,
) -> SnailBlock {
    let ts = t.block(parent).expect("parent").header.timestamp_ms + dt;
    let mut b = t
        .template(parent, key(m), Address::repeat_byte(m), ts, fruits)
        .expect("template");
    b.header.nonce = mine(&b.header, 0, 1 << 20).expect("solvable");
    b
}

const NOW: u64 = 2_000_000;

fn extend(t: &mut SnailTree, parent: B256, miners: &[u8]) -> Vec<B256> {
    let mut p = parent;
    let mut out = vec![];
    for m in miners {
        let b = child(t, &p, *m, 1_000, vec![]);
        p = b.header.hash();
        t.import(b, NOW).expect("import");
        out.push(p);
    }
    out
}

#[test]
fn linear_chain_new_heads_then_known() {
    let mut t = SnailTree::new(cfg(), genesis());
    let g = t.genesis();
    let b1 = child(&t, &g, 1, 1_000, vec![]);
    let h1 = b1.header.hash();
    assert_eq!(
        t.import(b1.clone(), NOW),
        Ok(ImportOutcome::NewHead {
            hash: h1,
            number: 1
        })
    );
    assert_eq!(
        t.import(b1, NOW),
        Ok(ImportOutcome::AlreadyKnown { hash: h1 })
    );
    assert_eq!(t.head(), h1);
    assert_eq!(t.head_number(), 1);
    assert_eq!(t.total_difficulty(&h1), Some(16));
}

#[test]
fn validation_errors_are_typed() {
    let t0 = SnailTree::new(cfg(), genesis());
    let g = t0.genesis();
    let good = child(&t0, &g, 1, 1_000, vec![]);
    let resealed = |mut b: SnailBlock| {
        b.header.nonce = mine(&b.header, 0, 1 << 20).expect("solvable");
        b
    };
    type Case = (
        &'static str,
        Box<dyn Fn(SnailBlock) -> SnailBlock>,
        fn(&SnailError) -> bool,
    );
    let cases: Vec<Case> = vec![
        (
            "unknown parent",
            Box::new(move |mut b| {
                b.header.parent_hash = B256::repeat_byte(9);
                resealed(b)
            }),
            |e| matches!(e, SnailError::UnknownParent { .. }),
        ),
        (
            "bad number",
            Box::new(move |mut b| {
                b.header.number = 5;
                resealed(b)
            }),
            |e| {
                matches!(
                    e,
                    SnailError::BadNumber {
                        number: 5,
                        expected: 1,
                        ..
                    }
                )
            },
        ),
        (
            "timestamp equal to parent",
            Box::new(move |mut b| {
                b.header.timestamp_ms = 1_000_000;
                resealed(b)
            }),
            |e| matches!(e, SnailError::TimestampNotAfterParent { .. }),
        ),
        (
            "timestamp in future",
            Box::new(move |mut b| {
                b.header.timestamp_ms = NOW + 5_001;
                resealed(b)
            }),
            |e| {
                matches!(
                    e,
                    SnailError::TimestampInFuture {
                        drift_ms: 5_000,
                        ..
                    }
                )
            },
        ),
        (
            "wrong difficulty",
            Box::new(move |mut b| {
                b.header.difficulty = 9;
                resealed(b)
            }),
            |e| {
                matches!(
                    e,
                    SnailError::WrongDifficulty {
                        got: 9,
                        expected: 8,
                        ..
                    }
                )
            },
        ),
        (
            "zero difficulty",
            Box::new(move |mut b| {
                b.header.difficulty = 0;
                b
            }),
            |e| {
                matches!(
                    e,
                    SnailError::Pow {
                        source: PowError::ZeroDifficulty { .. },
                        ..
                    }
                )
            },
        ),
        (
            "bad pow",
            Box::new(move |mut b| {
                let target = pow_target(b.header.difficulty).expect("target");
                let seal = b.header.seal_hash();
                b.header.nonce = (0..)
                    .find(|n| !meets_target(&pow_hash(&seal, *n), &target))
                    .expect("fails");
                b
            }),
            |e| {
                matches!(
                    e,
                    SnailError::Pow {
                        source: PowError::AboveTarget { .. },
                        ..
                    }
                )
            },
        ),
        (
            "fruits hash",
            Box::new(move |mut b| {
                b.fruits.push(fr(1));
                b
            }),
            |e| matches!(e, SnailError::FruitsHashMismatch { .. }),
        ),
        (
            "second genesis",
            Box::new(move |mut b| {
                b.header.number = 0;
                b
            }),
            |e| matches!(e, SnailError::ForeignGenesis { .. }),
        ),
    ];
    for (name, mutate, check) in cases {
        let mut t = t0.clone();
        let err = t.import(mutate(good.clone()), NOW).expect_err(name);
        assert!(check(&err), "{name}: got {err}");
        assert_eq!(t.len(), 1, "{name}: nothing stored");
    }
    let mut t = t0.clone();
    assert!(t.import(good, NOW).is_ok());
}

#[test]
fn fork_choice_heaviest_then_lowest_hash_and_reorg() {
    let mut t = SnailTree::new(cfg(), genesis());
    let g = t.genesis();
    let a = extend(&mut t, g, &[1, 1, 1]);
    assert_eq!(t.head(), a[2]);
    // A fork from a[0]: two blocks equal TD (same difficulties) → side chain unless lower hash.
    let f1 = child(&t, &a[0], 2, 1_000, vec![]);
    let f1h = f1.header.hash();
    assert_eq!(
        t.import(f1, NOW),
        Ok(ImportOutcome::SideChain {
            hash: f1h,
            number: 2
        })
    );
    let f2 = child(&t, &f1h, 2, 1_000, vec![]);
    let f2h = f2.header.hash();
    assert_eq!(t.total_difficulty(&f2h), None);
    let out = t.import(f2, NOW).expect("import");
    assert_eq!(
        t.total_difficulty(&f2h),
        t.total_difficulty(&a[2]),
        "same TD"
    );
    if f2h < a[2] {
        assert!(
            matches!(out, ImportOutcome::Reorg(_)),
            "lower hash wins the tie"
        );
        assert_eq!(t.head(), f2h);
    } else {
        assert_eq!(
            out,
            ImportOutcome::SideChain {
                hash: f2h,
                number: 3
            }
        );
        assert_eq!(t.head(), a[2]);
    }
    // A third fork block makes it strictly heavier: reorg of depth 2 (or a new head).
    let f3 = child(&t, &f2h, 2, 1_000, vec![]);
    let f3h = f3.header.hash();
    let out = t.import(f3, NOW).expect("import");
    if f2h < a[2] {
        assert_eq!(
            out,
            ImportOutcome::NewHead {
                hash: f3h,
                number: 4
            }
        );
    } else {
        assert_eq!(
            out,
            ImportOutcome::Reorg(Reorg {
                old_head: a[2],
                new_head: f3h,
                common_ancestor: a[0],
                depth: 2,
                retracted: vec![a[1], a[2]],
                enacted: vec![f1h, f2h, f3h],
            })
        );
    }
    assert_eq!(t.head(), f3h);
    assert_eq!(t.canonical_range(0, 9), vec![g, a[0], f1h, f2h, f3h]);
    assert!(!t.is_canonical(&a[1]));
    assert_eq!(t.ancestor(&a[2], 1), Some(a[0]));
    assert_eq!(t.ancestor(&f3h, 2), Some(f1h));
    assert_eq!(t.ancestor(&f1h, 3), None, "no ancestor above the block");
    assert_eq!(
        t.ancestor(&a[0], 2),
        None,
        "not even on the canonical chain"
    );
}

#[test]
fn fork_choice_is_independent_of_arrival_order() {
    let mut t = SnailTree::new(cfg(), genesis());
    let g = t.genesis();
    let mut blocks = vec![];
    let mut tips = vec![];
    for (m, len) in [(1u8, 3usize), (2, 3), (3, 2)] {
        let mut p = g;
        for _ in 0..len {
            let b = child(&t, &p, m, 1_000 + u64::from(m), vec![]);
            p = b.header.hash();
            blocks.push(b.clone());
            t.import(b, NOW).expect("import");
        }
        tips.push(p);
    }
    let head = t.head();
    let mut rev = SnailTree::new(cfg(), genesis());
    // Import forks in reverse fork order (each fork still parent-first).
    for chunk in [&blocks[6..8], &blocks[3..6], &blocks[0..3]] {
        for b in chunk {
            rev.import(b.clone(), NOW).expect("import");
        }
    }
    assert_eq!(rev.head(), head);
    assert_eq!(t.canonical_range(0, 10), rev.canonical_range(0, 10));
}

#[test]
fn fruits_through_the_tree() {
    let mut t = SnailTree::new(cfg(), genesis()); // freshness 3
    let g = t.genesis();
    let fast = |n: u64| (n <= 100).then(|| B256::with_last_byte(n as u8));
    // Block 1 carries fast 1..=3; block 2 carries 5 (skipping 4).
    let b1 = child(&t, &g, 1, 1_000, vec![fr(1), fr(2), fr(3)]);
    let h1 = b1.header.hash();
    t.import(b1, NOW).expect("b1");
    assert_eq!(t.fast_head(&h1), Some(3));
    let b2 = child(&t, &h1, 1, 1_000, vec![fr(5)]);
    let h2 = b2.header.hash();
    t.import(b2, NOW).expect("b2");
    // Selection for block 3 (floor = fast_head(0) = 0): 4 and 6.. skipping included ones.
    assert_eq!(t.select_fruits(6, fast), vec![fr(4), fr(6)]);
    // Re-including 2 in block 3 is rejected.
    let dup = child(&t, &h2, 1, 1_000, vec![fr(2)]);
    assert!(matches!(
        t.import(dup, NOW),
        Err(SnailError::Fruits {
            source: FruitError::AlreadyIncluded { number: 2 },
            ..
        })
    ));
    let h3 = extend(&mut t, h2, &[1])[0];
    // Block 4: floor = fast_head(1) = 3 → 4 is still fresh.
    assert_eq!(t.fruit_context(&h3).map(|c| c.floor), Some(3));
    let h4 = extend(&mut t, h3, &[1])[0];
    // Block 5: floor = fast_head(2) = 5 → 4 is stale now.
    let stale = child(&t, &h4, 1, 1_000, vec![fr(4)]);
    assert!(matches!(
        t.import(stale, NOW),
        Err(SnailError::Fruits {
            source: FruitError::Stale {
                number: 4,
                snail: 5,
                floor: 5
            },
            ..
        })
    ));
    assert_eq!(t.select_fruits(7, fast), vec![fr(6), fr(7)]);
}

#[test]
fn difficulty_follows_timestamps_through_the_tree() {
    let mut t = SnailTree::new(cfg(), genesis());
    let mut p = t.genesis();
    // Blocks every 100 ms against a 1 s target: difficulty rises by max(1, d/8) per block.
    let mut ds = vec![];
    for _ in 0..6 {
        let b = child(&t, &p, 1, 100, vec![]);
        ds.push(b.header.difficulty);
        p = b.header.hash();
        t.import(b, NOW).expect("import");
    }
    assert_eq!(ds, vec![8, 9, 10, 11, 12, 13]);
}
