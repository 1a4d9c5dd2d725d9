//! `mempool`: what the node's transaction pool holds per sender, and what it refused lately.
use async_graphql::{Context, Error, Object, Result, SimpleObject};
use tc_types::{RecoveredTx, StateReader as _};

use crate::objects::{Transaction, api};
use crate::scalars::{Address, Bytes32, Long};
use crate::{PoolRejection, PoolSnapshot};

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

fn pending(tx: RecoveredTx) -> Transaction {
    Transaction {
        tx,
        loc: None,
        receipt: None,
        base_fee: 0,
    }
}

/// The pool, read once per query (one round trip to the node's event loop).
#[derive(Debug)]
pub struct Mempool(pub(crate) PoolSnapshot);

/// The transactions of one sender, nonce order.
#[derive(Debug)]
pub struct SenderQueue {
    address: alloy_primitives::Address,
    txs: Vec<RecoveredTx>,
}

/// A transaction the pool refused, and why.
#[derive(Clone, Debug, SimpleObject)]
pub struct Rejection {
    /// Hash, when the bytes decoded far enough (null for undecodable bytes).
    pub hash: Option<Bytes32>,
    /// The reason, as `eth_sendRawTransaction` reported it.
    pub reason: String,
}

impl From<PoolRejection> for Rejection {
    fn from(r: PoolRejection) -> Self {
        Self {
            hash: r.hash.map(Bytes32),
            reason: r.reason,
        }
    }
}

#[Object]
impl Mempool {
    /// Pooled transactions.
    async fn count(&self) -> i32 {
        i32::try_from(self.0.senders.iter().map(|(_, q)| q.len()).sum::<usize>())
            .unwrap_or(i32::MAX)
    }
    /// Per-sender queues, by sender address.
    async fn senders(&self) -> Vec<SenderQueue> {
        self.0
            .senders
            .iter()
            .map(|(address, txs)| SenderQueue {
                address: *address,
                txs: txs.clone(),
            })
            .collect()
    }
    /// Recent refusals (the pool remembers the last few hundred), oldest first.
    async fn rejections(&self) -> Vec<Rejection> {
        self.0
            .rejections
            .iter()
            .cloned()
            .map(Rejection::from)
            .collect()
    }
}

#[Object]
impl SenderQueue {
    /// Sender.
    async fn address(&self) -> Address {
        Address(self.address)
    }
    /// Nonces of the pooled transactions, ascending.
    async fn nonces(&self) -> Vec<Long> {
        self.txs.iter().map(|t| Long(t.nonce())).collect()
    }
    /// The account's nonce at the latest committed state.
    async fn state_nonce(&self, ctx: &Context<'_>) -> Result<Long> {
        Ok(Long(
            api(ctx)?
                .chain()
                .latest_state()
                .account(&self.address)
                .map_err(err)?
                .map_or(0, |a| a.nonce),
        ))
    }
    /// How many of the pooled transactions form a gap-free run from the state nonce (the ones
    /// the next block can include); the rest wait for a missing nonce.
    async fn executable(&self, ctx: &Context<'_>) -> Result<i32> {
        let first = api(ctx)?
            .chain()
            .latest_state()
            .account(&self.address)
            .map_err(err)?
            .map_or(0, |a| a.nonce);
        let run = self
            .txs
            .iter()
            .zip(first..)
            .take_while(|(t, want)| t.nonce() == *want)
            .count();
        Ok(i32::try_from(run).unwrap_or(i32::MAX))
    }
    /// The pooled transactions (pending: no block, no receipt).
    async fn transactions(&self) -> Vec<Transaction> {
        self.txs.iter().cloned().map(pending).collect()
    }
}

/// Resolve `Query.mempool`.
pub(crate) async fn mempool(ctx: &Context<'_>) -> Result<Mempool> {
    Ok(Mempool(api(ctx)?.pool().await))
}
