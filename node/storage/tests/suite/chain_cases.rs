//! [`ChainStore`] behaviour, run over both stores by `store_suite.rs`.
use std::sync::Arc;

use alloy_primitives::{B256, Bytes, U256};
use tc_storage::history::KIND_INDEX;
use tc_storage::{ChainStore, SCHEMA_VERSION, StorageError, Store, Table, WriteBatch, meta_keys};
use tc_types::{
    AccountChange, Committee, FruitRef, Member, SnailBlock, SnailHeader, StateDiff, StateReader,
    StorageChange, keccak256,
};

use crate::common::{addr, block, cert_for, commit_range, diff_for, receipts_for};

pub(crate) fn commit_and_read_back(chain: &ChainStore) {
    assert_eq!(chain.fast_head().expect("head"), None);
    let hashes = commit_range(chain, 0, 5, 3);
    assert_eq!(chain.fast_head().expect("head"), Some((5, hashes[5])));
    assert_eq!(chain.genesis_hash().expect("genesis"), Some(hashes[0]));
    for n in 0..=5u64 {
        let expected = block(
            n,
            if n == 0 {
                B256::ZERO
            } else {
                hashes[n as usize - 1]
            },
            3,
        );
        let hash = hashes[n as usize];
        assert_eq!(expected.hash(), hash);
        assert_eq!(
            chain.header_by_number(n).expect("h"),
            Some(expected.header.clone())
        );
        assert_eq!(
            chain.header_by_hash(&hash).expect("h"),
            Some(expected.header.clone())
        );
        assert_eq!(chain.block_number(&hash).expect("n"), Some(n));
        assert_eq!(chain.block_hash(n).expect("bh"), Some(hash));
        assert_eq!(chain.block_by_number(n).expect("b"), Some(expected.clone()));
        assert_eq!(
            chain.block_by_hash(&hash).expect("b"),
            Some(expected.clone())
        );
        assert_eq!(chain.receipts(n).expect("r"), Some(receipts_for(&expected)));
        let cert = chain.certificate(n).expect("c");
        if n == 0 {
            assert_eq!(cert, None, "genesis has no certificate");
        } else {
            assert_eq!(cert, Some(cert_for(&expected)));
        }
        for (i, tx) in expected.transactions.iter().enumerate() {
            let loc = chain
                .tx_location(tx.tx_hash())
                .expect("loc")
                .expect("indexed");
            assert_eq!(
                (loc.block_number, loc.block_hash, loc.index),
                (n, hash, i as u64)
            );
            let (got, receipt, _) = chain.transaction(tx.tx_hash()).expect("tx").expect("found");
            assert_eq!(&got, tx);
            assert_eq!(&receipt.tx_hash, tx.tx_hash());
        }
    }
    assert_eq!(chain.header_by_number(6).expect("h"), None);
    assert_eq!(chain.block_by_number(6).expect("b"), None);
    assert_eq!(
        chain.header_by_hash(&B256::repeat_byte(1)).expect("h"),
        None
    );
    assert_eq!(chain.tx_location(&B256::repeat_byte(1)).expect("l"), None);
    assert_eq!(chain.transaction(&B256::repeat_byte(1)).expect("t"), None);
}

pub(crate) fn refuses_out_of_order_commits(chain: &ChainStore) {
    let hashes = commit_range(chain, 0, 2, 1);
    let before = chain.store().stats().expect("stats");
    let gap = block(4, hashes[2], 1);
    let err = chain
        .commit_block(
            &gap,
            &receipts_for(&gap),
            Some(&cert_for(&gap)),
            &diff_for(4),
        )
        .expect_err("gap");
    assert_eq!(
        err,
        StorageError::NonContiguous {
            expected: 3,
            got: 4
        }
    );
    let fork = block(3, B256::repeat_byte(9), 1);
    let err = chain
        .commit_block(
            &fork,
            &receipts_for(&fork),
            Some(&cert_for(&fork)),
            &diff_for(3),
        )
        .expect_err("fork");
    assert!(
        matches!(err, StorageError::ParentMismatch { number: 3, .. }),
        "{err}"
    );
    let next = block(3, hashes[2], 2);
    let err = chain
        .commit_block(&next, &[], Some(&cert_for(&next)), &diff_for(3))
        .expect_err("receipts");
    assert_eq!(
        err.to_string(),
        "commit of fast block 3 refused: 0 receipts for 2 transactions"
    );
    let wrong_cert = cert_for(&fork);
    let err = chain
        .commit_block(&next, &receipts_for(&next), Some(&wrong_cert), &diff_for(3))
        .expect_err("cert");
    assert!(
        matches!(err, StorageError::InvalidBlock { number: 3, .. }),
        "{err}"
    );
    // Nothing was written by the refused commits.
    let after = chain.store().stats().expect("stats");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.writes, a.writes, "table {}", a.name);
    }
    assert_eq!(chain.fast_head().expect("head"), Some((2, hashes[2])));
    // Extra operations ride in the same batch.
    let mut extra = WriteBatch::new();
    extra.put(Table::ConsensusLog, *b"executed", 3u64.to_be_bytes());
    let ok = block(3, hashes[2], 1);
    chain
        .commit_block_with(
            &ok,
            &receipts_for(&ok),
            Some(&cert_for(&ok)),
            &diff_for(3),
            extra,
        )
        .expect("commit with extra");
    assert_eq!(
        chain.consensus_get(b"executed").expect("get"),
        Some(3u64.to_be_bytes().to_vec())
    );
    assert_eq!(chain.fast_head().expect("head").map(|h| h.0), Some(3));
}

pub(crate) fn latest_state_reader(chain: &ChainStore) {
    let hashes = commit_range(chain, 0, 6, 0);
    let s = chain.latest_state();
    let a1 = s.account(&addr(1)).expect("a").expect("exists");
    assert_eq!((a1.nonce, a1.balance), (6, U256::from(6000)));
    assert!(s.account(&addr(106)).expect("a").is_some());
    assert!(s.account(&addr(107)).expect("a").is_none());
    assert_eq!(s.storage(&addr(2), &U256::ZERO).expect("s"), U256::from(6));
    assert_eq!(s.storage(&addr(2), &U256::from(1)).expect("s"), U256::ZERO);
    let code = Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]);
    assert_eq!(s.code(&keccak256(&code)).expect("c"), Some(code));
    assert_eq!(s.code(&B256::repeat_byte(3)).expect("c"), None);
    assert_eq!(s.block_hash(3).expect("bh"), Some(hashes[3]));
    assert_eq!(s.block_hash(7).expect("bh"), None);
    // Block 10: slot becomes zero (deleted), account deleted.
    commit_range(chain, 7, 10, 0);
    let mut gone = block(11, chain.fast_head().expect("h").expect("h").1, 0);
    gone.header.number = 11;
    let diff = StateDiff {
        accounts: vec![AccountChange {
            address: addr(106),
            info: None,
        }],
        ..Default::default()
    };
    chain
        .commit_block(&gone, &[], Some(&cert_for(&gone)), &diff)
        .expect("commit");
    assert_eq!(s.storage(&addr(2), &U256::ZERO).expect("s"), U256::ZERO);
    assert!(s.account(&addr(106)).expect("a").is_none());
    assert!(
        chain
            .store()
            .get(Table::Storage, &[&addr(2)[..], &[0u8; 32]].concat())
            .expect("raw")
            .is_none(),
        "zero slot deleted"
    );
}

/// The state `diff_for` produces after block `b` (0 ≤ b).
fn expect_state_at(chain: &ChainStore, b: u64) {
    let s = chain.state_at(b).expect("window");
    let a1 = s.account(&addr(1)).expect("a").expect("exists");
    assert_eq!(
        (a1.nonce, a1.balance),
        (b, U256::from(b * 1000)),
        "account 1 at {b}"
    );
    let slot = if b.is_multiple_of(5) {
        U256::ZERO
    } else {
        U256::from(b)
    };
    assert_eq!(
        s.storage(&addr(2), &U256::ZERO).expect("s"),
        slot,
        "slot at {b}"
    );
    for n in b.saturating_sub(3)..b + 3 {
        let exists = s
            .account(&addr(100u8.wrapping_add(n as u8)))
            .expect("a")
            .is_some();
        assert_eq!(exists, n <= b, "account 100+{n} at block {b}");
    }
    assert!(s.block_hash(b).expect("bh").is_some());
    assert_eq!(
        s.block_hash(b + 1).expect("bh"),
        None,
        "future block hash hidden at {b}"
    );
}

pub(crate) fn historical_state_reads(chain: &ChainStore) {
    // history_blocks = 8.
    commit_range(chain, 0, 5, 0);
    for b in 0..=5 {
        expect_state_at(chain, b);
    }
    commit_range(chain, 6, 30, 0);
    assert_eq!(chain.history_floor().expect("floor"), Some(22));
    for b in 22..=30 {
        expect_state_at(chain, b);
    }
    let err = chain.state_at(21).expect_err("pruned");
    assert_eq!(
        err,
        StorageError::HistoryPruned {
            requested: 21,
            oldest: 22
        }
    );
    assert!(err.to_string().contains("no longer retained"), "{err}");
    assert_eq!(
        chain.state_at(31).expect_err("future"),
        StorageError::BeyondHead {
            requested: 31,
            head: Some(30)
        }
    );
    // A view taken inside the window fails once pruning passes it, instead of lying.
    let view = chain.state_at(22).expect("view");
    commit_range(chain, 31, 31, 0);
    let err = view.account(&addr(1)).expect_err("pruned under the view");
    assert!(err.0.contains("no longer retained"), "{err}");
    // Pruned blocks left no history entries behind.
    let index = chain
        .store()
        .iter_prefix(Table::StateHistory, &[KIND_INDEX], usize::MAX)
        .expect("iter");
    let blocks: Vec<u64> = index
        .iter()
        .map(|(k, _)| u64::from_be_bytes(k[1..9].try_into().expect("8")))
        .collect();
    assert_eq!(blocks, (24..=31).collect::<Vec<_>>());
    let all = chain
        .store()
        .iter_range(Table::StateHistory, &[], None, usize::MAX)
        .expect("iter");
    for (k, _) in &all {
        let n = u64::from_be_bytes(k[k.len() - 8..].try_into().expect("8"));
        assert!(n > 23, "history entry of pruned block {n}");
    }
}

pub(crate) fn wiped_storage_history(chain: &ChainStore) {
    let c = addr(3);
    let slots: Vec<StorageChange> = (0..5u64)
        .map(|i| StorageChange {
            address: c,
            slot: U256::from(i),
            value: U256::from(10 + i),
        })
        .collect();
    let g = block(0, B256::ZERO, 0);
    chain
        .commit_block(
            &g,
            &[],
            None,
            &StateDiff {
                storage: slots,
                ..Default::default()
            },
        )
        .expect("genesis");
    let b1 = block(1, g.hash(), 0);
    let d1 = StateDiff {
        wiped: vec![c],
        storage: vec![StorageChange {
            address: c,
            slot: U256::from(2),
            value: U256::from(99),
        }],
        ..Default::default()
    };
    chain
        .commit_block(&b1, &[], Some(&cert_for(&b1)), &d1)
        .expect("b1");
    let b2 = block(2, b1.hash(), 0);
    chain
        .commit_block(&b2, &[], Some(&cert_for(&b2)), &StateDiff::default())
        .expect("b2");
    let b3 = block(3, b2.hash(), 0);
    chain
        .commit_block(
            &b3,
            &[],
            Some(&cert_for(&b3)),
            &StateDiff {
                wiped: vec![c],
                ..Default::default()
            },
        )
        .expect("b3");
    let at = |b: u64, slot: u64| {
        chain
            .state_at(b)
            .expect("view")
            .storage(&c, &U256::from(slot))
            .expect("read")
    };
    for i in 0..5 {
        assert_eq!(at(0, i), U256::from(10 + i));
        assert_eq!(at(1, i), if i == 2 { U256::from(99) } else { U256::ZERO });
        assert_eq!(at(2, i), if i == 2 { U256::from(99) } else { U256::ZERO });
        assert_eq!(at(3, i), U256::ZERO);
        assert_eq!(
            chain
                .latest_state()
                .storage(&c, &U256::from(i))
                .expect("latest"),
            U256::ZERO
        );
    }
    assert!(
        chain
            .store()
            .iter_prefix(Table::Storage, c.as_slice(), 10)
            .expect("iter")
            .is_empty()
    );
}

pub(crate) fn snail_committees_consensus_log_meta(chain: &ChainStore) {
    let mk = |n: u64, parent: B256, nonce: u64| SnailBlock {
        header: SnailHeader {
            number: n,
            parent_hash: parent,
            difficulty: 10,
            nonce,
            ..Default::default()
        },
        fruits: vec![FruitRef {
            number: n * 2,
            hash: B256::repeat_byte(n as u8),
        }],
    };
    let g = mk(0, B256::ZERO, 0);
    let a1 = mk(1, g.header.hash(), 1);
    let a2 = mk(2, a1.header.hash(), 1);
    let b1 = mk(1, g.header.hash(), 2);
    for blk in [&g, &a1, &a2, &b1] {
        chain.put_snail_block(blk).expect("put");
        assert_eq!(
            chain.snail_block(&blk.header.hash()).expect("get"),
            Some(blk.clone())
        );
        assert_eq!(
            chain.snail_header(&blk.header.hash()).expect("get"),
            Some(blk.header.clone())
        );
    }
    assert_eq!(chain.snail_head().expect("head"), None);
    chain
        .set_snail_head(
            2,
            a2.header.hash(),
            &[(0, g.header.hash()), (1, a1.header.hash())],
        )
        .expect("head");
    assert_eq!(
        chain.snail_head().expect("head"),
        Some((2, a2.header.hash()))
    );
    assert_eq!(chain.snail_canonical(1).expect("c"), Some(a1.header.hash()));
    // Reorg to the shorter-numbered branch b (e.g. heavier): entries above 1 disappear.
    chain
        .set_snail_head(1, b1.header.hash(), &[])
        .expect("reorg");
    assert_eq!(
        chain.snail_head().expect("head"),
        Some((1, b1.header.hash()))
    );
    assert_eq!(chain.snail_canonical(0).expect("c"), Some(g.header.hash()));
    assert_eq!(chain.snail_canonical(1).expect("c"), Some(b1.header.hash()));
    assert_eq!(chain.snail_canonical(2).expect("c"), None);
    assert_eq!(
        chain.snail_block(&B256::repeat_byte(7)).expect("none"),
        None
    );

    let committee = |epoch| Committee {
        epoch,
        start_height: epoch * 100,
        members: vec![Member {
            key: B256::repeat_byte(epoch as u8),
            coinbase: addr(5),
            weight: 1,
        }],
        seed: B256::ZERO,
    };
    assert_eq!(chain.latest_committee().expect("latest"), None);
    for e in [0, 1, 2] {
        chain.put_committee(&committee(e)).expect("put");
    }
    assert_eq!(chain.committee(1).expect("get"), Some(committee(1)));
    assert_eq!(chain.committee(9).expect("get"), None);
    assert_eq!(
        chain.latest_committee().expect("latest"),
        Some(committee(2))
    );

    for seq in 0u64..10 {
        chain
            .consensus_put(
                &[b"vote/".as_slice(), &seq.to_be_bytes()].concat(),
                &[seq as u8],
            )
            .expect("put");
    }
    chain
        .consensus_write(&[(b"view", Some(b"3")), (b"vote/x", None)])
        .expect("write");
    assert_eq!(
        chain.consensus_get(b"view").expect("get"),
        Some(b"3".to_vec())
    );
    let from = [b"vote/".as_slice(), &3u64.to_be_bytes()].concat();
    let to = [b"vote/".as_slice(), &6u64.to_be_bytes()].concat();
    let got = chain.consensus_range(&from, Some(&to), 100).expect("range");
    assert_eq!(
        got.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    chain
        .consensus_delete_range(b"vote/", &to)
        .expect("delete range");
    chain.consensus_delete(b"view").expect("delete");
    assert_eq!(chain.consensus_get(b"view").expect("get"), None);
    let rest = chain.consensus_range(b"", None, 100).expect("range");
    assert_eq!(
        rest.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
        vec![6, 7, 8, 9]
    );

    chain.meta_put("custom", b"hello").expect("meta");
    assert_eq!(
        chain.meta_get("custom").expect("meta"),
        Some(b"hello".to_vec())
    );
    assert_eq!(
        chain.meta_get(meta_keys::SCHEMA_VERSION).expect("meta"),
        Some(SCHEMA_VERSION.to_be_bytes().to_vec())
    );
}

fn put_raw(chain: &ChainStore, table: Table, key: &[u8], value: &[u8]) {
    let mut b = WriteBatch::new();
    b.put(table, key, value);
    chain.store().write(b).expect("raw write");
}

fn assert_corrupt<T: std::fmt::Debug>(r: Result<T, StorageError>, table: Table) {
    match r {
        Err(StorageError::Corrupt { table: t, .. }) => assert_eq!(t, table),
        other => panic!("expected corrupt {table}, got {other:?}"),
    }
}

pub(crate) fn corrupt_bytes_are_errors(chain: &ChainStore) {
    let hashes = commit_range(chain, 0, 2, 2);
    let k1 = 1u64.to_be_bytes();
    // Valid prefix, truncated; and garbage.
    let header = chain
        .store()
        .get(Table::FastHeaders, &k1)
        .expect("raw")
        .expect("stored");
    put_raw(chain, Table::FastHeaders, &k1, &header[..header.len() - 3]);
    assert_corrupt(chain.header_by_number(1), Table::FastHeaders);
    assert_corrupt(chain.header_by_hash(&hashes[1]), Table::FastHeaders);
    put_raw(
        chain,
        Table::FastHeaders,
        &k1,
        &[header.as_slice(), &[0x80]].concat(),
    );
    assert_corrupt(chain.header_by_number(1), Table::FastHeaders);
    for (table, key) in [
        (Table::FastBodies, k1.to_vec()),
        (Table::Receipts, k1.to_vec()),
        (Table::Certificates, k1.to_vec()),
        (Table::FastHashes, hashes[2].to_vec()),
    ] {
        put_raw(chain, table, &key, &[0xf8, 0xff, 0x01]);
    }
    assert_corrupt(chain.body(1), Table::FastBodies);
    assert_corrupt(chain.receipts(1), Table::Receipts);
    assert_corrupt(chain.certificate(1), Table::Certificates);
    assert_corrupt(chain.block_number(&hashes[2]), Table::FastHashes);
    // A body that is a valid RLP list holding a non-transaction.
    put_raw(chain, Table::FastBodies, &k1, &[0xc2, 0x81, 0x07]);
    assert_corrupt(chain.body(1), Table::FastBodies);
    let tx = *chain
        .block_by_number(2)
        .expect("b")
        .expect("b")
        .transactions[0]
        .tx_hash();
    put_raw(chain, Table::TxIndex, tx.as_slice(), b"junk");
    assert_corrupt(chain.tx_location(&tx), Table::TxIndex);

    put_raw(chain, Table::Accounts, addr(1).as_slice(), &[0xc1]);
    let err = chain
        .latest_state()
        .account(&addr(1))
        .expect_err("corrupt account");
    assert!(err.0.contains("corrupt account in table accounts"), "{err}");
    put_raw(
        chain,
        Table::Storage,
        &[&addr(2)[..], &[0u8; 32]].concat(),
        &[1, 2, 3],
    );
    assert!(chain.latest_state().storage(&addr(2), &U256::ZERO).is_err());
    put_raw(chain, Table::Committees, &5u64.to_be_bytes(), b"{not json");
    assert_corrupt(chain.committee(5), Table::Committees);
    put_raw(
        chain,
        Table::SnailHeaders,
        B256::repeat_byte(4).as_slice(),
        &[0xff],
    );
    assert_corrupt(
        chain.snail_header(&B256::repeat_byte(4)),
        Table::SnailHeaders,
    );
    put_raw(
        chain,
        Table::Meta,
        meta_keys::FAST_HEAD.as_bytes(),
        &[1, 2, 3],
    );
    assert_corrupt(chain.fast_head(), Table::Meta);
    let b = block(3, hashes[2], 0);
    assert_corrupt(
        chain.commit_block(&b, &[], None, &StateDiff::default()),
        Table::Meta,
    );
}

pub(crate) fn schema_version_is_checked(store: Arc<dyn Store>) {
    let chain = ChainStore::open(store.clone(), 8).expect("first open");
    drop(chain);
    ChainStore::open(store.clone(), 8).expect("same version reopens");
    let mut b = WriteBatch::new();
    b.put(
        Table::Meta,
        meta_keys::SCHEMA_VERSION.as_bytes(),
        99u64.to_be_bytes(),
    );
    store.write(b).expect("write");
    let err = ChainStore::open(store, 8).expect_err("other version");
    assert_eq!(
        err,
        StorageError::SchemaMismatch {
            found: 99,
            expected: SCHEMA_VERSION
        }
    );
}

pub(crate) fn commit_stats_touch_block_tables(chain: &ChainStore) {
    commit_range(chain, 0, 3, 4);
    let stats = chain.stats().expect("stats");
    let touched = [
        Table::FastHeaders,
        Table::FastHashes,
        Table::FastBodies,
        Table::Receipts,
        Table::Certificates,
        Table::TxIndex,
        Table::Accounts,
        Table::Storage,
        Table::Code,
        Table::StateHistory,
        Table::Meta,
    ];
    for t in Table::ALL {
        let s = &stats[t.index()];
        if touched.contains(&t) {
            assert!(
                s.bytes_written > 0 && s.writes > 0,
                "{t} should be written: {s:?}"
            );
        } else {
            assert_eq!(
                (s.bytes_written, s.writes),
                (0, 0),
                "{t} should be untouched: {s:?}"
            );
        }
    }
    chain.flush().expect("flush");
    let stats = chain.stats().expect("stats");
    assert_eq!(stats[Table::FastHeaders.index()].estimated_keys, 4);
    assert_eq!(stats[Table::TxIndex.index()].estimated_keys, 16);
}
