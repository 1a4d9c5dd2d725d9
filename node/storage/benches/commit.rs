//! `cargo bench -p tc-storage`: commit_block throughput on RocksDB (and the in-memory twin),
//! for blocks of value transfers (each tx changes two accounts and adds one tx-index entry).
#![allow(missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use alloy_primitives::{Address, U256};
use tc_storage::{ChainStore, MemoryStore, StorageConfig, Store};
use tc_types::{AccountChange, AccountInfo, StateDiff};

fn transfer_diff(n: u64, txs: usize) -> StateDiff {
    let mut accounts: Vec<AccountChange> = (0..txs as u64 * 2)
        .map(|i| {
            let mut a = [0u8; 20];
            a[..8].copy_from_slice(&(i % 4096).to_be_bytes());
            a[8..16].copy_from_slice(&i.to_be_bytes());
            AccountChange {
                address: Address::from(a),
                info: Some(AccountInfo {
                    nonce: n,
                    balance: U256::from(n * 1_000 + i),
                    ..Default::default()
                }),
            }
        })
        .collect();
    accounts.sort_by_key(|a| a.address);
    accounts.dedup_by_key(|a| a.address);
    StateDiff {
        accounts,
        ..Default::default()
    }
}

fn run(label: &str, chain: &ChainStore, blocks: u64, txs: usize) {
    // Prepare blocks outside the timed loop (signing/encoding is not storage work).
    let mut parent = chain
        .fast_head()
        .ok()
        .flatten()
        .map(|h| h.1)
        .unwrap_or_default();
    let start_n = chain.fast_head().ok().flatten().map_or(0, |h| h.0 + 1);
    let mut prepared = Vec::new();
    for n in start_n..start_n + blocks {
        let b = common::block(n, parent, txs);
        parent = b.hash();
        let r = common::receipts_for(&b);
        let c = common::cert_for(&b);
        prepared.push((b, r, c, transfer_diff(n, txs)));
    }
    let t = Instant::now();
    for (b, r, c, d) in &prepared {
        if let Err(e) = chain.commit_block(b, r, Some(c), d) {
            eprintln!("commit failed: {e}");
            return;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{label:<28} txs/block {txs:>5}: {:>8.0} commit_block/s  {:>9.0} tx/s  ({blocks} blocks in {secs:.2}s)",
        blocks as f64 / secs,
        (blocks as usize * txs) as f64 / secs
    );
}

fn main() {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tempdir: {e}");
            return;
        }
    };
    for sync in [false, true] {
        for (blocks, txs) in [(2000, 0), (500, 100), (50, 1000)] {
            let path = dir.path().join(format!("db-{sync}-{txs}"));
            let cfg = StorageConfig {
                sync_writes: sync,
                history_blocks: 256,
                ..StorageConfig::at(path)
            };
            let chain = match tc_storage::open_chain(&cfg) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("open: {e}");
                    return;
                }
            };
            let blocks = if sync { blocks / 10 } else { blocks };
            run(&format!("rocksdb sync_writes={sync}"), &chain, blocks, txs);
            if let Ok(stats) = chain.stats() {
                let busiest = stats.iter().max_by_key(|s| s.bytes_written);
                if let Some(s) = busiest {
                    println!(
                        "    most written table: {} ({} bytes)",
                        s.name, s.bytes_written
                    );
                }
            }
        }
    }
    for (blocks, txs) in [(2000, 0), (500, 100), (50, 1000)] {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let Ok(chain) = ChainStore::open(store, 256) else {
            return;
        };
        run("memory", &chain, blocks, txs);
    }
}
