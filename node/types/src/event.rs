//! The versioned event stream a node publishes (dashboard, GraphQL subscriptions, e2e tests).
//!
//! Events are emitted by the node shell *after* the change they describe is persisted. The
//! JSON form is `{"type": "<snake_case variant>", ...fields}`.
use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::committee::{Member, MemberIndex, PubKey};
use crate::snail::FruitRef;

/// Version of the [`NodeEvent`] schema; bump on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// PBFT phases of one instance, as shown to observers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PbftPhase {
    /// Waiting for / holding the primary's PRE-PREPARE.
    PrePrepare,
    /// Collecting PREPAREs.
    Prepare,
    /// Prepared; collecting COMMITs.
    Commit,
    /// Committed-local: quorum of COMMITs.
    Decided,
}

/// Per-table storage statistics (one RocksDB column family).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    /// Table (column family) name.
    pub name: String,
    /// Live SST file bytes.
    pub live_sst_bytes: u64,
    /// Estimated number of keys.
    pub estimated_keys: u64,
    /// Bytes in memtables.
    pub memtable_bytes: u64,
    /// Bytes read through this table since open (values returned by gets/iterators).
    pub bytes_read: u64,
    /// Bytes written to this table since open (keys + values in write batches).
    pub bytes_written: u64,
    /// Reads since open.
    pub reads: u64,
    /// Writes since open.
    pub writes: u64,
}

/// Everything a node tells its observers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeEvent {
    /// The node process started (or restarted) with these heads.
    NodeStarted {
        /// Node name from its config.
        node: String,
        /// Chain id.
        chain_id: u64,
        /// Fast head height.
        fast_head: u64,
        /// Snail head height.
        snail_head: u64,
    },
    /// A fast block was committed, executed and persisted.
    FastBlockCommitted {
        /// Height.
        number: u64,
        /// Header hash.
        hash: B256,
        /// Epoch.
        epoch: u64,
        /// View.
        view: u64,
        /// Proposer key.
        proposer: PubKey,
        /// Transactions in the block.
        tx_count: u32,
        /// Gas used.
        gas_used: u64,
        /// Block timestamp (ms).
        timestamp_ms: u64,
        /// Certificate signers (member indices).
        signers: Vec<MemberIndex>,
    },
    /// A transaction entered the mempool.
    TxAdmitted {
        /// Hash.
        hash: B256,
        /// Sender.
        sender: Address,
        /// Nonce.
        nonce: u64,
    },
    /// A transaction was refused.
    TxRejected {
        /// Hash, when the bytes decoded far enough.
        hash: Option<B256>,
        /// Human-readable reason.
        reason: String,
    },
    /// A PBFT state-machine event.
    Pbft(PbftEvent),
    /// This node mined a snail block.
    SnailBlockMined {
        /// Height.
        number: u64,
        /// Hash.
        hash: B256,
        /// Difficulty.
        difficulty: u64,
        /// Fruits carried.
        fruits: u32,
    },
    /// A snail block from a peer was validated and imported.
    SnailBlockImported {
        /// Height.
        number: u64,
        /// Hash.
        hash: B256,
        /// Miner key.
        miner: PubKey,
        /// Difficulty.
        difficulty: u64,
        /// Fruits carried.
        fruits: u32,
    },
    /// The snail head moved to a heavier fork.
    SnailReorg {
        /// Previous head hash.
        old_head: B256,
        /// New head hash.
        new_head: B256,
        /// Blocks rolled back.
        depth: u64,
    },
    /// A snail block that joined the canonical chain checkpoints these fast blocks.
    FruitsIncluded {
        /// Snail block height.
        snail_number: u64,
        /// Snail block hash.
        snail_hash: B256,
        /// The fruits, ascending.
        fruits: Vec<FruitRef>,
    },
    /// The committee of an epoch was elected from the snail chain.
    CommitteeElected {
        /// Epoch it serves.
        epoch: u64,
        /// Members with weights.
        members: Vec<Member>,
        /// Election seed.
        seed: B256,
        /// First fast height it decides.
        start_height: u64,
    },
    /// A rotation to `epoch` is scheduled at fast height `at_height`.
    RotationScheduled {
        /// Incoming epoch.
        epoch: u64,
        /// First fast height of the incoming epoch.
        at_height: u64,
    },
    /// The outgoing committee committed its last block, naming the next committee.
    RotationStarted {
        /// Incoming epoch.
        epoch: u64,
        /// Last fast height of the outgoing epoch (the block carrying `next_committee`).
        last_height: u64,
        /// Hash of the incoming committee (`Committee::hash`).
        next_committee: B256,
    },
    /// The incoming committee took over.
    RotationDone {
        /// New epoch.
        epoch: u64,
        /// First fast height it decided.
        first_height: u64,
    },
    /// A peer connected.
    PeerConnected {
        /// Peer id.
        peer: String,
    },
    /// A peer disconnected.
    PeerDisconnected {
        /// Peer id.
        peer: String,
    },
    /// Round-trip time to a peer.
    PeerRtt {
        /// Peer id.
        peer: String,
        /// RTT in microseconds.
        rtt_us: u64,
    },
    /// A peer sent something invalid and was penalised.
    PeerPenalized {
        /// Peer id.
        peer: String,
        /// Why.
        reason: String,
    },
    /// Periodic per-table storage statistics.
    StorageStats {
        /// One entry per table.
        tables: Vec<TableStats>,
    },
}

/// Events of the PBFT engine (emitted by `tc-consensus`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PbftEvent {
    /// An instance entered a phase.
    PhaseEntered {
        /// Epoch.
        epoch: u64,
        /// View.
        view: u64,
        /// Sequence number.
        seq: u64,
        /// Phase.
        phase: PbftPhase,
        /// Block digest.
        digest: B256,
    },
    /// A quorum of matching votes was reached.
    QuorumReached {
        /// Epoch.
        epoch: u64,
        /// View.
        view: u64,
        /// Sequence number.
        seq: u64,
        /// Which votes (Prepare or Commit).
        phase: PbftPhase,
        /// Votes counted.
        votes: u32,
    },
    /// A view change began.
    ViewChangeStarted {
        /// Epoch.
        epoch: u64,
        /// View being left.
        from_view: u64,
        /// View being entered.
        to_view: u64,
        /// Why (timeout on seq N, f+1 view changes seen, ...).
        reason: String,
    },
    /// A NEW-VIEW was accepted.
    ViewChangeCompleted {
        /// Epoch.
        epoch: u64,
        /// The new view.
        view: u64,
        /// Its primary.
        primary: MemberIndex,
    },
    /// A checkpoint became stable (quorum of matching CHECKPOINTs); log below it collected.
    CheckpointStable {
        /// Epoch.
        epoch: u64,
        /// Checkpoint sequence number.
        seq: u64,
    },
    /// A received message was dropped.
    MessageDropped {
        /// Claimed sender, when known.
        from: Option<MemberIndex>,
        /// Message kind.
        message: String,
        /// Why.
        reason: String,
    },
}

/// An event as published: which node, a per-node sequence number, wall time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped {
    /// Per-node monotonically increasing number.
    pub seq: u64,
    /// Milliseconds since the Unix epoch when emitted.
    pub time_ms: u64,
    /// The event.
    pub event: NodeEvent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_tagged() {
        let e = NodeEvent::Pbft(PbftEvent::CheckpointStable { epoch: 1, seq: 100 });
        let s = serde_json::to_string(&e).expect("serialize");
        assert_eq!(
            s,
            r#"{"type":"pbft","kind":"checkpoint_stable","epoch":1,"seq":100}"#
        );
        let back: NodeEvent = serde_json::from_str(&s).expect("deserialize");
        assert_eq!(back, e);
    }
}
