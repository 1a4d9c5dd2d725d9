//! Error types of the crate.

use std::path::PathBuf;

/// A `[network]` setting is out of range or unparsable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ConfigError {
    /// Field path, e.g. `network.max_peers`.
    pub field: String,
    /// What is wrong, with the value received.
    pub reason: String,
}

impl ConfigError {
    pub(crate) fn new(field: &str, reason: String) -> Self {
        Self {
            field: field.to_owned(),
            reason,
        }
    }
}

/// The node key could not be loaded or created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Reading, parsing or writing the key file failed.
    #[error("node key file {path}: {reason}")]
    File {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The bytes are not a valid ed25519 secret.
    #[error("invalid ed25519 secret: {0}")]
    Invalid(String),
}

/// Starting the network failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Building the transport or a behaviour failed.
    #[error("building the libp2p swarm: {0}")]
    Build(String),
    /// Reading the system's DNS configuration (`/etc/resolv.conf`) failed.
    #[error("reading the system DNS configuration: {0}")]
    Dns(String),
    /// Listening on an address failed.
    #[error("listening on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
}

/// A handle operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    /// The network task has stopped (shutdown or crash).
    #[error("the network task has stopped")]
    Stopped,
    /// Publishing on a gossip topic failed.
    #[error("publish on {topic}: {reason}")]
    Publish {
        /// Topic name.
        topic: String,
        /// Why (e.g. no peers subscribed, message too large, duplicate).
        reason: String,
    },
    /// A payload exceeds the configured limit.
    #[error("{what}: {got} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Topic or protocol.
        what: String,
        /// Payload size.
        got: usize,
        /// Limit.
        max: usize,
    },
    /// An outbound request failed (dial failure, timeout, connection closed, unsupported, I/O).
    #[error("request to {peer} on {protocol}: {reason}")]
    Request {
        /// Remote peer.
        peer: String,
        /// Protocol name.
        protocol: String,
        /// Why.
        reason: String,
    },
    /// The response channel is unknown (already answered, timed out or never existed).
    #[error("unknown or expired response channel {0}")]
    UnknownChannel(u64),
    /// Dialing failed to start.
    #[error("dial {addr}: {reason}")]
    Dial {
        /// Address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// A link shape is out of range.
    #[error("invalid link shape: {0}")]
    InvalidShape(String),
}
