//! Transaction pool.
//!
//! Admission checks signature (already recovered), type, chain id, size, intrinsic gas, gas
//! limit, fee cap vs base fee, nonce window and balance; every refusal is a [`TxError`] that
//! says why. Transactions are kept per sender ordered by nonce. Block building takes, for each
//! sender, the run of consecutive nonces starting at the account's next nonce, and interleaves
//! senders by effective tip (highest first). A pooled (sender, nonce) is replaced only by a
//! transaction raising both fee fields by `price_bump_percent`. When full (count or bytes), the
//! cheapest *last* transaction of any sender is evicted (never one in the middle of a nonce
//! run) if the newcomer pays more; otherwise the newcomer is refused.
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use alloy_primitives::{Address, B256, U256};
use tc_types::{RecoveredTx, StateReader, Transaction, TxEnvelope, TxError};

use crate::config::MempoolSection;

/// How many recent rejections are remembered for observers.
pub const REJECTION_HISTORY: usize = 256;

/// A pooled transaction with its precomputed fee fields.
#[derive(Clone, Debug)]
pub struct PoolTx {
    /// The transaction.
    pub tx: RecoveredTx,
    /// Max fee per gas (gas price for legacy/2930).
    pub max_fee: u128,
    /// Max priority fee per gas (gas price for legacy/2930).
    pub tip: u128,
    /// Arrival order (tie breaker).
    pub arrival: u64,
}

impl PoolTx {
    fn effective_tip(&self, base_fee: u128) -> u128 {
        self.tip.min(self.max_fee.saturating_sub(base_fee))
    }
}

/// What happened to an admitted transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admitted {
    /// New entry.
    Added,
    /// Replaced a pooled transaction with this hash.
    Replaced(B256),
    /// Added after evicting these cheaper transactions.
    Evicted(Vec<B256>),
}

/// A recent rejection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Transaction hash when known.
    pub hash: Option<B256>,
    /// Why.
    pub error: TxError,
}

/// Chain parameters admission depends on.
#[derive(Clone, Copy, Debug)]
pub struct ChainRules {
    /// Our chain id.
    pub chain_id: u64,
    /// Block gas limit.
    pub block_gas_limit: u64,
    /// Current base fee.
    pub base_fee: u64,
}

/// The pool.
#[derive(Debug)]
pub struct Mempool {
    cfg: MempoolSection,
    rules: ChainRules,
    senders: BTreeMap<Address, BTreeMap<u64, PoolTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
    bytes: usize,
    arrivals: u64,
    rejections: VecDeque<Rejection>,
}

impl Mempool {
    /// An empty pool.
    pub fn new(cfg: MempoolSection, rules: ChainRules) -> Self {
        Self {
            cfg,
            rules,
            senders: BTreeMap::new(),
            by_hash: HashMap::new(),
            bytes: 0,
            arrivals: 0,
            rejections: VecDeque::new(),
        }
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Sum of encoded sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Is this hash pooled?
    pub fn contains(&self, hash: &B256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Per-sender queues (nonce order).
    pub fn senders(&self) -> impl Iterator<Item = (&Address, impl Iterator<Item = &PoolTx>)> {
        self.senders.iter().map(|(a, q)| (a, q.values()))
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PoolTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.get(nonce)
    }

    /// Highest pooled nonce + 1 for a sender, if it has pooled transactions.
    pub fn next_nonce(&self, sender: &Address) -> Option<u64> {
        self.senders.get(sender)?.keys().next_back().map(|n| n + 1)
    }

    /// Recent rejections, oldest first.
    pub fn rejections(&self) -> impl Iterator<Item = &Rejection> {
        self.rejections.iter()
    }

    /// Record a rejection that happened before admission (e.g. undecodable bytes).
    pub fn record_rejection(&mut self, hash: Option<B256>, error: TxError) {
        if self.rejections.len() == REJECTION_HISTORY {
            self.rejections.pop_front();
        }
        self.rejections.push_back(Rejection { hash, error });
    }

    /// Admit a transaction; on refusal the reason is also remembered in [`Self::rejections`].
    pub fn add(&mut self, tx: RecoveredTx, state: &dyn StateReader) -> Result<Admitted, TxError> {
        let hash = tx.hash;
        let out = self.try_add(tx, state);
        if let Err(e) = &out {
            self.record_rejection(Some(hash), e.clone());
        }
        out
    }

    fn try_add(&mut self, tx: RecoveredTx, state: &dyn StateReader) -> Result<Admitted, TxError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(TxError::AlreadyKnown);
        }
        let (max_fee, tip) = self.static_checks(&tx)?;
        let account = state
            .account(&tx.sender)
            .map_err(|e| TxError::Invalid(e.to_string()))?
            .unwrap_or_default();
        let nonce = tx.nonce();
        if nonce < account.nonce {
            return Err(TxError::NonceTooLow {
                expected: account.nonce,
                got: nonce,
            });
        }
        if nonce > account.nonce.saturating_add(self.cfg.max_nonce_gap) {
            return Err(TxError::NonceTooHigh {
                expected: account.nonce,
                got: nonce,
            });
        }
        let cost = U256::from(tx.tx.gas_limit()) * U256::from(max_fee) + tx.tx.value();
        if account.balance < cost {
            return Err(TxError::InsufficientFunds {
                have: account.balance,
                need: cost,
            });
        }
        let entry = PoolTx {
            tx,
            max_fee,
            tip,
            arrival: self.arrivals,
        };
        // Replacement of the same (sender, nonce).
        if let Some(old) = self
            .senders
            .get(&entry.tx.sender)
            .and_then(|q| q.get(&nonce))
        {
            let bump =
                |v: u128| v.saturating_mul(100 + u128::from(self.cfg.price_bump_percent)) / 100;
            let need_fee = bump(old.max_fee).max(old.max_fee + 1);
            let need_tip = bump(old.tip);
            if entry.max_fee < need_fee || entry.tip < need_tip {
                return Err(TxError::ReplacementUnderpriced {
                    have: entry.max_fee,
                    need: need_fee,
                });
            }
            let old_hash = old.tx.hash;
            self.remove(&old_hash);
            self.insert(entry);
            return Ok(Admitted::Replaced(old_hash));
        }
        // Make room if full.
        let mut evicted = Vec::new();
        while self.by_hash.len() + 1 > self.cfg.max_count
            || self.bytes + entry.tx.size > self.cfg.max_bytes
        {
            let Some((victim, fee)) = self.cheapest_tail(&entry.tx.sender) else {
                return Err(TxError::PoolFull {
                    fee: entry.max_fee,
                    cheapest: 0,
                });
            };
            if fee >= entry.max_fee {
                return Err(TxError::PoolFull {
                    fee: entry.max_fee,
                    cheapest: fee,
                });
            }
            self.remove(&victim);
            evicted.push(victim);
        }
        self.insert(entry);
        Ok(if evicted.is_empty() {
            Admitted::Added
        } else {
            Admitted::Evicted(evicted)
        })
    }

    /// Checks that need no state: type, chain id, size, gas, fees. Returns (max_fee, tip).
    fn static_checks(&self, tx: &RecoveredTx) -> Result<(u128, u128), TxError> {
        let t = &tx.tx;
        match t {
            TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) | TxEnvelope::Eip1559(_) => {}
            other => return Err(TxError::UnsupportedType(other.tx_type() as u8)),
        }
        if t.chain_id() != Some(self.rules.chain_id) {
            return Err(TxError::WrongChainId {
                expected: self.rules.chain_id,
                got: t.chain_id(),
            });
        }
        if tx.size > self.cfg.max_tx_bytes {
            return Err(TxError::TooLarge {
                size: tx.size,
                max: self.cfg.max_tx_bytes,
            });
        }
        let need = tc_exec::txenv::intrinsic_gas(tx);
        if t.gas_limit() < need {
            return Err(TxError::IntrinsicGasTooLow {
                have: t.gas_limit(),
                need,
            });
        }
        if t.gas_limit() > self.rules.block_gas_limit {
            return Err(TxError::GasLimitTooHigh {
                have: t.gas_limit(),
                max: self.rules.block_gas_limit,
            });
        }
        let max_fee = t.max_fee_per_gas();
        let tip = t.max_priority_fee_per_gas().unwrap_or(max_fee);
        if tip > max_fee {
            return Err(TxError::TipAboveFeeCap);
        }
        if max_fee < u128::from(self.rules.base_fee) {
            return Err(TxError::FeeCapTooLow {
                have: max_fee,
                need: u128::from(self.rules.base_fee),
            });
        }
        Ok((max_fee, tip))
    }

    fn insert(&mut self, entry: PoolTx) {
        self.arrivals += 1;
        self.bytes += entry.tx.size;
        self.by_hash
            .insert(entry.tx.hash, (entry.tx.sender, entry.tx.nonce()));
        self.senders
            .entry(entry.tx.sender)
            .or_default()
            .insert(entry.tx.nonce(), entry);
    }

    /// Remove one transaction by hash.
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let queue = self.senders.get_mut(&sender)?;
        let entry = queue.remove(&nonce)?;
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        self.bytes -= entry.tx.size;
        Some(entry)
    }

    /// The cheapest last-of-its-sender transaction, not from `except`.
    fn cheapest_tail(&self, except: &Address) -> Option<(B256, u128)> {
        self.senders
            .iter()
            .filter(|(a, _)| *a != except)
            .filter_map(|(_, q)| q.values().next_back())
            .min_by_key(|p| (p.max_fee, std::cmp::Reverse(p.arrival)))
            .map(|p| (p.tx.hash, p.max_fee))
    }

    /// Pick transactions for a block: per sender consecutive nonces from the account's next
    /// nonce, senders interleaved by effective tip (then arrival). Stops at `max_txs` or when
    /// the next transaction's gas limit would exceed `gas_limit`.
    pub fn select(
        &self,
        state: &dyn StateReader,
        max_txs: usize,
        gas_limit: u64,
    ) -> Vec<RecoveredTx> {
        let base_fee = u128::from(self.rules.base_fee);
        // Heap of (tip, earlier arrival first, sender, nonce).
        let mut heap = BinaryHeap::new();
        let mut next: HashMap<Address, u64> = HashMap::new();
        for (sender, queue) in &self.senders {
            let Ok(acct) = state.account(sender) else {
                continue;
            };
            let start = acct.map_or(0, |a| a.nonce);
            if let Some(p) = queue.get(&start) {
                heap.push((
                    p.effective_tip(base_fee),
                    std::cmp::Reverse(p.arrival),
                    *sender,
                    start,
                ));
                next.insert(*sender, start);
            }
        }
        let mut out = Vec::new();
        let mut gas = 0u64;
        while let Some((_, _, sender, nonce)) = heap.pop() {
            if out.len() >= max_txs {
                break;
            }
            let Some(p) = self.senders.get(&sender).and_then(|q| q.get(&nonce)) else {
                continue;
            };
            let g = p.tx.tx.gas_limit();
            if gas.saturating_add(g) > gas_limit {
                continue; // this sender is done for this block; others may still fit
            }
            gas += g;
            out.push(p.tx.clone());
            if let Some(n) = self.senders.get(&sender).and_then(|q| q.get(&(nonce + 1))) {
                heap.push((
                    n.effective_tip(base_fee),
                    std::cmp::Reverse(n.arrival),
                    sender,
                    nonce + 1,
                ));
            }
        }
        out
    }

    /// After a block commits: drop its transactions and everything made stale (nonce below the
    /// account's new nonce). Returns the removed hashes.
    pub fn on_block_committed(&mut self, included: &[B256], state: &dyn StateReader) -> Vec<B256> {
        let mut removed: Vec<B256> = included
            .iter()
            .filter(|h| self.remove(h).is_some())
            .copied()
            .collect();
        let senders: Vec<Address> = self.senders.keys().copied().collect();
        for sender in senders {
            let Ok(Some(acct)) = state.account(&sender) else {
                continue;
            };
            let stale: Vec<B256> = self
                .senders
                .get(&sender)
                .map(|q| q.range(..acct.nonce).map(|(_, p)| p.tx.hash).collect())
                .unwrap_or_default();
            for h in stale {
                self.remove(&h);
                removed.push(h);
            }
        }
        removed
    }
}

#[cfg(test)]
#[path = "mempool_tests.rs"]
mod tests;
