//! Accumulates the state changes of a block's transactions (revm's per-transaction
//! `EvmState`) into one canonical [`StateDiff`]: sorted, unique, and without entries whose
//! final value equals the value at the start of the block.
use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, Bytes, U256};
use revm::state::EvmState;
use tc_types::{AccountChange, AccountInfo, EMPTY_CODE_HASH, StateDiff, StorageChange};

use crate::db::from_revm_info;
use crate::env::SPEC;

/// Builder of a block's [`StateDiff`].
#[derive(Debug, Default)]
pub struct DiffBuilder {
    /// address → (value at block start, current value); `None` = absent.
    accounts: BTreeMap<Address, (Option<AccountInfo>, Option<AccountInfo>)>,
    /// (address, slot) → (value at block start, current value).
    storage: BTreeMap<(Address, U256), (U256, U256)>,
    /// Accounts whose storage was wiped (self-destruct) during the block.
    wiped: BTreeSet<Address>,
    /// Code deployed during the block.
    code: BTreeMap<B256, Bytes>,
}

impl DiffBuilder {
    /// Fold in the changes of one executed transaction (before it is committed to the cache).
    pub fn record(&mut self, state: &EvmState) {
        for (address, account) in state {
            if !account.is_touched() {
                continue;
            }
            let address = *address;
            let original = if account.is_loaded_as_not_existing() {
                None
            } else {
                Some(from_revm_info(&account.original_info()))
            };
            let entry = self.accounts.entry(address).or_insert((original, None));
            if account.is_selfdestructed() {
                entry.1 = None;
                self.wiped.insert(address);
                let keys: Vec<_> = self
                    .storage
                    .range((address, U256::ZERO)..=(address, U256::MAX))
                    .map(|(k, _)| *k)
                    .collect();
                for k in keys {
                    self.storage.remove(&k);
                }
                continue;
            }
            if account.state_clear_aware_is_empty(SPEC) {
                // EIP-161: touched empty accounts are deleted.
                entry.1 = None;
            } else {
                entry.1 = Some(from_revm_info(&account.info));
            }
            if account.is_created()
                && account.info.code_hash != EMPTY_CODE_HASH
                && let Some(code) = &account.info.code
            {
                self.code
                    .insert(account.info.code_hash, code.original_bytes());
            }
            let wiped = self.wiped.contains(&address);
            for (slot, value) in account.changed_storage_slots() {
                let start = if wiped {
                    U256::ZERO
                } else {
                    value.original_value
                };
                let e = self
                    .storage
                    .entry((address, *slot))
                    .or_insert((start, U256::ZERO));
                e.1 = value.present_value;
            }
        }
    }

    /// The canonical diff.
    pub fn finish(self) -> StateDiff {
        let accounts = self
            .accounts
            .into_iter()
            .filter(|(_, (start, now))| start != now)
            .map(|(address, (_, info))| AccountChange { address, info })
            .collect();
        let storage = self
            .storage
            .into_iter()
            .filter(|(_, (start, now))| start != now)
            .map(|((address, slot), (_, value))| StorageChange {
                address,
                slot,
                value,
            })
            .collect();
        StateDiff {
            accounts,
            storage,
            wiped: self.wiped.into_iter().collect(),
            code: self.code.into_iter().collect(),
        }
    }
}
