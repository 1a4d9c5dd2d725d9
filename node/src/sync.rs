//! Block sync, the serving side: answer a peer's `/tc/sync/1` request from the store. The
//! requesting side lives in the event loop ([`crate::runtime`]): it polls one peer's status per
//! `consensus.sync_interval_ms`, fetches missing certified fast blocks and snail blocks by range,
//! and verifies everything it receives exactly like gossip (PoW, certificate against that
//! epoch's committee, re-execution) before it is stored.
use tc_storage::ChainStore;
use tc_wire::{ChainStatus, SyncRequest, SyncResponse};

/// Our chain status.
pub fn status(chain: &ChainStore) -> Result<ChainStatus, tc_storage::StorageError> {
    let (fast_head, fast_head_hash) = chain.fast_head()?.unwrap_or_default();
    let (snail_head, snail_head_hash) = chain.snail_head()?.unwrap_or_default();
    Ok(ChainStatus {
        genesis_hash: chain.genesis_hash()?.unwrap_or_default(),
        fast_head,
        fast_head_hash,
        snail_head,
        snail_head_hash,
    })
}

/// Answer `req`, keeping the encoded answer under about `max_bytes` (ranges are cut short,
/// never split inside a block).
pub fn serve(chain: &ChainStore, req: &SyncRequest, max_bytes: usize) -> SyncResponse {
    match serve_inner(chain, req, max_bytes) {
        Ok(r) => r,
        Err(e) => SyncResponse::Error(format!("storage: {e}")),
    }
}

fn serve_inner(
    chain: &ChainStore,
    req: &SyncRequest,
    max_bytes: usize,
) -> Result<SyncResponse, tc_storage::StorageError> {
    // Leave room for the envelope.
    let budget = max_bytes.saturating_sub(4 * 1024);
    Ok(match *req {
        SyncRequest::Status => SyncResponse::Status(status(chain)?),
        SyncRequest::FastBlocks { from, count } => {
            let mut out = Vec::new();
            let mut size = 0usize;
            for n in from.max(1)..from.saturating_add(u64::from(count)) {
                let (Some(block), Some(cert)) = (chain.block_by_number(n)?, chain.certificate(n)?)
                else {
                    break;
                };
                let len = tc_wire::encode_certified_block(&block, &cert).len();
                if size + len > budget && !out.is_empty() {
                    break;
                }
                size += len;
                out.push((block, cert));
            }
            SyncResponse::FastBlocks(out)
        }
        SyncRequest::SnailBlocks { from, count } => {
            let mut out = Vec::new();
            let mut size = 0usize;
            for n in from..from.saturating_add(u64::from(count)) {
                let Some(hash) = chain.snail_canonical(n)? else {
                    break;
                };
                let Some(block) = chain.snail_block(&hash)? else {
                    break;
                };
                let len = tc_wire::encode_snail_block(&block).len();
                if size + len > budget && !out.is_empty() {
                    break;
                }
                size += len;
                out.push(block);
            }
            SyncResponse::SnailBlocks(out)
        }
    })
}
