//! [`SnailTree`]: the in-memory block tree with total difficulty and heaviest-chain fork choice.
//!
//! **Fork choice.** Every imported block's total difficulty is `TD(parent) + difficulty`. The
//! canonical head is the block with the greatest TD; among equal TD the **lower block hash**
//! wins (a global rule, so every node picks the same head from the same set of blocks,
//! whatever the arrival order). Importing a block that wins moves the head: either
//! [`ImportOutcome::NewHead`] (it extends the head) or [`ImportOutcome::Reorg`].
use std::collections::{BTreeMap, BTreeSet};

use tc_types::{Address, B256, FruitRef, PubKey, SnailBlock, SnailHeader, fruits_hash};

use super::retarget::{next_difficulty, window_offset};
use super::validate::{SnailConfig, SnailError, check_against_parent, check_standalone};
use crate::committee::fruits::{FruitContext, check_fruits, select_fruits};

/// Read access to the canonical chain, used by election and the epoch schedule.
pub trait ChainView {
    /// Number of the canonical head.
    fn head_number(&self) -> u64;
    /// Canonical header at `number`.
    fn canonical_header(&self, number: u64) -> Option<&SnailHeader>;
    /// Canonical block hash at `number`.
    fn canonical_hash(&self, number: u64) -> Option<B256>;
    /// `fast_head` of the canonical block at `number`: the highest fast-block number
    /// referenced by fruits in canonical blocks `0..=number` (0 if none).
    fn fast_head_at(&self, number: u64) -> Option<u64>;
}

/// The result of a successful import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// We had it already; nothing changed.
    AlreadyKnown {
        /// Hash.
        hash: B256,
    },
    /// It extends the canonical head and is the new head.
    NewHead {
        /// Hash.
        hash: B256,
        /// Number.
        number: u64,
    },
    /// It is the head of a heavier fork: the canonical chain switched.
    Reorg(Reorg),
    /// Stored on a lighter side chain; the head did not move.
    SideChain {
        /// Hash.
        hash: B256,
        /// Number.
        number: u64,
    },
}

/// A canonical-chain switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reorg {
    /// Head before.
    pub old_head: B256,
    /// Head after.
    pub new_head: B256,
    /// Last block common to both chains.
    pub common_ancestor: B256,
    /// Blocks rolled back (`retracted.len()`).
    pub depth: u64,
    /// Blocks that left the canonical chain, ascending by number.
    pub retracted: Vec<B256>,
    /// Blocks that joined the canonical chain, ascending by number (ends with `new_head`).
    pub enacted: Vec<B256>,
}

#[derive(Clone, Debug)]
struct Entry {
    block: SnailBlock,
    total_difficulty: u128,
    fast_head: u64,
}

/// Block tree + canonical chain. Pure: no clock (`now_ms` is an argument), no I/O.
#[derive(Clone, Debug)]
pub struct SnailTree {
    cfg: SnailConfig,
    entries: BTreeMap<B256, Entry>,
    /// Canonical hashes by number; `canonical[0]` is genesis, the last is the head.
    canonical: Vec<B256>,
}

impl SnailTree {
    /// A tree holding only `genesis` (trusted: not validated, TD = its difficulty).
    pub fn new(cfg: SnailConfig, genesis: SnailBlock) -> Self {
        let hash = genesis.header.hash();
        let fast_head = genesis.fruits.iter().map(|f| f.number).max().unwrap_or(0);
        let entry = Entry {
            total_difficulty: u128::from(genesis.header.difficulty),
            block: genesis,
            fast_head,
        };
        Self {
            cfg,
            entries: BTreeMap::from([(hash, entry)]),
            canonical: vec![hash],
        }
    }

    /// The rules in force.
    pub fn config(&self) -> &SnailConfig {
        &self.cfg
    }

    /// Canonical head hash.
    pub fn head(&self) -> B256 {
        self.canonical.last().copied().unwrap_or_default()
    }

    /// Canonical head block.
    pub fn head_block(&self) -> Option<&SnailBlock> {
        self.block(&self.head())
    }

    /// Genesis hash.
    pub fn genesis(&self) -> B256 {
        self.canonical.first().copied().unwrap_or_default()
    }

    /// Any known block.
    pub fn block(&self, hash: &B256) -> Option<&SnailBlock> {
        self.entries.get(hash).map(|e| &e.block)
    }

    /// Is this block known?
    pub fn contains(&self, hash: &B256) -> bool {
        self.entries.contains_key(hash)
    }

    /// Total difficulty of a known block.
    pub fn total_difficulty(&self, hash: &B256) -> Option<u128> {
        self.entries.get(hash).map(|e| e.total_difficulty)
    }

    /// `fast_head` of a known block (see [`ChainView::fast_head_at`]).
    pub fn fast_head(&self, hash: &B256) -> Option<u64> {
        self.entries.get(hash).map(|e| e.fast_head)
    }

    /// Is this block on the canonical chain?
    pub fn is_canonical(&self, hash: &B256) -> bool {
        self.entries
            .get(hash)
            .and_then(|e| usize::try_from(e.block.header.number).ok())
            .and_then(|n| self.canonical.get(n))
            == Some(hash)
    }

    /// Number of stored blocks (all forks).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false (genesis is always there).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ancestor of `hash` (inclusive) at `number`.
    pub fn ancestor(&self, hash: &B256, number: u64) -> Option<B256> {
        if self.entries.get(hash)?.block.header.number < number {
            return None;
        }
        if self.is_canonical(hash) {
            return self.canonical_hash(number);
        }
        let mut cur = *hash;
        loop {
            let e = self.entries.get(&cur)?;
            let n = e.block.header.number;
            if n == number {
                return Some(cur);
            }
            if n < number {
                return None;
            }
            if self.is_canonical(&cur) {
                return self.canonical_hash(number);
            }
            cur = e.block.header.parent_hash;
        }
    }

    /// The difficulty a child of `parent` must carry.
    pub fn expected_difficulty(&self, parent: &B256) -> Option<u64> {
        let p = &self.entries.get(parent)?.block.header;
        Some(next_difficulty(
            &self.cfg.retarget,
            p,
            self.window_start(parent, p.number).as_ref(),
        ))
    }

    fn window_start(&self, parent: &B256, parent_number: u64) -> Option<SnailHeader> {
        let k = window_offset(&self.cfg.retarget, parent_number);
        if k == 0 {
            return None;
        }
        let h = self.ancestor(parent, parent_number - k)?;
        self.block(&h).map(|b| b.header.clone())
    }

    /// Fruit context (floor and recent fruits) for a child of `parent`.
    pub fn fruit_context(&self, parent: &B256) -> Option<FruitContext> {
        let pe = self.entries.get(parent)?;
        let s = pe.block.header.number.saturating_add(1);
        let f = self.cfg.fruits.freshness;
        let floor = match s.checked_sub(f) {
            Some(n) if f > 0 => self.ancestor(parent, n).and_then(|h| self.fast_head(&h))?,
            Some(_) => pe.fast_head,
            None => 0,
        };
        let mut recent = BTreeSet::new();
        let mut cur = *parent;
        let lowest = s.saturating_sub(f).saturating_add(1);
        while let Some(e) = self.entries.get(&cur) {
            if e.block.header.number < lowest || f == 0 {
                break;
            }
            recent.extend(
                e.block
                    .fruits
                    .iter()
                    .map(|fr| fr.number)
                    .filter(|n| *n > floor),
            );
            if e.block.header.number == 0 {
                break;
            }
            cur = e.block.header.parent_hash;
        }
        Some(FruitContext {
            number: s,
            floor,
            recent,
        })
    }

    /// Fruits a miner should put in a child of the head (see [`select_fruits`]).
    pub fn select_fruits(
        &self,
        fast_head: u64,
        fast_hash: impl Fn(u64) -> Option<B256>,
    ) -> Vec<FruitRef> {
        self.fruit_context(&self.head())
            .map(|ctx| select_fruits(&ctx, &self.cfg.fruits, fast_head, fast_hash))
            .unwrap_or_default()
    }

    /// An unsealed block (nonce 0) on top of `parent`: number, parent hash, expected
    /// difficulty, `max(timestamp_ms, parent + 1)`, fruits and their hash. Mine it with
    /// [`super::pow::Miner`].
    pub fn template(
        &self,
        parent: &B256,
        miner: PubKey,
        coinbase: Address,
        timestamp_ms: u64,
        fruits: Vec<FruitRef>,
    ) -> Option<SnailBlock> {
        let p = &self.entries.get(parent)?.block.header;
        let header = SnailHeader {
            number: p.number.saturating_add(1),
            parent_hash: *parent,
            difficulty: self.expected_difficulty(parent)?,
            nonce: 0,
            miner,
            coinbase,
            timestamp_ms: timestamp_ms.max(p.timestamp_ms.saturating_add(1)),
            fruits_hash: fruits_hash(&fruits),
        };
        Some(SnailBlock { header, fruits })
    }

    /// Validate (see [`super::validate`]) and import a block, then apply fork choice.
    pub fn import(&mut self, block: SnailBlock, now_ms: u64) -> Result<ImportOutcome, SnailError> {
        let hash = block.header.hash();
        if self.entries.contains_key(&hash) {
            return Ok(ImportOutcome::AlreadyKnown { hash });
        }
        if block.header.number == 0 {
            return Err(SnailError::ForeignGenesis { hash });
        }
        check_standalone(&block)?;
        let parent_hash = block.header.parent_hash;
        let Some(parent) = self.entries.get(&parent_hash) else {
            return Err(SnailError::UnknownParent {
                hash,
                number: block.header.number,
                parent: parent_hash,
            });
        };
        let window_start = self.window_start(&parent_hash, parent.block.header.number);
        check_against_parent(
            &self.cfg,
            &block.header,
            &parent.block.header,
            window_start.as_ref(),
            now_ms,
        )?;
        let ctx = self
            .fruit_context(&parent_hash)
            .ok_or(SnailError::UnknownParent {
                hash,
                number: block.header.number,
                parent: parent_hash,
            })?;
        check_fruits(&block.fruits, &ctx, &self.cfg.fruits)
            .map_err(|source| SnailError::Fruits { hash, source })?;
        let total_difficulty = parent
            .total_difficulty
            .saturating_add(u128::from(block.header.difficulty));
        let fast_head = block
            .fruits
            .iter()
            .map(|f| f.number)
            .max()
            .unwrap_or(0)
            .max(parent.fast_head);
        let number = block.header.number;
        self.entries.insert(
            hash,
            Entry {
                block,
                total_difficulty,
                fast_head,
            },
        );
        Ok(self.fork_choice(hash, number, parent_hash, total_difficulty))
    }

    fn fork_choice(&mut self, hash: B256, number: u64, parent: B256, td: u128) -> ImportOutcome {
        let old_head = self.head();
        let old_td = self.total_difficulty(&old_head).unwrap_or(0);
        let wins = td > old_td || (td == old_td && hash < old_head);
        if !wins {
            return ImportOutcome::SideChain { hash, number };
        }
        if parent == old_head {
            self.canonical.push(hash);
            return ImportOutcome::NewHead { hash, number };
        }
        // Walk the new branch back to the canonical chain.
        let mut enacted = vec![hash];
        let mut cur = parent;
        while !self.is_canonical(&cur) {
            enacted.push(cur);
            match self.entries.get(&cur) {
                Some(e) => cur = e.block.header.parent_hash,
                None => break, // unreachable: every stored block's parent is stored
            }
        }
        enacted.reverse();
        let ancestor_number = self
            .entries
            .get(&cur)
            .map(|e| e.block.header.number)
            .unwrap_or(0);
        let keep = usize::try_from(ancestor_number)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let retracted = self.canonical.split_off(keep.min(self.canonical.len()));
        self.canonical.extend_from_slice(&enacted);
        ImportOutcome::Reorg(Reorg {
            old_head,
            new_head: hash,
            common_ancestor: cur,
            depth: retracted.len() as u64,
            retracted,
            enacted,
        })
    }

    /// Canonical hashes `from..=to` (clamped to the chain).
    pub fn canonical_range(&self, from: u64, to: u64) -> Vec<B256> {
        let hi = usize::try_from(to)
            .unwrap_or(usize::MAX)
            .min(self.canonical.len().saturating_sub(1));
        let lo = usize::try_from(from).unwrap_or(usize::MAX);
        if lo > hi {
            return Vec::new();
        }
        self.canonical[lo..=hi].to_vec()
    }
}

impl ChainView for SnailTree {
    fn head_number(&self) -> u64 {
        self.canonical.len().saturating_sub(1) as u64
    }

    fn canonical_header(&self, number: u64) -> Option<&SnailHeader> {
        let h = self.canonical_hash(number)?;
        self.block(&h).map(|b| &b.header)
    }

    fn canonical_hash(&self, number: u64) -> Option<B256> {
        self.canonical.get(usize::try_from(number).ok()?).copied()
    }

    fn fast_head_at(&self, number: u64) -> Option<u64> {
        let h = self.canonical_hash(number)?;
        self.fast_head(&h)
    }
}
