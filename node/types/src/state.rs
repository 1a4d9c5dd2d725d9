//! The boundary between execution (`tc-exec`) and storage (`tc-storage`): a read trait over
//! account state and the canonical diff a block produces.
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::{Encodable, RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};

/// keccak256 of empty code.
pub const EMPTY_CODE_HASH: B256 =
    alloy_primitives::b256!("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

/// An account's basic fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct AccountInfo {
    /// Next nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// keccak256 of the code ([`EMPTY_CODE_HASH`] for externally owned accounts).
    pub code_hash: B256,
}

impl Default for AccountInfo {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: EMPTY_CODE_HASH,
        }
    }
}

/// Why state could not be read (storage failure or corruption). Not a user error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("state read failed: {0}")]
pub struct StateError(pub String);

/// Read access to world state at some block.
pub trait StateReader {
    /// Account fields, `None` if the account does not exist.
    fn account(&self, address: &Address) -> Result<Option<AccountInfo>, StateError>;
    /// A storage slot (zero when unset).
    fn storage(&self, address: &Address, slot: &U256) -> Result<U256, StateError>;
    /// Code by its hash.
    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError>;
    /// Hash of a fast block by number (for the BLOCKHASH opcode), `None` if unknown.
    fn block_hash(&self, number: u64) -> Result<Option<B256>, StateError>;
}

/// One changed storage slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct StorageChange {
    /// Contract.
    pub address: Address,
    /// Slot.
    pub slot: U256,
    /// New value (zero = delete).
    pub value: U256,
}

/// One changed account (`info: None` = the account was destroyed / is now empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountChange {
    /// Account.
    pub address: Address,
    /// New fields, or None when deleted.
    pub info: Option<AccountInfo>,
}

/// Everything a block changed, in canonical order (sorted by address, then slot), so that the
/// commitment is the same on every node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    /// Changed accounts, sorted by address, unique.
    pub accounts: Vec<AccountChange>,
    /// Changed slots, sorted by (address, slot), unique.
    pub storage: Vec<StorageChange>,
    /// Accounts whose whole storage was wiped before `storage` applies (self-destruct), sorted.
    pub wiped: Vec<Address>,
    /// New code by hash, sorted by hash, unique.
    pub code: Vec<(B256, Bytes)>,
}

impl StateDiff {
    /// keccak256 over a canonical encoding of the diff.
    pub fn commitment(&self) -> B256 {
        let mut buf = Vec::new();
        for a in &self.accounts {
            a.address.encode(&mut buf);
            match &a.info {
                Some(info) => info.encode(&mut buf),
                None => buf.push(0x80),
            }
        }
        buf.push(0xff);
        for s in &self.storage {
            s.encode(&mut buf);
        }
        buf.push(0xff);
        for w in &self.wiped {
            w.encode(&mut buf);
        }
        buf.push(0xff);
        for (h, _) in &self.code {
            h.encode(&mut buf);
        }
        keccak256(&buf)
    }
}

/// The rolling state commitment: keccak256(parent ‖ diff commitment).
pub fn next_state_root(parent: &B256, diff: &StateDiff) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(parent.as_slice());
    buf[32..].copy_from_slice(diff.commitment().as_slice());
    keccak256(buf)
}
