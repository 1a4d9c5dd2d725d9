//! Execution benchmark (not a test): `cargo bench -p tc-exec`. Prints sender recovery tx/s and
//! block execution tx/s for value transfers and Bank `transfer` calls (blocks of 1,000 txs
//! from 1,000 distinct senders), executed over the in-memory state.
#![allow(missing_docs, unreachable_pub)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use common::{env, ether, transfer, tx1559};
use tc_exec::memory::MemoryState;
use tc_exec::{Mode, bank, execute_block};
use tc_types::RecoveredTx;

const BLOCK: usize = 1_000;
const ROUNDS: u32 = 10;

fn signers(n: usize) -> Vec<PrivateKeySigner> {
    (0..n as u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).expect("valid key"))
        .collect()
}

fn report(name: &str, txs: usize, elapsed: Duration) {
    let per = elapsed.as_secs_f64();
    println!(
        "{name:<40} {txs:>7} txs in {:>8.1} ms  = {:>10.0} tx/s",
        per * 1e3,
        txs as f64 / per
    );
}

fn bench_block(name: &str, state: &MemoryState, txs: &[RecoveredTx]) {
    let mut e = env();
    e.gas_limit = 200_000_000;
    // Warm-up and sanity check.
    let out = execute_block(state, &e, txs, Mode::Verify).expect("block executes");
    assert!(
        out.receipts.iter().all(|r| r.success),
        "{name}: a tx failed"
    );
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let out = execute_block(state, &e, txs, Mode::Verify).expect("block executes");
        std::hint::black_box(out);
    }
    report(name, txs.len() * ROUNDS as usize, start.elapsed());
}

fn main() {
    let keys = signers(BLOCK);
    let mut state = MemoryState::new();
    for k in &keys {
        state.set_account(k.address(), ether(100), 0);
    }

    // 1. Sender recovery from raw EIP-2718 bytes (what admission does).
    let transfers: Vec<RecoveredTx> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            transfer(
                k,
                0,
                Address::from_word(B256::from(U256::from(i + 1_000_000))),
                U256::from(1),
            )
        })
        .collect();
    let raws: Vec<_> = transfers.iter().map(|t| t.raw()).collect();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        for raw in &raws {
            std::hint::black_box(RecoveredTx::decode(raw).expect("decodes"));
        }
    }
    report(
        "sender recovery (decode + ecrecover)",
        raws.len() * ROUNDS as usize,
        start.elapsed(),
    );

    // 2. Value transfers to fresh accounts.
    bench_block("block: value transfers", &state, &transfers);

    // 3. Bank ledger transfers between funded ledger accounts.
    state.set_code(bank::BANK_ADDRESS, bank::runtime_code().expect("artifact"));
    for k in &keys {
        state.set_storage(
            bank::BANK_ADDRESS,
            bank::balance_slot(k.address()),
            ether(1),
        );
    }
    state.set_storage(
        bank::BANK_ADDRESS,
        bank::TOTAL_DEPOSITS_SLOT,
        ether(BLOCK as u64),
    );
    state.set_account(bank::BANK_ADDRESS, ether(BLOCK as u64), 1);
    let calls: Vec<RecoveredTx> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let to = keys[(i + 1) % keys.len()].address();
            let data = bank::transfer_calldata(to, U256::from(1_000));
            tx1559(
                k,
                0,
                TxKind::Call(bank::BANK_ADDRESS),
                U256::ZERO,
                data,
                100_000,
            )
        })
        .collect();
    bench_block("block: Bank transfer(to, amount)", &state, &calls);
}
