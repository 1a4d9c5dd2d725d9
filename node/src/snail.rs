//! The node's snail chain: the proof-of-work chain that checkpoints the fast chain with fruits
//! and (with the election rules in `tc-consensus`) decides future committees.
//!
//! The pure rules live in `tc_consensus::snail` (PoW, retargeting, validation, fork choice).
//! This module is the effectful part: it rebuilds the [`SnailTree`] from RocksDB at start,
//! mines on the event loop in small slices (`hashrate_cap × slice / 1000` hashes per slice,
//! so a devnet of many nodes on few cores stays responsive), and persists every mined block
//! and head change atomically before the loop publishes its events.
use alloy_primitives::{Address, B256};
use tc_consensus::committee::FruitConfig;
use tc_consensus::snail::{ImportOutcome, MineStep, Miner, RetargetConfig, SnailConfig, SnailTree};
use tc_storage::ChainStore;
use tc_types::{NodeEvent, PubKey, SnailBlock};

use crate::config::SnailSection;

/// Why the snail chain could not be loaded or extended.
#[derive(Debug, thiserror::Error)]
pub enum SnailChainError {
    /// Storage failure.
    #[error(transparent)]
    Storage(#[from] tc_storage::StorageError),
    /// A stored block does not validate against its parent (corrupt or foreign database).
    #[error("stored snail block #{number} is invalid: {reason}")]
    Invalid {
        /// Height.
        number: u64,
        /// Why.
        reason: String,
    },
    /// A received block whose parent we do not have (fetch it, then retry).
    #[error("snail block #{number} has an unknown parent {parent}")]
    UnknownParent {
        /// Height.
        number: u64,
        /// Missing parent.
        parent: B256,
    },
    /// Nothing stored at a canonical height below the head.
    #[error("snail block #{0} missing from the database")]
    Missing(u64),
}

/// Rules derived from `[snail]`.
pub fn rules(cfg: &SnailSection) -> SnailConfig {
    SnailConfig {
        retarget: RetargetConfig {
            target_interval_ms: cfg.target_interval_ms,
            ..RetargetConfig::default()
        },
        max_future_drift_ms: cfg.max_future_drift_ms,
        fruits: FruitConfig {
            freshness: cfg.fruit_freshness,
            ..FruitConfig::default()
        },
    }
}

/// Snail tree + the miner working on the next block.
#[derive(Debug)]
pub struct SnailChain {
    tree: SnailTree,
    /// The miner and the fruits its template committed to.
    miner: Option<(Miner, Vec<tc_types::FruitRef>)>,
    key: PubKey,
    coinbase: Address,
    nonce_base: u64,
}

impl SnailChain {
    /// Rebuild the tree from the stored canonical chain.
    pub fn load(
        chain: &ChainStore,
        cfg: &SnailSection,
        key: PubKey,
        coinbase: Address,
        now_ms: u64,
    ) -> Result<Self, SnailChainError> {
        let get = |n: u64| -> Result<SnailBlock, SnailChainError> {
            let hash = chain
                .snail_canonical(n)?
                .ok_or(SnailChainError::Missing(n))?;
            chain.snail_block(&hash)?.ok_or(SnailChainError::Missing(n))
        };
        let (head, _) = chain.snail_head()?.ok_or(SnailChainError::Missing(0))?;
        let mut tree = SnailTree::new(rules(cfg), get(0)?);
        for n in 1..=head {
            tree.import(get(n)?, now_ms)
                .map_err(|e| SnailChainError::Invalid {
                    number: n,
                    reason: e.to_string(),
                })?;
        }
        let nonce_base = u64::from_be_bytes(key.0[..8].try_into().unwrap_or_default());
        Ok(Self {
            tree,
            miner: None,
            key,
            coinbase,
            nonce_base,
        })
    }

    /// The block tree (a `ChainView` for the election and rotation rules).
    pub fn tree(&self) -> &SnailTree {
        &self.tree
    }

    /// Height and hash of the head.
    pub fn head(&self) -> (u64, B256) {
        let h = self.tree.head();
        (self.tree.head_block().map_or(0, |b| b.header.number), h)
    }

    /// Spend up to `budget` hashes on the next block. On success the block is imported,
    /// persisted (block, canonical index and head in one write) and its events returned.
    pub fn mine(
        &mut self,
        chain: &ChainStore,
        budget: u64,
        now_ms: u64,
    ) -> Result<Vec<NodeEvent>, SnailChainError> {
        if self.miner.is_none() {
            let (fast_head, _) = chain.fast_head()?.unwrap_or_default();
            let fruits = self
                .tree
                .select_fruits(fast_head, |n| chain.block_hash(n).ok().flatten());
            let Some(template) =
                self.tree
                    .template(&self.tree.head(), self.key, self.coinbase, now_ms, fruits)
            else {
                return Ok(Vec::new());
            };
            let start = self
                .nonce_base
                .wrapping_add(template.header.number.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            self.miner = Miner::new(template.header, start)
                .ok()
                .map(|m| (m, template.fruits));
        }
        let Some((miner, _)) = self.miner.as_mut() else {
            return Ok(Vec::new());
        };
        let header = match miner.work(budget) {
            MineStep::Found(h) => h,
            MineStep::Continue { .. } => return Ok(Vec::new()),
            MineStep::Exhausted => {
                self.miner = None;
                return Ok(Vec::new());
            }
        };
        let fruits = self.miner.take().map(|(_, f)| f).unwrap_or_default();
        self.import(chain, SnailBlock { header, fruits }, now_ms, true)
    }

    /// Import a block (mined here or received), persist, and describe what changed.
    pub fn import(
        &mut self,
        chain: &ChainStore,
        block: SnailBlock,
        now_ms: u64,
        mined: bool,
    ) -> Result<Vec<NodeEvent>, SnailChainError> {
        let number = block.header.number;
        let hash = block.header.hash();
        let outcome = self
            .tree
            .import(block.clone(), now_ms)
            .map_err(|e| match e {
                tc_consensus::snail::SnailError::UnknownParent { parent, .. } => {
                    SnailChainError::UnknownParent { number, parent }
                }
                e => SnailChainError::Invalid {
                    number,
                    reason: e.to_string(),
                },
            })?;
        chain.put_snail_block(&block)?;
        let mut events = Vec::new();
        match outcome {
            ImportOutcome::NewHead { .. } => {
                chain.set_snail_head(number, hash, &[(number, hash)])?
            }
            ImportOutcome::Reorg(r) => {
                let enacted: Vec<(u64, B256)> = r
                    .enacted
                    .iter()
                    .filter_map(|h| self.tree.block(h).map(|b| (b.header.number, *h)))
                    .collect();
                chain.set_snail_head(number, hash, &enacted)?;
                events.push(NodeEvent::SnailReorg {
                    old_head: r.old_head,
                    new_head: r.new_head,
                    depth: r.depth,
                });
            }
            ImportOutcome::AlreadyKnown { .. } | ImportOutcome::SideChain { .. } => {
                return Ok(events);
            }
        }
        self.miner = None;
        let fruits = u32::try_from(block.fruits.len()).unwrap_or(u32::MAX);
        events.push(if mined {
            NodeEvent::SnailBlockMined {
                number,
                hash,
                difficulty: block.header.difficulty,
                fruits,
            }
        } else {
            NodeEvent::SnailBlockImported {
                number,
                hash,
                miner: block.header.miner,
                difficulty: block.header.difficulty,
                fruits,
            }
        });
        if !block.fruits.is_empty() {
            events.push(NodeEvent::FruitsIncluded {
                snail_number: number,
                snail_hash: hash,
                fruits: block.fruits,
            });
        }
        Ok(events)
    }
}
