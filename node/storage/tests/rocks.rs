//! RocksDB-only behaviour: reopen after drop, recovery after SIGKILL mid-stream, compression
//! settings really in effect, engine statistics, open errors.
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy_primitives::U256;
use tc_storage::{
    ChainStore, Compression, StorageConfig, StorageError, Store, Table, WriteBatch, open_chain,
};
use tc_types::StateReader;

use common::{addr, commit_range};

fn config(dir: &Path, history: u64) -> StorageConfig {
    StorageConfig {
        history_blocks: history,
        ..StorageConfig::at(dir.join("db"))
    }
}

/// Everything block `n` wrote is readable and consistent.
fn assert_block_complete(chain: &ChainStore, n: u64, txs: usize) {
    let block = chain
        .block_by_number(n)
        .expect("read")
        .unwrap_or_else(|| panic!("block {n} missing"));
    assert_eq!(block.transactions.len(), txs, "body of {n}");
    let hash = block.hash();
    assert_eq!(chain.block_number(&hash).expect("hash index"), Some(n));
    assert_eq!(
        chain.receipts(n).expect("receipts").map(|r| r.len()),
        Some(txs),
        "receipts of {n}"
    );
    if n > 0 {
        assert_eq!(
            chain.certificate(n).expect("cert").map(|c| c.block_hash),
            Some(hash),
            "certificate of {n}"
        );
    }
    for tx in &block.transactions {
        assert_eq!(
            chain
                .tx_location(tx.tx_hash())
                .expect("loc")
                .map(|l| l.block_number),
            Some(n)
        );
    }
}

#[test]
fn reopen_after_drop_recovers_the_last_committed_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), 8);
    let hashes = {
        let chain = open_chain(&cfg).expect("open");
        commit_range(&chain, 0, 20, 3)
    };
    let chain = open_chain(&cfg).expect("reopen");
    assert_eq!(chain.fast_head().expect("head"), Some((20, hashes[20])));
    assert_eq!(chain.genesis_hash().expect("genesis"), Some(hashes[0]));
    for n in 0..=20 {
        assert_block_complete(&chain, n, 3);
    }
    assert_eq!(chain.header_by_number(21).expect("h"), None);
    let a = chain
        .latest_state()
        .account(&addr(1))
        .expect("acct")
        .expect("exists");
    assert_eq!(a.nonce, 20);
    let old = chain.state_at(14).expect("window survives reopen");
    assert_eq!(
        old.account(&addr(1)).expect("acct").map(|a| a.nonce),
        Some(14)
    );
    assert_eq!(
        old.storage(&addr(2), &U256::ZERO).expect("slot"),
        U256::from(14)
    );
    // Counters restart at zero; engine figures do not.
    let stats = chain.stats().expect("stats");
    let h = &stats[Table::FastHeaders.index()];
    assert_eq!(h.bytes_written, 0);
    assert!(h.estimated_keys > 0, "{h:?}");
    // And the chain continues.
    commit_range(&chain, 21, 22, 1);
    assert_eq!(chain.fast_head().expect("head").map(|h| h.0), Some(22));
}

#[test]
fn range_deletions_survive_reopen_from_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), 8);
    {
        let chain = open_chain(&cfg).expect("open");
        commit_range(&chain, 0, 3, 0);
        // Block 4 wipes account 2's storage (slot 0 was set by earlier blocks).
        let head = chain.fast_head().expect("head").expect("head").1;
        let b = common::block(4, head, 0);
        let diff = tc_types::StateDiff {
            wiped: vec![addr(2)],
            ..Default::default()
        };
        chain
            .commit_block(&b, &[], Some(&common::cert_for(&b)), &diff)
            .expect("wipe");
        let h = |i: u8| alloy_primitives::B256::repeat_byte(i);
        chain
            .set_snail_head(3, h(3), &[(1, h(1)), (2, h(2))])
            .expect("snail");
        chain.set_snail_head(1, h(9), &[]).expect("snail reorg");
        chain.consensus_put(b"a", b"1").expect("put");
        chain.consensus_put(b"b", b"2").expect("put");
        chain
            .consensus_delete_range(b"a", b"b")
            .expect("delete range");
    }
    let chain = open_chain(&cfg).expect("reopen");
    assert_eq!(
        chain
            .latest_state()
            .storage(&addr(2), &U256::ZERO)
            .expect("slot"),
        U256::ZERO
    );
    assert_eq!(
        chain
            .state_at(3)
            .expect("view")
            .storage(&addr(2), &U256::ZERO)
            .expect("slot"),
        U256::from(3)
    );
    assert_eq!(chain.snail_canonical(2).expect("c"), None);
    assert_eq!(
        chain.snail_canonical(1).expect("c"),
        Some(alloy_primitives::B256::repeat_byte(9))
    );
    assert_eq!(chain.consensus_get(b"a").expect("get"), None);
    assert_eq!(chain.consensus_get(b"b").expect("get"), Some(b"2".to_vec()));
}

const CHILD_ENV: &str = "TC_STORAGE_KILL_CHILD_DIR";
const CHILD_TXS: usize = 20;

/// Not a test by itself: the child process of `sigkill_mid_stream_loses_nothing_committed`.
/// Commits blocks forever, recording the last committed number in `progress` after each.
#[test]
#[ignore = "child process of sigkill_mid_stream_loses_nothing_committed"]
fn kill_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let chain = open_chain(&config(dir, 16)).expect("child open");
    loop {
        let next = chain.fast_head().expect("head").map_or(0, |(n, _)| n + 1);
        commit_range(&chain, next, next, CHILD_TXS);
        let tmp = dir.join("progress.tmp");
        std::fs::write(&tmp, next.to_string()).expect("progress");
        std::fs::rename(&tmp, dir.join("progress")).expect("rename");
    }
}

fn read_progress(dir: &Path) -> Option<u64> {
    std::fs::read_to_string(dir.join("progress"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[test]
fn sigkill_mid_stream_loses_nothing_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut last_head = None;
    for round in 0..3u64 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "kill_child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn child");
        let target = last_head.map_or(0, |h: u64| h) + 15 + round * 7;
        let deadline = Instant::now() + Duration::from_secs(120);
        while read_progress(dir.path()).is_none_or(|p| p < target) {
            assert!(Instant::now() < deadline, "child made no progress");
            assert!(
                child.try_wait().expect("try_wait").is_none(),
                "child exited early"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
        child.wait().expect("reap");
        let progress = read_progress(dir.path()).expect("progress");

        let chain = open_chain(&config(dir.path(), 16)).expect("reopen after kill");
        let (head, head_hash) = chain.fast_head().expect("head").expect("some head");
        // The child may have been killed between a commit returning and the progress write.
        assert!(
            head == progress || head == progress + 1,
            "round {round}: head {head}, progress {progress}"
        );
        assert_eq!(chain.block_hash(head).expect("hash"), Some(head_hash));
        for n in 0..=head {
            assert_block_complete(&chain, n, CHILD_TXS);
        }
        assert_eq!(
            chain.header_by_number(head + 1).expect("next"),
            None,
            "nothing beyond the head"
        );
        assert_eq!(chain.body(head + 1).expect("next"), None);
        assert_eq!(chain.receipts(head + 1).expect("next"), None);
        let acct = chain
            .latest_state()
            .account(&addr(1))
            .expect("acct")
            .expect("exists");
        assert_eq!(acct.nonce, head, "state matches the head");
        let back = head.saturating_sub(5);
        assert_eq!(
            chain
                .state_at(back)
                .expect("history")
                .account(&addr(1))
                .expect("acct")
                .map(|a| a.nonce),
            Some(back)
        );
        last_head = Some(head);
    }
}

#[test]
fn every_compression_setting_opens_writes_and_compresses() {
    let mut sizes = Vec::new();
    for c in [
        Compression::None,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Zlib,
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = StorageConfig::at(dir.path().join("db"));
        cfg.default.compression = c;
        let value = |i: u32| format!("receipt {i} ").repeat(40).into_bytes();
        {
            let store = tc_storage::RocksStore::open(&cfg).unwrap_or_else(|e| panic!("{c:?}: {e}"));
            let mut b = WriteBatch::new();
            for i in 0..2000u32 {
                b.put(Table::Receipts, i.to_be_bytes(), value(i));
            }
            store.write(b).expect("write");
            store.flush().expect("flush");
            let s = &store.stats().expect("stats")[Table::Receipts.index()];
            assert!(s.live_sst_bytes > 0, "{c:?}: {s:?}");
            assert_eq!(s.estimated_keys, 2000, "{c:?}");
            sizes.push((c, s.live_sst_bytes));
        }
        let store = tc_storage::RocksStore::open(&cfg).expect("reopen");
        for i in [0u32, 999, 1999] {
            assert_eq!(
                store.get(Table::Receipts, &i.to_be_bytes()).expect("get"),
                Some(value(i)),
                "{c:?}"
            );
        }
    }
    let none = sizes[0].1;
    for (c, size) in &sizes[1..] {
        assert!(
            *size * 2 < none,
            "{c:?} did not compress: {size} vs {none} uncompressed"
        );
    }
    eprintln!("receipts SST bytes by compression: {sizes:?}");
}

#[test]
fn per_table_overrides_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let toml = format!(
        r#"
        path = "{}"
        [default]
        compression = "none"
        [tables.receipts]
        compression = "zstd"
        bloom_bits_per_key = 0
        block_cache_mb = 0
        "#,
        dir.path().join("db").display()
    );
    let cfg: StorageConfig = toml::from_str(&toml).expect("parse");
    let store = tc_storage::RocksStore::open(&cfg).expect("open");
    let mut b = WriteBatch::new();
    for i in 0..2000u32 {
        let v = format!("value {i} ").repeat(40).into_bytes();
        b.put(Table::Receipts, i.to_be_bytes(), v.clone());
        b.put(Table::FastBodies, i.to_be_bytes(), v);
    }
    store.write(b).expect("write");
    store.flush().expect("flush");
    let stats = store.stats().expect("stats");
    let (r, f) = (
        stats[Table::Receipts.index()].live_sst_bytes,
        stats[Table::FastBodies.index()].live_sst_bytes,
    );
    assert!(
        r * 2 < f,
        "receipts (zstd) {r} should be much smaller than fast_bodies (none) {f}"
    );
    assert!(
        store
            .get(Table::Receipts, &7u32.to_be_bytes())
            .expect("get")
            .is_some()
    );
}

#[test]
fn open_errors_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let err =
        tc_storage::RocksStore::open(&StorageConfig::at(file.join("db"))).expect_err("not a dir");
    assert!(
        matches!(err, StorageError::Backend { op: "open", .. }),
        "{err}"
    );
    let mut cfg = StorageConfig::at(dir.path().join("db"));
    cfg.default.write_buffer_mb = 0;
    let err = tc_storage::RocksStore::open(&cfg).expect_err("invalid config");
    assert_eq!(
        err.to_string(),
        "storage.default.write_buffer_mb: must be between 1 and 4096 (got 0)"
    );
}

#[test]
fn a_second_open_of_the_same_directory_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = StorageConfig::at(dir.path().join("db"));
    let _first = tc_storage::RocksStore::open(&cfg).expect("open");
    let err = tc_storage::RocksStore::open(&cfg).expect_err("locked");
    assert!(err.to_string().contains("lock"), "{err}");
}
