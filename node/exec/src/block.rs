//! Executing a block's transactions in order: receipts, rejections, gas and the state diff.
use alloy_primitives::{Address, B256, Bytes, TxKind};
use revm::context::Context;
use revm::context_interface::result::{EVMError, ExecutionResult, Output};
use revm::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext};
use tc_types::{
    Log, Receipt, RecoveredTx, StateDiff, StateReader, Transaction, TxEnvelope, TxError,
    next_state_root, receipts_root, tx_root,
};

use crate::ExecError;
use crate::db::{DbError, cached};
use crate::diff::DiffBuilder;
use crate::env::BlockEnv;
use crate::txenv::{TxFacts, map_invalid, precheck, to_tx_env};

/// How invalid transactions are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Proposer building a block: skip transactions that are invalid at their position and
    /// report why ([`BlockOutcome::rejected`]); skip those that no longer fit in the block gas
    /// limit ([`BlockOutcome::deferred`]).
    Build,
    /// Follower executing a certified block: any invalid transaction fails the whole block.
    Verify,
}

/// Result of executing a block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Indices (into the input slice) of the included transactions, in order.
    pub included: Vec<usize>,
    /// The included transactions, in order (what goes into the block body).
    pub transactions: Vec<TxEnvelope>,
    /// One receipt per included transaction.
    pub receipts: Vec<Receipt>,
    /// Transactions skipped as invalid (Build mode only), with the reason.
    pub rejected: Vec<(B256, TxError)>,
    /// Valid-looking transactions skipped because their gas limit exceeds the block's
    /// remaining gas (Build mode only); they may fit in a later block.
    pub deferred: Vec<B256>,
    /// Total gas used.
    pub gas_used: u64,
    /// Canonical state changes.
    pub diff: StateDiff,
}

/// The header commitments of an executed block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRoots {
    /// [`tx_root`] of the included transactions.
    pub tx_root: B256,
    /// [`receipts_root`] of the receipts.
    pub receipts_root: B256,
    /// [`next_state_root`]`(parent, diff)`.
    pub state_root: B256,
}

impl BlockOutcome {
    /// Header commitments given the parent's state root.
    pub fn roots(&self, parent_state_root: &B256) -> BlockRoots {
        BlockRoots {
            tx_root: tx_root(&self.transactions),
            receipts_root: receipts_root(&self.receipts),
            state_root: next_state_root(parent_state_root, &self.diff),
        }
    }
}

/// Execute `txs` in order on top of `state`. Each transaction sees the effects of the previous
/// included ones. `state` is never written: the changes come back as [`BlockOutcome::diff`].
pub fn execute_block(
    state: &dyn StateReader,
    env: &BlockEnv,
    txs: &[RecoveredTx],
    mode: Mode,
) -> Result<BlockOutcome, ExecError> {
    let mut evm = Context::mainnet()
        .with_db(cached(state))
        .with_block(env.to_revm())
        .with_cfg(env.cfg())
        .build_mainnet();
    let mut out = BlockOutcome::default();
    let mut diff = DiffBuilder::default();

    for (index, tx) in txs.iter().enumerate() {
        let reject = |out: &mut BlockOutcome, reason: TxError| match mode {
            Mode::Build => {
                out.rejected.push((tx.hash, reason));
                Ok(())
            }
            Mode::Verify => Err(ExecError::InvalidTx {
                index,
                hash: tx.hash,
                reason,
            }),
        };
        if let Err(reason) = precheck(tx, env) {
            reject(&mut out, reason)?;
            continue;
        }
        let gas_limit = tx.tx.gas_limit();
        let needed = out.gas_used.saturating_add(gas_limit);
        if gas_limit <= env.gas_limit && needed > env.gas_limit {
            match mode {
                Mode::Build => out.deferred.push(tx.hash),
                Mode::Verify => {
                    return Err(ExecError::BlockGasExceeded {
                        index,
                        needed,
                        limit: env.gas_limit,
                    });
                }
            }
            continue;
        }
        let result = match evm.transact(to_tx_env(tx)) {
            Ok(r) => r,
            Err(EVMError::Transaction(e)) => {
                reject(&mut out, map_invalid(e, &TxFacts::of(tx), env))?;
                continue;
            }
            Err(EVMError::Database(DbError(source))) => {
                return Err(ExecError::State { index, source });
            }
            Err(other) => return Err(ExecError::Evm(other.to_string())),
        };
        diff.record(&result.state);
        evm.commit(result.state);
        let used = result.result.tx_gas_used();
        out.gas_used = out.gas_used.saturating_add(used);
        out.receipts
            .push(receipt(tx, env, result.result, used, out.gas_used));
        out.included.push(index);
        out.transactions.push(tx.tx.clone());
    }
    out.diff = diff.finish();
    Ok(out)
}

/// Our receipt for one executed transaction. As in geth, a creation reports the address it
/// deploys to (`sender.create(nonce)`) even when it fails; `output` carries the revert data or
/// `"halt: <reason>"` for failed transactions and is empty on success.
fn receipt(
    tx: &RecoveredTx,
    env: &BlockEnv,
    result: ExecutionResult,
    gas_used: u64,
    cumulative_gas_used: u64,
) -> Receipt {
    let t = &tx.tx;
    let (to, contract_address) = match t.kind() {
        TxKind::Call(to) => (to, Address::ZERO),
        TxKind::Create => (Address::ZERO, tx.sender.create(t.nonce())),
    };
    let (success, logs, output) = match result {
        ExecutionResult::Success { logs, output, .. } => {
            let logs = logs
                .into_iter()
                .map(|l| Log {
                    address: l.address,
                    topics: l.data.topics().to_vec(),
                    data: l.data.data,
                })
                .collect();
            // Return data is not part of a receipt; creations report `contract_address`.
            drop::<Output>(output);
            (true, logs, Bytes::new())
        }
        ExecutionResult::Revert { output, .. } => (false, Vec::new(), output),
        ExecutionResult::Halt { reason, .. } => (
            false,
            Vec::new(),
            Bytes::from(format!("halt: {reason:?}").into_bytes()),
        ),
    };
    Receipt {
        tx_hash: tx.hash,
        tx_type: t.tx_type() as u8,
        from: tx.sender,
        to,
        success,
        gas_used,
        cumulative_gas_used,
        effective_gas_price: t.effective_gas_price(Some(env.base_fee)),
        contract_address,
        logs,
        output,
    }
}
