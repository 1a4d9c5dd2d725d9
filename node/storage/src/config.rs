//! Storage configuration: the `[storage]` section of `node.toml`.
//!
//! ```toml
//! [storage]
//! path = "data/db"
//! sync_writes = false
//! history_blocks = 1024
//!
//! [storage.default]            # applies to every table
//! compression = "lz4"
//! block_cache_mb = 8
//! write_buffer_mb = 4
//! bloom_bits_per_key = 10
//!
//! [storage.tables.receipts]    # per-table overrides; omitted fields come from `default`
//! compression = "zstd"
//! write_buffer_mb = 16
//! ```
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::table::Table;

/// A configuration value out of range, with the full field path (`storage.…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// Dotted field path, e.g. `storage.tables.receipts.write_buffer_mb`.
    pub path: String,
    /// What is wrong and what is accepted, e.g. `must be between 1 and 4096 (got 0)`.
    pub message: String,
}

/// Block compression of a table's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// No compression.
    None,
    /// Snappy: fast, modest ratio.
    Snappy,
    /// LZ4: fast, modest ratio (the default).
    Lz4,
    /// Zstandard: better ratio, more CPU.
    Zstd,
    /// zlib: good ratio, slow.
    Zlib,
}

/// Tunables of one table (RocksDB column family). Omitted fields take their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TableOptions {
    /// Compression of the table's SST files. Default `lz4`.
    pub compression: Compression,
    /// LRU block cache of this table in MiB, `0` = no block cache. Range 0–65536. Default 8.
    pub block_cache_mb: u64,
    /// Memtable (write buffer) size in MiB before it is flushed to disk. Range 1–4096.
    /// Default 4.
    pub write_buffer_mb: u64,
    /// Bloom filter bits per key for point lookups, `0` = no filter. Range 0–64. Default 10.
    pub bloom_bits_per_key: u32,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            compression: Compression::Lz4,
            block_cache_mb: 8,
            write_buffer_mb: 4,
            bloom_bits_per_key: 10,
        }
    }
}

/// A per-table override: every field optional, falling back to [`StorageConfig::default`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableOverride {
    /// See [`TableOptions::compression`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<Compression>,
    /// See [`TableOptions::block_cache_mb`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_cache_mb: Option<u64>,
    /// See [`TableOptions::write_buffer_mb`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_buffer_mb: Option<u64>,
    /// See [`TableOptions::bloom_bits_per_key`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bloom_bits_per_key: Option<u32>,
}

impl TableOverride {
    /// `base` with the fields this override sets replaced.
    pub fn apply(&self, base: TableOptions) -> TableOptions {
        TableOptions {
            compression: self.compression.unwrap_or(base.compression),
            block_cache_mb: self.block_cache_mb.unwrap_or(base.block_cache_mb),
            write_buffer_mb: self.write_buffer_mb.unwrap_or(base.write_buffer_mb),
            bloom_bits_per_key: self.bloom_bits_per_key.unwrap_or(base.bloom_bits_per_key),
        }
    }
}

/// The `[storage]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Database directory (created if missing). Relative paths are relative to the working
    /// directory of the node. Default `data/db`.
    #[serde(default = "default_path")]
    pub path: PathBuf,
    /// fsync the write-ahead log on every committed block. `false` (default): a committed
    /// block survives a process crash or SIGKILL (the WAL is written before the commit
    /// returns) but the last blocks may be lost on power failure or kernel crash; `true`
    /// survives those too, at a large cost in commit latency.
    #[serde(default)]
    pub sync_writes: bool,
    /// Number of recent fast blocks whose state stays readable (for `call`/`estimate_gas`
    /// at an older block). Range 1–1000000. Default 1024.
    #[serde(default = "default_history_blocks")]
    pub history_blocks: u64,
    /// Tunables applied to every table.
    #[serde(default)]
    pub default: TableOptions,
    /// Per-table overrides keyed by table name (`fast_headers`, `fast_hashes`, `fast_bodies`,
    /// `receipts`, `certificates`, `tx_index`, `accounts`, `storage`, `code`, `state_history`,
    /// `snail_headers`, `snail_bodies`, `snail_canonical`, `committees`, `consensus_log`,
    /// `meta`). Unknown names are rejected.
    #[serde(default)]
    pub tables: BTreeMap<String, TableOverride>,
}

fn default_path() -> PathBuf {
    PathBuf::from("data/db")
}

fn default_history_blocks() -> u64 {
    1024
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            path: default_path(),
            sync_writes: false,
            history_blocks: default_history_blocks(),
            default: TableOptions::default(),
            tables: BTreeMap::new(),
        }
    }
}

/// Accepted ranges (inclusive).
pub const BLOCK_CACHE_MB: (u64, u64) = (0, 65536);
/// Accepted range of `write_buffer_mb`.
pub const WRITE_BUFFER_MB: (u64, u64) = (1, 4096);
/// Accepted range of `bloom_bits_per_key`.
pub const BLOOM_BITS: (u64, u64) = (0, 64);
/// Accepted range of `history_blocks`.
pub const HISTORY_BLOCKS: (u64, u64) = (1, 1_000_000);

fn check_range(path: String, got: u64, (lo, hi): (u64, u64)) -> Result<(), ConfigError> {
    if got < lo || got > hi {
        return Err(ConfigError {
            path,
            message: format!("must be between {lo} and {hi} (got {got})"),
        });
    }
    Ok(())
}

impl StorageConfig {
    /// A config for tests: everything default except the path.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            ..Self::default()
        }
    }

    /// Check every value; the first problem is returned with its field path.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError {
                path: "storage.path".into(),
                message: "must not be empty".into(),
            });
        }
        check_range(
            "storage.history_blocks".into(),
            self.history_blocks,
            HISTORY_BLOCKS,
        )?;
        validate_options("storage.default", &self.default)?;
        for (name, ov) in &self.tables {
            let path = format!("storage.tables.{name}");
            if Table::from_name(name).is_none() {
                let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
                return Err(ConfigError {
                    path,
                    message: format!("unknown table (expected one of: {})", names.join(", ")),
                });
            }
            validate_options(&path, &ov.apply(self.default))?;
        }
        Ok(())
    }

    /// Effective options of one table (default + its override).
    pub fn table_options(&self, table: Table) -> TableOptions {
        match self.tables.get(table.name()) {
            Some(ov) => ov.apply(self.default),
            None => self.default,
        }
    }
}

fn validate_options(prefix: &str, o: &TableOptions) -> Result<(), ConfigError> {
    check_range(
        format!("{prefix}.block_cache_mb"),
        o.block_cache_mb,
        BLOCK_CACHE_MB,
    )?;
    check_range(
        format!("{prefix}.write_buffer_mb"),
        o.write_buffer_mb,
        WRITE_BUFFER_MB,
    )?;
    check_range(
        format!("{prefix}.bloom_bits_per_key"),
        u64::from(o.bloom_bits_per_key),
        BLOOM_BITS,
    )?;
    Ok(())
}
