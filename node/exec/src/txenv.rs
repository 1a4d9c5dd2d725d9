//! Turning a [`RecoveredTx`] into revm's `TxEnv`, the checks revm does not phrase our way,
//! and the mapping of revm's rejections to the shared [`TxError`] reasons.
use alloy_consensus::TxType;
use revm::context::TxEnv;
use revm::context_interface::cfg::gas::calculate_initial_tx_gas_for_tx;
use revm::context_interface::result::InvalidTransaction;
use tc_types::{RecoveredTx, Transaction, TxError};

use crate::env::{BlockEnv, SPEC};

/// Checks done before revm sees the transaction: supported type and chain id (EIP-155).
/// Everything else (nonce, funds, intrinsic gas, fee caps, gas limit) is revm's, mapped by
/// [`map_invalid`].
pub fn precheck(tx: &RecoveredTx, env: &BlockEnv) -> Result<(), TxError> {
    match tx.tx.tx_type() {
        TxType::Legacy | TxType::Eip2930 | TxType::Eip1559 => {}
        other => return Err(TxError::UnsupportedType(other as u8)),
    }
    match tx.tx.chain_id() {
        Some(id) if id == env.chain_id => Ok(()),
        got => Err(TxError::WrongChainId {
            expected: env.chain_id,
            got,
        }),
    }
}

/// revm's transaction environment for `tx` (call [`precheck`] first).
pub fn to_tx_env(tx: &RecoveredTx) -> TxEnv {
    let t = &tx.tx;
    let is_1559 = t.tx_type() == TxType::Eip1559;
    TxEnv {
        tx_type: t.tx_type() as u8,
        caller: tx.sender,
        gas_limit: t.gas_limit(),
        gas_price: t.max_fee_per_gas(),
        kind: t.kind(),
        value: t.value(),
        data: t.input().clone(),
        nonce: t.nonce(),
        chain_id: t.chain_id(),
        access_list: t.access_list().cloned().unwrap_or_default(),
        gas_priority_fee: if is_1559 {
            t.max_priority_fee_per_gas()
        } else {
            None
        },
        ..TxEnv::default()
    }
}

/// Intrinsic gas of `tx` under the chain rules ([`SPEC`]): the larger of the initial gas (base,
/// calldata, creation, access list) and the EIP-7623 calldata floor. A gas limit below this is
/// [`TxError::IntrinsicGasTooLow`]; the mempool can use it to reject early with the same number.
pub fn intrinsic_gas(tx: &RecoveredTx) -> u64 {
    let g = calculate_initial_tx_gas_for_tx(to_tx_env(tx), SPEC, None);
    g.initial_regular_gas
        .saturating_add(g.initial_state_gas)
        .max(g.floor_gas)
}

/// The fields of a transaction (or call) that revm's rejection variants do not carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxFacts {
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas (gas price for legacy).
    pub max_fee_per_gas: u128,
    /// Chain id carried, if any.
    pub chain_id: Option<u64>,
    /// EIP-2718 type.
    pub tx_type: u8,
}

impl TxFacts {
    /// Facts of a signed transaction.
    pub fn of(tx: &RecoveredTx) -> Self {
        let t = &tx.tx;
        Self {
            gas_limit: t.gas_limit(),
            max_fee_per_gas: t.max_fee_per_gas(),
            chain_id: t.chain_id(),
            tx_type: t.tx_type() as u8,
        }
    }
}

/// Map revm's reason to ours (for block execution and for calls alike).
pub fn map_invalid(e: InvalidTransaction, t: &TxFacts, env: &BlockEnv) -> TxError {
    use InvalidTransaction as I;
    match e {
        I::PriorityFeeGreaterThanMaxFee => TxError::TipAboveFeeCap,
        I::GasPriceLessThanBasefee => TxError::FeeCapTooLow {
            have: t.max_fee_per_gas,
            need: u128::from(env.base_fee),
        },
        I::CallerGasLimitMoreThanBlock => TxError::GasLimitTooHigh {
            have: t.gas_limit,
            max: env.gas_limit,
        },
        I::TxGasLimitGreaterThanCap { gas_limit, cap } => TxError::GasLimitTooHigh {
            have: gas_limit,
            max: cap,
        },
        I::CallGasCostMoreThanGasLimit {
            initial_gas,
            gas_limit,
        } => TxError::IntrinsicGasTooLow {
            have: gas_limit,
            need: initial_gas,
        },
        I::GasFloorMoreThanGasLimit {
            gas_floor,
            gas_limit,
        } => TxError::IntrinsicGasTooLow {
            have: gas_limit,
            need: gas_floor,
        },
        I::LackOfFundForMaxFee { fee, balance } => TxError::InsufficientFunds {
            have: *balance,
            need: *fee,
        },
        I::NonceTooHigh { tx: got, state } => TxError::NonceTooHigh {
            expected: state,
            got,
        },
        I::NonceTooLow { tx: got, state } => TxError::NonceTooLow {
            expected: state,
            got,
        },
        I::InvalidChainId | I::MissingChainId => TxError::WrongChainId {
            expected: env.chain_id,
            got: t.chain_id,
        },
        I::Eip4844NotSupported
        | I::Eip7702NotSupported
        | I::Eip7873NotSupported
        | I::BlobCreateTransaction
        | I::EmptyBlobs
        | I::AuthorizationListNotSupported
        | I::EmptyAuthorizationList => TxError::UnsupportedType(t.tx_type),
        other => TxError::Invalid(other.to_string()),
    }
}
