//! Mempool admission throughput, sender recovery included (decode raw bytes → recover →
//! admission checks against RocksDB state), and block selection. Prints figures; asserts nothing.
//! Run: `cargo bench -p tc-node --bench mempool`.
use std::time::Instant;

use alloy_primitives::{Address, Bytes, U256};
use tc_node::config::MempoolSection;
use tc_node::genesis::Genesis;
use tc_node::keys::{TxParams, dev_signer, sign_eip1559};
use tc_node::mempool::{ChainRules, Mempool};
use tc_types::{Member, RecoveredTx};

fn main() -> anyhow::Result<()> {
    const SENDERS: u32 = 100;
    const PER_SENDER: u64 = 100;
    let signers: Vec<_> = (0..SENDERS).map(dev_signer).collect::<Result<_, _>>()?;
    let addrs: Vec<Address> = signers.iter().map(|s| s.address()).collect();
    let genesis = Genesis::dev(
        &addrs,
        Default::default(),
        vec![Member {
            key: Default::default(),
            coinbase: Address::ZERO,
            weight: 1,
        }],
    );
    let dir = tempfile::tempdir()?;
    let storage = tc_storage::StorageConfig {
        path: dir.path().join("db"),
        ..Default::default()
    };
    let chain = tc_node::chain::open(&storage, &genesis)?;

    let mut raws = Vec::new();
    for s in &signers {
        for n in 0..PER_SENDER {
            let tx = sign_eip1559(
                s,
                &TxParams {
                    chain_id: genesis.chain_id,
                    nonce: n,
                    to: Some(Address::repeat_byte(0xee)),
                    value: U256::from(1),
                    input: Bytes::new(),
                    gas_limit: 21_000,
                    max_fee_per_gas: 2_000_000_000,
                    max_priority_fee_per_gas: 1_000_000_000,
                },
            )?;
            raws.push(alloy_eips::eip2718::Encodable2718::encoded_2718(&tx));
        }
    }
    let rules = ChainRules {
        chain_id: genesis.chain_id,
        block_gas_limit: genesis.gas_limit,
        base_fee: genesis.base_fee,
    };
    let mut pool = Mempool::new(MempoolSection::default(), rules);
    let state = chain.latest_state();

    let t = Instant::now();
    let recovered: Vec<RecoveredTx> = raws
        .iter()
        .map(|r| RecoveredTx::decode(r))
        .collect::<Result<_, _>>()?;
    let recover_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for tx in recovered {
        pool.add(tx, &state)?;
    }
    let admit_s = t.elapsed().as_secs_f64();
    let n = raws.len() as f64;
    let t = Instant::now();
    let picked = pool.select(&state, 5_000, genesis.gas_limit);
    let select_s = t.elapsed().as_secs_f64();

    println!(
        "mempool bench ({} txs from {SENDERS} senders, RocksDB state)",
        raws.len()
    );
    println!(
        "  sender recovery (decode + ecrecover): {:>10.0} tx/s",
        n / recover_s
    );
    println!(
        "  admission checks (state reads):       {:>10.0} tx/s",
        n / admit_s
    );
    println!(
        "  admission incl. recovery:             {:>10.0} tx/s",
        n / (recover_s + admit_s)
    );
    println!(
        "  select {} for a block:              {:>10.2} ms",
        picked.len(),
        select_s * 1e3
    );
    Ok(())
}
