//! Applying a block's [`StateDiff`] to the latest state, and the `state_history` table that
//! keeps older state readable.
//!
//! For every account or slot block `N` changes, the value it had *before* `N` (its pre-value)
//! is stored under `kind ‖ key ‖ N` (N big-endian). The state at block `b` of a key is then the
//! pre-value of the first history entry of that key with a block `> b`, or the current value if
//! there is none. Layout of `state_history`:
//!
//! | key                                   | value                                        |
//! |---------------------------------------|----------------------------------------------|
//! | `0x00 ‖ N`                            | RLP list of the history keys block N wrote    |
//! | `0x01 ‖ address ‖ N`                  | pre-value: empty = absent, else RLP account  |
//! | `0x02 ‖ address ‖ slot ‖ N`           | pre-value: 32-byte BE word (zero = unset)    |
//!
//! The `0x00` index lets pruning delete a block's entries without scanning. `meta` holds the
//! *floor*: the oldest block whose state is readable; block entries `≤ floor` are pruned in the
//! batch that advances it (at most [`MAX_PRUNE_PER_COMMIT`] blocks per commit).
use std::collections::BTreeSet;

use alloy_primitives::Bytes;
use tc_types::StateDiff;

use crate::chain::{ChainStore, meta_keys};
use crate::codec::{decode_rlp, num_key, rlp, rlp_list, slot_key};
use crate::error::StorageError;
use crate::store::{WriteBatch, prefix_successor};
use crate::table::Table;

/// Kind byte of the per-block index entries.
pub const KIND_INDEX: u8 = 0x00;
/// Kind byte of account pre-values.
pub const KIND_ACCOUNT: u8 = 0x01;
/// Kind byte of storage-slot pre-values.
pub const KIND_SLOT: u8 = 0x02;
/// Upper bound on blocks pruned by one commit (after `history_blocks` is lowered, the backlog
/// is pruned over several commits).
pub const MAX_PRUNE_PER_COMMIT: u64 = 64;

/// `kind ‖ key` (without the block number).
pub fn history_prefix(kind: u8, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len() + 8);
    k.push(kind);
    k.extend_from_slice(key);
    k
}

fn index_key(number: u64) -> Vec<u8> {
    history_prefix(KIND_INDEX, &num_key(number))
}

/// The pre-value of `kind ‖ key` as of block `at`: `Some(bytes)` if a block after `at`
/// changed it (bytes = the value before that block), `None` if the current value applies.
pub fn pre_value(
    chain: &ChainStore,
    kind: u8,
    key: &[u8],
    at: u64,
) -> Result<Option<Vec<u8>>, StorageError> {
    let Some(next) = at.checked_add(1) else {
        return Ok(None);
    };
    let prefix = history_prefix(kind, key);
    let mut from = prefix.clone();
    from.extend_from_slice(&num_key(next));
    let to = prefix_successor(&prefix);
    let found = chain
        .store()
        .iter_range(Table::StateHistory, &from, to.as_deref(), 1)?;
    Ok(found.into_iter().next().map(|(_, v)| v))
}

/// Queue into `b` the state changes of block `number` and their history (skipped for the
/// first block of the store: nothing can be read before it), and prune history that left the
/// window.
pub(crate) fn apply_diff(
    chain: &ChainStore,
    b: &mut WriteBatch,
    number: u64,
    first: bool,
    diff: &StateDiff,
) -> Result<(), StorageError> {
    let store = chain.store();
    let suffix = num_key(number);
    let mut recorded: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut record = |b: &mut WriteBatch, kind: u8, key: &[u8], pre: Vec<u8>| {
        if first {
            return;
        }
        let mut hk = history_prefix(kind, key);
        hk.extend_from_slice(&suffix);
        if recorded.insert(hk.clone()) {
            b.put(Table::StateHistory, hk, pre);
        }
    };

    // Accounts.
    let keys: Vec<&[u8]> = diff.accounts.iter().map(|a| a.address.as_slice()).collect();
    let pres = store.multi_get(Table::Accounts, &keys)?;
    for (change, pre) in diff.accounts.iter().zip(pres) {
        record(
            b,
            KIND_ACCOUNT,
            change.address.as_slice(),
            pre.unwrap_or_default(),
        );
        match &change.info {
            Some(info) => b.put(Table::Accounts, change.address.as_slice(), rlp(info)),
            None => b.delete(Table::Accounts, change.address.as_slice()),
        }
    }

    // Wiped storage: every existing slot's pre-value is recorded, then the range is deleted
    // (before the new values below, which the batch applies afterwards).
    for address in &diff.wiped {
        let prefix = address.as_slice();
        let end = prefix_successor(prefix).unwrap_or_else(|| vec![0xff; 53]);
        for (k, v) in store.iter_range(Table::Storage, prefix, Some(&end), usize::MAX)? {
            record(b, KIND_SLOT, &k, v);
        }
        b.delete_range(Table::Storage, prefix, end);
    }

    // Storage slots.
    let slot_keys: Vec<[u8; 52]> = diff
        .storage
        .iter()
        .map(|s| slot_key(&s.address, &s.slot))
        .collect();
    let refs: Vec<&[u8]> = slot_keys.iter().map(|k| k.as_slice()).collect();
    let pres = store.multi_get(Table::Storage, &refs)?;
    for ((change, key), pre) in diff.storage.iter().zip(&slot_keys).zip(pres) {
        record(b, KIND_SLOT, key, pre.unwrap_or_else(|| vec![0u8; 32]));
        if change.value.is_zero() {
            b.delete(Table::Storage, key.as_slice());
        } else {
            b.put(
                Table::Storage,
                key.as_slice(),
                change.value.to_be_bytes::<32>(),
            );
        }
    }

    // Code is content-addressed: no history needed.
    for (hash, code) in &diff.code {
        b.put(Table::Code, hash.as_slice(), code.to_vec());
    }

    // Block index and pruning.
    let floor_key = meta_keys::HISTORY_FLOOR.as_bytes();
    if first {
        b.put(Table::Meta, floor_key, num_key(number));
        return Ok(());
    }
    let index: Vec<Bytes> = recorded.into_iter().map(Bytes::from).collect();
    b.put(Table::StateHistory, index_key(number), rlp_list(&index));
    let old_floor = chain.history_floor()?.unwrap_or(0);
    let target = number.saturating_sub(chain.history_blocks()).max(old_floor);
    let new_floor = target.min(old_floor.saturating_add(MAX_PRUNE_PER_COMMIT));
    for m in old_floor.saturating_add(1)..=new_floor {
        let ik = index_key(m);
        if let Some(v) = store.get(Table::StateHistory, &ik)? {
            let keys: Vec<Bytes> = decode_rlp(Table::StateHistory, &ik, &v, "history index")?;
            for k in keys {
                b.delete(Table::StateHistory, k.to_vec());
            }
            b.delete(Table::StateHistory, ik);
        }
    }
    if new_floor != old_floor {
        b.put(Table::Meta, floor_key, num_key(new_floor));
    }
    Ok(())
}
