//! Shared test fixtures: deterministic keys, signed transactions, a funded memory state.
#![allow(dead_code, unreachable_pub)]

use alloy_consensus::{SignableTransaction, Signed, TxEip1559, TxEip2930, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256, address};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use tc_exec::memory::MemoryState;
use tc_exec::{BlockEnv, BlockOutcome, Mode, execute_block};
use tc_types::{RecoveredTx, TxEnvelope};

/// Chain id used by every test.
pub const CHAIN_ID: u64 = 1337;
/// 1 gwei.
pub const GWEI: u128 = 1_000_000_000;
/// 1 ether.
pub fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}
/// Fee recipient of test blocks.
pub const COINBASE: Address = address!("0x00000000000000000000000000000000c0ffee00");

/// Deterministic key number `i` (1-based): private key = 32 × byte `i`.
pub fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).expect("valid test key")
}

/// Block environment: number 1, base fee 1 gwei, gas limit 30M.
pub fn env() -> BlockEnv {
    BlockEnv {
        number: 1,
        timestamp_ms: 1_700_000_000_123,
        coinbase: COINBASE,
        base_fee: GWEI as u64,
        gas_limit: 30_000_000,
        chain_id: CHAIN_ID,
        prevrandao: B256::repeat_byte(0x42),
    }
}

/// State where keys 1..=n hold 100 ether each.
pub fn funded(n: u8) -> MemoryState {
    let mut s = MemoryState::new();
    for i in 1..=n {
        s.set_account(key(i).address(), ether(100), 0);
    }
    s
}

/// Sign any transaction with `signer` and recover it.
pub fn sign<T>(signer: &PrivateKeySigner, tx: T) -> RecoveredTx
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    let sig = signer.sign_hash_sync(&tx.signature_hash()).expect("sign");
    let env: TxEnvelope = tx.into_signed(sig).into();
    RecoveredTx::recover(env).expect("recover")
}

/// EIP-1559 transaction (max fee 2 gwei, tip 1 gwei).
pub fn tx1559(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: TxKind,
    value: U256,
    input: Bytes,
    gas: u64,
) -> RecoveredTx {
    sign(
        signer,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: gas,
            max_fee_per_gas: 2 * GWEI,
            max_priority_fee_per_gas: GWEI,
            to,
            value,
            access_list: Default::default(),
            input,
        },
    )
}

/// Plain value transfer (EIP-1559, 21000 gas).
pub fn transfer(signer: &PrivateKeySigner, nonce: u64, to: Address, value: U256) -> RecoveredTx {
    tx1559(signer, nonce, TxKind::Call(to), value, Bytes::new(), 21_000)
}

/// Legacy EIP-155 transfer at 3 gwei.
pub fn legacy(
    signer: &PrivateKeySigner,
    nonce: u64,
    chain_id: Option<u64>,
    to: Address,
    value: U256,
) -> RecoveredTx {
    sign(
        signer,
        TxLegacy {
            chain_id,
            nonce,
            gas_price: 3 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value,
            input: Bytes::new(),
        },
    )
}

/// EIP-2930 transfer at 3 gwei.
pub fn eip2930(signer: &PrivateKeySigner, nonce: u64, to: Address, value: U256) -> RecoveredTx {
    sign(
        signer,
        TxEip2930 {
            chain_id: CHAIN_ID,
            nonce,
            gas_price: 3 * GWEI,
            gas_limit: 21_000,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: Bytes::new(),
        },
    )
}

/// Execute in build mode and apply the diff to `state`.
pub fn run(state: &mut MemoryState, txs: &[RecoveredTx]) -> BlockOutcome {
    let out = execute_block(state, &env(), txs, Mode::Build).expect("execute");
    state.apply(&out.diff);
    out
}
