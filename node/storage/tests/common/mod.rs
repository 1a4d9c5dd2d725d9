//! Fixtures shared by the integration tests: blocks with transactions, receipts, certificates
//! and state diffs, and a generic chain builder.
#![allow(dead_code, unreachable_pub)]

use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use tc_storage::ChainStore;
use tc_types::{
    AccountChange, AccountInfo, CertSignature, CommitCertificate, FastBlock, FastHeader, Receipt,
    StateDiff, StorageChange, TxEnvelope, keccak256,
};

/// A signed-looking transaction (the signature is a fixed test value; storage never recovers).
pub fn tx(nonce: u64, eip1559: bool) -> TxEnvelope {
    let to = TxKind::Call(Address::repeat_byte(0x42));
    if eip1559 {
        let t = TxEip1559 {
            chain_id: 7,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: 1,
            to,
            value: U256::from(nonce + 1),
            ..Default::default()
        };
        TxEnvelope::from(t.into_signed(Signature::test_signature()))
    } else {
        let t = TxLegacy {
            chain_id: Some(7),
            nonce,
            gas_price: 1_000_000_000,
            gas_limit: 21_000,
            to,
            value: U256::from(1),
            ..Default::default()
        };
        TxEnvelope::from(t.into_signed(Signature::test_signature()))
    }
}

pub fn addr(i: u8) -> Address {
    Address::repeat_byte(i)
}

/// The diff block `n` produces: account 1's balance = n, nonce = n; slot (addr 2, slot 0) = n
/// (deleted when n is a multiple of 5); account (100 + n) created; code for block 1.
pub fn diff_for(n: u64) -> StateDiff {
    let mut accounts = vec![AccountChange {
        address: addr(1),
        info: Some(AccountInfo {
            nonce: n,
            balance: U256::from(n * 1000),
            ..Default::default()
        }),
    }];
    let created = addr(100u8.wrapping_add(n as u8));
    accounts.push(AccountChange {
        address: created,
        info: Some(AccountInfo {
            nonce: 1,
            ..Default::default()
        }),
    });
    accounts.sort_by_key(|a| a.address);
    let value = if n.is_multiple_of(5) {
        U256::ZERO
    } else {
        U256::from(n)
    };
    let storage = vec![StorageChange {
        address: addr(2),
        slot: U256::ZERO,
        value,
    }];
    let code = if n == 1 {
        let c = Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xf3]);
        vec![(keccak256(&c), c)]
    } else {
        vec![]
    };
    StateDiff {
        accounts,
        storage,
        wiped: vec![],
        code,
    }
}

/// Block `n` with `txs` transactions on top of `parent`.
pub fn block(n: u64, parent: B256, txs: usize) -> FastBlock {
    let transactions: Vec<TxEnvelope> = (0..txs)
        .map(|i| tx(n * 1_000 + i as u64, i % 2 == 0))
        .collect();
    let header = FastHeader {
        number: n,
        parent_hash: parent,
        epoch: n / 10,
        gas_used: 21_000 * txs as u64,
        gas_limit: 30_000_000,
        timestamp_ms: 1_700_000_000_000 + n,
        tx_root: tc_types::tx_root(&transactions),
        ..Default::default()
    };
    FastBlock {
        header,
        transactions,
    }
}

pub fn receipts_for(block: &FastBlock) -> Vec<Receipt> {
    let mut cumulative = 0;
    block
        .transactions
        .iter()
        .map(|t| {
            cumulative += 21_000;
            Receipt {
                tx_hash: *t.tx_hash(),
                tx_type: t.tx_type() as u8,
                from: addr(9),
                to: addr(0x42),
                success: true,
                gas_used: 21_000,
                cumulative_gas_used: cumulative,
                effective_gas_price: 1_000_000_000,
                contract_address: Address::ZERO,
                logs: vec![],
                output: Bytes::new(),
            }
        })
        .collect()
}

pub fn cert_for(block: &FastBlock) -> CommitCertificate {
    CommitCertificate {
        epoch: block.header.epoch,
        view: 0,
        seq: block.header.number,
        block_hash: block.hash(),
        signatures: vec![CertSignature {
            signer: 0,
            signature: Default::default(),
        }],
    }
}

/// Commit blocks `from..=to` (genesis at 0 without certificate) and return their hashes.
pub fn commit_range(chain: &ChainStore, from: u64, to: u64, txs: usize) -> Vec<B256> {
    let mut parent = match chain.fast_head().expect("head") {
        Some((_, h)) => h,
        None => B256::ZERO,
    };
    let mut hashes = vec![];
    for n in from..=to {
        let b = block(n, parent, txs);
        let cert = (n > 0).then(|| cert_for(&b));
        chain
            .commit_block(&b, &receipts_for(&b), cert.as_ref(), &diff_for(n))
            .expect("commit");
        parent = b.hash();
        hashes.push(parent);
    }
    hashes
}
