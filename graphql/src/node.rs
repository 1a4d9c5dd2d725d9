//! This node's own view: `consensus` (its PBFT state and role right now) and `peers` (its
//! libp2p connections with ping round trips). Both are read from the node's event loop, once
//! per query.
use async_graphql::{Context, Enum, Object, Result, SimpleObject};

use crate::objects::api;
use crate::scalars::{Bytes32, Long};

/// What this node does in the committee deciding the next fast height.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConsensusRole {
    /// A member, and the primary of its current view.
    Primary,
    /// A member (backup).
    Member,
    /// Not a member: it accepts certified blocks only.
    Follower,
}

/// PBFT phase of the instance deciding the next height.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConsensusPhase {
    /// Waiting for the primary's PRE-PREPARE.
    PrePrepare,
    /// PRE-PREPARE accepted; collecting PREPAREs.
    Prepare,
    /// Prepared; collecting COMMITs.
    Commit,
    /// A quorum of COMMITs: decided, not committed to the chain yet.
    Decided,
}

impl From<tc_types::PbftPhase> for ConsensusPhase {
    fn from(p: tc_types::PbftPhase) -> Self {
        match p {
            tc_types::PbftPhase::PrePrepare => Self::PrePrepare,
            tc_types::PbftPhase::Prepare => Self::Prepare,
            tc_types::PbftPhase::Commit => Self::Commit,
            tc_types::PbftPhase::Decided => Self::Decided,
        }
    }
}

/// The last view change this node started.
#[derive(Clone, Debug, SimpleObject)]
pub struct ViewChange {
    /// Epoch.
    pub epoch: Long,
    /// View left.
    pub from_view: Long,
    /// View entered.
    pub to_view: Long,
    /// Why (as the engine reported it).
    pub reason: String,
    /// Unix time (ms) it started.
    pub time_ms: Long,
}

/// This node's consensus state.
#[derive(Clone, Debug, SimpleObject)]
pub struct ConsensusStatus {
    /// Epoch of the next fast height (null while this node's snail chain cannot determine it).
    pub epoch: Option<Long>,
    /// Role in that epoch's committee.
    pub role: ConsensusRole,
    /// Member index (null for a follower).
    pub member_index: Option<i32>,
    /// Committee size of that epoch (null when undetermined).
    pub committee_size: Option<i32>,
    /// Current PBFT view (null for a follower).
    pub view: Option<Long>,
    /// Sequence number (fast height) being decided: the committed head + 1.
    pub seq: Long,
    /// Phase of that instance (null for a follower).
    pub phase: Option<ConsensusPhase>,
    /// Whether a view change is in progress.
    pub view_changing: bool,
    /// Highest sequence number decided here (a member's engine), else the committed head.
    pub last_decided: Long,
    /// Committed fast head.
    pub head: Long,
    /// Stable checkpoint of the engine (null for a follower).
    pub stable_checkpoint: Option<Long>,
    /// View changes this node started since it started.
    pub view_changes: Long,
    /// The last of them, if any.
    pub last_view_change: Option<ViewChange>,
}

/// A connected libp2p peer.
#[derive(Clone, Debug, SimpleObject)]
pub struct Peer {
    /// libp2p peer id.
    pub peer_id: String,
    /// Address of the connection.
    pub address: String,
    /// Last ping round trip in microseconds (null until the first ping completes).
    pub rtt_micros: Option<Long>,
    /// Its consensus key when it is a member of that committee (a node's libp2p identity is
    /// its ed25519 consensus key).
    pub member_key: Option<Bytes32>,
    /// Whether it is a member of the committee deciding the next height (null when that
    /// committee is not determined here).
    pub committee_member: Option<bool>,
    /// Its fast head, from its last status answer (null before one arrived).
    pub fast_head: Option<Long>,
}

/// `consensus` and `peers`, merged into `Query`.
#[derive(Debug, Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// This node's PBFT state: epoch, role, view, sequence, phase, view changes.
    async fn consensus(&self, ctx: &Context<'_>) -> Result<ConsensusStatus> {
        api(ctx)?
            .consensus()
            .await
            .ok_or_else(|| async_graphql::Error::new("node is shutting down"))
    }
    /// The libp2p peers this node is connected to, by peer id.
    async fn peers(&self, ctx: &Context<'_>) -> Result<Vec<Peer>> {
        Ok(api(ctx)?.peers().await)
    }
}
