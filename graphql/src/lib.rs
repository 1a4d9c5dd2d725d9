//! GraphQL for trueconsensus: geth's EIP-1767 schema (same names and scalars where they apply)
//! over a [`NodeApi`]; no server binding (the node mounts it at `/graphql`).
//!
//! Map:
//! - [`scalars`] `Bytes32`, `Address`, `Bytes`, `BigInt`, `Long` encoded as geth does
//! - [`objects`] `Block`, `Transaction`, `Account`, `Log`, `CallResult`, `SyncState`, `Pending`
//! - [`hybrid`]  extensions: `snailBlock(s)` with fruits, `committee(epoch)`, `storage` per table
//! - [`pool`]    `mempool`: per-sender queues with nonces, recent rejections with reasons
//! - [`query`]   `Query` (geth + extensions) and `Mutation` roots, limits, [`schema`]
//! - [`node`]    this node's `consensus` state (epoch, role, view, seq, phase, view changes)
//!   and `peers` (libp2p connections with ping round trips)
//! - [`subscription`] `Subscription` root fed by the node's event stream ([`NodeApi::events`]):
//!   `newBlocks`, `newSnailBlocks`, `committeeRotations`, `pendingTransactions`, `events(kinds)`
//! - [`ui`]      the offline GraphiQL page and its vendored assets (`assets/`, no CDN)
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub mod hybrid;
pub mod node;
pub mod objects;
pub mod pool;
pub mod query;
pub mod scalars;
pub mod subscription;
pub mod ui;

pub use query::{MAX_BLOCK_RANGE, MAX_COMPLEXITY, MAX_DEPTH, TcSchema, schema};

use alloy_primitives::{Address, B256, Bytes};
use async_graphql::futures_util::Stream;
use tc_storage::ChainStore;
use tc_types::{RecoveredTx, Stamped};

/// A boxed future (object-safe async in [`NodeApi`]).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a subscriber reads from the node's event bus.
#[derive(Clone, Debug)]
pub enum BusItem {
    /// The next event.
    Event(Arc<Stamped>),
    /// The subscriber fell behind the bounded bus and this many events were dropped for it.
    Missed(u64),
}

/// The node's event stream from the moment of the call (ends when the node stops).
pub type EventStream = Pin<Box<dyn Stream<Item = BusItem> + Send>>;

/// A recent mempool rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRejection {
    /// Transaction hash, when the bytes decoded far enough.
    pub hash: Option<B256>,
    /// Why it was refused.
    pub reason: String,
}

/// The pool's contents as the node reports them.
#[derive(Clone, Debug, Default)]
pub struct PoolSnapshot {
    /// Pooled transactions per sender, nonce order.
    pub senders: Vec<(Address, Vec<RecoveredTx>)>,
    /// Recent rejections, oldest first.
    pub rejections: Vec<PoolRejection>,
}

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
    /// A pooled transaction by hash.
    fn pooled_transaction(&self, hash: B256) -> BoxFuture<'_, Option<RecoveredTx>>;
    /// The pool per sender, and its recent rejections.
    fn pool(&self) -> BoxFuture<'_, PoolSnapshot>;
    /// This node's consensus state (None when the node is shutting down).
    fn consensus(&self) -> BoxFuture<'_, Option<node::ConsensusStatus>>;
    /// Connected peers, by peer id.
    fn peers(&self) -> BoxFuture<'_, Vec<node::Peer>>;
    /// Subscribe to the node's events (bounded: a slow reader gets [`BusItem::Missed`]).
    fn events(&self) -> EventStream;
}

/// Shared handle stored in the schema's data.
pub type Api = Arc<dyn NodeApi>;
