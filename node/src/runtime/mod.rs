//! The node's event loop. One task owns the mempool, the PBFT engines and all chain writes; the
//! API talks to it through a bounded command channel and reads the chain directly; the network
//! task (tc-net) delivers peers' messages as events.
//!
//! Loop steps (each followed by [`Node::advance`], which commits decided blocks in order,
//! starts/stops the epoch's engine, feeds held PRE-PREPAREs and proposes when primary):
//! 1. a command from the API (submit a transaction, ask a pending nonce) → mempool (+ gossip);
//! 2. a network event → consensus message, gossip (tx, certified fast block, snail block),
//!    sync request/response, peer bookkeeping;
//! 3. the earliest PBFT timer → the engine;
//! 4. the mining timer → one capped slice of PoW; a found snail block is persisted, then
//!    published and gossiped;
//! 5. the sync timer → ask one peer for its status (then fetch what we miss);
//! 6. the storage-stats timer → publish `StorageStats`;
//! 7. shutdown signal → flush and return.
//!
//! Map: `mod.rs` (state, loop, commands), `chain.rs` (commit, propose, PRE-PREPARE admission,
//! epochs), `network.rs` (network events, gossip, sync client, outbound queue), `status.rs`
//! (PBFT phase and view changes followed from engine events, timings, `consensus`/`peers`).
mod chain;
mod network;
mod status;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes};
use tc_consensus::committee::EpochSchedule;
use tc_consensus::pbft::SignedMessage;
use tc_storage::ChainStore;
use tc_types::{CommitCertificate, FastBlock, NodeEvent, RecoveredTx, SnailBlock, TxError};
use tokio::sync::{mpsc, oneshot};

use crate::block::Executed;
use crate::config::NodeConfig;
use crate::consensus::Pbft;
use crate::events::{EventBus, now_ms};
use crate::genesis::Genesis;
use crate::keys::ConsensusKey;
use crate::mempool::{Admitted, ChainRules, Mempool};
use network::{Internal, Net, PeerState};

/// Capacity of the API → loop command channel.
pub const COMMAND_BUFFER: usize = 8_192;
/// Most transactions in one `tc/txs/2` gossip batch.
const GOSSIP_BATCH_TXS: usize = 1_024;
/// How often transactions that stay pooled are gossiped again.
const REGOSSIP_INTERVAL: Duration = Duration::from_secs(2);
/// Most transactions re-gossiped per tick.
const REGOSSIP_MAX_TXS: usize = 16_384;

/// Requests from the API to the event loop.
#[derive(Debug)]
pub enum Command {
    /// Admit a raw EIP-2718 transaction; replies with its hash or why it was refused.
    SubmitTx {
        /// Raw bytes.
        raw: Bytes,
        /// Reply.
        reply: oneshot::Sender<Result<B256, TxError>>,
    },
    /// Every pooled transaction (nonce order per sender).
    PooledTxs {
        /// Reply.
        reply: oneshot::Sender<Vec<RecoveredTx>>,
    },
    /// A pooled (not yet committed) transaction by hash.
    PooledTx {
        /// Hash.
        hash: B256,
        /// Reply.
        reply: oneshot::Sender<Option<RecoveredTx>>,
    },
    /// Inject a fault; replies with what was done or why not.
    Fault {
        /// The fault.
        fault: Fault,
        /// Reply.
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// Next nonce counting pooled transactions (`eth_getTransactionCount(…, "pending")`).
    PendingNonce {
        /// Account.
        address: Address,
        /// Reply: the pool's next nonce, if it holds transactions of this sender.
        reply: oneshot::Sender<Option<u64>>,
    },
    /// The pool's recent rejections, oldest first (GraphQL `mempool.rejections`).
    Rejections {
        /// Reply.
        reply: oneshot::Sender<Vec<crate::mempool::Rejection>>,
    },
    /// This node's consensus state (GraphQL `consensus`).
    Consensus {
        /// Reply.
        reply: oneshot::Sender<tc_graphql::node::ConsensusStatus>,
    },
    /// Connected peers (GraphQL `peers`).
    Peers {
        /// Reply.
        reply: oneshot::Sender<Vec<tc_graphql::node::Peer>>,
    },
}

/// A fault to inject (devnet fault injection through `POST /admin/fault`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "fault")]
pub enum Fault {
    /// Change this node's consensus behaviour.
    Byzantine {
        /// The behaviour.
        mode: Byzantine,
    },
    /// Refuse every connection with these peers (libp2p peer ids) until unblocked.
    Block {
        /// Peer ids.
        peers: Vec<String>,
    },
    /// Undo [`Fault::Block`].
    Unblock {
        /// Peer ids.
        peers: Vec<String>,
    },
    /// Userspace shaping of inbound traffic from these peers (not kernel netem): drop each
    /// message with probability `loss`, delay the rest by `delay_ms`. `peers: ["all"]` shapes
    /// every peer (also later ones) and replaces per-peer shapes; `loss 0, delay_ms 0` clears.
    Link {
        /// Peer ids, or `["all"]`.
        peers: Vec<String>,
        /// Drop probability, 0..=1.
        loss: f64,
        /// Added delay in milliseconds.
        delay_ms: u64,
    },
}

/// Consensus behaviours a devnet can switch a node to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Byzantine {
    /// Follow the protocol.
    #[default]
    Honest,
    /// Send no consensus message at all (a crashed member that still serves its APIs).
    Silent,
    /// As primary, never propose (the committee must change view).
    Withhold,
    /// As primary, send a different block to half of the backups.
    Equivocate,
}

/// What the API needs from a running node.
#[derive(Clone, Debug)]
pub struct NodeHandle {
    /// Commands to the loop.
    pub commands: mpsc::Sender<Command>,
    /// Read access to the chain.
    pub chain: ChainStore,
    /// Event stream.
    pub events: EventBus,
    /// Chain id.
    pub chain_id: u64,
    /// Node name.
    pub name: String,
    /// Prometheus metrics.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Accounts `eth_sendTransaction` signs for (`api.dev_accounts` of the dev mnemonic).
    pub dev_accounts: std::sync::Arc<Vec<alloy_signer_local::PrivateKeySigner>>,
}

/// Everything the loop owns.
pub struct Node {
    cfg: NodeConfig,
    chain: ChainStore,
    key: ConsensusKey,
    mempool: Mempool,
    events: EventBus,
    chain_id: u64,
    genesis_hash: B256,
    snail: crate::snail::SnailChain,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    schedule: EpochSchedule,
    pbft: Pbft,
    /// Blocks built or verified here, by hash, waiting for their decision.
    proposals: HashMap<B256, Executed>,
    /// Certified blocks from gossip or sync above our head, by number; the flag says the
    /// certificate and rotation fields were already checked (gossip validation did it).
    pool: BTreeMap<u64, (FastBlock, CommitCertificate, bool)>,
    /// Committed fast head (height, hash); only [`Node::commit`](chain) moves it.
    head: (u64, B256),
    /// PRE-PREPAREs for heights above head + 1 (or whose epoch is not determined yet).
    held: BTreeMap<u64, Vec<SignedMessage>>,
    /// Snail blocks whose parent is missing, by parent hash.
    orphans: BTreeMap<B256, Vec<SnailBlock>>,
    /// (epoch, view, seq) of our last proposal.
    last_proposal: Option<(u64, u64, u64)>,
    /// Raw transactions admitted from the API and not yet gossiped, with their total size:
    /// published as one `TxBatch` when the command queue runs dry or the batch is full.
    gossip_txs: Vec<Vec<u8>>,
    gossip_bytes: usize,
    /// Pool hashes at the last re-gossip tick (true once re-gossiped): those still pooled at
    /// the next tick are gossiped again, once (gossipsub drops messages when a peer's send
    /// queue is full).
    regossip_marks: std::collections::HashMap<B256, bool>,
    /// Wall time of the last commit (ms).
    last_commit_ms: u64,
    net: Option<Net>,
    peers: BTreeMap<tc_net::PeerId, PeerState>,
    internal: (mpsc::Sender<Internal>, mpsc::Receiver<Internal>),
    /// When the outstanding fast-block / snail-block fetch was sent.
    fetching_fast: Option<Instant>,
    fetching_snail: Option<Instant>,
    sync_cursor: usize,
    byzantine: Byzantine,
    /// PBFT phase, view changes and timings followed from engine events.
    tracker: status::Tracker,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.cfg.node.name)
            .field("pbft", &self.pbft)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Load genesis and key, open (or initialise) the database, rebuild the snail tree and the
    /// epoch schedule from it.
    pub fn open(cfg: NodeConfig) -> anyhow::Result<Self> {
        let genesis = Genesis::load(&cfg.node.genesis)?;
        let key = ConsensusKey::load(&cfg.node.key_file)?;
        let chain = crate::chain::open(&cfg.storage, &genesis)?;
        let genesis_committee = chain
            .committee(0)?
            .ok_or_else(|| anyhow::anyhow!("database has no genesis committee"))?;
        let rules = ChainRules {
            chain_id: genesis.chain_id,
            block_gas_limit: genesis.gas_limit,
            base_fee: genesis.base_fee,
        };
        let mempool = Mempool::new(cfg.mempool.clone(), rules);
        let coinbase = key.coinbase();
        let snail =
            crate::snail::SnailChain::load(&chain, &cfg.snail, key.public(), coinbase, now_ms())?;
        let mut schedule = EpochSchedule::new(genesis.hybrid.config(), genesis_committee)
            .map_err(|e| anyhow::anyhow!("genesis hybrid parameters: {e}"))?;
        let synced = schedule
            .sync(snail.tree())
            .map_err(|e| anyhow::anyhow!("epoch schedule: {e}"))?;
        for c in &synced.elected {
            chain.put_committee(c)?;
        }
        let pbft = Pbft::new(key.pbft_signer(), cfg.consensus.engine());
        let head = chain.fast_head()?.unwrap_or_default();
        let genesis_hash = chain
            .genesis_hash()?
            .ok_or_else(|| anyhow::anyhow!("database has no genesis block"))?;
        Ok(Self {
            cfg,
            chain,
            key,
            mempool,
            events: EventBus::new(),
            chain_id: genesis.chain_id,
            genesis_hash,
            snail,
            metrics: crate::metrics::Metrics::new(),
            schedule,
            pbft,
            proposals: HashMap::new(),
            pool: BTreeMap::new(),
            head,
            held: BTreeMap::new(),
            orphans: BTreeMap::new(),
            last_proposal: None,
            gossip_txs: Vec::new(),
            gossip_bytes: 0,
            regossip_marks: Default::default(),
            last_commit_ms: now_ms(),
            net: None,
            peers: BTreeMap::new(),
            internal: mpsc::channel(1_024),
            fetching_fast: None,
            fetching_snail: None,
            sync_cursor: 0,
            byzantine: Byzantine::Honest,
            tracker: status::Tracker::default(),
        })
    }

    /// A handle for the API, and the receiving end of its commands.
    pub fn handle(&self) -> anyhow::Result<(NodeHandle, mpsc::Receiver<Command>)> {
        let (tx, rx) = mpsc::channel(COMMAND_BUFFER);
        let dev_accounts =
            std::sync::Arc::new(crate::keys::dev_signers(self.cfg.api.dev_accounts)?);
        let h = NodeHandle {
            commands: tx,
            chain: self.chain.clone(),
            events: self.events.clone(),
            chain_id: self.chain_id,
            name: self.cfg.node.name.clone(),
            metrics: self.metrics.clone(),
            dev_accounts,
        };
        Ok((h, rx))
    }

    /// Run until `shutdown` resolves.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let (head, head_hash) = self.chain.fast_head()?.unwrap_or_default();
        let snail = self.chain.snail_head()?.map_or(0, |(n, _)| n);
        let mut net_rx = self.start_network()?;
        tracing::info!(node = %self.cfg.node.name, head, %head_hash, key = %self.key.public(), "node started");
        self.events.emit(NodeEvent::NodeStarted {
            node: self.cfg.node.name.clone(),
            chain_id: self.chain_id,
            fast_head: head,
            snail_head: snail,
        });
        // Housekeeping tick: proposals become due on wall time, not only on events.
        let tick_ms = (self.cfg.consensus.block_interval_ms / 4).clamp(5, 50);
        let mut tick = tokio::time::interval(Duration::from_millis(tick_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut stats_timer = tokio::time::interval(Duration::from_secs(5));
        let mut regossip_timer = tokio::time::interval(REGOSSIP_INTERVAL);
        regossip_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sync_timer =
            tokio::time::interval(Duration::from_millis(self.cfg.consensus.sync_interval_ms));
        sync_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Mining runs in slices on this loop: MINE_SLICE_MS of wall time per tick, at most
        // hashrate_cap × slice hashes (≈ a millisecond of keccak), so messages and blocks are
        // never starved.
        const MINE_SLICE_MS: u64 = 50;
        let mut mine_timer = tokio::time::interval(Duration::from_millis(MINE_SLICE_MS));
        mine_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let budget = (self.cfg.snail.hashrate_cap * MINE_SLICE_MS / 1000).max(1);
        self.advance();
        tokio::pin!(shutdown);
        loop {
            let deadline = self
                .pbft
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                // 1. API commands.
                Some(cmd) = commands.recv() => self.on_command(cmd),
                // 2. Network.
                Some(ev) = net_rx.recv() => self.on_net(ev),
                Some(msg) = self.internal.1.recv() => self.on_internal(msg),
                // 3. PBFT timers.
                () = tokio::time::sleep_until(deadline.into()) => {
                    let (head, _) = self.head();
                    let hold = self
                        .schedule
                        .next_committee_field(head + 1, self.snail.tree())
                        .is_none()
                        .then(|| Duration::from_millis(self.cfg.consensus.view_timeout_ms));
                    match self.pbft.fire_due(&self.chain, Instant::now(), hold) {
                        Ok(fx) => self.apply(fx),
                        Err(e) => tracing::error!(error = %e, "consensus timer failed"),
                    }
                }
                _ = tick.tick() => {}
                // 4. Snail mining slice.
                _ = mine_timer.tick(), if self.cfg.snail.mine => self.mine(budget),
                // 5. Sync poll and re-gossip of transactions still pooled.
                _ = sync_timer.tick() => self.sync_poll(),
                _ = regossip_timer.tick() => self.regossip(),
                // 6. Storage statistics.
                _ = stats_timer.tick() => match self.chain.stats() {
                    Ok(tables) => {
                        self.metrics.set_storage(&tables);
                        self.events.emit(NodeEvent::StorageStats { tables });
                    }
                    Err(e) => tracing::warn!(error = %e, "storage stats unavailable"),
                },
                // 7. Shutdown.
                () = &mut shutdown => break,
            }
            if commands.is_empty() {
                self.flush_tx_gossip();
            }
            self.advance();
        }
        if let Some(net) = &self.net {
            let _ = net.handle.shutdown().await;
        }
        self.chain.flush()?;
        tracing::info!("node stopped");
        Ok(())
    }

    fn mine(&mut self, budget: u64) {
        match self.snail.mine(&self.chain, budget, now_ms()) {
            Ok(events) => {
                let mut mined = None;
                for e in &events {
                    if let NodeEvent::SnailBlockMined {
                        number,
                        hash,
                        difficulty,
                        fruits,
                    } = e
                    {
                        tracing::info!(number, %hash, difficulty, fruits, "snail block mined");
                        self.metrics.snail_mined.inc();
                        self.metrics
                            .snail_head
                            .set(i64::try_from(*number).unwrap_or(i64::MAX));
                        self.metrics
                            .snail_difficulty
                            .set(i64::try_from(*difficulty).unwrap_or(i64::MAX));
                        mined = Some(*hash);
                    }
                }
                for e in events {
                    self.events.emit(e);
                }
                if let Some(hash) = mined {
                    if let Ok(Some(block)) = self.chain.snail_block(&hash) {
                        self.publish(
                            tc_net::Topic::SnailBlock,
                            tc_wire::encode_snail_block(&block),
                        );
                    }
                    self.sync_schedule();
                }
            }
            Err(e) => tracing::error!(error = %e, "snail mining failed"),
        }
    }

    fn on_command(&mut self, cmd: Command) {
        self.handle_command(cmd);
        self.metrics
            .mempool_txs
            .set(i64::try_from(self.mempool.len()).unwrap_or(i64::MAX));
        self.metrics
            .mempool_bytes
            .set(i64::try_from(self.mempool.bytes()).unwrap_or(i64::MAX));
    }

    fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::SubmitTx { raw, reply } => {
                let result = self.submit(&raw);
                if result.is_ok() {
                    self.queue_tx_gossip(&raw);
                }
                let _ = reply.send(result);
            }
            Command::PooledTxs { reply } => {
                let txs = self
                    .mempool
                    .senders()
                    .flat_map(|(_, q)| q.map(|p| p.tx.clone()))
                    .collect();
                let _ = reply.send(txs);
            }
            Command::PooledTx { hash, reply } => {
                let _ = reply.send(self.mempool.get(&hash).map(|p| p.tx.clone()));
            }
            Command::PendingNonce { address, reply } => {
                let _ = reply.send(self.mempool.next_nonce(&address));
            }
            Command::Fault { fault, reply } => {
                let _ = reply.send(self.inject(fault));
            }
            Command::Rejections { reply } => {
                let _ = reply.send(self.mempool.rejections().cloned().collect());
            }
            Command::Consensus { reply } => {
                let _ = reply.send(self.consensus_status());
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peer_list());
            }
        }
    }

    /// Add an admitted transaction to the next gossip batch; flush first if it would make the
    /// batch exceed the `tc/txs/2` size limit, and after it when the batch is full.
    fn queue_tx_gossip(&mut self, raw: &[u8]) {
        // A repeated-bytes field costs a tag and a length varint (≤ 6 bytes) per entry.
        let cost = raw.len() + 6;
        let limit = self.cfg.network.limits.tx.saturating_sub(16);
        if !self.gossip_txs.is_empty() && self.gossip_bytes + cost > limit {
            self.flush_tx_gossip();
        }
        self.gossip_bytes += cost;
        self.gossip_txs.push(raw.to_vec());
        if self.gossip_txs.len() >= GOSSIP_BATCH_TXS {
            self.flush_tx_gossip();
        }
    }

    /// Gossip again, once (in batches, nonce order, at most [`REGOSSIP_MAX_TXS`] per tick), the
    /// transactions that were already pooled at the previous tick: a batch lost to a full gossipsub send
    /// queue would otherwise strand them here until this node is the primary.
    fn regossip(&mut self) {
        let mut stale = Vec::new();
        let mut now = std::collections::HashMap::with_capacity(self.mempool.len());
        for (_, queue) in self.mempool.senders() {
            for p in queue {
                // false: seen once; true: already re-gossiped (once is enough: an identical
                // batch would be refused by gossipsub's duplicate cache anyway).
                let again = match self.regossip_marks.get(&p.tx.hash) {
                    Some(false) if stale.len() < REGOSSIP_MAX_TXS => {
                        stale.push(p.tx.raw());
                        true
                    }
                    Some(done) => *done,
                    None => false,
                };
                now.insert(p.tx.hash, again);
            }
        }
        self.regossip_marks = now;
        if stale.is_empty() {
            return;
        }
        tracing::debug!(txs = stale.len(), "re-gossiping pooled transactions");
        for raw in &stale {
            self.queue_tx_gossip(raw);
        }
        self.flush_tx_gossip();
    }

    /// Gossip the transactions admitted from the API since the last flush as one batch.
    fn flush_tx_gossip(&mut self) {
        if self.gossip_txs.is_empty() {
            return;
        }
        let batch = tc_wire::encode_tx_batch(&self.gossip_txs);
        self.gossip_txs.clear();
        self.gossip_bytes = 0;
        self.publish(tc_net::Topic::Tx, batch);
    }

    /// Admit a raw transaction into the pool.
    pub fn submit(&mut self, raw: &[u8]) -> Result<B256, TxError> {
        // Known transactions (gossip relays, re-gossip, resubmissions; pooled or already
        // committed) are refused by hash before the expensive sender recovery.
        let decoded = RecoveredTx::decode_envelope(raw).and_then(|tx| {
            let hash = tx.tx_hash();
            if self.mempool.contains(hash) || matches!(self.chain.tx_location(hash), Ok(Some(_))) {
                return Err(TxError::AlreadyKnown);
            }
            RecoveredTx::recover(tx)
        });
        let tx = match decoded {
            Ok(tx) => tx,
            Err(TxError::AlreadyKnown) => return Err(TxError::AlreadyKnown),
            Err(e) => {
                self.mempool.record_rejection(None, e.clone());
                self.metrics.txs_rejected.inc();
                self.events.emit(NodeEvent::TxRejected {
                    hash: None,
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        let (hash, sender, nonce) = (tx.hash, tx.sender, tx.nonce());
        match self.mempool.add(tx, &self.chain.latest_state()) {
            Ok(admitted) => {
                if let Admitted::Evicted(hashes) = &admitted {
                    tracing::debug!(?hashes, "evicted cheaper transactions");
                }
                self.events.emit(NodeEvent::TxAdmitted {
                    hash,
                    sender,
                    nonce,
                });
                Ok(hash)
            }
            Err(e) => {
                tracing::debug!(%hash, reason = %e, "transaction rejected");
                self.metrics.txs_rejected.inc();
                self.events.emit(NodeEvent::TxRejected {
                    hash: Some(hash),
                    reason: e.to_string(),
                });
                Err(e)
            }
        }
    }

    fn inject(&mut self, fault: Fault) -> Result<String, String> {
        match fault {
            Fault::Byzantine { mode } => {
                tracing::warn!(?mode, "consensus behaviour changed by fault injection");
                self.byzantine = mode;
                Ok(format!("byzantine mode {mode:?}"))
            }
            Fault::Block { peers } | Fault::Unblock { peers } if peers.is_empty() => {
                Err("no peers given".into())
            }
            Fault::Block { peers } => self.block_peers(&peers, true),
            Fault::Unblock { peers } => self.block_peers(&peers, false),
            Fault::Link {
                peers,
                loss,
                delay_ms,
            } => self.shape_links(&peers, tc_net::LinkShape { loss, delay_ms }),
        }
    }

    fn shape_links(
        &mut self,
        peers: &[String],
        shape: tc_net::LinkShape,
    ) -> Result<String, String> {
        let Some(net) = &self.net else {
            return Err("network not running".into());
        };
        shape.validate()?;
        let all = peers.iter().any(|p| p == "all");
        if peers.is_empty() {
            return Err("no peers given: list peer ids, or [\"all\"]".into());
        }
        if all && peers.len() > 1 {
            return Err("\"all\" cannot be combined with peer ids".into());
        }
        let ids = if all { Vec::new() } else { parse_peers(peers)? };
        let h = net.handle.clone();
        tokio::spawn(async move {
            let r = if ids.is_empty() {
                h.shape_all_links(shape).await
            } else {
                let mut r = Ok(());
                for id in ids {
                    r = r.and(h.shape_link(id, shape).await);
                }
                r
            };
            if let Err(e) = r {
                tracing::warn!(error = %e, "link shaping failed");
            }
        });
        tracing::warn!(
            ?peers,
            loss = shape.loss,
            delay_ms = shape.delay_ms,
            "inbound links shaped by fault injection"
        );
        let which = if all {
            "all peers".to_string()
        } else {
            format!("{} peer(s)", peers.len())
        };
        Ok(if shape.is_none() {
            format!("inbound links from {which} cleared")
        } else {
            format!(
                "inbound links from {which}: loss {}, delay {} ms",
                shape.loss, shape.delay_ms
            )
        })
    }

    fn block_peers(&mut self, peers: &[String], block: bool) -> Result<String, String> {
        let Some(net) = &self.net else {
            return Err("network not running".into());
        };
        let ids = parse_peers(peers)?;
        let h = net.handle.clone();
        tokio::spawn(async move {
            for id in ids {
                let r = if block {
                    h.block_peer(id).await
                } else {
                    h.unblock_peer(id).await
                };
                if let Err(e) = r {
                    tracing::warn!(%id, error = %e, "peer (un)block failed");
                }
            }
        });
        tracing::warn!(?peers, block, "peers (un)blocked by fault injection");
        Ok(format!(
            "{} {} peer(s)",
            if block { "blocked" } else { "unblocked" },
            peers.len()
        ))
    }

    /// The chain (for tests and tools).
    pub fn chain(&self) -> &ChainStore {
        &self.chain
    }

    /// The pool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }
}

/// Parse fault-API peer ids, naming the first bad one.
fn parse_peers(peers: &[String]) -> Result<Vec<tc_net::PeerId>, String> {
    peers
        .iter()
        .map(|p| {
            p.parse::<tc_net::PeerId>()
                .map_err(|e| format!("{p:?} is not a peer id: {e}"))
        })
        .collect()
}
