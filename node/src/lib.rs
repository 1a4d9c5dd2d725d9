//! The trueconsensus node: everything that performs effects lives here.
//!
//! Map:
//! - [`config`]  `node.toml` spec, parsing and validation
//! - [`keys`]    dev accounts (the well-known test mnemonic), consensus keys, transaction signing
//! - [`genesis`] genesis file: chain id, alloc, initial committee, snail difficulty
//! - [`mempool`] transaction pool: admission checks, nonce/fee ordering, replacement, eviction

pub mod config;
pub mod genesis;
pub mod keys;
pub mod mempool;
