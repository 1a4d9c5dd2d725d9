//! [`MemoryState`]: a plain in-memory world state implementing [`StateReader`], to which a
//! block's [`StateDiff`] can be applied. Used by tests, benchmarks and node unit tests.
use std::collections::{BTreeMap, HashMap};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use tc_types::{AccountInfo, EMPTY_CODE_HASH, StateDiff, StateError, StateReader};

/// In-memory world state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// Accounts.
    pub accounts: BTreeMap<Address, AccountInfo>,
    /// Non-zero storage slots.
    pub storage: BTreeMap<(Address, U256), U256>,
    /// Code by hash.
    pub code: HashMap<B256, Bytes>,
    /// Block hashes by number.
    pub block_hashes: BTreeMap<u64, B256>,
}

impl MemoryState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Create or overwrite an externally owned account.
    pub fn set_account(&mut self, address: Address, balance: U256, nonce: u64) -> &mut Self {
        let code_hash = self
            .accounts
            .get(&address)
            .map_or(EMPTY_CODE_HASH, |a| a.code_hash);
        self.accounts.insert(
            address,
            AccountInfo {
                nonce,
                balance,
                code_hash,
            },
        );
        self
    }

    /// Install contract runtime code at `address` (nonce 1, as after a CREATE).
    pub fn set_code(&mut self, address: Address, code: Bytes) -> &mut Self {
        let code_hash = keccak256(&code);
        self.code.insert(code_hash, code);
        let entry = self.accounts.entry(address).or_default();
        entry.code_hash = code_hash;
        entry.nonce = entry.nonce.max(1);
        self
    }

    /// Set a storage slot (zero deletes it).
    pub fn set_storage(&mut self, address: Address, slot: U256, value: U256) -> &mut Self {
        if value.is_zero() {
            self.storage.remove(&(address, slot));
        } else {
            self.storage.insert((address, slot), value);
        }
        self
    }

    /// Balance of `address` (zero if absent).
    pub fn balance(&self, address: &Address) -> U256 {
        self.accounts.get(address).map_or(U256::ZERO, |a| a.balance)
    }

    /// Nonce of `address` (zero if absent).
    pub fn nonce(&self, address: &Address) -> u64 {
        self.accounts.get(address).map_or(0, |a| a.nonce)
    }

    /// Apply a block's diff: wipes first, then accounts, then storage, then code.
    pub fn apply(&mut self, diff: &StateDiff) {
        for address in &diff.wiped {
            self.storage.retain(|(a, _), _| a != address);
        }
        for change in &diff.accounts {
            match &change.info {
                Some(info) => {
                    self.accounts.insert(change.address, info.clone());
                }
                None => {
                    self.accounts.remove(&change.address);
                }
            }
        }
        for s in &diff.storage {
            self.set_storage(s.address, s.slot, s.value);
        }
        for (hash, code) in &diff.code {
            self.code.insert(*hash, code.clone());
        }
    }
}

impl StateReader for MemoryState {
    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.accounts.get(address).cloned())
    }

    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateError> {
        Ok(self
            .storage
            .get(&(*address, *slot))
            .copied()
            .unwrap_or_default())
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(self.code.get(code_hash).cloned())
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        Ok(self.block_hashes.get(&number).copied())
    }
}
