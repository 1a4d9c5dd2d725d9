//! The node's event loop (solo mode). One task owns the mempool and all chain writes;
//! the API talks to it through a bounded command channel and reads the chain directly.
//!
//! Loop steps:
//! 1. a command from the API (submit a transaction, ask a pending nonce) → mempool;
//! 2. the block timer → produce, persist, then publish `FastBlockCommitted`;
//! 3. the mining timer → one capped slice of PoW; a found snail block is persisted, then published;
//! 4. the storage-stats timer → publish `StorageStats`;
//! 5. shutdown signal → flush and return.
use std::time::Duration;

use alloy_primitives::{Address, B256, Bytes};
use tc_storage::ChainStore;
use tc_types::{NodeEvent, RecoveredTx, TxError};
use tokio::sync::{mpsc, oneshot};

use crate::config::NodeConfig;
use crate::events::{EventBus, now_ms};
use crate::genesis::Genesis;
use crate::keys::ConsensusKey;
use crate::mempool::{Admitted, ChainRules, Mempool};
use crate::producer::{Produced, Round, produce};

/// Capacity of the API → loop command channel.
pub const COMMAND_BUFFER: usize = 8_192;

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
    /// Next nonce counting pooled transactions (`eth_getTransactionCount(…, "pending")`).
    PendingNonce {
        /// Account.
        address: Address,
        /// Reply: the pool's next nonce, if it holds transactions of this sender.
        reply: oneshot::Sender<Option<u64>>,
    },
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
#[derive(Debug)]
pub struct Node {
    cfg: NodeConfig,
    chain: ChainStore,
    key: ConsensusKey,
    mempool: Mempool,
    events: EventBus,
    chain_id: u64,
    snail: crate::snail::SnailChain,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Node {
    /// Load genesis and key, open (or initialise) the database, check solo mode applies.
    pub fn open(cfg: NodeConfig) -> anyhow::Result<Self> {
        let genesis = Genesis::load(&cfg.node.genesis)?;
        let key = ConsensusKey::load(&cfg.node.key_file)?;
        let chain = crate::chain::open(&cfg.storage, &genesis)?;
        let committee = crate::chain::current_committee(&chain)?;
        if committee.size() != 1 || committee.index_of(&key.public()).is_none() {
            anyhow::bail!(
                "solo mode needs a one-member committee made of this node's key {} (the genesis committee has {} member(s)); \
                 multi-member committees run PBFT over the network, which this build does not have yet",
                key.public(),
                committee.size()
            );
        }
        let rules = ChainRules {
            chain_id: genesis.chain_id,
            block_gas_limit: genesis.gas_limit,
            base_fee: genesis.base_fee,
        };
        let mempool = Mempool::new(cfg.mempool.clone(), rules);
        let coinbase = committee
            .members
            .first()
            .map(|m| m.coinbase)
            .unwrap_or_default();
        let snail =
            crate::snail::SnailChain::load(&chain, &cfg.snail, key.public(), coinbase, now_ms())?;
        Ok(Self {
            cfg,
            chain,
            key,
            mempool,
            events: EventBus::new(),
            chain_id: genesis.chain_id,
            snail,
            metrics: crate::metrics::Metrics::new(),
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
        tracing::info!(node = %self.cfg.node.name, head, %head_hash, key = %self.key.public(), "node started (solo mode)");
        self.events.emit(NodeEvent::NodeStarted {
            node: self.cfg.node.name.clone(),
            chain_id: self.chain_id,
            fast_head: head,
            snail_head: snail,
        });
        let interval = Duration::from_millis(self.cfg.consensus.block_interval_ms);
        let mut block_timer = tokio::time::interval(interval);
        block_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stats_timer = tokio::time::interval(Duration::from_secs(5));
        // Mining runs in slices on this loop: MINE_SLICE_MS of wall time per tick, at most
        // hashrate_cap × slice hashes (≈ a millisecond of keccak), so commands and blocks are
        // never starved.
        const MINE_SLICE_MS: u64 = 50;
        let mut mine_timer = tokio::time::interval(Duration::from_millis(MINE_SLICE_MS));
        mine_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let budget = (self.cfg.snail.hashrate_cap * MINE_SLICE_MS / 1000).max(1);
        let mut last_block_ms = now_ms();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                // 1. API commands.
                Some(cmd) = commands.recv() => self.on_command(cmd),
                // 2. Block production.
                _ = block_timer.tick() => {
                    let empty_due = self.cfg.consensus.empty_block_interval_ms != 0
                        && now_ms().saturating_sub(last_block_ms) >= self.cfg.consensus.empty_block_interval_ms;
                    match self.produce(empty_due) {
                        Ok(true) => last_block_ms = now_ms(),
                        Ok(false) => {}
                        Err(e) => tracing::error!(error = %e, "block production failed; retrying next interval"),
                    }
                }
                // 3. Snail mining slice.
                _ = mine_timer.tick(), if self.cfg.snail.mine => match self.snail.mine(&self.chain, budget, now_ms()) {
                    Ok(events) => {
                        for e in events {
                            if let NodeEvent::SnailBlockMined { number, hash, difficulty, fruits } = &e {
                                tracing::info!(number, %hash, difficulty, fruits, "snail block mined");
                                self.metrics.snail_mined.inc();
                                self.metrics.snail_head.set(i64::try_from(*number).unwrap_or(i64::MAX));
                                self.metrics.snail_difficulty.set(i64::try_from(*difficulty).unwrap_or(i64::MAX));
                            }
                            self.events.emit(e);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "snail mining failed"),
                },
                // 4. Storage statistics.
                _ = stats_timer.tick() => match self.chain.stats() {
                    Ok(tables) => {
                        self.metrics.set_storage(&tables);
                        self.events.emit(NodeEvent::StorageStats { tables });
                    }
                    Err(e) => tracing::warn!(error = %e, "storage stats unavailable"),
                },
                // 5. Shutdown.
                () = &mut shutdown => break,
            }
        }
        self.chain.flush()?;
        tracing::info!("node stopped");
        Ok(())
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
        }
    }

    /// Admit a raw transaction into the pool.
    pub fn submit(&mut self, raw: &[u8]) -> Result<B256, TxError> {
        let tx = match RecoveredTx::decode(raw) {
            Ok(tx) => tx,
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
        if matches!(self.chain.tx_location(&hash), Ok(Some(_))) {
            return Err(TxError::AlreadyKnown);
        }
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

    /// Produce one block if there is something to include (or `allow_empty`). True if committed.
    pub fn produce(&mut self, allow_empty: bool) -> anyhow::Result<bool> {
        let committee = crate::chain::current_committee(&self.chain)?;
        let round = Round {
            chain_id: self.chain_id,
            max_txs: self.cfg.consensus.max_block_txs,
            now_ms: now_ms(),
            allow_empty,
        };
        let produced = produce(&self.chain, &mut self.mempool, &committee, &self.key, round)?;
        let Some(Produced {
            block,
            receipts,
            certificate,
            rejected,
        }) = produced
        else {
            return Ok(false);
        };
        for (hash, why) in rejected {
            self.metrics.txs_rejected.inc();
            self.events.emit(NodeEvent::TxRejected {
                hash: Some(hash),
                reason: why.to_string(),
            });
        }
        let h = &block.header;
        tracing::info!(number = h.number, hash = %block.hash(), txs = block.transactions.len(), gas = h.gas_used, "fast block committed");
        self.metrics.blocks_committed.inc();
        self.metrics.txs_committed.inc_by(receipts.len() as u64);
        self.metrics
            .fast_head
            .set(i64::try_from(h.number).unwrap_or(i64::MAX));
        self.events.emit(NodeEvent::FastBlockCommitted {
            number: h.number,
            hash: block.hash(),
            epoch: h.epoch,
            view: h.view,
            proposer: h.proposer,
            tx_count: u32::try_from(receipts.len()).unwrap_or(u32::MAX),
            gas_used: h.gas_used,
            timestamp_ms: h.timestamp_ms,
            signers: certificate.signers(),
        });
        Ok(true)
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
