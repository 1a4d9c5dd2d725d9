//! The trueconsensus node: everything that performs effects lives here.
//!
//! Map:
//! - [`config`]  `node.toml` spec, parsing and validation
//! - [`keys`]    dev accounts (the well-known test mnemonic), consensus keys, transaction signing
//! - [`genesis`] genesis file: chain id, alloc, initial committee, snail difficulty
//! - [`mempool`] transaction pool: admission checks, nonce/fee ordering, replacement, eviction
//! - [`chain`]    opening the database, genesis initialisation, same-chain checks
//! - [`producer`] solo-mode block production (build, execute, sign, persist atomically)
//! - [`runtime`]  the event loop that owns the mempool and all chain writes
//! - [`events`]   the stamped, bounded event bus
//! - [`feed`]     `GET /events`: hello + snapshot, then batched events; slow clients resynced or dropped
//! - [`gql`]      GraphQL at `POST /graphql` (`tc-graphql` over the node handle)
//! - [`snail`]    the snail chain in the node: tree rebuilt from RocksDB, capped mining slices, persistence
//! - [`metrics`]  Prometheus `GET /metrics`: heads, commits, mempool, mining, per-table storage, API latency
//! - [`rpc`]      minimal Ethereum JSON-RPC over HTTP (enough to submit and inspect transactions)

pub mod chain;
pub mod config;
pub mod events;
pub mod feed;
pub mod genesis;
pub mod gql;
pub mod keys;
pub mod mempool;
pub mod metrics;
pub mod producer;
pub mod rpc;
pub mod runtime;
pub mod snail;
