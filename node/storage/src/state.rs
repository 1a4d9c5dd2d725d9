//! [`tc_types::StateReader`] implementations: the latest state and the state at a recent block.
use alloy_primitives::{Address, B256, Bytes, U256};
use tc_types::{AccountInfo, StateError, StateReader};

use crate::chain::ChainStore;
use crate::codec::{decode_rlp, decode_u256, slot_key};
use crate::error::StorageError;
use crate::history::{KIND_ACCOUNT, KIND_SLOT, pre_value};
use crate::table::Table;

fn decode_account(
    table: Table,
    key: &[u8],
    bytes: &[u8],
) -> Result<Option<AccountInfo>, StorageError> {
    if bytes.is_empty() {
        // An empty pre-value in `state_history` means "did not exist".
        return Ok(None);
    }
    decode_rlp(table, key, bytes, "account").map(Some)
}

fn current_account(
    chain: &ChainStore,
    address: &Address,
) -> Result<Option<AccountInfo>, StorageError> {
    let key = address.as_slice();
    match chain.store().get(Table::Accounts, key)? {
        Some(v) => decode_rlp(Table::Accounts, key, &v, "account").map(Some),
        None => Ok(None),
    }
}

fn current_slot(chain: &ChainStore, key: &[u8]) -> Result<U256, StorageError> {
    match chain.store().get(Table::Storage, key)? {
        Some(v) => decode_u256(Table::Storage, key, &v, "storage value"),
        None => Ok(U256::ZERO),
    }
}

fn code(chain: &ChainStore, code_hash: &B256) -> Result<Option<Bytes>, StorageError> {
    Ok(chain
        .store()
        .get(Table::Code, code_hash.as_slice())?
        .map(Bytes::from))
}

/// The latest committed state. Each read sees some committed block (a block commit is
/// atomic), but two reads may straddle a concurrent commit.
#[derive(Clone, Debug)]
pub struct LatestState {
    chain: ChainStore,
}

impl LatestState {
    pub(crate) fn new(chain: ChainStore) -> Self {
        Self { chain }
    }
}

impl StateReader for LatestState {
    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(current_account(&self.chain, address)?)
    }

    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateError> {
        Ok(current_slot(&self.chain, &slot_key(address, slot))?)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(code(&self.chain, code_hash)?)
    }

    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        Ok(self.chain.block_hash(number)?)
    }
}

/// The state right after block `number` was committed (see [`crate::history`]). Reads fail
/// with [`StorageError::HistoryPruned`] once the block leaves the retained window.
#[derive(Clone, Debug)]
pub struct HistoricalState {
    chain: ChainStore,
    number: u64,
}

impl HistoricalState {
    pub(crate) fn new(chain: ChainStore, number: u64) -> Self {
        Self { chain, number }
    }

    /// The block this view reads at.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Fails if pruning has passed this view's block (checked after each read, so a read that
    /// raced with pruning is reported instead of returning a wrong value).
    fn check_window(&self) -> Result<(), StorageError> {
        let floor = self.chain.history_floor()?.unwrap_or(0);
        if self.number < floor {
            return Err(StorageError::HistoryPruned {
                requested: self.number,
                oldest: floor,
            });
        }
        Ok(())
    }

    /// Account at this block.
    pub fn account_at(&self, address: &Address) -> Result<Option<AccountInfo>, StorageError> {
        let key = address.as_slice();
        let v = match pre_value(&self.chain, KIND_ACCOUNT, key, self.number)? {
            Some(pre) => decode_account(Table::StateHistory, key, &pre)?,
            None => current_account(&self.chain, address)?,
        };
        self.check_window()?;
        Ok(v)
    }

    /// Slot at this block.
    pub fn storage_at(&self, address: &Address, slot: &U256) -> Result<U256, StorageError> {
        let key = slot_key(address, slot);
        let v = match pre_value(&self.chain, KIND_SLOT, &key, self.number)? {
            Some(pre) => decode_u256(Table::StateHistory, &key, &pre, "storage pre-value")?,
            None => current_slot(&self.chain, &key)?,
        };
        self.check_window()?;
        Ok(v)
    }
}

impl StateReader for HistoricalState {
    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.account_at(address)?)
    }

    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateError> {
        Ok(self.storage_at(address, slot)?)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        Ok(code(&self.chain, code_hash)?)
    }

    /// Hashes of blocks up to this view's block; later blocks are `None`.
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError> {
        if number > self.number {
            return Ok(None);
        }
        Ok(self.chain.block_hash(number)?)
    }
}
