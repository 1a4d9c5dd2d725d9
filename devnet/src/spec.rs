//! `devnet.toml`: what `devnet up` starts. Every field is optional (documented with its default
//! and range in docs/devnet.md); command-line flags override the file; unknown fields and
//! out-of-range values are rejected with the field's path, in the style of `node.toml`.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tc_node::config::NodeConfig;
use tc_node::genesis::HybridParams;
use tc_node::testnet::TestnetSpec;

/// Why a spec was refused (the node config's error: read, parse, or a field out of range).
pub use tc_node::config::ConfigError as SpecError;
use tc_node::config::range;

/// The whole `devnet.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevnetSpec {
    /// Number of node processes.
    pub nodes: usize,
    /// Committee size (genesis committee = the first `committee` nodes; also the elected size).
    pub committee: usize,
    /// Where keys, genesis, configs, databases and logs live.
    pub data_dir: PathBuf,
    /// Election and rotation (written into the genesis on first start).
    pub chain: ChainSection,
    /// Fast-block production and PBFT timing (written into every node.toml on first start).
    pub consensus: ConsensusSection,
    /// Addresses of the launcher and the nodes.
    pub ports: PortsSection,
    /// How the launcher runs the nodes.
    pub launcher: LauncherSection,
}

impl Default for DevnetSpec {
    fn default() -> Self {
        Self {
            nodes: 7,
            committee: 4,
            data_dir: ".devnet/default".into(),
            chain: ChainSection::default(),
            consensus: ConsensusSection::default(),
            ports: PortsSection::default(),
            launcher: LauncherSection::default(),
        }
    }
}

/// `[chain]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainSection {
    /// Snail blocks per epoch.
    pub epoch_length: u64,
    /// Confirmations ignored at the end of each election window (< `epoch_length`).
    pub lambda: u64,
    /// Fast blocks between the checkpointed height and a committee switch.
    pub switch_margin: u64,
    /// Every epoch has at least this many fast blocks.
    pub min_epoch_blocks: u64,
    /// Target interval between snail blocks (ms).
    pub snail_interval_ms: u64,
    /// PoW hashes per second per node.
    pub hashrate_cap: u64,
}

impl Default for ChainSection {
    fn default() -> Self {
        let h = HybridParams::default();
        let s = tc_node::config::SnailSection::default();
        Self {
            epoch_length: h.epoch_length,
            lambda: h.lambda,
            switch_margin: h.switch_margin,
            min_epoch_blocks: h.min_epoch_blocks,
            snail_interval_ms: s.target_interval_ms,
            hashrate_cap: s.hashrate_cap,
        }
    }
}

/// `[consensus]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsensusSection {
    /// Time between fast blocks when there are transactions (ms).
    pub block_interval_ms: u64,
    /// Time between empty fast blocks (ms).
    pub empty_block_interval_ms: u64,
    /// PBFT view-change timeout (ms); must exceed `empty_block_interval_ms`.
    pub view_timeout_ms: u64,
}

impl Default for ConsensusSection {
    fn default() -> Self {
        let c = tc_node::config::ConsensusSection::default();
        Self {
            block_interval_ms: c.block_interval_ms,
            empty_block_interval_ms: c.empty_block_interval_ms,
            view_timeout_ms: c.view_timeout_ms,
        }
    }
}

/// `[ports]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortsSection {
    /// The launcher's own address: JSON-RPC, GraphQL, dashboard, feed, admin API.
    pub http: SocketAddr,
    /// HTTP port of node i = `node_http + i` (on 127.0.0.1).
    pub node_http: u16,
    /// libp2p port of node i = `node_p2p + i` (on 127.0.0.1).
    pub node_p2p: u16,
}

impl Default for PortsSection {
    fn default() -> Self {
        Self {
            http: SocketAddr::from(([127, 0, 0, 1], 8545)),
            node_http: 8546,
            node_p2p: 30333,
        }
    }
}

/// `[launcher]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LauncherSection {
    /// The `tc-node` binary; empty = next to the `devnet` binary.
    pub node_bin: PathBuf,
    /// How long `up` waits for the first committed fast block (s).
    pub startup_timeout_s: u64,
    /// After SIGTERM, how long a node may take to exit before SIGKILL (ms).
    pub stop_grace_ms: u64,
    /// The nodes' log filter (tracing `EnvFilter` syntax).
    pub node_log_level: String,
}

impl Default for LauncherSection {
    fn default() -> Self {
        Self {
            node_bin: PathBuf::new(),
            startup_timeout_s: 180,
            stop_grace_ms: 10_000,
            node_log_level: "info".into(),
        }
    }
}

/// Command-line values that replace the file's (each `None` keeps the file's value).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--nodes`
    pub nodes: Option<usize>,
    /// `--committee`
    pub committee: Option<usize>,
    /// `--dir`
    pub data_dir: Option<PathBuf>,
    /// `--epoch-length`
    pub epoch_length: Option<u64>,
    /// `--snail-interval-ms`
    pub snail_interval_ms: Option<u64>,
    /// `--hashrate-cap`
    pub hashrate_cap: Option<u64>,
    /// `--block-interval-ms`
    pub block_interval_ms: Option<u64>,
    /// `--empty-block-interval-ms`
    pub empty_block_interval_ms: Option<u64>,
    /// `--view-timeout-ms`
    pub view_timeout_ms: Option<u64>,
    /// `--http`
    pub http: Option<SocketAddr>,
    /// `--node-http-port`
    pub node_http: Option<u16>,
    /// `--node-p2p-port`
    pub node_p2p: Option<u16>,
    /// `--node-bin`
    pub node_bin: Option<PathBuf>,
    /// `--startup-timeout-s`
    pub startup_timeout_s: Option<u64>,
}

/// Most nodes a devnet may have (ports and 2 cores set the practical limit much lower).
pub const MAX_NODES: usize = 64;

impl DevnetSpec {
    /// Read and parse a spec file (validate after applying overrides).
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| SpecError::Parse {
            path: path.into(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Parse and validate TOML text.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let spec: Self = toml::from_str(text).map_err(|e| SpecError::Parse {
            path: "devnet.toml".into(),
            message: e.to_string().trim_end().to_string(),
        })?;
        spec.validate()?;
        Ok(spec)
    }

    /// Replace the values given on the command line.
    pub fn apply(&mut self, o: &Overrides) {
        fn set<T: Clone>(dst: &mut T, v: &Option<T>) {
            if let Some(v) = v {
                *dst = v.clone();
            }
        }
        set(&mut self.nodes, &o.nodes);
        set(&mut self.committee, &o.committee);
        set(&mut self.data_dir, &o.data_dir);
        set(&mut self.chain.epoch_length, &o.epoch_length);
        set(&mut self.chain.snail_interval_ms, &o.snail_interval_ms);
        set(&mut self.chain.hashrate_cap, &o.hashrate_cap);
        set(&mut self.consensus.block_interval_ms, &o.block_interval_ms);
        set(
            &mut self.consensus.empty_block_interval_ms,
            &o.empty_block_interval_ms,
        );
        set(&mut self.consensus.view_timeout_ms, &o.view_timeout_ms);
        set(&mut self.ports.http, &o.http);
        set(&mut self.ports.node_http, &o.node_http);
        set(&mut self.ports.node_p2p, &o.node_p2p);
        set(&mut self.launcher.node_bin, &o.node_bin);
        set(&mut self.launcher.startup_timeout_s, &o.startup_timeout_s);
    }

    /// Check every range; errors name the field (`chain.lambda: must be below …`).
    pub fn validate(&self) -> Result<(), SpecError> {
        range("nodes", self.nodes, 1, MAX_NODES)?;
        range("committee", self.committee, 1, self.nodes)?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(SpecError::Range {
                field: "data_dir".into(),
                message: "must not be empty".into(),
            });
        }
        let c = &self.chain;
        range("chain.epoch_length", c.epoch_length, 2, 1_000_000)?;
        range("chain.lambda", c.lambda, 0, c.epoch_length - 1)?;
        range("chain.switch_margin", c.switch_margin, 1, 1_000_000)?;
        range("chain.min_epoch_blocks", c.min_epoch_blocks, 1, 1_000_000)?;
        range(
            "chain.snail_interval_ms",
            c.snail_interval_ms,
            100,
            3_600_000,
        )?;
        range("chain.hashrate_cap", c.hashrate_cap, 100, 100_000_000)?;
        let k = &self.consensus;
        range(
            "consensus.block_interval_ms",
            k.block_interval_ms,
            1,
            60_000,
        )?;
        range("consensus.view_timeout_ms", k.view_timeout_ms, 100, 600_000)?;
        range(
            "consensus.empty_block_interval_ms",
            k.empty_block_interval_ms,
            k.block_interval_ms,
            k.view_timeout_ms.saturating_sub(1).max(k.block_interval_ms),
        )?;
        let p = &self.ports;
        let last = |base: u16| usize::from(base) + self.nodes - 1;
        for (field, base) in [
            ("ports.node_http", p.node_http),
            ("ports.node_p2p", p.node_p2p),
        ] {
            if base == 0 || last(base) > usize::from(u16::MAX) {
                return Err(SpecError::Range {
                    field: field.into(),
                    message: format!(
                        "must be between 1 and {} for {} nodes (got {base})",
                        usize::from(u16::MAX) + 1 - self.nodes,
                        self.nodes
                    ),
                });
            }
        }
        let overlap = |a: u16, b: u16| usize::from(a) <= last(b) && usize::from(b) <= last(a);
        if overlap(p.node_http, p.node_p2p) {
            return Err(SpecError::Range {
                field: "ports.node_p2p".into(),
                message: format!(
                    "ports {}..={} overlap the node HTTP ports {}..={}",
                    p.node_p2p,
                    last(p.node_p2p),
                    p.node_http,
                    last(p.node_http)
                ),
            });
        }
        let own = usize::from(p.http.port());
        for (field, base) in [
            ("ports.node_http", p.node_http),
            ("ports.node_p2p", p.node_p2p),
        ] {
            if (usize::from(base)..=last(base)).contains(&own) {
                return Err(SpecError::Range {
                    field: field.into(),
                    message: format!(
                        "ports {base}..={} include the launcher's own port ports.http = {}",
                        last(base),
                        p.http
                    ),
                });
            }
        }
        if p.http.port() == 0 {
            return Err(SpecError::Range {
                field: "ports.http".into(),
                message: "must name a port (got 0)".into(),
            });
        }
        let l = &self.launcher;
        range("launcher.startup_timeout_s", l.startup_timeout_s, 1, 3_600)?;
        range("launcher.stop_grace_ms", l.stop_grace_ms, 0, 600_000)?;
        if tracing_subscriber::EnvFilter::try_new(&l.node_log_level).is_err() {
            return Err(SpecError::Range {
                field: "launcher.node_log_level".into(),
                message: format!(
                    "must be a tracing filter such as \"info\" (got {:?})",
                    l.node_log_level
                ),
            });
        }
        // Backstop: the node config this spec produces must be valid too.
        self.node_config()
            .validate()
            .map_err(|e| SpecError::Range {
                field: "node config".into(),
                message: e.to_string(),
            })?;
        Ok(())
    }

    /// The template every generated `node.toml` starts from.
    pub fn node_config(&self) -> NodeConfig {
        let mut cfg = NodeConfig::default();
        cfg.consensus.block_interval_ms = self.consensus.block_interval_ms;
        cfg.consensus.empty_block_interval_ms = self.consensus.empty_block_interval_ms;
        cfg.consensus.view_timeout_ms = self.consensus.view_timeout_ms;
        // Retransmit and sync at a fraction of the view timeout, so a devnet tuned for speed
        // recovers at the same pace.
        let quarter = (self.consensus.view_timeout_ms / 4).clamp(50, 1_000);
        cfg.consensus.status_interval_ms = quarter.max(10);
        cfg.consensus.sync_interval_ms = quarter;
        cfg.snail.target_interval_ms = self.chain.snail_interval_ms;
        cfg.snail.hashrate_cap = self.chain.hashrate_cap;
        cfg.node.log_level = self.launcher.node_log_level.clone();
        cfg.network.ping_interval_ms = 1_000;
        // After a healed partition, a node with no peer left re-dials its bootnodes, and the
        // others rediscover each other, on this walk: keep it short.
        cfg.network.discovery_interval_ms = 5_000;
        cfg
    }

    /// What `tc_node::testnet::generate` needs.
    pub fn testnet(&self) -> TestnetSpec {
        TestnetSpec {
            nodes: self.nodes,
            committee_size: self.committee,
            http_port: self.ports.node_http,
            p2p_port: self.ports.node_p2p,
            hybrid: HybridParams {
                epoch_length: self.chain.epoch_length,
                lambda: self.chain.lambda,
                committee_size: self.committee,
                switch_margin: self.chain.switch_margin,
                min_epoch_blocks: self.chain.min_epoch_blocks,
            },
            base: self.node_config(),
            // Fields added to TestnetSpec later keep tc-node's defaults (10 dev accounts,
            // automatic snail difficulty).
            ..TestnetSpec::default()
        }
    }

    /// TOML text of this spec (written into the data dir on first start).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match DevnetSpec::parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let spec = DevnetSpec::default();
        spec.validate().expect("valid");
        let text = spec.to_toml().expect("toml");
        assert_eq!(DevnetSpec::parse(&text).expect("parse"), spec);
        assert_eq!(DevnetSpec::parse("").expect("empty"), spec);
        let t = spec.testnet();
        assert_eq!((t.nodes, t.committee_size, t.http_port), (7, 4, 8546));
    }

    #[test]
    fn bad_values_name_the_field() {
        for (text, field) in [
            ("nodes = 0", "nodes: must be between 1 and 64 (got 0)"),
            (
                "nodes = 3\ncommittee = 4",
                "committee: must be between 1 and 3 (got 4)",
            ),
            ("data_dir = \"\"", "data_dir: must not be empty"),
            ("[chain]\nepoch_length = 1", "chain.epoch_length:"),
            (
                "[chain]\nepoch_length = 5\nlambda = 5",
                "chain.lambda: must be between 0 and 4",
            ),
            ("[chain]\nhashrate_cap = 1", "chain.hashrate_cap:"),
            (
                "[chain]\nsnail_interval_ms = 10",
                "chain.snail_interval_ms:",
            ),
            (
                "[consensus]\nblock_interval_ms = 0",
                "consensus.block_interval_ms:",
            ),
            (
                "[consensus]\nview_timeout_ms = 1000\nempty_block_interval_ms = 2000",
                "consensus.empty_block_interval_ms:",
            ),
            (
                "[ports]\nnode_http = 65535",
                "ports.node_http: must be between 1 and 65529",
            ),
            (
                "[ports]\nnode_p2p = 8550",
                "ports.node_p2p: ports 8550..=8556 overlap",
            ),
            (
                "[ports]\nnode_http = 8540",
                "ports.node_http: ports 8540..=8546 include",
            ),
            (
                "[ports]\nhttp = \"127.0.0.1:0\"",
                "ports.http: must name a port",
            ),
            (
                "[launcher]\nstartup_timeout_s = 0",
                "launcher.startup_timeout_s:",
            ),
            (
                "[launcher]\nnode_log_level = \"[\"",
                "launcher.node_log_level:",
            ),
        ] {
            let e = err(text);
            assert!(e.starts_with(field), "{text:?} -> {e}");
        }
    }

    #[test]
    fn unknown_fields_and_types_are_rejected_with_the_key() {
        let e = err("nodes = 4\ncomittee = 3");
        assert!(e.contains("comittee"), "{e}");
        let e = err("[ports]\nhttp = \"localhost\"");
        assert!(e.contains("http"), "{e}");
        let e = err("nodes = \"four\"");
        assert!(e.contains("nodes"), "{e}");
    }

    #[test]
    fn overrides_replace_file_values() {
        let mut spec = DevnetSpec::parse("nodes = 5\n[chain]\nepoch_length = 8").expect("parse");
        spec.apply(&Overrides {
            nodes: Some(4),
            view_timeout_ms: Some(2_000),
            ..Overrides::default()
        });
        assert_eq!(spec.nodes, 4);
        assert_eq!(spec.chain.epoch_length, 8);
        assert_eq!(spec.consensus.view_timeout_ms, 2_000);
        spec.validate().expect("valid");
    }
}
