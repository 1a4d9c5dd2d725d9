//! Storage errors. Every variant names the table and the operation where it makes sense; bytes
//! read from disk that do not decode are [`StorageError::Corrupt`], never a panic.
use crate::config::ConfigError;
use crate::table::Table;

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The backend (RocksDB) reported an error.
    #[error("storage {op} failed on table {table}: {message}")]
    Backend {
        /// Table involved (`"*"` for whole-database operations such as open or batch write).
        table: String,
        /// Operation: `open`, `get`, `multi_get`, `write`, `iter`, `flush`, `property`.
        op: &'static str,
        /// Backend message.
        message: String,
    },
    /// A stored value (or key) does not decode: the database is corrupt or was written by an
    /// incompatible version.
    #[error("corrupt {what} in table {table} at key 0x{key}: {reason}")]
    Corrupt {
        /// Table.
        table: Table,
        /// Hex of the key.
        key: String,
        /// What was being decoded (e.g. `fast header`).
        what: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// The database was written with another schema version.
    #[error("database schema version {found} is not supported (this build uses {expected})")]
    SchemaMismatch {
        /// Version found in `meta`.
        found: u64,
        /// Version this build writes.
        expected: u64,
    },
    /// A block was committed out of order.
    #[error("commit of fast block {got} refused: next block must be {expected}")]
    NonContiguous {
        /// The number the store expects next.
        expected: u64,
        /// The number offered.
        got: u64,
    },
    /// A block's parent hash is not the current head's hash.
    #[error(
        "commit of fast block {number} refused: parent hash {parent} is not the head hash {head}"
    )]
    ParentMismatch {
        /// Block number.
        number: u64,
        /// Its parent hash.
        parent: alloy_primitives::B256,
        /// Hash of the current head.
        head: alloy_primitives::B256,
    },
    /// The pieces handed to `commit_block` do not belong together.
    #[error("commit of fast block {number} refused: {reason}")]
    InvalidBlock {
        /// Block number.
        number: u64,
        /// What does not match.
        reason: String,
    },
    /// A historical state read below the retained history window.
    #[error(
        "state at block {requested} is no longer retained (oldest readable block is {oldest}; raise storage.history_blocks)"
    )]
    HistoryPruned {
        /// Requested block.
        requested: u64,
        /// Oldest block whose state can still be read.
        oldest: u64,
    },
    /// A state read at a block above the head.
    #[error("state at block {requested} is unknown: the head is {head:?}")]
    BeyondHead {
        /// Requested block.
        requested: u64,
        /// Current fast head number (None = empty store).
        head: Option<u64>,
    },
    /// Invalid storage configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl StorageError {
    /// A backend error on one table.
    pub fn backend(table: Table, op: &'static str, message: impl ToString) -> Self {
        StorageError::Backend {
            table: table.name().to_string(),
            op,
            message: message.to_string(),
        }
    }

    /// A backend error not tied to one table.
    pub fn backend_db(op: &'static str, message: impl ToString) -> Self {
        StorageError::Backend {
            table: "*".to_string(),
            op,
            message: message.to_string(),
        }
    }

    /// A value that does not decode.
    pub fn corrupt(table: Table, key: &[u8], what: &'static str, reason: impl ToString) -> Self {
        StorageError::Corrupt {
            table,
            key: hex_short(key),
            what,
            reason: reason.to_string(),
        }
    }
}

impl From<StorageError> for tc_types::StateError {
    fn from(e: StorageError) -> Self {
        tc_types::StateError(e.to_string())
    }
}

/// Hex of at most 64 bytes of a key (longer keys are elided).
fn hex_short(key: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(key.len().min(64) * 2 + 3);
    for b in key.iter().take(64) {
        let _ = write!(s, "{b:02x}");
    }
    if key.len() > 64 {
        s.push_str("...");
    }
    s
}
