//! Random and truncated bytes under every typed key decode to errors, never to a panic.
mod common;

use alloy_primitives::{B256, U256};
use tc_storage::{ChainStore, Table, WriteBatch, meta_keys};
use tc_types::StateReader;

use common::{addr, commit_range};

/// xorshift64*: deterministic bytes without an RNG dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self) -> Vec<u8> {
        let len = (self.next() % 96) as usize;
        let mut v: Vec<u8> = (0..len).map(|_| self.next() as u8).collect();
        // Bias towards RLP list/string headers so decoders get past the first byte.
        if let Some(first) = v.first_mut()
            && self.next().is_multiple_of(2)
        {
            *first = [0xc0, 0xf8, 0xf9, 0xb8, 0x02, 0x01][(self.next() % 6) as usize];
        }
        v
    }
}

/// Read every typed accessor over block 1, state of account 1 / slot 0, and metadata.
fn read_everything(chain: &ChainStore, tx: &B256) {
    let _ = chain.header_by_number(1);
    let _ = chain.block_by_number(1);
    let _ = chain.block_by_hash(tx);
    let _ = chain.receipts(1);
    let _ = chain.certificate(1);
    let _ = chain.tx_location(tx);
    let _ = chain.transaction(tx);
    let _ = chain.fast_head();
    let _ = chain.genesis_hash();
    let _ = chain.history_floor();
    let _ = chain.committee(1);
    let _ = chain.snail_block(tx);
    let _ = chain.snail_canonical(1);
    let _ = chain.snail_head();
    let s = chain.latest_state();
    let _ = s.account(&addr(1));
    let _ = s.storage(&addr(2), &U256::ZERO);
    if let Ok(h) = chain.state_at(1) {
        let _ = h.account(&addr(1));
        let _ = h.storage(&addr(2), &U256::ZERO);
    }
}

#[test]
fn random_bytes_under_every_key_never_panic() {
    let chain = ChainStore::memory(16);
    commit_range(&chain, 0, 3, 2);
    let tx = *chain
        .block_by_number(1)
        .expect("read")
        .expect("block")
        .transactions[0]
        .tx_hash();
    let one = 1u64.to_be_bytes().to_vec();
    let slot = [&addr(2)[..], &[0u8; 32]].concat();
    let history_account = [&[0x01][..], &addr(1)[..], &2u64.to_be_bytes()].concat();
    let history_slot = [&[0x02][..], &slot, &2u64.to_be_bytes()].concat();
    let targets: Vec<(Table, Vec<u8>)> = vec![
        (Table::FastHeaders, one.clone()),
        (Table::FastBodies, one.clone()),
        (Table::Receipts, one.clone()),
        (Table::Certificates, one.clone()),
        (Table::FastHashes, tx.to_vec()),
        (Table::TxIndex, tx.to_vec()),
        (Table::Accounts, addr(1).to_vec()),
        (Table::Storage, slot),
        (Table::StateHistory, history_account),
        (Table::StateHistory, history_slot),
        (Table::Committees, one.clone()),
        (Table::SnailHeaders, tx.to_vec()),
        (Table::SnailBodies, tx.to_vec()),
        (Table::SnailCanonical, one),
        (Table::Meta, meta_keys::FAST_HEAD.as_bytes().to_vec()),
        (Table::Meta, meta_keys::SNAIL_HEAD.as_bytes().to_vec()),
        (Table::Meta, meta_keys::GENESIS_HASH.as_bytes().to_vec()),
        (Table::Meta, meta_keys::HISTORY_FLOOR.as_bytes().to_vec()),
    ];
    let originals: Vec<Option<Vec<u8>>> = targets
        .iter()
        .map(|(t, k)| chain.store().get(*t, k).expect("get"))
        .collect();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for ((table, key), original) in targets.iter().zip(&originals) {
        // Every truncation of the real value.
        if let Some(v) = original {
            for cut in 0..v.len() {
                let mut b = WriteBatch::new();
                b.put(*table, key.clone(), v[..cut].to_vec());
                chain.store().write(b).expect("write");
                read_everything(&chain, &tx);
            }
        }
        // Random values.
        for _ in 0..500 {
            let mut b = WriteBatch::new();
            b.put(*table, key.clone(), rng.bytes());
            chain.store().write(b).expect("write");
            read_everything(&chain, &tx);
        }
        // Restore so the next target is read through a valid path.
        let mut b = WriteBatch::new();
        match original {
            Some(v) => b.put(*table, key.clone(), v.clone()),
            None => b.delete(*table, key.clone()),
        }
        chain.store().write(b).expect("restore");
    }
    assert_eq!(chain.fast_head().expect("head").map(|h| h.0), Some(3));
}
