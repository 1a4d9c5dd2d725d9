//! `node.toml`: the node's configuration file. Every field is documented in docs/config.md;
//! unknown fields and out-of-range values are rejected with the field's path and accepted range.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// File could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, unknown field, or wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// toml's message (names the key and line).
        message: String,
    },
    /// A value outside its accepted range.
    #[error("{}{message}", if field.is_empty() { String::new() } else { format!("{field}: ") })]
    Range {
        /// Dotted path of the field, e.g. `consensus.block_interval_ms`.
        field: String,
        /// What is accepted and what was given.
        message: String,
    },
}

/// The whole `node.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Identity, files and logging.
    pub node: NodeSection,
    /// Fast-block production and PBFT.
    pub consensus: ConsensusSection,
    /// Transaction pool.
    pub mempool: MempoolSection,
    /// Snail chain (proof of work).
    pub snail: SnailSection,
    /// HTTP endpoint (JSON-RPC).
    pub api: ApiSection,
    /// RocksDB: path, durability, history window, per-table tunables (see node/storage/README.md).
    pub storage: tc_storage::StorageConfig,
    /// libp2p: listen addresses, bootnodes, limits, timeouts (see node/net and docs/config.md).
    /// `node_key_file` must stay unset: the node's libp2p identity is its consensus key, so
    /// peers find a committee member's connection from the committee itself.
    pub network: tc_net::NetConfig,
}

/// `[node]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSection {
    /// Name shown in events and logs.
    pub name: String,
    /// Genesis file (JSON), relative to the config file's directory.
    pub genesis: PathBuf,
    /// File holding the node's ed25519 consensus key (hex), relative to the config file's directory.
    pub key_file: PathBuf,
    /// Log format: `pretty` or `json`.
    pub log_format: LogFormat,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `tc_node=debug,info`.
    pub log_level: String,
}

impl Default for NodeSection {
    fn default() -> Self {
        Self {
            name: "node-0".into(),
            genesis: "genesis.json".into(),
            key_file: "node.key".into(),
            log_format: LogFormat::Pretty,
            log_level: "info".into(),
        }
    }
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// `[snail]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SnailSection {
    /// Mine snail blocks.
    pub mine: bool,
    /// Most PoW hashes per second this node computes (keeps a devnet of many nodes responsive).
    pub hashrate_cap: u64,
    /// Difficulty retargets toward this interval between snail blocks (ms).
    pub target_interval_ms: u64,
    /// How far a snail block's timestamp may be ahead of this node's clock (ms).
    pub max_future_drift_ms: u64,
    /// Fruit freshness window in snail blocks (TrueChain: 17).
    pub fruit_freshness: u64,
}

impl Default for SnailSection {
    fn default() -> Self {
        Self {
            mine: true,
            hashrate_cap: 50_000,
            target_interval_ms: 2_000,
            max_future_drift_ms: 15_000,
            fruit_freshness: 17,
        }
    }
}

/// `[api]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSection {
    /// Serve the HTTP API.
    pub enabled: bool,
    /// Listen address of the HTTP API (JSON-RPC at `POST /`).
    pub http: std::net::SocketAddr,
    /// Largest accepted request body (bytes).
    pub max_body_bytes: usize,
    /// How many accounts of the dev mnemonic the node signs for (`eth_accounts`,
    /// `eth_sendTransaction`); 0 = none.
    pub dev_accounts: u32,
    /// Bearer token of the fault-injection API (`POST /admin/fault`); empty = that API is off.
    /// The devnet launcher sets one per devnet.
    pub admin_token: String,
}

impl Default for ApiSection {
    fn default() -> Self {
        Self {
            enabled: true,
            http: std::net::SocketAddr::from(([127, 0, 0, 1], 8545)),
            max_body_bytes: 5 * 1024 * 1024,
            dev_accounts: 10,
            admin_token: String::new(),
        }
    }
}

/// `[consensus]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusSection {
    /// Target time between fast blocks (ms). A block is proposed every interval if the mempool
    /// has transactions; empty blocks are proposed every `empty_block_interval_ms`.
    pub block_interval_ms: u64,
    /// Interval for empty blocks (ms); 0 = never propose empty blocks.
    pub empty_block_interval_ms: u64,
    /// Most transactions in one fast block.
    pub max_block_txs: usize,
    /// PBFT progress / view-change timeout (ms); doubles on consecutive view changes. Must
    /// exceed `empty_block_interval_ms`, or an idle committee changes view.
    pub view_timeout_ms: u64,
    /// PBFT STATUS retransmission period (ms): lost messages are re-sent by this timer.
    pub status_interval_ms: u64,
    /// PBFT checkpoint period in blocks.
    pub checkpoint_interval: u64,
    /// PBFT watermark window in blocks (rounded up to a multiple of `checkpoint_interval`).
    pub window: u64,
    /// How often the node asks a peer for its chain status and fetches missing fast/snail
    /// blocks (ms).
    pub sync_interval_ms: u64,
    /// A proposed block's timestamp may be at most this far ahead of a backup's clock (ms).
    pub max_future_drift_ms: u64,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        Self {
            block_interval_ms: 500,
            empty_block_interval_ms: 1_000,
            max_block_txs: 5_000,
            view_timeout_ms: 4_000,
            status_interval_ms: 1_000,
            checkpoint_interval: 16,
            window: 64,
            sync_interval_ms: 1_000,
            max_future_drift_ms: 5_000,
        }
    }
}

impl ConsensusSection {
    /// The PBFT engine configuration.
    pub fn engine(&self) -> tc_consensus::pbft::Config {
        tc_consensus::pbft::Config {
            checkpoint_interval: self.checkpoint_interval,
            window: self.window,
            // One block in flight: a block is built on its committed parent, so every member
            // can execute and check it before voting.
            max_in_flight: 1,
            view_timeout_ms: self.view_timeout_ms,
            status_interval_ms: self.status_interval_ms,
            ..tc_consensus::pbft::Config::default()
        }
    }
}

/// `[mempool]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolSection {
    /// Most transactions held.
    pub max_count: usize,
    /// Most bytes held (sum of encoded sizes).
    pub max_bytes: usize,
    /// Largest single transaction (bytes).
    pub max_tx_bytes: usize,
    /// A replacement (same sender and nonce) must raise both fee fields by at least this percent.
    pub price_bump_percent: u64,
    /// Furthest a nonce may be ahead of the account's next nonce.
    pub max_nonce_gap: u64,
}

impl Default for MempoolSection {
    fn default() -> Self {
        Self {
            max_count: 50_000,
            max_bytes: 64 * 1024 * 1024,
            max_tx_bytes: 128 * 1024,
            price_bump_percent: 10,
            max_nonce_gap: 1_024,
        }
    }
}

/// `Ok` when `lo <= v <= hi`, else a [`ConfigError::Range`] naming `field` and the range.
pub fn range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    v: T,
    lo: T,
    hi: T,
) -> Result<(), ConfigError> {
    if v < lo || v > hi {
        return Err(ConfigError::Range {
            field: field.into(),
            message: format!("must be between {lo} and {hi} (got {v})"),
        });
    }
    Ok(())
}

impl NodeConfig {
    /// Read, parse and validate a config file; relative paths are resolved against its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut cfg = Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse {
                path: path.into(),
                message,
            },
            other => other,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.storage.path,
            &mut cfg.node.genesis,
            &mut cfg.node.key_file,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// Parse and validate TOML text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: "node.toml".into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check every range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.node.name.trim().is_empty() || self.node.name.len() > 64 {
            return Err(ConfigError::Range {
                field: "node.name".into(),
                message: format!("must be 1 to 64 characters (got {:?})", self.node.name),
            });
        }
        if tracing_subscriber::EnvFilter::try_new(&self.node.log_level).is_err() {
            return Err(ConfigError::Range {
                field: "node.log_level".into(),
                message: format!(
                    "must be a tracing filter such as \"info\" or \"tc_node=debug,info\" (got {:?})",
                    self.node.log_level
                ),
            });
        }
        let c = &self.consensus;
        range(
            "consensus.block_interval_ms",
            c.block_interval_ms,
            1,
            60_000,
        )?;
        range("consensus.view_timeout_ms", c.view_timeout_ms, 100, 600_000)?;
        range(
            "consensus.empty_block_interval_ms",
            c.empty_block_interval_ms,
            c.block_interval_ms,
            c.view_timeout_ms.saturating_sub(1).max(c.block_interval_ms),
        )?;
        range("consensus.max_block_txs", c.max_block_txs, 1, 100_000)?;
        range(
            "consensus.status_interval_ms",
            c.status_interval_ms,
            10,
            600_000,
        )?;
        range(
            "consensus.checkpoint_interval",
            c.checkpoint_interval,
            1,
            10_000,
        )?;
        range("consensus.window", c.window, 1, 100_000)?;
        range(
            "consensus.sync_interval_ms",
            c.sync_interval_ms,
            50,
            600_000,
        )?;
        range(
            "consensus.max_future_drift_ms",
            c.max_future_drift_ms,
            0,
            3_600_000,
        )?;
        if self.network.node_key_file.is_some() {
            return Err(ConfigError::Range {
                field: "network.node_key_file".into(),
                message: "must not be set: the libp2p identity is the node's consensus key (node.key_file)".into(),
            });
        }
        self.network.validate().map_err(|e| ConfigError::Range {
            field: String::new(),
            message: e.to_string(),
        })?;
        let m = &self.mempool;
        range("mempool.max_count", m.max_count, 1, 10_000_000)?;
        range(
            "mempool.max_tx_bytes",
            m.max_tx_bytes,
            1_024,
            4 * 1024 * 1024,
        )?;
        range(
            "mempool.max_bytes",
            m.max_bytes,
            m.max_tx_bytes,
            16 * 1024 * 1024 * 1024,
        )?;
        range("mempool.price_bump_percent", m.price_bump_percent, 0, 1_000)?;
        range("mempool.max_nonce_gap", m.max_nonce_gap, 0, 1_000_000)?;
        range(
            "api.max_body_bytes",
            self.api.max_body_bytes,
            1_024,
            128 * 1024 * 1024,
        )?;
        self.storage.validate().map_err(|e| ConfigError::Range {
            field: String::new(),
            message: e.to_string(),
        })?;
        Ok(())
    }

    /// TOML text of this config (what `tc-node init` writes).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let cfg = NodeConfig::default();
        cfg.validate().expect("defaults valid");
        let text = cfg.to_toml().expect("serialize");
        assert_eq!(NodeConfig::parse(&text).expect("parse"), cfg);
        assert_eq!(NodeConfig::parse("").expect("empty file = defaults"), cfg);
    }

    #[test]
    fn every_error_names_the_field() {
        let cases: &[(&str, &str)] = &[
            (
                "[consensus]\nblock_interval_ms = 0",
                "consensus.block_interval_ms: must be between 1 and 60000 (got 0)",
            ),
            (
                "[consensus]\nmax_block_txs = 0",
                "consensus.max_block_txs: must be between 1 and 100000 (got 0)",
            ),
            (
                "[consensus]\nblock_interval_ms = 1000\nempty_block_interval_ms = 10",
                "consensus.empty_block_interval_ms: must be between 1000 and 3999 (got 10)",
            ),
            (
                "[consensus]\nempty_block_interval_ms = 5000",
                "consensus.empty_block_interval_ms: must be between 500 and 3999 (got 5000)",
            ),
            (
                "[network]\nmax_peers = 0",
                "network.max_peers: must be between 1 and 1000",
            ),
            (
                "[network]\nnode_key_file = \"p2p.key\"",
                "network.node_key_file: must not be set",
            ),
            (
                "[mempool]\nmax_count = 0",
                "mempool.max_count: must be between 1 and 10000000 (got 0)",
            ),
            (
                "[mempool]\nmax_tx_bytes = 10",
                "mempool.max_tx_bytes: must be between 1024 and 4194304 (got 10)",
            ),
            (
                "[mempool]\nmax_bytes = 2000",
                "mempool.max_bytes: must be between 131072 and 17179869184 (got 2000)",
            ),
            (
                "[mempool]\nprice_bump_percent = 5000",
                "mempool.price_bump_percent: must be between 0 and 1000 (got 5000)",
            ),
            (
                "[mempool]\nmax_nonce_gap = 2000000",
                "mempool.max_nonce_gap: must be between 0 and 1000000 (got 2000000)",
            ),
            (
                "[node]\nname = \"\"",
                "node.name: must be 1 to 64 characters (got \"\")",
            ),
            (
                "[node]\nlog_level = \"[[[\"",
                "node.log_level: must be a tracing filter",
            ),
            (
                "[api]\nmax_body_bytes = 1",
                "api.max_body_bytes: must be between 1024 and 134217728 (got 1)",
            ),
            (
                "[storage.default]\nwrite_buffer_mb = 0",
                "storage.default.write_buffer_mb: must be between 1 and 4096 (got 0)",
            ),
            (
                "[storage.tables.blocks]\ncompression = \"lz4\"",
                "storage.tables.blocks: unknown table",
            ),
        ];
        for (text, want) in cases {
            let err = NodeConfig::parse(text).expect_err(text).to_string();
            assert!(
                err.starts_with(want),
                "config {text:?}\n got: {err}\nwant: {want}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_bad_types_are_named() {
        let err = NodeConfig::parse("[consensus]\nblock_intervall_ms = 5")
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("unknown field `block_intervall_ms`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        let err = NodeConfig::parse("[mempol]\n")
            .expect_err("unknown section")
            .to_string();
        assert!(err.contains("unknown field `mempol`"), "{err}");
        let err = NodeConfig::parse("[mempool]\nmax_count = \"many\"")
            .expect_err("type")
            .to_string();
        assert!(
            err.contains("max_count") && err.contains("invalid type"),
            "{err}"
        );
        let err = NodeConfig::parse("[api]\nhttp = \"localhost\"")
            .expect_err("addr")
            .to_string();
        assert!(err.contains("invalid socket address"), "{err}");
        let err = NodeConfig::parse("[node]\nlog_format = \"xml\"")
            .expect_err("variant")
            .to_string();
        assert!(err.contains("unknown variant `xml`"), "{err}");
    }
}
