//! libp2p networking for trueconsensus nodes: transport, discovery, gossip and request-response,
//! with size limits and peer penalties. No consensus logic: the node shell drives it through a
//! [`NetworkHandle`] and consumes [`NetEvent`]s.
//!
//! Map:
//! - [`config`]    `[network]` settings ([`NetConfig`]), validation, node key load/generate
//! - [`types`]     topics, protocols, validation verdicts, [`PeerInfo`], [`NetEvent`]
//! - [`handle`]    [`NetworkHandle`]: async commands to the network task
//! - `task`        [`Network::start`]; the swarm loop (discovery, commands, strikes/bans,
//!   gossipsub score watch); `task::inbound` handles inbound gossip and requests; `task::shape`
//!   applies per-peer inbound loss/delay ([`LinkShape`], devnet fault injection)
//! - `behaviour`   composed behaviour: block list, connection limits, identify, ping, kad,
//!   gossipsub (validate before relay), request-response `/tc/sync/1` and `/tc/consensus/1`
//! - `codec`       length-prefixed, length-limited bytes codec for request-response
//! - [`error`]     error types
//!
//! Stack: TCP + noise + yamux. Gossip topics `tc/txs/2`, `tc/fast/1`, `tc/snail/1`,
//! `tc/consensus/1`; messages are content-addressed (sha256 of topic and payload) and relayed
//! only after the shell reports [`Validation::Accept`].

mod behaviour;
mod codec;
pub mod config;
pub mod error;
pub mod handle;
mod task;
pub mod types;

pub use config::{
    MessageLimits, NetConfig, ValidConfig, keypair_from_secret, load_or_generate_key,
    peer_id_of_ed25519,
};
pub use error::{ConfigError, KeyError, NetError, StartError};
pub use handle::NetworkHandle;
pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use task::Network;
pub use types::{ChannelId, LinkShape, MessageId, NetEvent, PeerInfo, Protocol, Topic, Validation};
