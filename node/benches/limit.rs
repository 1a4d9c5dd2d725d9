//! The machine's single-process limit (issue #9 (a)): how many value transfers and Bank
//! `transfer(to, 1)` calls one thread can take from raw signed bytes to a committed block, with
//! the node's own code and no networking or consensus:
//!
//! * **recover** — `RecoveredTx::decode` (EIP-2718 decode + secp256k1 sender recovery, what
//!   JSON-RPC admission does for each transaction);
//! * **execute** — `tc_exec::execute_block` (revm, `Mode::Verify`) over the latest state of a
//!   **RocksDB-backed** `ChainStore` in a temp dir (the node's storage, default options, no
//!   fsync), 1,000 transactions from 1,000 distinct senders per block;
//! * **commit** — the block's roots (tx, receipts, state) and `ChainStore::commit_block` (one
//!   atomic RocksDB write of header, body, receipts, tx index, state diff and history), so the
//!   next block executes on the committed state;
//! * **combined** — the three in sequence: transactions / (recover + execute + commit time).
//!
//! Prints a table and writes `$TC_BENCH_OUT/limit.json` (default `<target dir>/bench/`).
//! Asserts nothing about speed; a failed transaction aborts the run.
//!
//! Run: `cargo bench -p tc-node --bench limit` (env `TC_BENCH_BLOCKS` measured blocks per
//! workload, default 20; `TC_BENCH_QUICK=1` → 5).
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy_eips::eip2718::Encodable2718 as _;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use serde_json::json;
use tc_exec::{BlockEnv, Mode, bank, execute_block};
use tc_node::genesis::Genesis;
use tc_node::keys::{TxParams, sign_eip1559};
use tc_storage::{ChainStore, StorageConfig};
use tc_types::{FastBlock, FastHeader, RecoveredTx};

/// Transactions per block (one per sender).
const BLOCK: usize = 1_000;
const SINK: Address = Address::repeat_byte(0x77);
const CHAIN_ID: u64 = 1337;

#[derive(Default)]
struct Phases {
    txs: usize,
    recover: Duration,
    execute: Duration,
    commit: Duration,
}

/// Raw signed EIP-1559 transactions: `rounds` blocks of one transaction per signer, nonces
/// `first_nonce..`, calling `to` with the input `input(i)` of signer `i`.
fn sign_blocks(
    signers: &[PrivateKeySigner],
    first_nonce: u64,
    rounds: u64,
    to: impl Fn(usize) -> (Address, U256, Bytes, u64),
) -> anyhow::Result<Vec<Vec<Bytes>>> {
    let mut blocks = Vec::new();
    for r in 0..rounds {
        let mut raws = Vec::with_capacity(signers.len());
        for (i, s) in signers.iter().enumerate() {
            let (to, value, input, gas_limit) = to(i);
            let tx = sign_eip1559(
                s,
                &TxParams {
                    chain_id: CHAIN_ID,
                    nonce: first_nonce + r,
                    to: Some(to),
                    value,
                    input,
                    gas_limit,
                    max_fee_per_gas: 3_000_000_000,
                    max_priority_fee_per_gas: 1_000_000_000,
                },
            )?;
            raws.push(Bytes::from(tx.encoded_2718()));
        }
        blocks.push(raws);
    }
    Ok(blocks)
}

/// Recover, execute and commit each block on top of `chain`'s head.
fn run(chain: &ChainStore, name: &str, blocks: &[Vec<Bytes>]) -> anyhow::Result<Phases> {
    let mut p = Phases::default();
    for raws in blocks {
        let t = Instant::now();
        let txs = raws
            .iter()
            .map(|r| RecoveredTx::decode(r))
            .collect::<Result<Vec<_>, _>>()?;
        p.recover += t.elapsed();

        let (head, _) = chain
            .fast_head()?
            .ok_or_else(|| anyhow::anyhow!("no head"))?;
        let parent = chain
            .header_by_number(head)?
            .ok_or_else(|| anyhow::anyhow!("no header {head}"))?;
        let env = BlockEnv::child_of(&parent, CHAIN_ID, Address::repeat_byte(0xc0), head + 1);
        let t = Instant::now();
        let state = chain.latest_state();
        let out = execute_block(&state, &env, &txs, Mode::Verify)?;
        p.execute += t.elapsed();
        anyhow::ensure!(
            out.receipts.iter().all(|r| r.success),
            "{name}: a transaction failed in block {}",
            env.number
        );

        let t = Instant::now();
        let roots = out.roots(&parent.state_root);
        let block = FastBlock {
            header: FastHeader {
                number: env.number,
                parent_hash: parent.hash(),
                epoch: 0,
                view: 0,
                proposer: parent.proposer,
                coinbase: env.coinbase,
                timestamp_ms: env.timestamp_ms,
                gas_used: out.gas_used,
                gas_limit: env.gas_limit,
                base_fee: env.base_fee,
                tx_root: roots.tx_root,
                receipts_root: roots.receipts_root,
                state_root: roots.state_root,
                next_committee: B256::ZERO,
            },
            transactions: out.transactions,
        };
        chain.commit_block(&block, &out.receipts, None, &out.diff)?;
        p.commit += t.elapsed();
        p.txs += txs.len();
    }
    Ok(p)
}

fn rate(txs: usize, d: Duration) -> f64 {
    txs as f64 / d.as_secs_f64().max(1e-9)
}

fn main() -> anyhow::Result<()> {
    let quick = std::env::var("TC_BENCH_QUICK").is_ok_and(|v| v == "1");
    let rounds = common::env_or("TC_BENCH_BLOCKS", if quick { 5 } else { 20 }).max(1);
    let signers: Vec<PrivateKeySigner> = (0..BLOCK as u64)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())))
        .collect::<Result<_, _>>()?;
    let addrs: Vec<Address> = signers.iter().map(|s| s.address()).collect();

    // Genesis: every sender funded and holding 1 ether in the Bank ledger.
    let (bank_addr, mut bank_acct) = tc_node::genesis::bank_alloc()?;
    let one = U256::from(10u64).pow(U256::from(18));
    for a in &addrs {
        bank_acct.storage.insert(bank::balance_slot(*a), one);
    }
    bank_acct
        .storage
        .insert(bank::TOTAL_DEPOSITS_SLOT, one * U256::from(BLOCK));
    bank_acct.balance = one * U256::from(BLOCK);
    let mut genesis = Genesis::dev(&addrs, BTreeMap::from([(bank_addr, bank_acct)]), Vec::new());
    genesis.gas_limit = 1_000_000_000;
    let g = genesis.build();

    let dir = tempfile::tempdir()?;
    let chain = tc_storage::open_chain(&StorageConfig {
        path: dir.path().join("db"),
        ..Default::default()
    })?;
    chain.commit_block(
        &FastBlock {
            header: g.header,
            transactions: Vec::new(),
        },
        &[],
        None,
        &g.diff,
    )?;

    eprintln!(
        "limit: signing {} blocks of {BLOCK} transactions",
        2 * rounds + 2
    );
    // One warm-up block per workload (not measured), then `rounds` measured blocks.
    let transfers = sign_blocks(&signers, 0, rounds + 1, |_| {
        (SINK, U256::from(1), Bytes::new(), 21_000)
    })?;
    let calls = sign_blocks(&signers, rounds + 1, rounds + 1, |i| {
        let to = addrs[(i + 1) % addrs.len()];
        (
            bank_addr,
            U256::ZERO,
            bank::transfer_calldata(to, U256::from(1)),
            100_000,
        )
    })?;
    run(&chain, "warm-up", &transfers[..1])?;
    let t = run(&chain, "value transfers", &transfers[1..])?;
    run(&chain, "warm-up", &calls[..1])?;
    let b = run(&chain, "Bank transfers", &calls[1..])?;

    let note = format!(
        "one thread, {} blocks × {BLOCK} txs from {BLOCK} senders, RocksDB state (temp dir, no fsync)",
        rounds
    );
    let mut rows: Vec<(String, f64, &str, String)> = Vec::new();
    for (kind, p) in [("transfer", &t), ("bank", &b)] {
        rows.push((
            format!("{kind}_recover_per_s"),
            rate(p.txs, p.recover),
            "tx/s",
            "decode + sender recovery".into(),
        ));
        rows.push((
            format!("{kind}_execute_per_s"),
            rate(p.txs, p.execute),
            "tx/s",
            "execute_block over the committed RocksDB state".into(),
        ));
        rows.push((
            format!("{kind}_commit_per_s"),
            rate(p.txs, p.commit),
            "tx/s",
            "roots + commit_block (one RocksDB write batch per block)".into(),
        ));
        rows.push((
            format!("{kind}_combined_per_s"),
            rate(p.txs, p.recover + p.execute + p.commit),
            "tx/s",
            note.clone(),
        ));
    }
    println!("{:<28} {:>12}  {:<5} note", "metric", "value", "unit");
    for (m, v, u, n) in &rows {
        println!("{m:<28} {v:>12.0}  {u:<5} {n}");
    }
    common::write_json(
        "limit",
        rows.iter()
            .map(|(m, v, u, n)| json!({"metric": m, "value": v, "unit": u, "note": n}))
            .collect(),
    )
}
