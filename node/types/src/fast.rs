//! The fast chain: blocks decided by the committee, their receipts and commit certificates.
//!
//! Hashes are keccak256 over the RLP encoding of the header. Commitments in the header:
//! - `tx_root`       = keccak256 of the RLP list of the EIP-2718 encoded transactions;
//! - `receipts_root` = keccak256 of the RLP list of [`Receipt`]s;
//! - `state_root`    = a rolling commitment: keccak256(parent state_root ‖ keccak256(state
//!   changes of this block in canonical order)), computed by `tc-exec`; two nodes that executed
//!   the same blocks from the same genesis agree on it.
use alloy_primitives::{Address, B256, Bytes, keccak256};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};

use crate::committee::{MemberIndex, PubKey, Signature};
use crate::tx::TxEnvelope;

/// Header of a fast block.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable,
)]
pub struct FastHeader {
    /// Height; genesis is 0.
    pub number: u64,
    /// Hash of the parent header (zero for genesis).
    pub parent_hash: B256,
    /// Committee epoch that decided this block.
    pub epoch: u64,
    /// PBFT view in which it was decided.
    pub view: u64,
    /// Consensus key of the proposing member (zero for genesis).
    pub proposer: PubKey,
    /// Address credited with fees.
    pub coinbase: Address,
    /// Proposal time, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Gas used by all transactions.
    pub gas_used: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// EIP-1559 base fee per gas (wei).
    pub base_fee: u64,
    /// Commitment to the transactions (see module docs).
    pub tx_root: B256,
    /// Commitment to the receipts.
    pub receipts_root: B256,
    /// Rolling state commitment after executing this block.
    pub state_root: B256,
    /// Hash of the next epoch's committee when this is the last block of an epoch, else zero.
    pub next_committee: B256,
}

impl FastHeader {
    /// keccak256 of the RLP encoding.
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(self.length());
        self.encode(&mut buf);
        keccak256(&buf)
    }
}

/// A fast block: header + ordered transactions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FastBlock {
    /// The header.
    pub header: FastHeader,
    /// Transactions in execution order.
    pub transactions: Vec<TxEnvelope>,
}

impl FastBlock {
    /// Hash of the header.
    pub fn hash(&self) -> B256 {
        self.header.hash()
    }
}

/// Commitment to an ordered list of transactions (`tx_root`).
pub fn tx_root(txs: &[TxEnvelope]) -> B256 {
    use alloy_eips::eip2718::Encodable2718;
    let encoded: Vec<Bytes> = txs.iter().map(|t| Bytes::from(t.encoded_2718())).collect();
    let mut buf = Vec::new();
    encoded.encode(&mut buf);
    keccak256(&buf)
}

/// Where a committed transaction lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct TxLocation {
    /// Fast block number.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Index within the block.
    pub index: u64,
}

/// An EVM log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct Log {
    /// Emitting contract.
    pub address: Address,
    /// Indexed topics.
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
}

/// Outcome of one executed transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: B256,
    /// EIP-2718 type (0 legacy, 1 EIP-2930, 2 EIP-1559).
    pub tx_type: u8,
    /// Recovered sender.
    pub from: Address,
    /// Recipient (zero address for contract creation; see `contract_address`).
    pub to: Address,
    /// true = success, false = reverted / halted.
    pub success: bool,
    /// Gas used by this transaction.
    pub gas_used: u64,
    /// Cumulative gas used in the block up to and including this transaction.
    pub cumulative_gas_used: u64,
    /// Price per gas actually paid (wei).
    pub effective_gas_price: u128,
    /// Address of the created contract, or zero.
    pub contract_address: Address,
    /// Logs emitted (empty when reverted).
    pub logs: Vec<Log>,
    /// Revert data / halt reason bytes (empty on success).
    pub output: Bytes,
}

/// Commitment to the receipts of a block (`receipts_root`).
pub fn receipts_root(receipts: &[Receipt]) -> B256 {
    let mut buf = Vec::new();
    alloy_rlp::encode_list(receipts, &mut buf);
    keccak256(&buf)
}

/// One member's commit signature inside a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct CertSignature {
    /// Index of the signer in the epoch's committee.
    pub signer: MemberIndex,
    /// ed25519 signature over [`commit_signing_bytes`].
    pub signature: Signature,
}

/// Proof that a quorum of the epoch's committee committed a block:
/// ≥ quorum commit signatures over (epoch, view, seq, block hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct CommitCertificate {
    /// Committee epoch.
    pub epoch: u64,
    /// View of the commits.
    pub view: u64,
    /// Sequence number (= fast block number).
    pub seq: u64,
    /// Hash of the committed block header.
    pub block_hash: B256,
    /// Signatures, sorted by signer index, no duplicates.
    pub signatures: Vec<CertSignature>,
}

impl CommitCertificate {
    /// Signer indices in order.
    pub fn signers(&self) -> Vec<MemberIndex> {
        self.signatures.iter().map(|s| s.signer).collect()
    }

    /// The bytes every signature in this certificate signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        commit_signing_bytes(self.epoch, self.view, self.seq, &self.block_hash)
    }
}

/// Domain-separated bytes a member signs in a PBFT COMMIT (and thus in a certificate).
pub fn commit_signing_bytes(epoch: u64, view: u64, seq: u64, digest: &B256) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + 24 + 32);
    out.extend_from_slice(b"tc/commit");
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&view.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(digest.as_slice());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_hash_changes_with_every_field() {
        let h = FastHeader::default();
        let base = h.hash();
        let mut h2 = h.clone();
        h2.number = 1;
        assert_ne!(base, h2.hash());
        let mut h3 = h.clone();
        h3.view = 1;
        assert_ne!(base, h3.hash());
        assert_eq!(base, FastHeader::default().hash());
    }

    #[test]
    fn header_rlp_roundtrip() {
        let h = FastHeader {
            number: 7,
            gas_limit: 30_000_000,
            base_fee: 1,
            ..Default::default()
        };
        let mut buf = Vec::new();
        h.encode(&mut buf);
        let back =
            <FastHeader as alloy_rlp::Decodable>::decode(&mut buf.as_slice()).expect("decode");
        assert_eq!(h, back);
    }
}
