//! Solo-mode block production: the node is the whole committee (n = 1, quorum 1), so a block
//! is decided as soon as it is built: select from the mempool, execute with revm, sign the
//! commit, persist block + receipts + state + certificate in one atomic batch.
use alloy_primitives::B256;
use ed25519_dalek::Signer;
use tc_exec::{BlockEnv, Mode, execute_block};
use tc_storage::ChainStore;
use tc_types::{
    CertSignature, CommitCertificate, Committee, FastBlock, FastHeader, Receipt, TxError,
    commit_signing_bytes,
};

use crate::keys::ConsensusKey;
use crate::mempool::Mempool;

/// Why a block could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// Storage failure.
    #[error(transparent)]
    Storage(#[from] tc_storage::StorageError),
    /// Execution failure (state unreadable or EVM error).
    #[error(transparent)]
    Exec(#[from] Box<tc_exec::ExecError>),
    /// Chain has no head (not initialised).
    #[error("chain has no head block")]
    NoHead,
    /// This node is not in the committee.
    #[error("this node's key {0} is not a member of the committee")]
    NotMember(B256),
}

/// A committed block and what happened to the candidates.
#[derive(Debug)]
pub struct Produced {
    /// The block.
    pub block: FastBlock,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its certificate.
    pub certificate: CommitCertificate,
    /// Candidates skipped as invalid, with why.
    pub rejected: Vec<(B256, TxError)>,
}

/// Parameters of one production round.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    /// Chain id.
    pub chain_id: u64,
    /// Most transactions to include.
    pub max_txs: usize,
    /// Wall time now (ms); the block timestamp is at least parent + 1.
    pub now_ms: u64,
    /// Produce a block even with no transactions.
    pub allow_empty: bool,
}

/// Build, decide and persist the next block from the mempool. Returns `None` when there is
/// nothing to include and `round.allow_empty` is false.
pub fn produce(
    chain: &ChainStore,
    mempool: &mut Mempool,
    committee: &Committee,
    key: &ConsensusKey,
    round: Round,
) -> Result<Option<Produced>, ProduceError> {
    let Round {
        chain_id,
        max_txs,
        now_ms,
        allow_empty,
    } = round;
    let (head, _) = chain.fast_head()?.ok_or(ProduceError::NoHead)?;
    let parent = chain.header_by_number(head)?.ok_or(ProduceError::NoHead)?;
    let me = committee
        .index_of(&key.public())
        .ok_or(ProduceError::NotMember(key.public()))?;
    let coinbase = committee.member(me).map(|m| m.coinbase).unwrap_or_default();
    let state = chain.latest_state();
    let candidates = mempool.select(&state, max_txs, parent.gas_limit);
    if candidates.is_empty() && !allow_empty {
        return Ok(None);
    }
    let env = BlockEnv::child_of(&parent, chain_id, coinbase, now_ms);
    let out = execute_block(&state, &env, &candidates, Mode::Build).map_err(Box::new)?;
    let roots = out.roots(&parent.state_root);
    let header = FastHeader {
        number: env.number,
        parent_hash: parent.hash(),
        epoch: committee.epoch,
        view: 0,
        proposer: key.public(),
        coinbase,
        timestamp_ms: env.timestamp_ms,
        gas_used: out.gas_used,
        gas_limit: env.gas_limit,
        base_fee: env.base_fee,
        tx_root: roots.tx_root,
        receipts_root: roots.receipts_root,
        state_root: roots.state_root,
        next_committee: B256::ZERO,
    };
    let block = FastBlock {
        header,
        transactions: out.transactions,
    };
    let hash = block.hash();
    let signature =
        key.signing_key()
            .sign(&commit_signing_bytes(committee.epoch, 0, env.number, &hash));
    let certificate = CommitCertificate {
        epoch: committee.epoch,
        view: 0,
        seq: env.number,
        block_hash: hash,
        signatures: vec![CertSignature {
            signer: me,
            signature: signature.to_bytes().into(),
        }],
    };
    chain.commit_block(&block, &out.receipts, Some(&certificate), &out.diff)?;
    let included: Vec<B256> = out.receipts.iter().map(|r| r.tx_hash).collect();
    mempool.on_block_committed(&included, &chain.latest_state());
    for (h, why) in &out.rejected {
        mempool.remove(h);
        mempool.record_rejection(Some(*h), why.clone());
    }
    Ok(Some(Produced {
        block,
        receipts: out.receipts,
        certificate,
        rejected: out.rejected,
    }))
}
