//! Key layouts and value encodings. Decoding never panics: bad bytes become
//! [`StorageError::Corrupt`].
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable};
use tc_types::TxEnvelope;

use crate::error::StorageError;
use crate::table::Table;

/// A u64 as an 8-byte big-endian key (iteration order = numeric order).
pub fn num_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// `storage` table key: address ‖ slot (32 bytes BE).
pub fn slot_key(address: &Address, slot: &U256) -> [u8; 52] {
    let mut k = [0u8; 52];
    k[..20].copy_from_slice(address.as_slice());
    k[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    k
}

/// Decode an 8-byte big-endian number.
pub fn decode_num(
    table: Table,
    key: &[u8],
    bytes: &[u8],
    what: &'static str,
) -> Result<u64, StorageError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| {
        StorageError::corrupt(
            table,
            key,
            what,
            format!("expected 8 bytes, got {}", bytes.len()),
        )
    })?;
    Ok(u64::from_be_bytes(arr))
}

/// Decode a 32-byte hash.
pub fn decode_b256(
    table: Table,
    key: &[u8],
    bytes: &[u8],
    what: &'static str,
) -> Result<B256, StorageError> {
    B256::try_from(bytes).map_err(|_| {
        StorageError::corrupt(
            table,
            key,
            what,
            format!("expected 32 bytes, got {}", bytes.len()),
        )
    })
}

/// Decode a 32-byte big-endian word.
pub fn decode_u256(
    table: Table,
    key: &[u8],
    bytes: &[u8],
    what: &'static str,
) -> Result<U256, StorageError> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        StorageError::corrupt(
            table,
            key,
            what,
            format!("expected 32 bytes, got {}", bytes.len()),
        )
    })?;
    Ok(U256::from_be_bytes(arr))
}

/// RLP encoding of a value.
pub fn rlp<T: Encodable + ?Sized>(value: &T) -> Vec<u8> {
    let mut buf = Vec::with_capacity(value.length());
    value.encode(&mut buf);
    buf
}

/// RLP encoding of a list.
pub fn rlp_list<T: Encodable>(items: &[T]) -> Vec<u8> {
    let mut buf = Vec::new();
    alloy_rlp::encode_list(items, &mut buf);
    buf
}

/// Decode an RLP value that must use every byte.
pub fn decode_rlp<T: Decodable>(
    table: Table,
    key: &[u8],
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StorageError> {
    let mut buf = bytes;
    let v = T::decode(&mut buf).map_err(|e| StorageError::corrupt(table, key, what, e))?;
    if !buf.is_empty() {
        return Err(StorageError::corrupt(
            table,
            key,
            what,
            format!("{} trailing bytes", buf.len()),
        ));
    }
    Ok(v)
}

/// A block body: RLP list of the EIP-2718 encodings.
pub fn encode_txs(txs: &[TxEnvelope]) -> Vec<u8> {
    let raw: Vec<Bytes> = txs.iter().map(|t| Bytes::from(t.encoded_2718())).collect();
    rlp_list(&raw)
}

/// Inverse of [`encode_txs`].
pub fn decode_txs(table: Table, key: &[u8], bytes: &[u8]) -> Result<Vec<TxEnvelope>, StorageError> {
    let raw: Vec<Bytes> = decode_rlp(table, key, bytes, "block body")?;
    raw.iter()
        .map(|r| {
            let mut buf = r.as_ref();
            let tx = TxEnvelope::decode_2718(&mut buf)
                .map_err(|e| StorageError::corrupt(table, key, "transaction", e))?;
            if !buf.is_empty() {
                return Err(StorageError::corrupt(
                    table,
                    key,
                    "transaction",
                    format!("{} trailing bytes", buf.len()),
                ));
            }
            Ok(tx)
        })
        .collect()
}

/// JSON encoding (used for committees, which carry no RLP derive).
pub fn json<T: serde::Serialize>(
    table: Table,
    key: &[u8],
    value: &T,
) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(value)
        .map_err(|e| StorageError::backend(table, "encode", format!("key 0x{}: {e}", hex(key))))
}

/// Inverse of [`json`].
pub fn decode_json<T: serde::de::DeserializeOwned>(
    table: Table,
    key: &[u8],
    bytes: &[u8],
    what: &'static str,
) -> Result<T, StorageError> {
    serde_json::from_slice(bytes).map_err(|e| StorageError::corrupt(table, key, what, e))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
