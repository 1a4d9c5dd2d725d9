//! Strict conversions between generated protobuf types and `tc-types`.
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use prost::Message;
use tc_types::{
    Address, B256, B512, CertSignature, CommitCertificate, FastBlock, FastHeader, FruitRef,
    SnailBlock, SnailHeader, TxEnvelope,
};

use crate::{PROTOCOL_VERSION, WireError, check_version, decode_pb, pb};

pub(crate) fn b256(field: &'static str, bytes: &[u8]) -> Result<B256, WireError> {
    B256::try_from(bytes).map_err(|_| WireError::Length {
        field,
        expected: 32,
        got: bytes.len(),
    })
}

pub(crate) fn b512(field: &'static str, bytes: &[u8]) -> Result<B512, WireError> {
    B512::try_from(bytes).map_err(|_| WireError::Length {
        field,
        expected: 64,
        got: bytes.len(),
    })
}

pub(crate) fn address(field: &'static str, bytes: &[u8]) -> Result<Address, WireError> {
    Address::try_from(bytes).map_err(|_| WireError::Length {
        field,
        expected: 20,
        got: bytes.len(),
    })
}

fn tx_from_raw(field: &'static str, raw: &[u8]) -> Result<TxEnvelope, WireError> {
    let mut buf = raw;
    let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| WireError::Transaction {
        field,
        reason: e.to_string(),
    })?;
    if !buf.is_empty() {
        return Err(WireError::Transaction {
            field,
            reason: format!("{} trailing bytes", buf.len()),
        });
    }
    Ok(tx)
}

/// Header → protobuf.
pub fn header_to_pb(h: &FastHeader) -> pb::FastHeader {
    pb::FastHeader {
        number: h.number,
        parent_hash: h.parent_hash.to_vec(),
        epoch: h.epoch,
        view: h.view,
        proposer: h.proposer.to_vec(),
        coinbase: h.coinbase.to_vec(),
        timestamp_ms: h.timestamp_ms,
        gas_used: h.gas_used,
        gas_limit: h.gas_limit,
        base_fee: h.base_fee,
        tx_root: h.tx_root.to_vec(),
        receipts_root: h.receipts_root.to_vec(),
        state_root: h.state_root.to_vec(),
        next_committee: h.next_committee.to_vec(),
    }
}

/// Protobuf → header.
pub fn header_from_pb(h: &pb::FastHeader) -> Result<FastHeader, WireError> {
    Ok(FastHeader {
        number: h.number,
        parent_hash: b256("header.parent_hash", &h.parent_hash)?,
        epoch: h.epoch,
        view: h.view,
        proposer: b256("header.proposer", &h.proposer)?,
        coinbase: address("header.coinbase", &h.coinbase)?,
        timestamp_ms: h.timestamp_ms,
        gas_used: h.gas_used,
        gas_limit: h.gas_limit,
        base_fee: h.base_fee,
        tx_root: b256("header.tx_root", &h.tx_root)?,
        receipts_root: b256("header.receipts_root", &h.receipts_root)?,
        state_root: b256("header.state_root", &h.state_root)?,
        next_committee: b256("header.next_committee", &h.next_committee)?,
    })
}

/// Block → protobuf.
pub fn block_to_pb(b: &FastBlock) -> pb::FastBlock {
    pb::FastBlock {
        header: Some(header_to_pb(&b.header)),
        transactions: b.transactions.iter().map(|t| t.encoded_2718()).collect(),
    }
}

/// Protobuf → block.
pub fn block_from_pb(b: &pb::FastBlock) -> Result<FastBlock, WireError> {
    let header = header_from_pb(
        b.header
            .as_ref()
            .ok_or(WireError::Missing("block.header"))?,
    )?;
    let transactions = b
        .transactions
        .iter()
        .map(|raw| tx_from_raw("block.transactions", raw))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(FastBlock {
        header,
        transactions,
    })
}

/// Certificate → protobuf.
pub fn certificate_to_pb(c: &CommitCertificate) -> pb::CommitCertificate {
    pb::CommitCertificate {
        epoch: c.epoch,
        view: c.view,
        seq: c.seq,
        block_hash: c.block_hash.to_vec(),
        signatures: c
            .signatures
            .iter()
            .map(|s| pb::CertSignature {
                signer: s.signer,
                signature: s.signature.to_vec(),
            })
            .collect(),
    }
}

/// Protobuf → certificate.
pub fn certificate_from_pb(c: &pb::CommitCertificate) -> Result<CommitCertificate, WireError> {
    Ok(CommitCertificate {
        epoch: c.epoch,
        view: c.view,
        seq: c.seq,
        block_hash: b256("certificate.block_hash", &c.block_hash)?,
        signatures: c
            .signatures
            .iter()
            .map(|s| {
                Ok(CertSignature {
                    signer: s.signer,
                    signature: b512("certificate.signatures.signature", &s.signature)?,
                })
            })
            .collect::<Result<Vec<_>, WireError>>()?,
    })
}

/// Snail block → protobuf.
pub fn snail_to_pb(b: &SnailBlock) -> pb::SnailBlock {
    let h = &b.header;
    pb::SnailBlock {
        header: Some(pb::SnailHeader {
            number: h.number,
            parent_hash: h.parent_hash.to_vec(),
            difficulty: h.difficulty,
            nonce: h.nonce,
            miner: h.miner.to_vec(),
            coinbase: h.coinbase.to_vec(),
            timestamp_ms: h.timestamp_ms,
            fruits_hash: h.fruits_hash.to_vec(),
        }),
        fruits: b
            .fruits
            .iter()
            .map(|f| pb::FruitRef {
                number: f.number,
                hash: f.hash.to_vec(),
            })
            .collect(),
    }
}

/// Protobuf → snail block.
pub fn snail_from_pb(b: &pb::SnailBlock) -> Result<SnailBlock, WireError> {
    let h = b
        .header
        .as_ref()
        .ok_or(WireError::Missing("snail_block.header"))?;
    Ok(SnailBlock {
        header: SnailHeader {
            number: h.number,
            parent_hash: b256("snail_header.parent_hash", &h.parent_hash)?,
            difficulty: h.difficulty,
            nonce: h.nonce,
            miner: b256("snail_header.miner", &h.miner)?,
            coinbase: address("snail_header.coinbase", &h.coinbase)?,
            timestamp_ms: h.timestamp_ms,
            fruits_hash: b256("snail_header.fruits_hash", &h.fruits_hash)?,
        },
        fruits: b
            .fruits
            .iter()
            .map(|f| {
                Ok(FruitRef {
                    number: f.number,
                    hash: b256("snail_block.fruits.hash", &f.hash)?,
                })
            })
            .collect::<Result<Vec<_>, WireError>>()?,
    })
}

/// Encode a transaction message (raw EIP-2718 bytes inside).
pub fn encode_transaction(tx: &TxEnvelope) -> Vec<u8> {
    pb::Transaction {
        version: PROTOCOL_VERSION,
        raw: tx.encoded_2718(),
    }
    .encode_to_vec()
}

/// Decode a transaction message (signature not yet verified: use `RecoveredTx::recover`).
pub fn decode_transaction(bytes: &[u8]) -> Result<TxEnvelope, WireError> {
    let m: pb::Transaction = decode_pb("Transaction", bytes)?;
    check_version("Transaction", m.version)?;
    tx_from_raw("transaction.raw", &m.raw)
}

/// Encode a batch of raw (EIP-2718) transactions for `tc/txs/2` gossip.
pub fn encode_tx_batch<T: AsRef<[u8]>>(raws: &[T]) -> Vec<u8> {
    pb::TxBatch {
        version: PROTOCOL_VERSION,
        raws: raws.iter().map(|r| r.as_ref().to_vec()).collect(),
    }
    .encode_to_vec()
}

/// Decode a transaction batch into its raw transactions (each still to be decoded and
/// recovered by the receiver); an empty batch is malformed.
pub fn decode_tx_batch(bytes: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let m: pb::TxBatch = decode_pb("TxBatch", bytes)?;
    check_version("TxBatch", m.version)?;
    if m.raws.is_empty() {
        return Err(WireError::Malformed {
            message: "TxBatch",
            reason: "no transactions".into(),
        });
    }
    Ok(m.raws)
}

/// Encode a fast block alone (the block a PRE-PREPARE carries).
pub fn encode_fast_block(block: &FastBlock) -> Vec<u8> {
    block_to_pb(block).encode_to_vec()
}

/// Decode a fast block alone.
pub fn decode_fast_block(bytes: &[u8]) -> Result<FastBlock, WireError> {
    block_from_pb(&decode_pb::<pb::FastBlock>("FastBlock", bytes)?)
}

/// Encode a certified block.
pub fn encode_certified_block(block: &FastBlock, cert: &CommitCertificate) -> Vec<u8> {
    certified_to_pb(block, cert).encode_to_vec()
}

pub(crate) fn certified_to_pb(block: &FastBlock, cert: &CommitCertificate) -> pb::CertifiedBlock {
    pb::CertifiedBlock {
        version: PROTOCOL_VERSION,
        block: Some(block_to_pb(block)),
        certificate: Some(certificate_to_pb(cert)),
    }
}

pub(crate) fn certified_from_pb(
    m: &pb::CertifiedBlock,
) -> Result<(FastBlock, CommitCertificate), WireError> {
    check_version("CertifiedBlock", m.version)?;
    let block = block_from_pb(
        m.block
            .as_ref()
            .ok_or(WireError::Missing("certified_block.block"))?,
    )?;
    let cert = certificate_from_pb(
        m.certificate
            .as_ref()
            .ok_or(WireError::Missing("certified_block.certificate"))?,
    )?;
    Ok((block, cert))
}

/// Decode a certified block (certificate not yet verified against a committee).
pub fn decode_certified_block(bytes: &[u8]) -> Result<(FastBlock, CommitCertificate), WireError> {
    certified_from_pb(&decode_pb::<pb::CertifiedBlock>("CertifiedBlock", bytes)?)
}

/// Encode a snail block message.
pub fn encode_snail_block(block: &SnailBlock) -> Vec<u8> {
    pb::SnailBlockMsg {
        version: PROTOCOL_VERSION,
        block: Some(snail_to_pb(block)),
    }
    .encode_to_vec()
}

/// Decode a snail block message (PoW not yet verified).
pub fn decode_snail_block(bytes: &[u8]) -> Result<SnailBlock, WireError> {
    let m: pb::SnailBlockMsg = decode_pb("SnailBlockMsg", bytes)?;
    check_version("SnailBlockMsg", m.version)?;
    snail_from_pb(
        m.block
            .as_ref()
            .ok_or(WireError::Missing("snail_block_msg.block"))?,
    )
}
