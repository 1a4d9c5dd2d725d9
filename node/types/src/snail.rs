//! The proof-of-work snail chain: headers, blocks and fruits (references to fast blocks).
use alloy_primitives::{Address, B256, keccak256};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};

use crate::committee::PubKey;

/// Reference to a committed fast block carried by a snail block ("fruit").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, RlpEncodable, RlpDecodable,
)]
pub struct FruitRef {
    /// Fast block number.
    pub number: u64,
    /// Fast block hash.
    pub hash: B256,
}

/// Header of a snail block.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable,
)]
pub struct SnailHeader {
    /// Height; genesis is 0.
    pub number: u64,
    /// Hash of the parent header.
    pub parent_hash: B256,
    /// Difficulty: the PoW hash must be ≤ 2^256 / difficulty.
    pub difficulty: u64,
    /// PoW nonce.
    pub nonce: u64,
    /// Consensus key of the miner (becomes its committee key if elected).
    pub miner: PubKey,
    /// Miner's reward address.
    pub coinbase: Address,
    /// Mining time, milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// keccak256 of the RLP list of fruits in the body.
    pub fruits_hash: B256,
}

impl SnailHeader {
    /// Block hash: keccak256 of the full RLP encoding (nonce included).
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(self.length());
        self.encode(&mut buf);
        keccak256(&buf)
    }

    /// Seal hash: the header hash with the nonce zeroed; the PoW puzzle is
    /// keccak256(seal_hash ‖ nonce as 8 big-endian bytes).
    pub fn seal_hash(&self) -> B256 {
        let mut h = self.clone();
        h.nonce = 0;
        h.hash()
    }
}

/// A snail block: header + fruits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnailBlock {
    /// The header.
    pub header: SnailHeader,
    /// Fruits (fast block references) in ascending fast-block order.
    pub fruits: Vec<FruitRef>,
}

/// keccak256 of the RLP list of fruits (`fruits_hash`).
pub fn fruits_hash(fruits: &[FruitRef]) -> B256 {
    let mut buf = Vec::new();
    alloy_rlp::encode_list(fruits, &mut buf);
    keccak256(&buf)
}
