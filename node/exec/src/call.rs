//! Read-only execution: [`call`] (eth_call) and [`estimate_gas`] (eth_estimateGas, binary
//! search like geth). Nothing is committed; the state is only read.
use alloy_primitives::{Address, Bytes, TxKind, U256};
use revm::context::{Context, TxEnv};
use revm::context_interface::result::{EVMError, ExecutionResult, Output};
use revm::database::CacheDB;
use revm::{ExecuteEvm, MainBuilder, MainContext, MainnetEvm};
use tc_types::{Log, StateReader, TxError};

use crate::ExecError;
use crate::db::{DbError, StateDb, cached};
use crate::env::BlockEnv;

/// Smallest gas any transaction needs.
pub const TX_BASE_GAS: u64 = 21_000;

/// A message to execute read-only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallRequest {
    /// Caller (zero address when absent).
    pub from: Option<Address>,
    /// Callee; `None` executes `data` as init code (contract creation).
    pub to: Option<Address>,
    /// Calldata.
    pub data: Bytes,
    /// Wei sent along (the caller must hold it).
    pub value: U256,
    /// Gas limit; defaults to (and is capped at) the block gas limit.
    pub gas: Option<u64>,
    /// Legacy gas price; `None`/0 means free (the base fee is then ignored, as in geth).
    pub gas_price: Option<u128>,
}

/// Result of a read-only call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// true when the call returned normally.
    pub success: bool,
    /// Return data (success), revert data (revert) or empty (halt).
    pub output: Bytes,
    /// Gas used (after refunds).
    pub gas_used: u64,
    /// Logs emitted (empty unless successful).
    pub logs: Vec<Log>,
    /// Decoded `Error(string)` / `Panic(uint256)` of a revert.
    pub revert_reason: Option<String>,
    /// Why execution halted (out of gas, invalid opcode…), when it did.
    pub halt: Option<String>,
    /// Address a creation would deploy to.
    pub created: Option<Address>,
}

/// Why a call or an estimate failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The message is not executable (e.g. insufficient funds for `value`).
    #[error("call rejected: {0}")]
    Rejected(#[from] TxError),
    /// The backend or EVM failed.
    #[error(transparent)]
    Exec(Box<ExecError>),
    /// `estimate_gas`: the call fails even with the maximum gas.
    #[error("execution reverted{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// Decoded reason, when the revert data carries one.
        reason: Option<String>,
        /// Raw revert data.
        output: Bytes,
    },
    /// `estimate_gas`: the call halts even with the maximum gas.
    #[error("execution halted: {0}")]
    Halted(String),
}

impl From<ExecError> for CallError {
    fn from(e: ExecError) -> Self {
        Self::Exec(Box::new(e))
    }
}

type CallEvm<'a> = MainnetEvm<revm::handler::MainnetContext<CacheDB<StateDb<'a>>>>;

fn evm_for<'a>(state: &'a dyn StateReader, env: &BlockEnv, req: &CallRequest) -> CallEvm<'a> {
    let mut block = env.to_revm();
    if req.gas_price.unwrap_or(0) == 0 {
        block.basefee = 0;
    }
    let mut cfg = env.cfg();
    cfg.disable_nonce_check = true;
    Context::mainnet()
        .with_db(cached(state))
        .with_block(block)
        .with_cfg(cfg)
        .build_mainnet()
}

fn run(
    evm: &mut CallEvm<'_>,
    env: &BlockEnv,
    req: &CallRequest,
    gas: u64,
) -> Result<CallOutcome, CallError> {
    let tx = TxEnv {
        tx_type: 0,
        caller: req.from.unwrap_or_default(),
        gas_limit: gas,
        gas_price: req.gas_price.unwrap_or(0),
        kind: req.to.map_or(TxKind::Create, TxKind::Call),
        value: req.value,
        data: req.data.clone(),
        chain_id: Some(env.chain_id),
        ..TxEnv::default()
    };
    let result = match evm.transact(tx) {
        Ok(r) => r.result,
        Err(EVMError::Transaction(e)) => {
            let facts = crate::txenv::TxFacts {
                gas_limit: gas,
                max_fee_per_gas: req.gas_price.unwrap_or(0),
                chain_id: Some(env.chain_id),
                tx_type: 0,
            };
            return Err(CallError::Rejected(crate::txenv::map_invalid(
                e, &facts, env,
            )));
        }
        Err(EVMError::Database(DbError(source))) => {
            return Err(ExecError::State { index: 0, source }.into());
        }
        Err(other) => return Err(ExecError::Evm(other.to_string()).into()),
    };
    let gas_used = result.tx_gas_used();
    Ok(match result {
        ExecutionResult::Success { logs, output, .. } => {
            let created = match &output {
                Output::Create(_, addr) => *addr,
                Output::Call(_) => None,
            };
            let logs = logs
                .into_iter()
                .map(|l| Log {
                    address: l.address,
                    topics: l.data.topics().to_vec(),
                    data: l.data.data,
                })
                .collect();
            CallOutcome {
                success: true,
                output: output.into_data(),
                gas_used,
                logs,
                revert_reason: None,
                halt: None,
                created,
            }
        }
        ExecutionResult::Revert { output, .. } => CallOutcome {
            success: false,
            revert_reason: decode_revert_reason(&output),
            output,
            gas_used,
            logs: Vec::new(),
            halt: None,
            created: None,
        },
        ExecutionResult::Halt { reason, .. } => CallOutcome {
            success: false,
            output: Bytes::new(),
            gas_used,
            logs: Vec::new(),
            revert_reason: None,
            halt: Some(format!("{reason:?}")),
            created: None,
        },
    })
}

/// Execute `req` against `state` without changing it (nonce not checked; with no gas price
/// the base fee is ignored and no gas is charged, as in geth's `eth_call`).
pub fn call(
    state: &dyn StateReader,
    env: &BlockEnv,
    req: &CallRequest,
) -> Result<CallOutcome, CallError> {
    let gas = req.gas.unwrap_or(env.gas_limit).min(env.gas_limit);
    let mut evm = evm_for(state, env, req);
    run(&mut evm, env, req, gas)
}

/// The smallest gas limit with which `req` succeeds (binary search between the gas it used
/// and the cap: `req.gas` or the block gas limit, lowered to what the caller can pay for).
/// Errors with the revert reason when it fails even at the cap.
pub fn estimate_gas(
    state: &dyn StateReader,
    env: &BlockEnv,
    req: &CallRequest,
) -> Result<u64, CallError> {
    let mut hi = req.gas.unwrap_or(env.gas_limit).min(env.gas_limit);
    let price = req.gas_price.unwrap_or(0);
    if price > 0 {
        let balance = state
            .account(&req.from.unwrap_or_default())
            .map_err(|source| ExecError::State { index: 0, source })?
            .map_or(U256::ZERO, |a| a.balance);
        let available = balance.saturating_sub(req.value);
        let allowance = available / U256::from(price);
        hi = hi.min(u64::try_from(allowance).unwrap_or(u64::MAX));
    }
    let mut evm = evm_for(state, env, req);
    let first = run(&mut evm, env, req, hi)?;
    if !first.success {
        return Err(match first.halt {
            Some(h) => CallError::Halted(h),
            None => CallError::Reverted {
                reason: first.revert_reason,
                output: first.output,
            },
        });
    }
    // Succeeds at `hi`. Anything below the gas it used fails.
    let mut ok = |gas: u64| -> Result<bool, CallError> {
        match run(&mut evm, env, req, gas) {
            Ok(o) => Ok(o.success),
            Err(CallError::Rejected(_)) => Ok(false),
            Err(e) => Err(e),
        }
    };
    let used = first.gas_used.max(TX_BASE_GAS);
    if used >= hi || ok(used)? {
        return Ok(used.min(hi));
    }
    let mut lo = used;
    // Optimistic guess (geth): the 63/64 rule and refunds rarely need more than this.
    let guess = used.saturating_add(2_300).saturating_mul(64) / 63;
    if guess < hi {
        if ok(guess)? {
            hi = guess;
        } else {
            lo = guess;
        }
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

/// Decode revert data: `Error(string)` gives the message, `Panic(uint256)` gives
/// `"panic: 0x.."`; anything else `None`.
pub fn decode_revert_reason(data: &[u8]) -> Option<String> {
    const ERROR: [u8; 4] = [0x08, 0xc3, 0x79, 0xa0];
    const PANIC: [u8; 4] = [0x4e, 0x48, 0x7b, 0x71];
    let (selector, body) = (data.get(..4)?, data.get(4..)?);
    if selector == PANIC {
        let code = U256::try_from_be_slice(body.get(..32)?)?;
        return Some(format!("panic: {code:#x}"));
    }
    if selector != ERROR {
        return None;
    }
    let word = |at: usize| -> Option<usize> {
        let w = U256::try_from_be_slice(body.get(at..at.checked_add(32)?)?)?;
        usize::try_from(w).ok()
    };
    let offset = word(0)?;
    let len = word(offset)?;
    let start = offset.checked_add(32)?;
    let bytes = body.get(start..start.checked_add(len)?)?;
    Some(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::decode_revert_reason;

    fn error_string(msg: &str) -> Vec<u8> {
        let mut d = vec![0x08, 0xc3, 0x79, 0xa0];
        let mut w = [0u8; 32];
        w[31] = 32;
        d.extend_from_slice(&w);
        let mut len = [0u8; 32];
        len[31] = msg.len() as u8;
        d.extend_from_slice(&len);
        let mut body = msg.as_bytes().to_vec();
        body.resize(msg.len().div_ceil(32) * 32, 0);
        d.extend_from_slice(&body);
        d
    }

    #[test]
    fn decodes_error_string_and_panic() {
        assert_eq!(
            decode_revert_reason(&error_string("nope")).as_deref(),
            Some("nope")
        );
        let mut panic = vec![0x4e, 0x48, 0x7b, 0x71];
        panic.extend_from_slice(&[0u8; 31]);
        panic.push(0x11);
        assert_eq!(decode_revert_reason(&panic).as_deref(), Some("panic: 0x11"));
    }

    #[test]
    fn garbage_never_panics() {
        let good = error_string("a longer message that spans words");
        for cut in 0..good.len() {
            let _ = decode_revert_reason(&good[..cut]);
        }
        let mut huge = good.clone();
        huge[4..36].fill(0xff); // absurd offset
        assert_eq!(decode_revert_reason(&huge), None);
        assert_eq!(decode_revert_reason(&[1, 2, 3]), None);
    }
}
