//! Domain types of the block-sync protocol (request-response between peers).
use prost::Message;
use tc_types::{B256, CommitCertificate, FastBlock, SnailBlock};

use crate::convert::{b256, certified_from_pb, certified_to_pb, snail_from_pb, snail_to_pb};
use crate::{PROTOCOL_VERSION, WireError, check_version, decode_pb, pb};

/// Largest range a single request may ask for.
pub const MAX_RANGE: u32 = 512;

/// A peer's view of its chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainStatus {
    /// Hash of the genesis fast block (peers on another chain are refused).
    pub genesis_hash: B256,
    /// Fast head height.
    pub fast_head: u64,
    /// Fast head hash.
    pub fast_head_hash: B256,
    /// Snail head height.
    pub snail_head: u64,
    /// Snail head hash.
    pub snail_head_hash: B256,
}

/// What a syncing node asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// The peer's chain status.
    Status,
    /// Certified fast blocks `from..from+count`.
    FastBlocks {
        /// First height.
        from: u64,
        /// How many (1..=MAX_RANGE).
        count: u32,
    },
    /// Canonical snail blocks `from..from+count`.
    SnailBlocks {
        /// First height.
        from: u64,
        /// How many (1..=MAX_RANGE).
        count: u32,
    },
}

/// What a peer answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncResponse {
    /// Chain status.
    Status(ChainStatus),
    /// Certified fast blocks in ascending order.
    FastBlocks(Vec<(FastBlock, CommitCertificate)>),
    /// Snail blocks in ascending order.
    SnailBlocks(Vec<SnailBlock>),
    /// The request could not be served.
    Error(String),
}

fn range(field: &'static str, r: &pb::Range) -> Result<(u64, u32), WireError> {
    if r.count == 0 || r.count > MAX_RANGE {
        return Err(WireError::Invalid {
            field,
            reason: format!("must be between 1 and {MAX_RANGE} (got {})", r.count),
        });
    }
    Ok((r.from, r.count))
}

/// Encode a sync request.
pub fn encode_sync_request(req: &SyncRequest) -> Vec<u8> {
    use pb::sync_request::Kind;
    let kind = match req {
        SyncRequest::Status => Kind::Status(pb::StatusRequest {}),
        SyncRequest::FastBlocks { from, count } => Kind::FastBlocks(pb::Range {
            from: *from,
            count: *count,
        }),
        SyncRequest::SnailBlocks { from, count } => Kind::SnailBlocks(pb::Range {
            from: *from,
            count: *count,
        }),
    };
    pb::SyncRequest {
        version: PROTOCOL_VERSION,
        kind: Some(kind),
    }
    .encode_to_vec()
}

/// Decode a sync request.
pub fn decode_sync_request(bytes: &[u8]) -> Result<SyncRequest, WireError> {
    use pb::sync_request::Kind;
    let m: pb::SyncRequest = decode_pb("SyncRequest", bytes)?;
    check_version("SyncRequest", m.version)?;
    match m.kind.ok_or(WireError::Missing("sync_request.kind"))? {
        Kind::Status(_) => Ok(SyncRequest::Status),
        Kind::FastBlocks(r) => {
            let (from, count) = range("sync_request.fast_blocks.count", &r)?;
            Ok(SyncRequest::FastBlocks { from, count })
        }
        Kind::SnailBlocks(r) => {
            let (from, count) = range("sync_request.snail_blocks.count", &r)?;
            Ok(SyncRequest::SnailBlocks { from, count })
        }
    }
}

/// Encode a sync response.
pub fn encode_sync_response(resp: &SyncResponse) -> Vec<u8> {
    use pb::sync_response::Kind;
    let kind = match resp {
        SyncResponse::Status(s) => Kind::Status(pb::ChainStatus {
            genesis_hash: s.genesis_hash.to_vec(),
            fast_head: s.fast_head,
            fast_head_hash: s.fast_head_hash.to_vec(),
            snail_head: s.snail_head,
            snail_head_hash: s.snail_head_hash.to_vec(),
        }),
        SyncResponse::FastBlocks(blocks) => Kind::FastBlocks(pb::CertifiedBlocks {
            blocks: blocks.iter().map(|(b, c)| certified_to_pb(b, c)).collect(),
        }),
        SyncResponse::SnailBlocks(blocks) => Kind::SnailBlocks(pb::SnailBlocks {
            blocks: blocks.iter().map(snail_to_pb).collect(),
        }),
        SyncResponse::Error(e) => Kind::Error(e.clone()),
    };
    pb::SyncResponse {
        version: PROTOCOL_VERSION,
        kind: Some(kind),
    }
    .encode_to_vec()
}

/// Decode a sync response (blocks not yet verified).
pub fn decode_sync_response(bytes: &[u8]) -> Result<SyncResponse, WireError> {
    use pb::sync_response::Kind;
    let m: pb::SyncResponse = decode_pb("SyncResponse", bytes)?;
    check_version("SyncResponse", m.version)?;
    match m.kind.ok_or(WireError::Missing("sync_response.kind"))? {
        Kind::Status(s) => Ok(SyncResponse::Status(ChainStatus {
            genesis_hash: b256("status.genesis_hash", &s.genesis_hash)?,
            fast_head: s.fast_head,
            fast_head_hash: b256("status.fast_head_hash", &s.fast_head_hash)?,
            snail_head: s.snail_head,
            snail_head_hash: b256("status.snail_head_hash", &s.snail_head_hash)?,
        })),
        Kind::FastBlocks(bs) => {
            if bs.blocks.len() > MAX_RANGE as usize {
                return Err(WireError::Invalid {
                    field: "sync_response.fast_blocks",
                    reason: format!(
                        "{} blocks exceed the range limit {MAX_RANGE}",
                        bs.blocks.len()
                    ),
                });
            }
            Ok(SyncResponse::FastBlocks(
                bs.blocks
                    .iter()
                    .map(certified_from_pb)
                    .collect::<Result<_, _>>()?,
            ))
        }
        Kind::SnailBlocks(bs) => {
            if bs.blocks.len() > MAX_RANGE as usize {
                return Err(WireError::Invalid {
                    field: "sync_response.snail_blocks",
                    reason: format!(
                        "{} blocks exceed the range limit {MAX_RANGE}",
                        bs.blocks.len()
                    ),
                });
            }
            Ok(SyncResponse::SnailBlocks(
                bs.blocks
                    .iter()
                    .map(snail_from_pb)
                    .collect::<Result<_, _>>()?,
            ))
        }
        Kind::Error(e) => Ok(SyncResponse::Error(e)),
    }
}
