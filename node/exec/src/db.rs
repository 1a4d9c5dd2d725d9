//! revm `DatabaseRef` adapter over a [`StateReader`]. Wrap it in revm's `CacheDB` (see
//! [`cached`]) to get the per-block cache that also holds the block's uncommitted writes.
use alloy_primitives::{Address, B256, U256};
use revm::bytecode::Bytecode;
use revm::database::CacheDB;
use revm::database_interface::{DBErrorMarker, DatabaseRef};
use revm::state::AccountInfo as RevmAccountInfo;
use tc_types::{EMPTY_CODE_HASH, StateError, StateReader};

/// A state-backend error as revm sees it (newtype so revm's marker trait can be implemented).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(transparent)]
pub struct DbError(#[from] pub StateError);

impl DBErrorMarker for DbError {}

/// Read-only view of a [`StateReader`] for revm.
#[derive(Clone, Copy)]
pub struct StateDb<'a> {
    reader: &'a dyn StateReader,
}

impl std::fmt::Debug for StateDb<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateDb")
    }
}

impl<'a> StateDb<'a> {
    /// Wrap a reader.
    pub fn new(reader: &'a dyn StateReader) -> Self {
        Self { reader }
    }
}

/// A per-block cache over `reader`: reads go to the reader once, writes stay in the cache.
pub fn cached(reader: &dyn StateReader) -> CacheDB<StateDb<'_>> {
    CacheDB::new(StateDb::new(reader))
}

/// Convert our account fields to revm's (code is loaded lazily by hash).
pub(crate) fn to_revm_info(info: &tc_types::AccountInfo) -> RevmAccountInfo {
    RevmAccountInfo {
        balance: info.balance,
        nonce: info.nonce,
        code_hash: info.code_hash,
        code: None,
        ..RevmAccountInfo::default()
    }
}

/// Convert revm's account fields to ours (a zero code hash means "no code").
pub(crate) fn from_revm_info(info: &RevmAccountInfo) -> tc_types::AccountInfo {
    let code_hash = if info.code_hash == B256::ZERO {
        EMPTY_CODE_HASH
    } else {
        info.code_hash
    };
    tc_types::AccountInfo {
        nonce: info.nonce,
        balance: info.balance,
        code_hash,
    }
}

impl DatabaseRef for StateDb<'_> {
    type Error = DbError;

    fn basic_ref(&self, address: Address) -> Result<Option<RevmAccountInfo>, DbError> {
        Ok(self.reader.account(&address)?.map(|a| to_revm_info(&a)))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, DbError> {
        if code_hash == EMPTY_CODE_HASH || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        match self.reader.code(&code_hash)? {
            Some(code) => Ok(Bytecode::new_raw(code)),
            None => Err(DbError(StateError(format!(
                "code {code_hash} missing from state"
            )))),
        }
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, DbError> {
        Ok(self.reader.storage(&address, &index)?)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, DbError> {
        Ok(self.reader.block_hash(number)?.unwrap_or_default())
    }
}
