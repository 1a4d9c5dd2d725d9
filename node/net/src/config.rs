//! [`NetConfig`]: the `[network]` section of `node.toml`, its defaults, ranges and validation,
//! plus loading/generating the node's libp2p identity (ed25519).

use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, KeyError};

/// Networking configuration (`[network]` in `node.toml`). Every field has a default; unknown
/// fields are rejected. Call [`NetConfig::validate`] before use: it checks ranges and parses the
/// addresses, naming the offending field (`network.max_peers: ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetConfig {
    /// Multiaddrs to listen on, e.g. `/ip4/0.0.0.0/tcp/30333` (`/tcp/0` picks a free port).
    /// At least one, at most 16. Default `["/ip4/0.0.0.0/tcp/30333"]`.
    pub listen: Vec<String>,
    /// Bootnodes: multiaddrs ending in `/p2p/<peer id>`. May be empty (this node is a bootnode).
    pub bootnodes: Vec<String>,
    /// File holding this node's ed25519 secret key (64 hex chars); created if missing.
    /// `None`: the caller supplies the keypair (see [`load_or_generate_key`]).
    pub node_key_file: Option<PathBuf>,
    /// Most established connections in total (1..=1000, default 50).
    pub max_peers: u32,
    /// Most connections being set up at once, each direction (1..=1000, default 32).
    pub max_pending: u32,
    /// Most connections per peer (1..=8, default 2).
    pub max_connections_per_peer: u32,
    /// Size limits per topic and protocol.
    pub limits: MessageLimits,
    /// Gossipsub heartbeat in milliseconds (50..=60000, default 700).
    pub gossip_heartbeat_ms: u64,
    /// Request-response timeout in milliseconds (100..=300000, default 10000).
    pub request_timeout_ms: u64,
    /// Ping interval in milliseconds (100..=600000, default 5000).
    pub ping_interval_ms: u64,
    /// Kademlia random-walk interval in milliseconds (100..=3600000, default 30000).
    pub discovery_interval_ms: u64,
    /// Idle connections are closed after this many seconds (1..=86400, default 300).
    pub idle_timeout_secs: u64,
    /// Strikes (penalties) within one ban window (`ban_duration_secs`) before a peer is
    /// disconnected and banned (1..=100, default 3).
    pub ban_after_strikes: u32,
    /// Ban length in seconds (1..=86400, default 300).
    pub ban_duration_secs: u64,
    /// Capacity of the event channel to the node shell (16..=1000000, default 4096). When full,
    /// events are dropped (logged) rather than stalling the swarm.
    pub event_buffer: usize,
}

/// Largest payload in bytes accepted per gossip topic and request-response protocol. Each
/// 1 KiB..=16 MiB (16 MiB is tc-wire's `MAX_MESSAGE_BYTES`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessageLimits {
    /// `tc/txs/2` transaction batches (default 128 KiB).
    pub tx: usize,
    /// `tc/fast/1` certified fast blocks (default 4 MiB).
    pub fast_block: usize,
    /// `tc/snail/1` snail blocks (default 1 MiB).
    pub snail_block: usize,
    /// `tc/consensus/1` broadcast consensus messages (default 1 MiB).
    pub consensus_gossip: usize,
    /// `/tc/sync/1` request (default 64 KiB).
    pub sync_request: usize,
    /// `/tc/sync/1` response (default 16 MiB).
    pub sync_response: usize,
    /// `/tc/consensus/1` direct consensus message (default 1 MiB).
    pub consensus_request: usize,
}

/// Lower bound of every message limit.
pub const MIN_LIMIT: usize = 1024;
/// Upper bound of every message limit.
pub const MAX_LIMIT: usize = 16 * 1024 * 1024;

impl Default for MessageLimits {
    fn default() -> Self {
        Self {
            tx: 128 * 1024,
            fast_block: 4 * 1024 * 1024,
            snail_block: 1024 * 1024,
            consensus_gossip: 1024 * 1024,
            sync_request: 64 * 1024,
            sync_response: 16 * 1024 * 1024,
            consensus_request: 1024 * 1024,
        }
    }
}

impl MessageLimits {
    /// Largest gossip payload over all topics.
    pub fn max_gossip(&self) -> usize {
        self.tx
            .max(self.fast_block)
            .max(self.snail_block)
            .max(self.consensus_gossip)
    }
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            listen: vec!["/ip4/0.0.0.0/tcp/30333".into()],
            bootnodes: Vec::new(),
            node_key_file: None,
            max_peers: 50,
            max_pending: 32,
            max_connections_per_peer: 2,
            limits: MessageLimits::default(),
            gossip_heartbeat_ms: 700,
            request_timeout_ms: 10_000,
            ping_interval_ms: 5_000,
            discovery_interval_ms: 30_000,
            idle_timeout_secs: 300,
            ban_after_strikes: 3,
            ban_duration_secs: 300,
            event_buffer: 4096,
        }
    }
}

/// A bootnode: its peer id and full address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootnode {
    /// Peer id from the trailing `/p2p/` component.
    pub peer: PeerId,
    /// The address (including `/p2p/`).
    pub addr: Multiaddr,
}

/// A [`NetConfig`] that passed validation, with parsed addresses.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    /// The raw config.
    pub raw: NetConfig,
    /// Parsed listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Parsed bootnodes.
    pub bootnodes: Vec<Bootnode>,
}

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    got: T,
    lo: T,
    hi: T,
) -> Result<(), ConfigError> {
    if got < lo || got > hi {
        return Err(ConfigError::new(
            field,
            format!("must be between {lo} and {hi} (got {got})"),
        ));
    }
    Ok(())
}

impl NetConfig {
    /// Gossipsub heartbeat.
    pub fn gossip_heartbeat(&self) -> Duration {
        Duration::from_millis(self.gossip_heartbeat_ms)
    }
    /// Request-response timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
    /// Ping interval.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// Check ranges and parse addresses. Errors name the field path under `network.`.
    pub fn validate(&self) -> Result<ValidConfig, ConfigError> {
        if self.listen.is_empty() || self.listen.len() > 16 {
            return Err(ConfigError::new(
                "network.listen",
                format!(
                    "must list between 1 and 16 addresses (got {})",
                    self.listen.len()
                ),
            ));
        }
        let mut listen = Vec::with_capacity(self.listen.len());
        for (i, a) in self.listen.iter().enumerate() {
            let field = format!("network.listen[{i}]");
            let addr: Multiaddr = a
                .parse()
                .map_err(|e| ConfigError::new(&field, format!("invalid multiaddr {a:?}: {e}")))?;
            if !addr.iter().any(|p| matches!(p, Protocol::Tcp(_))) {
                return Err(ConfigError::new(
                    &field,
                    format!("must be a TCP address like /ip4/0.0.0.0/tcp/30333 (got {a:?})"),
                ));
            }
            listen.push(addr);
        }
        if self.bootnodes.len() > 64 {
            return Err(ConfigError::new(
                "network.bootnodes",
                format!(
                    "must list at most 64 addresses (got {})",
                    self.bootnodes.len()
                ),
            ));
        }
        let mut bootnodes = Vec::with_capacity(self.bootnodes.len());
        for (i, a) in self.bootnodes.iter().enumerate() {
            let field = format!("network.bootnodes[{i}]");
            let addr: Multiaddr = a
                .parse()
                .map_err(|e| ConfigError::new(&field, format!("invalid multiaddr {a:?}: {e}")))?;
            let Some(Protocol::P2p(peer)) = addr.iter().last() else {
                return Err(ConfigError::new(
                    &field,
                    format!("must end with /p2p/<peer id> (got {a:?})"),
                ));
            };
            bootnodes.push(Bootnode { peer, addr });
        }
        range("network.max_peers", self.max_peers, 1, 1000)?;
        range("network.max_pending", self.max_pending, 1, 1000)?;
        range(
            "network.max_connections_per_peer",
            self.max_connections_per_peer,
            1,
            8,
        )?;
        let l = &self.limits;
        for (field, v) in [
            ("network.limits.tx", l.tx),
            ("network.limits.fast_block", l.fast_block),
            ("network.limits.snail_block", l.snail_block),
            ("network.limits.consensus_gossip", l.consensus_gossip),
            ("network.limits.sync_request", l.sync_request),
            ("network.limits.sync_response", l.sync_response),
            ("network.limits.consensus_request", l.consensus_request),
        ] {
            range(field, v, MIN_LIMIT, MAX_LIMIT)?;
        }
        range(
            "network.gossip_heartbeat_ms",
            self.gossip_heartbeat_ms,
            50,
            60_000,
        )?;
        range(
            "network.request_timeout_ms",
            self.request_timeout_ms,
            100,
            300_000,
        )?;
        range(
            "network.ping_interval_ms",
            self.ping_interval_ms,
            100,
            600_000,
        )?;
        range(
            "network.discovery_interval_ms",
            self.discovery_interval_ms,
            100,
            3_600_000,
        )?;
        range(
            "network.idle_timeout_secs",
            self.idle_timeout_secs,
            1,
            86_400,
        )?;
        range("network.ban_after_strikes", self.ban_after_strikes, 1, 100)?;
        range(
            "network.ban_duration_secs",
            self.ban_duration_secs,
            1,
            86_400,
        )?;
        range("network.event_buffer", self.event_buffer, 16, 1_000_000)?;
        Ok(ValidConfig {
            raw: self.clone(),
            listen,
            bootnodes,
        })
    }
}

/// The peer id of the node whose libp2p identity is the ed25519 key with these public bytes
/// (`None` if they are not a valid ed25519 point).
pub fn peer_id_of_ed25519(public: &[u8; 32]) -> Option<PeerId> {
    let pk = libp2p::identity::ed25519::PublicKey::try_from_bytes(public).ok()?;
    Some(libp2p::identity::PublicKey::from(pk).to_peer_id())
}

/// Keypair from a 32-byte ed25519 secret.
pub fn keypair_from_secret(secret: [u8; 32]) -> Result<Keypair, KeyError> {
    let mut s = secret;
    Keypair::ed25519_from_bytes(&mut s).map_err(|e| KeyError::Invalid(e.to_string()))
}

/// Load the ed25519 secret (64 hex chars, surrounding whitespace ignored) from `path`, or create
/// a fresh key there (file mode 0600 on Unix) if the file does not exist.
pub fn load_or_generate_key(path: &Path) -> Result<Keypair, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|e| KeyError::File {
                path: path.to_path_buf(),
                reason: format!("not hex: {e}"),
            })?;
            let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::File {
                path: path.to_path_buf(),
                reason: format!("expected 32 bytes (64 hex chars), got {}", bytes.len()),
            })?;
            keypair_from_secret(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret: [u8; 32] = rand::random();
            write_secret(path, &secret).map_err(|e| KeyError::File {
                path: path.to_path_buf(),
                reason: format!("cannot write new key: {e}"),
            })?;
            keypair_from_secret(secret)
        }
        Err(e) => Err(KeyError::File {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }),
    }
}

fn write_secret(path: &Path, secret: &[u8; 32]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(hex::encode(secret).as_bytes())?;
    f.sync_all()
}
