//! Chain types shared by every trueconsensus crate. wasm-safe: no I/O, no threads, no clocks.
//!
//! Map:
//! - [`fast`]      fast-chain block header/body, receipts and the commit certificate
//! - [`snail`]     proof-of-work snail-chain header, block and fruit references
//! - [`committee`] committee members, quorum arithmetic
//! - [`tx`]        re-exported alloy typed transactions (legacy/EIP-2930/EIP-1559), sender recovery
//! - [`state`]     the execution/storage boundary: `StateReader`, `StateDiff`, `AccountInfo`
//! - [`event`]     the versioned [`NodeEvent`] stream every observer reads
//! - [`feed`]      the devnet's merged feed protocol ([`FeedMessage`]) and a node's `/events` frames

pub mod committee;
pub mod event;
pub mod fast;
pub mod feed;
pub mod snail;
pub mod state;
pub mod tx;

pub use alloy_primitives::{Address, B256, B512, Bloom, Bytes, U256, keccak256};
pub use committee::{Committee, Member, MemberIndex, PubKey, Signature};
pub use event::{NodeEvent, PbftEvent, PbftPhase, SCHEMA_VERSION, Stamped, TableStats};
pub use fast::{
    CertSignature, CommitCertificate, FastBlock, FastHeader, Log, Receipt, TxLocation,
    commit_signing_bytes, receipts_root, tx_root,
};
pub use feed::{
    Action, ActionResult, FEED_VERSION, FeedEvent, FeedMessage, NodeFrame, NodeSnapshot,
    NodeStatus, NodeView,
};
pub use snail::{FruitRef, SnailBlock, SnailHeader, fruits_hash};
pub use tx::{RecoveredTx, Transaction, TxEnvelope, TxError};

/// Block numbers, epochs, views and sequence numbers are all plain u64.
pub type BlockNumber = u64;
/// Committee epoch (increments at every rotation).
pub type Epoch = u64;
/// PBFT view number.
pub type View = u64;
/// PBFT sequence number (equals the fast block number it decides).
pub type Seq = u64;
pub use state::{
    AccountChange, AccountInfo, EMPTY_CODE_HASH, StateDiff, StateError, StateReader, StorageChange,
    next_state_root,
};
