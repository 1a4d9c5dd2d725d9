//! Protobuf wire format for everything that crosses a process boundary.
//!
//! Map:
//! - [`pb`]     prost types generated from `proto/trueconsensus.proto` (compiled by protox at build time)
//! - [`convert`] strict conversions between `pb` and `tc-types` (lengths checked, versions checked)
//! - [`sync`]   domain types of the block-sync request/response protocol
//! - [`event`]  the stamped `NodeEvent` stream
//! - [`consensus`] signed PBFT messages (`tc_consensus::pbft::SignedMessage`)
//!
//! Decoding never panics: random, truncated or hostile bytes give a [`WireError`] naming the
//! problem (field, expected length, version).

pub mod consensus;
pub mod convert;
pub mod event;
pub mod sync;

/// Generated protobuf types.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    missing_debug_implementations
)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/trueconsensus.v1.rs"));
}

pub use consensus::{decode_consensus, encode_consensus};
pub use convert::{
    decode_certified_block, decode_fast_block, decode_snail_block, decode_transaction,
    decode_tx_batch, encode_certified_block, encode_fast_block, encode_snail_block,
    encode_transaction, encode_tx_batch,
};
pub use event::{decode_event, encode_event};
pub use sync::{
    ChainStatus, SyncRequest, SyncResponse, decode_sync_request, decode_sync_response,
    encode_sync_request, encode_sync_response,
};

/// Protocol version carried by every top-level message.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest message any decoder accepts (bytes); transports enforce their own, smaller limits.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Why bytes could not be turned into a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not valid protobuf for the expected message.
    #[error("malformed {message}: {reason}")]
    Malformed {
        /// Message type.
        message: &'static str,
        /// prost's explanation.
        reason: String,
    },
    /// Version we do not speak.
    #[error("unsupported protocol version {got} in {message} (this node speaks {expected})")]
    Version {
        /// Message type.
        message: &'static str,
        /// Received version.
        got: u32,
        /// Our version.
        expected: u32,
    },
    /// A required field is absent.
    #[error("missing field {0}")]
    Missing(&'static str),
    /// A fixed-size field has the wrong length.
    #[error("field {field}: expected {expected} bytes, got {got}")]
    Length {
        /// Field path.
        field: &'static str,
        /// Required length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Bytes exceed [`MAX_MESSAGE_BYTES`].
    #[error("message of {got} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Size received.
        got: usize,
        /// Limit.
        max: usize,
    },
    /// An embedded transaction is not a valid EIP-2718 transaction.
    #[error("field {field}: {reason}")]
    Transaction {
        /// Field path.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A value is outside its range.
    #[error("field {field}: {reason}")]
    Invalid {
        /// Field path.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Decode a prost message with size and malformed-bytes checks.
pub(crate) fn decode_pb<M: prost::Message + Default>(
    message: &'static str,
    bytes: &[u8],
) -> Result<M, WireError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge {
            got: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    M::decode(bytes).map_err(|e| WireError::Malformed {
        message,
        reason: e.to_string(),
    })
}

/// Check a top-level message's version.
pub(crate) fn check_version(message: &'static str, got: u32) -> Result<(), WireError> {
    if got == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(WireError::Version {
            message,
            got,
            expected: PROTOCOL_VERSION,
        })
    }
}
