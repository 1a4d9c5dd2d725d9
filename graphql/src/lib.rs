//! GraphQL for trueconsensus: geth's EIP-1767 schema (same names and scalars where they apply)
//! over a [`NodeApi`]; no server binding (the node mounts it at `/graphql`).
//!
//! Map:
//! - [`scalars`] `Bytes32`, `Address`, `Bytes`, `BigInt`, `Long` encoded as geth does
//! - [`objects`] `Block`, `Transaction`, `Account`, `Log`, `CallResult`, `SyncState`, `Pending`
//! - [`hybrid`]  extensions: `snailBlock(s)` with fruits, `committee(epoch)`, `storage` per table
//! - [`query`]   `Query` (geth + extensions) and `Mutation` roots, limits, [`schema`]
//!
//! Not yet: subscriptions, `consensus` (per-node PBFT state), `peers`, `epochs`, mempool details.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub mod hybrid;
pub mod objects;
pub mod query;
pub mod scalars;

pub use query::{MAX_BLOCK_RANGE, MAX_COMPLEXITY, MAX_DEPTH, TcSchema, schema};

use alloy_primitives::{B256, Bytes};
use tc_storage::ChainStore;
use tc_types::RecoveredTx;

/// A boxed future (object-safe async in [`NodeApi`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the schema needs from a node.
pub trait NodeApi: Send + Sync {
    /// The chain (read-only use).
    fn chain(&self) -> &ChainStore;
    /// Chain id.
    fn chain_id(&self) -> u64;
    /// Submit raw EIP-2718 bytes; the hash or why it was refused.
    fn send_raw_transaction(&self, raw: Bytes) -> BoxFuture<'_, Result<B256, String>>;
    /// Transactions in the pool.
    fn pending_transactions(&self) -> BoxFuture<'_, Vec<RecoveredTx>>;
}

/// Shared handle stored in the schema's data.
pub type Api = Arc<dyn NodeApi>;
