//! The dashboard's state and its reducer: [`FeedMessage`]s in, a bounded [`Model`] out.
//! Plain Rust (no DOM): native unit tests cover it.
//!
//! Rules:
//! * `hello` checks the versions; on a mismatch the model records why and ignores every
//!   frame until a compatible hello.
//! * `snapshot` (first, or `resync`) replaces the state, then replays its `recent` events.
//! * `events` update nodes, blocks, committees, PBFT instances, mempool and storage.
//! * every list is bounded by [`Limits`]; the oldest entries go first.
use std::collections::{BTreeMap, VecDeque};

use tc_types::{
    Action, Address, B256, FEED_VERSION, FeedEvent, FeedMessage, Member, MemberIndex, NodeEvent,
    NodeStatus, NodeView, PbftEvent, PbftPhase, PubKey, SCHEMA_VERSION, TableStats,
};

/// How much history the model keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Fast blocks.
    pub fast_blocks: usize,
    /// Snail blocks.
    pub snail_blocks: usize,
    /// PBFT instances (epoch, seq).
    pub instances: usize,
    /// Committees (epochs).
    pub epochs: usize,
    /// Rotation steps.
    pub rotations: usize,
    /// View changes.
    pub view_changes: usize,
    /// Mempool admissions/rejections.
    pub txs: usize,
    /// Snail reorgs.
    pub reorgs: usize,
    /// Fault-injection actions.
    pub actions: usize,
    /// Peers per node.
    pub peers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fast_blocks: 120,
            snail_blocks: 60,
            instances: 40,
            epochs: 12,
            rotations: 40,
            view_changes: 40,
            txs: 80,
            reorgs: 20,
            actions: 60,
            peers: 64,
        }
    }
}

/// A node's role in its current committee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Member and primary of the current view.
    Primary(MemberIndex),
    /// Member (backup).
    Member(MemberIndex),
    /// Not in the committee.
    Follower,
    /// Its key or committee is not known.
    Unknown,
}

impl Role {
    /// Short label.
    pub fn label(self) -> String {
        match self {
            Self::Primary(i) => format!("primary #{i}"),
            Self::Member(i) => format!("member #{i}"),
            Self::Follower => "follower".into(),
            Self::Unknown => "role unknown".into(),
        }
    }
}

/// One node as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    /// Identity, status, heads, committee (as the feed reported, then moved by events).
    pub view: NodeView,
    /// Latest PBFT view this node was seen in.
    pub pbft_view: u64,
    /// Its latest epoch (from blocks and PBFT events).
    pub epoch: u64,
    /// Time of its latest event (ms since the Unix epoch).
    pub last_event_ms: Option<u64>,
    /// Fast blocks it committed since the dashboard's snapshot.
    pub blocks_seen: u64,
    /// Snail blocks it mined since the snapshot.
    pub snail_mined: u64,
    /// Transactions it admitted.
    pub tx_admitted: u64,
    /// Transactions it rejected.
    pub tx_rejected: u64,
    /// Transactions in blocks it committed.
    pub tx_included: u64,
    /// Peers: id → latest RTT in µs.
    pub peers: BTreeMap<String, Option<u64>>,
    /// Penalties it handed out to peers.
    pub penalties: u64,
    /// PBFT messages it dropped.
    pub dropped_messages: u64,
    /// Latest drop reason.
    pub last_drop: Option<String>,
    /// Latest storage statistics and when.
    pub storage: Option<(u64, Vec<TableStats>)>,
    /// The feed re-synced with this node since the snapshot (events may be missing).
    pub resynced: bool,
}

impl NodeState {
    fn new(view: NodeView) -> Self {
        Self {
            view,
            pbft_view: 0,
            epoch: 0,
            last_event_ms: None,
            blocks_seen: 0,
            snail_mined: 0,
            tx_admitted: 0,
            tx_rejected: 0,
            tx_included: 0,
            peers: BTreeMap::new(),
            penalties: 0,
            dropped_messages: 0,
            last_drop: None,
            storage: None,
            resynced: false,
        }
    }

    /// Role in the committee it knows, in its current view.
    pub fn role(&self) -> Role {
        let (Some(key), Some(c)) = (self.view.key, self.view.committee.as_ref()) else {
            return Role::Unknown;
        };
        match c.index_of(&key) {
            Some(i) if c.primary(self.pbft_view) == Some(i) => Role::Primary(i),
            Some(i) => Role::Member(i),
            None => Role::Follower,
        }
    }

    /// Transactions admitted but not (yet) seen in a block — an estimate.
    pub fn pending_estimate(&self) -> u64 {
        self.tx_admitted.saturating_sub(self.tx_included)
    }
}

/// A committed fast block, merged over the nodes that reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FastBlockRow {
    /// Height.
    pub number: u64,
    /// Hash (the first reported).
    pub hash: B256,
    /// Epoch.
    pub epoch: u64,
    /// View.
    pub view: u64,
    /// Proposer key.
    pub proposer: PubKey,
    /// Transactions.
    pub tx_count: u32,
    /// Gas used.
    pub gas_used: u64,
    /// Block timestamp (ms).
    pub timestamp_ms: u64,
    /// Certificate signers.
    pub signers: Vec<MemberIndex>,
    /// Nodes that committed it.
    pub seen_by: Vec<String>,
    /// A node committed a different hash at this height (a safety violation).
    pub conflict: bool,
}

/// A snail block, merged over the nodes that mined or imported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnailBlockRow {
    /// Height.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Miner key, when reported (imports).
    pub miner_key: Option<PubKey>,
    /// The node that mined it, when it reported so.
    pub mined_by: Option<String>,
    /// Difficulty.
    pub difficulty: u64,
    /// Fruits carried.
    pub fruits: u32,
    /// Fast heights its fruits checkpoint (lowest, highest), once `fruits_included` arrived.
    pub fruit_range: Option<(u64, u64)>,
    /// First report time (ms).
    pub time_ms: u64,
    /// Nodes that have it.
    pub seen_by: Vec<String>,
}

/// A committee of one epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeRow {
    /// Epoch.
    pub epoch: u64,
    /// First fast height.
    pub start_height: u64,
    /// Members.
    pub members: Vec<Member>,
    /// Election seed.
    pub seed: B256,
    /// Nodes that reported it.
    pub reported_by: Vec<String>,
    /// A node reported a different committee for this epoch (separate chains, or a bug).
    pub conflict: bool,
}

/// A rotation step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RotationStep {
    /// Scheduled at a fast height.
    Scheduled {
        /// First fast height of the incoming epoch.
        at_height: u64,
    },
    /// The outgoing committee committed its last block.
    Started {
        /// Last height of the outgoing epoch.
        last_height: u64,
    },
    /// The incoming committee took over.
    Done {
        /// Its first height.
        first_height: u64,
    },
}

/// A rotation step toward an epoch, merged over the nodes that reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotationRow {
    /// Incoming epoch.
    pub epoch: u64,
    /// Step.
    pub step: RotationStep,
    /// First report time (ms).
    pub time_ms: u64,
    /// Nodes that reported it.
    pub seen_by: Vec<String>,
}

/// One PBFT instance (epoch, seq) across the nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    /// Epoch.
    pub epoch: u64,
    /// Sequence number (= fast height).
    pub seq: u64,
    /// Highest view seen for it.
    pub view: u64,
    /// Block digest, when a phase named it.
    pub digest: Option<B256>,
    /// Per node: phases entered (phase, view, time ms), in order.
    pub phases: BTreeMap<String, Vec<(PbftPhase, u64, u64)>>,
    /// Per node: quorums reached (phase, votes, time ms).
    pub quorums: BTreeMap<String, Vec<(PbftPhase, u32, u64)>>,
    /// Earliest event time (ms).
    pub first_ms: u64,
    /// When the first node decided it (ms).
    pub decided_ms: Option<u64>,
}

impl Instance {
    /// The furthest phase a node reached.
    pub fn phase_of(&self, node: &str) -> Option<PbftPhase> {
        self.phases.get(node).and_then(|p| {
            p.iter()
                .map(|(ph, _, _)| *ph)
                .max_by_key(|ph| phase_rank(*ph))
        })
    }
}

/// Order of phases within an instance.
pub fn phase_rank(p: PbftPhase) -> u8 {
    match p {
        PbftPhase::PrePrepare => 0,
        PbftPhase::Prepare => 1,
        PbftPhase::Commit => 2,
        PbftPhase::Decided => 3,
    }
}

/// A view change seen by one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewChangeRow {
    /// Node.
    pub node: String,
    /// Epoch.
    pub epoch: u64,
    /// View left.
    pub from_view: u64,
    /// View entered.
    pub to_view: u64,
    /// Why.
    pub reason: String,
    /// Start time (ms).
    pub time_ms: u64,
    /// The new primary and when the NEW-VIEW was accepted.
    pub completed: Option<(MemberIndex, u64)>,
}

/// A mempool decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRow {
    /// Node.
    pub node: String,
    /// Hash, when known.
    pub hash: Option<B256>,
    /// Sender (admitted).
    pub sender: Option<Address>,
    /// Nonce (admitted).
    pub nonce: Option<u64>,
    /// `None` = admitted, `Some(reason)` = rejected.
    pub rejected: Option<String>,
    /// Time (ms).
    pub time_ms: u64,
}

/// A snail reorg seen by a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReorgRow {
    /// Node.
    pub node: String,
    /// Previous head.
    pub old_head: B256,
    /// New head.
    pub new_head: B256,
    /// Blocks rolled back.
    pub depth: u64,
    /// Time (ms).
    pub time_ms: u64,
}

/// Everything the dashboard draws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Versions from the feed's hello.
    pub versions: Option<(u32, u32)>,
    /// Why the feed cannot be read (version mismatch).
    pub incompatible: Option<String>,
    /// Frames that did not parse.
    pub parse_errors: u64,
    /// The latest parse error.
    pub last_parse_error: Option<String>,
    /// Snapshots received (connections + resyncs).
    pub snapshots: u64,
    /// Resync snapshots received.
    pub resyncs: u64,
    /// Nodes in launcher order.
    pub nodes: Vec<NodeState>,
    /// Fast blocks, ascending.
    pub fast_blocks: VecDeque<FastBlockRow>,
    /// Snail blocks, ascending by height.
    pub snail_blocks: VecDeque<SnailBlockRow>,
    /// Committees by epoch.
    pub committees: BTreeMap<u64, CommitteeRow>,
    /// Rotation steps, in arrival order.
    pub rotations: VecDeque<RotationRow>,
    /// PBFT instances by (epoch, seq).
    pub instances: BTreeMap<(u64, u64), Instance>,
    /// View changes, in arrival order.
    pub view_changes: VecDeque<ViewChangeRow>,
    /// Mempool decisions, in arrival order.
    pub txs: VecDeque<TxRow>,
    /// Snail reorgs, in arrival order.
    pub reorgs: VecDeque<ReorgRow>,
    /// Fault-injection actions, in arrival order (updated in place by id).
    pub actions: VecDeque<Action>,
    /// Time of the latest event (ms).
    pub last_event_ms: Option<u64>,
    limits: Limits,
}

impl Default for Model {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T, limit: usize) {
    q.push_back(item);
    while q.len() > limit {
        q.pop_front();
    }
}

fn add_name(list: &mut Vec<String>, name: &str) {
    if !list.iter().any(|n| n == name) {
        list.push(name.to_owned());
    }
}

impl Model {
    /// An empty model with these bounds.
    pub fn new(limits: Limits) -> Self {
        Self {
            versions: None,
            incompatible: None,
            parse_errors: 0,
            last_parse_error: None,
            snapshots: 0,
            resyncs: 0,
            nodes: Vec::new(),
            fast_blocks: VecDeque::new(),
            snail_blocks: VecDeque::new(),
            committees: BTreeMap::new(),
            rotations: VecDeque::new(),
            instances: BTreeMap::new(),
            view_changes: VecDeque::new(),
            txs: VecDeque::new(),
            reorgs: VecDeque::new(),
            actions: VecDeque::new(),
            last_event_ms: None,
            limits,
        }
    }

    /// The bounds in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Parse a text frame and apply it; unreadable frames are counted, not fatal.
    pub fn apply_text(&mut self, text: &str) {
        match serde_json::from_str::<FeedMessage>(text) {
            Ok(m) => self.apply(m),
            Err(e) => {
                self.parse_errors += 1;
                self.last_parse_error = Some(e.to_string());
            }
        }
    }

    /// Apply one feed message.
    pub fn apply(&mut self, msg: FeedMessage) {
        if let FeedMessage::Hello {
            schema_version,
            feed_version,
        } = msg
        {
            self.versions = Some((schema_version, feed_version));
            self.incompatible = (schema_version != SCHEMA_VERSION || feed_version != FEED_VERSION)
                .then(|| {
                    format!(
                        "the feed speaks schema {schema_version} / feed {feed_version}; this \
                         dashboard understands schema {SCHEMA_VERSION} / feed {FEED_VERSION} \
                         — rebuild the dashboard"
                    )
                });
            return;
        }
        if self.incompatible.is_some() {
            return;
        }
        match msg {
            FeedMessage::Hello { .. } => {}
            FeedMessage::Snapshot {
                nodes,
                recent,
                actions,
                resync,
            } => self.replace(nodes, recent, actions, resync),
            FeedMessage::Events { events } => {
                for e in events {
                    self.event(e);
                }
            }
            FeedMessage::NodeStatus {
                node,
                status,
                reason,
                view,
            } => self.node_status(&node, status, reason, view.map(|v| *v)),
            FeedMessage::Action(a) => {
                if let Some(old) = self.actions.iter_mut().find(|o| o.id == a.id) {
                    *old = a;
                } else {
                    push_bounded(&mut self.actions, a, self.limits.actions);
                }
            }
        }
    }

    fn replace(
        &mut self,
        nodes: Vec<NodeView>,
        recent: Vec<FeedEvent>,
        actions: Vec<Action>,
        resync: bool,
    ) {
        let mut fresh = Model::new(self.limits);
        fresh.versions = self.versions;
        fresh.parse_errors = self.parse_errors;
        fresh.last_parse_error = self.last_parse_error.take();
        fresh.snapshots = self.snapshots + 1;
        fresh.resyncs = self.resyncs + u64::from(resync);
        fresh.nodes = nodes.into_iter().map(NodeState::new).collect();
        let committees: Vec<(String, tc_types::Committee)> = fresh
            .nodes
            .iter()
            .filter_map(|n| Some((n.view.name.clone(), n.view.committee.clone()?)))
            .collect();
        for (name, c) in committees {
            fresh.committee(&name, c.epoch, c.start_height, c.members, c.seed);
        }
        for a in actions {
            push_bounded(&mut fresh.actions, a, fresh.limits.actions);
        }
        *self = fresh;
        for e in recent {
            self.event(e);
        }
    }

    fn node_status(
        &mut self,
        name: &str,
        status: NodeStatus,
        reason: Option<String>,
        view: Option<NodeView>,
    ) {
        if self.node(name).is_none() {
            // A node the launcher added after our snapshot: it arrives with its view.
            match &view {
                Some(v) if v.name == name => self.nodes.push(NodeState::new(v.clone())),
                _ => return,
            }
        }
        let Some(n) = self.node_mut(name) else {
            return;
        };
        if let Some(v) = view {
            n.view = v;
            n.resynced = true;
        }
        n.view.status = status;
        n.view.reason = reason;
        if let Some(c) = n.view.committee.clone() {
            self.committee(name, c.epoch, c.start_height, c.members, c.seed);
        }
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeState> {
        self.nodes.iter().find(|n| n.view.name == name)
    }

    fn node_mut(&mut self, name: &str) -> Option<&mut NodeState> {
        self.nodes.iter_mut().find(|n| n.view.name == name)
    }

    /// The node holding this key, when the feed told us the keys.
    pub fn node_of_key(&self, key: &PubKey) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| n.view.key.as_ref() == Some(key))
            .map(|n| n.view.name.as_str())
    }

    fn committee(
        &mut self,
        node: &str,
        epoch: u64,
        start_height: u64,
        members: Vec<Member>,
        seed: B256,
    ) {
        match self.committees.get_mut(&epoch) {
            Some(row) => {
                if (row.start_height, &row.members, row.seed) != (start_height, &members, seed) {
                    row.conflict = true;
                }
                add_name(&mut row.reported_by, node);
            }
            None => {
                self.committees.insert(
                    epoch,
                    CommitteeRow {
                        epoch,
                        start_height,
                        members,
                        seed,
                        reported_by: vec![node.to_owned()],
                        conflict: false,
                    },
                );
            }
        }
        while self.committees.len() > self.limits.epochs {
            self.committees.pop_first();
        }
    }

    fn event(&mut self, fe: FeedEvent) {
        let FeedEvent {
            node,
            time_ms,
            event,
            ..
        } = fe;
        self.last_event_ms = Some(self.last_event_ms.map_or(time_ms, |t| t.max(time_ms)));
        let limits = self.limits;
        let Some(n) = self.node_mut(&node) else {
            // Not in the snapshot: the feed never does this; ignore rather than invent a node.
            return;
        };
        n.last_event_ms = Some(time_ms);
        match event {
            NodeEvent::NodeStarted {
                chain_id,
                fast_head,
                snail_head,
                ..
            } => {
                n.view.chain_id = Some(chain_id);
                n.view.fast_head = fast_head;
                n.view.snail_head = snail_head;
            }
            NodeEvent::FastBlockCommitted {
                number,
                hash,
                epoch,
                view,
                proposer,
                tx_count,
                gas_used,
                timestamp_ms,
                signers,
            } => {
                if number >= n.view.fast_head {
                    n.view.fast_head = number;
                    n.view.fast_head_hash = hash;
                }
                n.epoch = n.epoch.max(epoch);
                if epoch == n.epoch {
                    n.pbft_view = n.pbft_view.max(view);
                }
                n.blocks_seen += 1;
                n.tx_included += u64::from(tx_count);
                self.fast_block(
                    &node,
                    FastBlockRow {
                        number,
                        hash,
                        epoch,
                        view,
                        proposer,
                        tx_count,
                        gas_used,
                        timestamp_ms,
                        signers,
                        seen_by: vec![node.clone()],
                        conflict: false,
                    },
                );
            }
            NodeEvent::TxAdmitted {
                hash,
                sender,
                nonce,
            } => {
                n.tx_admitted += 1;
                push_bounded(
                    &mut self.txs,
                    TxRow {
                        node,
                        hash: Some(hash),
                        sender: Some(sender),
                        nonce: Some(nonce),
                        rejected: None,
                        time_ms,
                    },
                    limits.txs,
                );
            }
            NodeEvent::TxRejected { hash, reason } => {
                n.tx_rejected += 1;
                push_bounded(
                    &mut self.txs,
                    TxRow {
                        node,
                        hash,
                        sender: None,
                        nonce: None,
                        rejected: Some(reason),
                        time_ms,
                    },
                    limits.txs,
                );
            }
            NodeEvent::Pbft(p) => self.pbft(&node, time_ms, p),
            NodeEvent::SnailBlockMined {
                number,
                hash,
                difficulty,
                fruits,
            } => {
                n.snail_mined += 1;
                n.view.snail_head = number;
                n.view.snail_head_hash = hash;
                self.snail_block(&node, time_ms, number, hash, None, true, difficulty, fruits);
            }
            NodeEvent::SnailBlockImported {
                number,
                hash,
                miner,
                difficulty,
                fruits,
            } => {
                n.view.snail_head = number;
                n.view.snail_head_hash = hash;
                self.snail_block(
                    &node,
                    time_ms,
                    number,
                    hash,
                    Some(miner),
                    false,
                    difficulty,
                    fruits,
                );
            }
            NodeEvent::SnailReorg {
                old_head,
                new_head,
                depth,
            } => {
                n.view.snail_head_hash = new_head;
                push_bounded(
                    &mut self.reorgs,
                    ReorgRow {
                        node,
                        old_head,
                        new_head,
                        depth,
                        time_ms,
                    },
                    limits.reorgs,
                );
            }
            NodeEvent::FruitsIncluded {
                snail_hash, fruits, ..
            } => {
                let lo = fruits.iter().map(|f| f.number).min();
                let hi = fruits.iter().map(|f| f.number).max();
                if let (Some(row), Some(lo), Some(hi)) = (
                    self.snail_blocks.iter_mut().find(|r| r.hash == snail_hash),
                    lo,
                    hi,
                ) {
                    row.fruit_range = Some((lo, hi));
                }
            }
            NodeEvent::CommitteeElected {
                epoch,
                members,
                seed,
                start_height,
            } => {
                if n.view.committee.as_ref().is_none_or(|c| c.epoch <= epoch) {
                    n.view.committee = Some(tc_types::Committee {
                        epoch,
                        start_height,
                        members: members.clone(),
                        seed,
                    });
                }
                self.committee(&node, epoch, start_height, members, seed);
            }
            NodeEvent::RotationScheduled { epoch, at_height } => {
                self.rotation(&node, time_ms, epoch, RotationStep::Scheduled { at_height });
            }
            NodeEvent::RotationStarted {
                epoch, last_height, ..
            } => {
                self.rotation(&node, time_ms, epoch, RotationStep::Started { last_height });
            }
            NodeEvent::RotationDone {
                epoch,
                first_height,
            } => {
                n.epoch = n.epoch.max(epoch);
                self.rotation(&node, time_ms, epoch, RotationStep::Done { first_height });
            }
            NodeEvent::PeerConnected { peer } => {
                if n.peers.len() < limits.peers || n.peers.contains_key(&peer) {
                    n.peers.entry(peer).or_insert(None);
                }
            }
            NodeEvent::PeerDisconnected { peer } => {
                n.peers.remove(&peer);
            }
            NodeEvent::PeerRtt { peer, rtt_us } => {
                if n.peers.len() < limits.peers || n.peers.contains_key(&peer) {
                    n.peers.insert(peer, Some(rtt_us));
                }
            }
            NodeEvent::PeerPenalized { .. } => n.penalties += 1,
            NodeEvent::StorageStats { tables } => n.storage = Some((time_ms, tables)),
        }
    }

    fn fast_block(&mut self, node: &str, row: FastBlockRow) {
        let pos = self
            .fast_blocks
            .binary_search_by_key(&row.number, |r| r.number);
        match pos {
            Ok(i) => {
                if let Some(r) = self.fast_blocks.get_mut(i) {
                    if r.hash != row.hash {
                        r.conflict = true;
                    }
                    add_name(&mut r.seen_by, node);
                }
            }
            Err(i) => {
                let full = self.fast_blocks.len() >= self.limits.fast_blocks;
                if full && i == 0 {
                    return; // older than everything kept
                }
                self.fast_blocks.insert(i, row);
                while self.fast_blocks.len() > self.limits.fast_blocks {
                    self.fast_blocks.pop_front();
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn snail_block(
        &mut self,
        node: &str,
        time_ms: u64,
        number: u64,
        hash: B256,
        miner_key: Option<PubKey>,
        mined_here: bool,
        difficulty: u64,
        fruits: u32,
    ) {
        if let Some(r) = self.snail_blocks.iter_mut().find(|r| r.hash == hash) {
            add_name(&mut r.seen_by, node);
            if mined_here {
                r.mined_by = Some(node.to_owned());
            }
            if r.miner_key.is_none() {
                r.miner_key = miner_key;
            }
            return;
        }
        let row = SnailBlockRow {
            number,
            hash,
            miner_key,
            mined_by: mined_here.then(|| node.to_owned()),
            difficulty,
            fruits,
            fruit_range: None,
            time_ms,
            seen_by: vec![node.to_owned()],
        };
        // Keep ascending by height; competing blocks of one height sit side by side.
        let i = self.snail_blocks.partition_point(|r| r.number <= number);
        let full = self.snail_blocks.len() >= self.limits.snail_blocks;
        if full && i == 0 {
            return;
        }
        self.snail_blocks.insert(i, row);
        while self.snail_blocks.len() > self.limits.snail_blocks {
            self.snail_blocks.pop_front();
        }
    }

    fn rotation(&mut self, node: &str, time_ms: u64, epoch: u64, step: RotationStep) {
        if let Some(r) = self
            .rotations
            .iter_mut()
            .find(|r| r.epoch == epoch && r.step == step)
        {
            add_name(&mut r.seen_by, node);
            return;
        }
        push_bounded(
            &mut self.rotations,
            RotationRow {
                epoch,
                step,
                time_ms,
                seen_by: vec![node.to_owned()],
            },
            self.limits.rotations,
        );
    }

    fn instance(&mut self, epoch: u64, seq: u64, time_ms: u64) -> Option<&mut Instance> {
        let key = (epoch, seq);
        if !self.instances.contains_key(&key) {
            let oldest = self.instances.keys().next().copied();
            if self.instances.len() >= self.limits.instances && oldest.is_some_and(|o| key < o) {
                return None; // older than everything kept
            }
            self.instances.insert(
                key,
                Instance {
                    epoch,
                    seq,
                    first_ms: time_ms,
                    ..Instance::default()
                },
            );
            while self.instances.len() > self.limits.instances {
                self.instances.pop_first();
            }
        }
        self.instances.get_mut(&key)
    }

    fn pbft(&mut self, node: &str, time_ms: u64, e: PbftEvent) {
        match e {
            PbftEvent::PhaseEntered {
                epoch,
                view,
                seq,
                phase,
                digest,
            } => {
                if let Some(n) = self.node_mut(node) {
                    n.epoch = n.epoch.max(epoch);
                    if epoch == n.epoch {
                        n.pbft_view = n.pbft_view.max(view);
                    }
                }
                if let Some(i) = self.instance(epoch, seq, time_ms) {
                    i.view = i.view.max(view);
                    i.digest = Some(digest);
                    i.first_ms = i.first_ms.min(time_ms);
                    i.phases
                        .entry(node.to_owned())
                        .or_default()
                        .push((phase, view, time_ms));
                    if phase == PbftPhase::Decided {
                        i.decided_ms = Some(i.decided_ms.map_or(time_ms, |t| t.min(time_ms)));
                    }
                }
            }
            PbftEvent::QuorumReached {
                epoch,
                view,
                seq,
                phase,
                votes,
            } => {
                if let Some(i) = self.instance(epoch, seq, time_ms) {
                    i.view = i.view.max(view);
                    i.quorums
                        .entry(node.to_owned())
                        .or_default()
                        .push((phase, votes, time_ms));
                }
            }
            PbftEvent::ViewChangeStarted {
                epoch,
                from_view,
                to_view,
                reason,
            } => push_bounded(
                &mut self.view_changes,
                ViewChangeRow {
                    node: node.to_owned(),
                    epoch,
                    from_view,
                    to_view,
                    reason,
                    time_ms,
                    completed: None,
                },
                self.limits.view_changes,
            ),
            PbftEvent::ViewChangeCompleted {
                epoch,
                view,
                primary,
            } => {
                if let Some(n) = self.node_mut(node) {
                    n.epoch = n.epoch.max(epoch);
                    if epoch == n.epoch {
                        n.pbft_view = n.pbft_view.max(view);
                    }
                }
                let open = self.view_changes.iter_mut().rev().find(|r| {
                    r.node == node && r.epoch == epoch && r.to_view == view && r.completed.is_none()
                });
                match open {
                    Some(r) => r.completed = Some((primary, time_ms)),
                    None => push_bounded(
                        &mut self.view_changes,
                        ViewChangeRow {
                            node: node.to_owned(),
                            epoch,
                            from_view: view.saturating_sub(1),
                            to_view: view,
                            reason: "(start not seen)".into(),
                            time_ms,
                            completed: Some((primary, time_ms)),
                        },
                        self.limits.view_changes,
                    ),
                }
            }
            PbftEvent::CheckpointStable { .. } => {}
            PbftEvent::MessageDropped {
                message, reason, ..
            } => {
                if let Some(n) = self.node_mut(node) {
                    n.dropped_messages += 1;
                    n.last_drop = Some(format!("{message}: {reason}"));
                }
            }
        }
    }

    /// Current (epoch, view, seq): the newest PBFT instance, else the newest fast block.
    pub fn consensus_now(&self) -> Option<(u64, u64, u64)> {
        let from_instances = self
            .instances
            .last_key_value()
            .map(|(&(e, s), i)| (e, i.view, s));
        let from_blocks = self.fast_blocks.back().map(|b| (b.epoch, b.view, b.number));
        match (from_instances, from_blocks) {
            (Some(a), Some(b)) => Some(if (a.0, a.2) >= (b.0, b.2) { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// (number, ms since the previous block) for consecutive kept fast blocks.
    pub fn fast_intervals(&self) -> Vec<(u64, u64)> {
        self.fast_blocks
            .iter()
            .zip(self.fast_blocks.iter().skip(1))
            .filter(|(a, b)| b.number == a.number + 1)
            .map(|(a, b)| (b.number, b.timestamp_ms.saturating_sub(a.timestamp_ms)))
            .collect()
    }

    /// Highest fast head over the nodes.
    pub fn max_fast_head(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.view.fast_head)
            .max()
            .unwrap_or(0)
    }

    /// Highest snail head over the nodes.
    pub fn max_snail_head(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.view.snail_head)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
