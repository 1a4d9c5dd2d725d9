//! Storage for a trueconsensus node: a [`Store`] trait over tables of bytes, a RocksDB
//! implementation with one column family per [`Table`], an in-memory twin, and typed chain
//! accessors ([`ChainStore`]) including [`tc_types::StateReader`] views of the latest and of
//! recent historical state.
//!
//! Map:
//! - [`table`]   the [`Table`] enum (column families) and their key/value layouts
//! - [`store`]   the raw [`Store`] trait, atomic [`WriteBatch`], per-table IO counters
//! - [`rocks`]   [`RocksStore`]: RocksDB, WAL always on, per-table tunables, engine statistics
//! - [`memory`]  [`MemoryStore`]: `BTreeMap`s, same semantics (tests, simulator)
//! - [`config`]  [`StorageConfig`] / [`TableOptions`]: the `[storage]` config section, validation
//! - [`codec`]   key layouts (big-endian numbers) and value encodings; decoding never panics
//! - [`chain`]   [`ChainStore`]: fast blocks committed as one atomic batch, getters, meta
//! - [`snail`]   snail chain, committees, PBFT consensus log accessors on [`ChainStore`]
//! - [`history`] state diff application and the `state_history` table (pre-values per block)
//! - [`state`]   [`LatestState`] and [`HistoricalState`] readers
//! - [`error`]   [`StorageError`]
//!
//! Durability: every write goes through RocksDB's write-ahead log. With the default
//! `sync_writes = false` a committed block survives a process crash or SIGKILL, but not a power
//! loss; `sync_writes = true` fsyncs each commit.

pub mod chain;
pub mod codec;
pub mod config;
pub mod error;
pub mod history;
pub mod memory;
pub mod rocks;
pub mod snail;
pub mod state;
pub mod store;
pub mod table;

pub use chain::{ChainStore, SCHEMA_VERSION, meta_keys};
pub use config::{Compression, ConfigError, StorageConfig, TableOptions, TableOverride};
pub use error::StorageError;
pub use memory::MemoryStore;
pub use rocks::RocksStore;
pub use state::{HistoricalState, LatestState};
pub use store::{Entry, Op, Store, WriteBatch};
pub use table::Table;

use std::sync::Arc;

/// Open the RocksDB store described by `config` and wrap it in a [`ChainStore`].
pub fn open_chain(config: &StorageConfig) -> Result<ChainStore, StorageError> {
    let store: Arc<dyn Store> = Arc::new(RocksStore::open(config)?);
    ChainStore::open(store, config.history_blocks)
}
