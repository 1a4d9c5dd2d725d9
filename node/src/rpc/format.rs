//! geth-compatible JSON of blocks, transactions, receipts and logs (alloy's RPC types where
//! they exist, so ethers/viem/web3.py parse them unchanged).
use alloy_consensus::transaction::Recovered;
use alloy_primitives::{Address, B64, B256, Bloom, U256};
use serde_json::{Value, json};
use tc_storage::ChainStore;
use tc_types::{FastBlock, Log, Receipt, RecoveredTx, TxLocation};

use super::{RpcError, hex_u64};

/// keccak256(rlp([])) — the empty uncle list.
const EMPTY_OMMERS: B256 =
    alloy_primitives::b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347");

fn server(e: impl std::fmt::Display) -> RpcError {
    RpcError::server(e.to_string())
}

/// A committed transaction in geth's JSON form.
pub(super) fn transaction_json(
    tx: &RecoveredTx,
    loc: Option<&TxLocation>,
    base_fee: u64,
) -> Result<Value, RpcError> {
    use tc_types::Transaction as _;
    let effective = tx.tx.effective_gas_price(Some(base_fee));
    let t = alloy_rpc_types_eth::Transaction {
        inner: Recovered::new_unchecked(tx.tx.clone(), tx.sender),
        block_hash: loc.map(|l| l.block_hash),
        block_number: loc.map(|l| l.block_number),
        transaction_index: loc.map(|l| l.index),
        effective_gas_price: loc.map(|_| effective),
        block_timestamp: None,
    };
    serde_json::to_value(t).map_err(server)
}

/// Logs bloom of a set of logs.
pub(super) fn bloom<'a>(logs: impl IntoIterator<Item = &'a Log>) -> Bloom {
    let mut b = Bloom::default();
    for l in logs {
        b.accrue_raw_log(l.address, &l.topics);
    }
    b
}

/// A block header in geth's JSON form, exactly geth's fields: what `eth_subscribe("newHeads")`
/// sends (web3.py recognises a notification by its key set, so no extensions here).
pub(super) fn header_json(
    h: &tc_types::FastHeader,
    hash: B256,
    receipts: &[Receipt],
) -> Result<Value, RpcError> {
    let header = alloy_consensus::Header {
        parent_hash: h.parent_hash,
        ommers_hash: EMPTY_OMMERS,
        beneficiary: h.coinbase,
        state_root: h.state_root,
        transactions_root: h.tx_root,
        receipts_root: h.receipts_root,
        logs_bloom: bloom(receipts.iter().flat_map(|r| &r.logs)),
        difficulty: U256::ZERO,
        number: h.number,
        gas_limit: h.gas_limit,
        gas_used: h.gas_used,
        timestamp: h.timestamp_ms / 1000,
        extra_data: Default::default(),
        mix_hash: h.parent_hash,
        nonce: B64::ZERO,
        base_fee_per_gas: Some(h.base_fee),
        ..Default::default()
    };
    serde_json::to_value(alloy_rpc_types_eth::Header {
        hash,
        inner: header,
        total_difficulty: Some(U256::ZERO),
        size: None,
    })
    .map_err(server)
}

/// A block in geth's JSON form (`full`: transaction objects instead of hashes).
pub(super) fn block_json(
    chain: &ChainStore,
    block: &FastBlock,
    full: bool,
) -> Result<Value, RpcError> {
    let h = &block.header;
    let hash = block.hash();
    let receipts = chain
        .receipts(h.number)
        .map_err(server)?
        .unwrap_or_default();
    let mut v = header_json(h, hash, &receipts)?;
    let txs: Vec<Value> = if full {
        block
            .transactions
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let rec = RecoveredTx::recover(t.clone()).map_err(server)?;
                let loc = TxLocation {
                    block_number: h.number,
                    block_hash: hash,
                    index: i as u64,
                };
                transaction_json(&rec, Some(&loc), h.base_fee)
            })
            .collect::<Result<_, _>>()?
    } else {
        block
            .transactions
            .iter()
            .map(|t| json!(t.tx_hash()))
            .collect()
    };
    if let Value::Object(m) = &mut v {
        m.insert("transactions".into(), Value::Array(txs));
        m.insert("uncles".into(), json!([]));
        m.insert(
            "size".into(),
            hex_u64(
                block
                    .transactions
                    .iter()
                    .map(|t| t.eip2718_encoded_length() as u64)
                    .sum::<u64>()
                    + 512,
            ),
        );
        // trueconsensus extensions: who decided the block.
        m.insert("epoch".into(), hex_u64(h.epoch));
        m.insert("view".into(), hex_u64(h.view));
        m.insert("proposer".into(), json!(h.proposer));
    }
    Ok(v)
}

/// One log in geth's JSON form.
pub(super) fn log_json(l: &Log, r: &Receipt, loc: &TxLocation, log_index: u64) -> Value {
    json!({
        "address": l.address, "topics": l.topics, "data": l.data,
        "blockNumber": hex_u64(loc.block_number), "blockHash": loc.block_hash,
        "transactionHash": r.tx_hash, "transactionIndex": hex_u64(loc.index),
        "logIndex": hex_u64(log_index), "removed": false,
    })
}

/// A receipt in geth's JSON form.
pub(super) fn receipt_json(
    r: &Receipt,
    loc: &TxLocation,
    chain: &ChainStore,
) -> Result<Value, RpcError> {
    let receipts = chain
        .receipts(loc.block_number)
        .map_err(server)?
        .unwrap_or_default();
    let first_log_index: usize = receipts
        .iter()
        .take(loc.index as usize)
        .map(|r| r.logs.len())
        .sum();
    let logs: Vec<Value> = r
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| log_json(l, r, loc, (first_log_index + i) as u64))
        .collect();
    let contract = (r.contract_address != Address::ZERO).then_some(r.contract_address);
    let to = contract.is_none().then_some(r.to);
    Ok(json!({
        "transactionHash": r.tx_hash,
        "transactionIndex": hex_u64(loc.index),
        "blockHash": loc.block_hash,
        "blockNumber": hex_u64(loc.block_number),
        "from": r.from,
        "to": to,
        "cumulativeGasUsed": hex_u64(r.cumulative_gas_used),
        "gasUsed": hex_u64(r.gas_used),
        "effectiveGasPrice": format!("{:#x}", r.effective_gas_price),
        "contractAddress": contract,
        "logs": logs,
        "logsBloom": bloom(&r.logs),
        "status": if r.success { "0x1" } else { "0x0" },
        "type": hex_u64(u64::from(r.tx_type)),
    }))
}
