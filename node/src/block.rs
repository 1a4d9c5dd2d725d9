//! Fast blocks in the node: build a proposal from the mempool, check and execute a proposal or
//! a certified block received from a peer, and persist a decided block atomically.
//!
//! Every block is built on its *committed* parent (one block in flight), so a backup executes a
//! proposal against exactly the state the primary used and votes only for a block whose header
//! commitments (tx, receipts and state roots) it recomputed itself.
use alloy_primitives::B256;
use tc_exec::{BlockEnv, Mode, execute_block};
use tc_storage::ChainStore;
use tc_types::{
    CommitCertificate, FastBlock, FastHeader, PubKey, Receipt, RecoveredTx, StateDiff, TxError,
};

use crate::mempool::Mempool;

/// Why a block could not be built, checked or stored.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// Storage failure.
    #[error(transparent)]
    Storage(#[from] tc_storage::StorageError),
    /// Execution failure (state unreadable, or an invalid transaction in a received block).
    #[error(transparent)]
    Exec(#[from] Box<tc_exec::ExecError>),
    /// Chain has no head (not initialised).
    #[error("chain has no head block")]
    NoHead,
    /// The block does not extend our head.
    #[error("block #{number} has parent {parent}, our head is #{head} {head_hash}")]
    NotChild {
        /// Block number.
        number: u64,
        /// Its parent hash.
        parent: B256,
        /// Our head.
        head: u64,
        /// Our head hash.
        head_hash: B256,
    },
    /// A header field is wrong.
    #[error("block #{number}: {what}")]
    Header {
        /// Block number.
        number: u64,
        /// What is wrong.
        what: String,
    },
    /// A transaction in the body cannot be decoded or its signature is bad.
    #[error("block #{number}: transaction {index}: {reason}")]
    Tx {
        /// Block number.
        number: u64,
        /// Index in the body.
        index: usize,
        /// Why.
        reason: TxError,
    },
}

/// A block executed against its parent's state: ready to be persisted once decided.
#[derive(Clone, Debug)]
pub struct Executed {
    /// The block.
    pub block: FastBlock,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its state changes.
    pub diff: StateDiff,
    /// Candidates the builder skipped as invalid (empty for received blocks).
    pub rejected: Vec<(B256, TxError)>,
}

/// What a proposal header needs besides the executed body.
#[derive(Clone, Copy, Debug)]
pub struct Proposal {
    /// Chain id.
    pub chain_id: u64,
    /// Epoch of the committee deciding it.
    pub epoch: u64,
    /// PBFT view it is proposed in.
    pub view: u64,
    /// Proposer's consensus key.
    pub proposer: PubKey,
    /// Proposer's fee recipient.
    pub coinbase: alloy_primitives::Address,
    /// `Committee::hash()` of the next epoch on the last block of an epoch, zero otherwise.
    pub next_committee: B256,
    /// Most transactions to include.
    pub max_txs: usize,
    /// Wall clock (ms); the timestamp is at least parent + 1.
    pub now_ms: u64,
}

/// Build the next block on the committed head from the mempool (may be empty).
pub fn build(chain: &ChainStore, mempool: &Mempool, p: &Proposal) -> Result<Executed, BlockError> {
    let parent = head_header(chain)?;
    let state = chain.latest_state();
    let candidates = mempool.select(&state, p.max_txs, parent.gas_limit);
    let env = BlockEnv::child_of(&parent, p.chain_id, p.coinbase, p.now_ms);
    let out = execute_block(&state, &env, &candidates, Mode::Build).map_err(Box::new)?;
    let roots = out.roots(&parent.state_root);
    let header = FastHeader {
        number: env.number,
        parent_hash: parent.hash(),
        epoch: p.epoch,
        view: p.view,
        proposer: p.proposer,
        coinbase: p.coinbase,
        timestamp_ms: env.timestamp_ms,
        gas_used: out.gas_used,
        gas_limit: env.gas_limit,
        base_fee: env.base_fee,
        tx_root: roots.tx_root,
        receipts_root: roots.receipts_root,
        state_root: roots.state_root,
        next_committee: p.next_committee,
    };
    Ok(Executed {
        block: FastBlock {
            header,
            transactions: out.transactions,
        },
        receipts: out.receipts,
        diff: out.diff,
        rejected: out.rejected,
    })
}

/// The committed head's header.
pub fn head_header(chain: &ChainStore) -> Result<FastHeader, BlockError> {
    let (head, _) = chain.fast_head()?.ok_or(BlockError::NoHead)?;
    chain.header_by_number(head)?.ok_or(BlockError::NoHead)
}

/// Check that `block` extends our committed head with consistent header fields, execute it
/// (Verify mode: any invalid transaction fails the block) and compare the commitments.
/// Senders already recovered by the mempool are reused.
pub fn verify(
    chain: &ChainStore,
    mempool: &Mempool,
    block: FastBlock,
    chain_id: u64,
    max_timestamp_ms: u64,
) -> Result<Executed, BlockError> {
    let parent = head_header(chain)?;
    let h = &block.header;
    let bad = |what: String| BlockError::Header {
        number: h.number,
        what,
    };
    if h.number != parent.number + 1 || h.parent_hash != parent.hash() {
        return Err(BlockError::NotChild {
            number: h.number,
            parent: h.parent_hash,
            head: parent.number,
            head_hash: parent.hash(),
        });
    }
    let env = BlockEnv::child_of(&parent, chain_id, h.coinbase, h.timestamp_ms);
    if h.timestamp_ms != env.timestamp_ms {
        return Err(bad(format!(
            "timestamp {} not after the parent's {}",
            h.timestamp_ms, parent.timestamp_ms
        )));
    }
    if h.timestamp_ms > max_timestamp_ms {
        return Err(bad(format!(
            "timestamp {} is ahead of our clock (limit {max_timestamp_ms})",
            h.timestamp_ms
        )));
    }
    if h.gas_limit != env.gas_limit || h.base_fee != env.base_fee {
        return Err(bad(format!(
            "gas limit {} / base fee {} differ from the parent's {} / {}",
            h.gas_limit, h.base_fee, env.gas_limit, env.base_fee
        )));
    }
    let mut txs = Vec::with_capacity(block.transactions.len());
    for (index, tx) in block.transactions.iter().enumerate() {
        let hash = *tx.tx_hash();
        let recovered = match mempool.get(&hash) {
            Some(p) => p.tx.clone(),
            None => RecoveredTx::recover(tx.clone()).map_err(|reason| BlockError::Tx {
                number: h.number,
                index,
                reason,
            })?,
        };
        txs.push(recovered);
    }
    let state = chain.latest_state();
    let out = execute_block(&state, &env, &txs, Mode::Verify).map_err(Box::new)?;
    let roots = out.roots(&parent.state_root);
    if out.gas_used != h.gas_used {
        return Err(bad(format!(
            "gas_used is {}, execution gives {}",
            h.gas_used, out.gas_used
        )));
    }
    let checks = [
        ("tx_root", roots.tx_root, h.tx_root),
        ("receipts_root", roots.receipts_root, h.receipts_root),
        ("state_root", roots.state_root, h.state_root),
    ];
    for (field, ours, theirs) in checks {
        if ours != theirs {
            return Err(bad(format!("{field} is {theirs}, execution gives {ours}")));
        }
    }
    Ok(Executed {
        block,
        receipts: out.receipts,
        diff: out.diff,
        rejected: Vec::new(),
    })
}

/// Persist a decided block with its certificate (one atomic write), then drop its
/// transactions from the pool (and the builder's rejected candidates).
pub fn commit(
    chain: &ChainStore,
    mempool: &mut Mempool,
    e: &Executed,
    certificate: &CommitCertificate,
) -> Result<(), BlockError> {
    chain.commit_block(&e.block, &e.receipts, Some(certificate), &e.diff)?;
    let included: Vec<B256> = e.receipts.iter().map(|r| r.tx_hash).collect();
    mempool.on_block_committed(&included, &chain.latest_state());
    for (h, why) in &e.rejected {
        mempool.remove(h);
        mempool.record_rejection(Some(*h), why.clone());
    }
    Ok(())
}
