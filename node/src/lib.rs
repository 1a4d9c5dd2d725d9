//! The trueconsensus node: everything that performs effects lives here.
//!
//! Map:
//! - [`config`]  `node.toml` spec, parsing and validation
//! - [`keys`]    dev accounts (the well-known test mnemonic), consensus keys, transaction signing
//! - [`genesis`] genesis file: chain id, alloc, initial committee, snail difficulty
//! - [`mempool`] transaction pool: admission checks, nonce/fee ordering, replacement, eviction
//! - [`chain`]    opening the database, genesis initialisation, same-chain checks
//! - [`admin`]    `POST /admin/fault`: token-protected fault injection (byzantine modes, blocked peers)
//! - [`block`]    fast blocks: build a proposal, verify a received block by re-executing it, commit
//! - [`consensus`] the PBFT driver: engines per epoch, timers, durable vote log, message routing
//! - [`sync`]     serving block sync requests from the store
//! - [`testnet`]  files of an N-node local network (keys, shared genesis, configs, bootnodes)
//! - [`runtime`]  the event loop: mempool, engines, network, sync client, all chain writes
//! - [`events`]   the stamped, bounded event bus
//! - [`feed`]     `GET /events`: hello + snapshot, then batched events; slow clients resynced or dropped
//! - [`gql`]      GraphQL: `POST /graphql`, subscriptions on `/graphql/ws`, offline GraphiQL at `/graphql/ui`
//! - [`snail`]    the snail chain in the node: tree rebuilt from RocksDB, capped mining slices, persistence
//! - [`metrics`]  Prometheus `GET /metrics`: heads, commits, mempool, mining, per-table storage, API latency
//! - [`rpc`]      Ethereum JSON-RPC over HTTP and WebSocket (`eth_subscribe`: newHeads, logs, pending txs)

pub mod admin;
pub mod block;
pub mod chain;
pub mod config;
pub mod consensus;
pub mod events;
pub mod feed;
pub mod genesis;
pub mod gql;
pub mod keys;
pub mod mempool;
pub mod metrics;
pub mod rpc;
pub mod runtime;
pub mod snail;
pub mod sync;
pub mod testnet;
