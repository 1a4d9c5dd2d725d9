//! The same behaviour tests against both [`Store`] implementations (raw tables) and against
//! [`ChainStore`] over both.
mod common;

use std::sync::Arc;

use tc_storage::{ChainStore, MemoryStore, RocksStore, StorageConfig, Store, Table, WriteBatch};
use tempfile::TempDir;

/// A store plus whatever keeps it alive (the temp dir of a RocksDB store).
#[derive(Debug)]
pub(crate) struct Fixture {
    pub(crate) store: Arc<dyn Store>,
    _dir: Option<TempDir>,
}

fn memory() -> Fixture {
    Fixture {
        store: Arc::new(MemoryStore::new()),
        _dir: None,
    }
}

fn rocks() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RocksStore::open(&StorageConfig::at(dir.path().join("db"))).expect("open");
    Fixture {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

mod raw {
    use super::*;

    pub(crate) fn round_trip_per_table(s: &dyn Store) {
        for t in Table::ALL {
            let mut b = WriteBatch::new();
            b.put(
                t,
                format!("key-{t}").into_bytes(),
                format!("value-{t}").into_bytes(),
            );
            s.write(b).expect("write");
        }
        for t in Table::ALL {
            let got = s.get(t, format!("key-{t}").as_bytes()).expect("get");
            assert_eq!(got, Some(format!("value-{t}").into_bytes()), "table {t}");
            // Tables are separate keyspaces.
            for other in Table::ALL.into_iter().filter(|o| *o != t) {
                assert_eq!(
                    s.get(other, format!("key-{t}").as_bytes()).expect("get"),
                    None,
                    "{t} leaked into {other}"
                );
            }
        }
        for t in Table::ALL {
            let mut b = WriteBatch::new();
            b.delete(t, format!("key-{t}").into_bytes());
            s.write(b).expect("delete");
            assert_eq!(
                s.get(t, format!("key-{t}").as_bytes()).expect("get"),
                None,
                "table {t}"
            );
        }
    }

    pub(crate) fn multi_get(s: &dyn Store) {
        let mut b = WriteBatch::new();
        b.put(Table::Accounts, *b"a", *b"1");
        b.put(Table::Accounts, *b"c", *b"3");
        s.write(b).expect("write");
        let got = s
            .multi_get(Table::Accounts, &[b"a", b"b", b"c"])
            .expect("multi_get");
        assert_eq!(got, vec![Some(b"1".to_vec()), None, Some(b"3".to_vec())]);
    }

    pub(crate) fn ranges_are_numeric_with_big_endian_keys(s: &dyn Store) {
        let mut b = WriteBatch::new();
        for n in [0u64, 1, 2, 255, 256, 1000, 65_536, u64::MAX] {
            b.put(Table::FastHeaders, n.to_be_bytes(), n.to_le_bytes());
        }
        s.write(b).expect("write");
        let keys = |v: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<u64> {
            v.into_iter()
                .map(|(k, _)| u64::from_be_bytes(k.try_into().expect("8 bytes")))
                .collect()
        };
        let all = s
            .iter_range(Table::FastHeaders, &[], None, usize::MAX)
            .expect("iter");
        assert_eq!(keys(all), vec![0, 1, 2, 255, 256, 1000, 65_536, u64::MAX]);
        let mid = s
            .iter_range(
                Table::FastHeaders,
                &2u64.to_be_bytes(),
                Some(&1000u64.to_be_bytes()),
                10,
            )
            .expect("iter");
        assert_eq!(keys(mid), vec![2, 255, 256]);
        let limited = s
            .iter_range(Table::FastHeaders, &1u64.to_be_bytes(), None, 2)
            .expect("iter");
        assert_eq!(keys(limited), vec![1, 2]);
        let rev = s
            .iter_range_rev(
                Table::FastHeaders,
                &2u64.to_be_bytes(),
                Some(&65_536u64.to_be_bytes()),
                2,
            )
            .expect("rev");
        assert_eq!(keys(rev), vec![1000, 256]);
        let last = s
            .iter_range_rev(Table::FastHeaders, &[], None, 1)
            .expect("rev");
        assert_eq!(keys(last), vec![u64::MAX]);
        assert!(
            s.iter_range(
                Table::FastHeaders,
                &5u64.to_be_bytes(),
                Some(&5u64.to_be_bytes()),
                10
            )
            .expect("empty")
            .is_empty()
        );
        assert!(
            s.iter_range(
                Table::FastHeaders,
                &9u64.to_be_bytes(),
                Some(&5u64.to_be_bytes()),
                10
            )
            .expect("inverted")
            .is_empty()
        );
        assert!(
            s.iter_range(Table::FastBodies, &[], None, 10)
                .expect("other table")
                .is_empty()
        );
    }

    pub(crate) fn prefix_iteration(s: &dyn Store) {
        let mut b = WriteBatch::new();
        for k in [
            &b"ab"[..],
            b"abc",
            b"abd",
            b"ac",
            b"b",
            &[b'a', 0xff],
            &[b'a', 0xff, 0xff],
        ] {
            b.put(Table::ConsensusLog, k, *b"v");
        }
        s.write(b).expect("write");
        let got: Vec<Vec<u8>> = s
            .iter_prefix(Table::ConsensusLog, b"ab", 10)
            .expect("prefix")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(got, vec![b"ab".to_vec(), b"abc".to_vec(), b"abd".to_vec()]);
        let got = s
            .iter_prefix(Table::ConsensusLog, &[b'a', 0xff], 10)
            .expect("prefix");
        assert_eq!(got.len(), 2);
    }

    pub(crate) fn batch_is_ordered_and_spans_tables(s: &dyn Store) {
        let mut setup = WriteBatch::new();
        for i in 0u8..10 {
            setup.put(Table::SnailCanonical, [i], [i]);
        }
        s.write(setup).expect("setup");
        let mut b = WriteBatch::new();
        for t in Table::ALL {
            b.put(t, *b"batch", t.name().as_bytes());
        }
        b.put(Table::Meta, *b"gone", *b"x");
        b.delete(Table::Meta, *b"gone");
        b.delete_range(Table::SnailCanonical, [2u8], [8u8]);
        b.put(Table::SnailCanonical, [5u8], *b"back");
        b.delete_range(Table::SnailCanonical, [9u8], [3u8]); // inverted range: no-op
        s.write(b).expect("write");
        for t in Table::ALL {
            assert_eq!(
                s.get(t, b"batch").expect("get"),
                Some(t.name().as_bytes().to_vec())
            );
        }
        assert_eq!(s.get(Table::Meta, b"gone").expect("get"), None);
        let keys: Vec<u8> = s
            .iter_range(Table::SnailCanonical, &[0u8], Some(&[10u8]), 100)
            .expect("iter")
            .into_iter()
            .map(|(k, _)| k[0])
            .collect();
        assert_eq!(keys, vec![0, 1, 5, 8, 9]);
        assert_eq!(
            s.get(Table::SnailCanonical, &[5u8]).expect("get"),
            Some(b"back".to_vec())
        );
    }

    pub(crate) fn stats_count_io_per_table(s: &dyn Store) {
        let before = s.stats().expect("stats");
        assert_eq!(before.len(), Table::ALL.len());
        for (st, t) in before.iter().zip(Table::ALL) {
            assert_eq!(st.name, t.name());
        }
        let mut b = WriteBatch::new();
        b.put(Table::Receipts, *b"k1", vec![7u8; 1000]);
        b.put(Table::Receipts, *b"k2", vec![7u8; 1000]);
        b.put(Table::TxIndex, *b"t", *b"loc");
        s.write(b).expect("write");
        let _ = s.get(Table::Receipts, b"k1").expect("get");
        let _ = s.get(Table::Receipts, b"missing").expect("get");
        let after = s.stats().expect("stats");
        let r = &after[Table::Receipts.index()];
        assert_eq!(r.writes, 2);
        assert_eq!(r.bytes_written, 2 * (2 + 1000));
        assert_eq!(r.reads, 2);
        assert_eq!(r.bytes_read, 1000);
        assert!(r.memtable_bytes > 0, "memtable bytes after a write: {r:?}");
        assert_eq!(after[Table::TxIndex.index()].bytes_written, 4);
        assert_eq!(after[Table::Code.index()].bytes_written, 0);
        assert_eq!(after[Table::Code.index()].writes, 0);
        s.flush().expect("flush");
        let flushed = s.stats().expect("stats");
        assert_eq!(flushed[Table::Receipts.index()].estimated_keys, 2);
    }
}

macro_rules! raw_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn round_trip_per_table() {
                raw::round_trip_per_table(&*$make.store)
            }
            #[test]
            fn multi_get() {
                raw::multi_get(&*$make.store)
            }
            #[test]
            fn ranges_are_numeric_with_big_endian_keys() {
                raw::ranges_are_numeric_with_big_endian_keys(&*$make.store)
            }
            #[test]
            fn prefix_iteration() {
                raw::prefix_iteration(&*$make.store)
            }
            #[test]
            fn batch_is_ordered_and_spans_tables() {
                raw::batch_is_ordered_and_spans_tables(&*$make.store)
            }
            #[test]
            fn stats_count_io_per_table() {
                raw::stats_count_io_per_table(&*$make.store)
            }
        }
    };
}

raw_suite!(raw_memory, memory());
raw_suite!(raw_rocks, rocks());

#[path = "suite/chain_cases.rs"]
mod chain_cases;

macro_rules! chain_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;
            fn chain(f: &Fixture, history: u64) -> ChainStore {
                ChainStore::open(f.store.clone(), history).expect("open chain")
            }
            #[test]
            fn commit_and_read_back() {
                let f = $make;
                chain_cases::commit_and_read_back(&chain(&f, 16))
            }
            #[test]
            fn refuses_out_of_order_commits() {
                let f = $make;
                chain_cases::refuses_out_of_order_commits(&chain(&f, 16))
            }
            #[test]
            fn latest_state_reader() {
                let f = $make;
                chain_cases::latest_state_reader(&chain(&f, 16))
            }
            #[test]
            fn historical_state_reads() {
                let f = $make;
                chain_cases::historical_state_reads(&chain(&f, 8))
            }
            #[test]
            fn wiped_storage_history() {
                let f = $make;
                chain_cases::wiped_storage_history(&chain(&f, 8))
            }
            #[test]
            fn snail_committees_consensus_log_meta() {
                let f = $make;
                chain_cases::snail_committees_consensus_log_meta(&chain(&f, 8))
            }
            #[test]
            fn corrupt_bytes_are_errors() {
                let f = $make;
                chain_cases::corrupt_bytes_are_errors(&chain(&f, 8))
            }
            #[test]
            fn schema_version_is_checked() {
                let f = $make;
                chain_cases::schema_version_is_checked(f.store.clone())
            }
            #[test]
            fn commit_stats_touch_block_tables() {
                let f = $make;
                chain_cases::commit_stats_touch_block_tables(&chain(&f, 8))
            }
        }
    };
}

chain_suite!(chain_memory, memory());
chain_suite!(chain_rocks, rocks());
