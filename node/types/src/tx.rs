//! Ethereum typed transactions (alloy's envelope: legacy with EIP-155, EIP-2930, EIP-1559),
//! decoding from raw EIP-2718 bytes, sender recovery, and the shared rejection reasons.
use alloy_consensus::transaction::SignerRecoverable;
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

pub use alloy_consensus::{Transaction, TxEnvelope};

/// A transaction with its recovered sender and hash (recovery is done once, at admission).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredTx {
    /// The signed transaction.
    pub tx: TxEnvelope,
    /// Recovered signer.
    pub sender: Address,
    /// Transaction hash (keccak256 of the EIP-2718 encoding).
    pub hash: B256,
    /// Size of the EIP-2718 encoding in bytes.
    pub size: usize,
}

impl RecoveredTx {
    /// Decode raw EIP-2718 bytes and recover the sender.
    pub fn decode(raw: &[u8]) -> Result<Self, TxError> {
        Self::recover(Self::decode_envelope(raw)?)
    }

    /// Decode raw EIP-2718 bytes without recovering the sender (cheap: lets a receiver skip
    /// the signature work for a transaction it already has, by hash).
    pub fn decode_envelope(raw: &[u8]) -> Result<TxEnvelope, TxError> {
        let mut buf = raw;
        let tx = TxEnvelope::decode_2718(&mut buf).map_err(|e| TxError::Decode(e.to_string()))?;
        if !buf.is_empty() {
            return Err(TxError::Decode(format!(
                "{} trailing bytes after transaction",
                buf.len()
            )));
        }
        Ok(tx)
    }

    /// Recover the sender of an already decoded transaction.
    pub fn recover(tx: TxEnvelope) -> Result<Self, TxError> {
        let sender = tx.recover_signer().map_err(|_| TxError::BadSignature)?;
        let hash = *tx.tx_hash();
        let size = tx.encode_2718_len();
        Ok(Self {
            tx,
            sender,
            hash,
            size,
        })
    }

    /// Raw EIP-2718 bytes.
    pub fn raw(&self) -> Bytes {
        Bytes::from(self.tx.encoded_2718())
    }

    /// Sender nonce.
    pub fn nonce(&self) -> u64 {
        self.tx.nonce()
    }
}

/// Why a transaction was refused (by the mempool or by execution). Every variant says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TxError {
    /// Bytes are not a valid EIP-2718 transaction.
    #[error("malformed transaction: {0}")]
    Decode(String),
    /// Signature does not recover to a sender.
    #[error("invalid signature: sender cannot be recovered")]
    BadSignature,
    /// Chain id missing (pre-EIP-155 legacy) or different from ours.
    #[error("wrong chain id: expected {expected}, got {got:?}")]
    WrongChainId {
        /// Our chain id.
        expected: u64,
        /// The transaction's (None = unprotected legacy).
        got: Option<u64>,
    },
    /// Nonce already used.
    #[error("nonce too low: next nonce {expected}, tx nonce {got}")]
    NonceTooLow {
        /// Account's next nonce.
        expected: u64,
        /// Transaction nonce.
        got: u64,
    },
    /// Nonce leaves a gap larger than the pool accepts / not executable now.
    #[error("nonce too high: next nonce {expected}, tx nonce {got}")]
    NonceTooHigh {
        /// Account's next nonce.
        expected: u64,
        /// Transaction nonce.
        got: u64,
    },
    /// Balance below gas_limit × max fee + value.
    #[error("insufficient funds for gas * price + value: balance {have}, cost {need}")]
    InsufficientFunds {
        /// Sender balance (wei).
        have: U256,
        /// Upfront cost (wei).
        need: U256,
    },
    /// Gas limit below the intrinsic gas.
    #[error("intrinsic gas too low: gas limit {have}, intrinsic gas {need}")]
    IntrinsicGasTooLow {
        /// Transaction gas limit.
        have: u64,
        /// Intrinsic gas required.
        need: u64,
    },
    /// Gas limit above the block gas limit.
    #[error("exceeds block gas limit: gas limit {have}, block limit {max}")]
    GasLimitTooHigh {
        /// Transaction gas limit.
        have: u64,
        /// Block gas limit.
        max: u64,
    },
    /// Max fee per gas below the current base fee.
    #[error("max fee per gas less than block base fee: max fee {have}, base fee {need}")]
    FeeCapTooLow {
        /// Transaction max fee per gas.
        have: u128,
        /// Block base fee.
        need: u128,
    },
    /// Priority fee above max fee.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// Encoded size above the pool's per-transaction limit.
    #[error("oversized transaction: {size} bytes, limit {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Limit.
        max: usize,
    },
    /// Same hash already in the pool or chain.
    #[error("already known")]
    AlreadyKnown,
    /// A transaction with the same sender and nonce is pooled and this one does not pay enough more.
    #[error("replacement transaction underpriced: needs fee ≥ {need}, got {have}")]
    ReplacementUnderpriced {
        /// Offered max fee.
        have: u128,
        /// Required max fee.
        need: u128,
    },
    /// Pool is full and this transaction pays less than everything in it.
    #[error("txpool is full: transaction fee {fee} below the cheapest pooled fee {cheapest}")]
    PoolFull {
        /// Offered max fee.
        fee: u128,
        /// Cheapest pooled max fee.
        cheapest: u128,
    },
    /// Transaction type not supported (e.g. blob or EIP-7702).
    #[error("transaction type {0} not supported")]
    UnsupportedType(u8),
    /// The EVM refused the transaction for another reason.
    #[error("invalid transaction: {0}")]
    Invalid(String),
}
