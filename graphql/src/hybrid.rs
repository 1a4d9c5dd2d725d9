//! trueconsensus extensions: the snail chain, committees and epochs, the mempool, per-table
//! storage statistics.
use async_graphql::{Context, Error, Object, Result, SimpleObject};
use tc_types::{Committee as TCommittee, SnailBlock as TSnail};

use crate::objects::api;
use crate::query::MAX_BLOCK_RANGE;
use crate::scalars::{Address, Bytes32, Long};

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

/// A fruit: a snail block's reference to a committed fast block.
#[derive(Clone, Debug, SimpleObject)]
pub struct Fruit {
    /// Fast block number.
    pub number: Long,
    /// Fast block hash.
    pub hash: Bytes32,
}

/// A proof-of-work snail block.
#[derive(Clone, Debug)]
pub struct SnailBlock(pub(crate) TSnail);

#[Object]
impl SnailBlock {
    /// Height.
    async fn number(&self) -> Long {
        Long(self.0.header.number)
    }
    /// Hash.
    async fn hash(&self) -> Bytes32 {
        Bytes32(self.0.header.hash())
    }
    /// Parent hash.
    async fn parent_hash(&self) -> Bytes32 {
        Bytes32(self.0.header.parent_hash)
    }
    /// PoW difficulty.
    async fn difficulty(&self) -> Long {
        Long(self.0.header.difficulty)
    }
    /// PoW nonce.
    async fn nonce(&self) -> Long {
        Long(self.0.header.nonce)
    }
    /// Miner's consensus key (its committee key if elected).
    async fn miner(&self) -> Bytes32 {
        Bytes32(self.0.header.miner)
    }
    /// Miner's reward address.
    async fn coinbase(&self) -> Address {
        Address(self.0.header.coinbase)
    }
    /// Unix time (ms).
    async fn timestamp_ms(&self) -> Long {
        Long(self.0.header.timestamp_ms)
    }
    /// Fast blocks this block checkpoints.
    async fn fruits(&self) -> Vec<Fruit> {
        self.0
            .fruits
            .iter()
            .map(|f| Fruit {
                number: Long(f.number),
                hash: Bytes32(f.hash),
            })
            .collect()
    }
}

/// A committee member.
#[derive(Clone, Debug, SimpleObject)]
pub struct Member {
    /// Position (PBFT member index; primary of view v is v mod n).
    pub index: i32,
    /// ed25519 consensus key.
    pub key: Bytes32,
    /// Reward address.
    pub coinbase: Address,
    /// Election weight (mined work in the window).
    pub weight: Long,
}

/// The committee of an epoch.
#[derive(Clone, Debug)]
pub struct Committee(pub(crate) TCommittee);

#[Object]
impl Committee {
    /// Epoch served.
    async fn epoch(&self) -> Long {
        Long(self.0.epoch)
    }
    /// First fast height decided.
    async fn start_height(&self) -> Long {
        Long(self.0.start_height)
    }
    /// Election seed (zero for genesis).
    async fn seed(&self) -> Bytes32 {
        Bytes32(self.0.seed)
    }
    /// Members in canonical order.
    async fn members(&self) -> Vec<Member> {
        self.0
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                index: i32::try_from(i).unwrap_or(i32::MAX),
                key: Bytes32(m.key),
                coinbase: Address(m.coinbase),
                weight: Long(m.weight),
            })
            .collect()
    }
    /// Tolerated faulty members f.
    async fn max_faulty(&self) -> i32 {
        i32::try_from(self.0.max_faulty()).unwrap_or(i32::MAX)
    }
    /// Quorum size.
    async fn quorum(&self) -> i32 {
        i32::try_from(self.0.quorum()).unwrap_or(i32::MAX)
    }
    /// Hash named by the previous epoch's last block.
    async fn hash(&self) -> Bytes32 {
        Bytes32(self.0.hash())
    }
}

/// Statistics of one storage table (RocksDB column family).
#[derive(Clone, Debug, SimpleObject)]
pub struct TableStats {
    /// Table name.
    pub name: String,
    /// Live SST bytes.
    pub live_sst_bytes: Long,
    /// Estimated keys.
    pub estimated_keys: Long,
    /// Memtable bytes.
    pub memtable_bytes: Long,
    /// Bytes read since open.
    pub bytes_read: Long,
    /// Bytes written since open.
    pub bytes_written: Long,
    /// Reads since open.
    pub reads: Long,
    /// Writes since open.
    pub writes: Long,
}

/// The extension fields, merged into `Query`.
#[derive(Debug, Default)]
pub struct HybridQuery;

#[Object]
impl HybridQuery {
    /// A canonical snail block by number (latest when absent).
    async fn snail_block(
        &self,
        ctx: &Context<'_>,
        number: Option<Long>,
    ) -> Result<Option<SnailBlock>> {
        let chain = api(ctx)?.chain();
        let n = match number {
            Some(n) => n.0,
            None => chain.snail_head().map_err(err)?.map_or(0, |(n, _)| n),
        };
        let Some(hash) = chain.snail_canonical(n).map_err(err)? else {
            return Ok(None);
        };
        Ok(chain.snail_block(&hash).map_err(err)?.map(SnailBlock))
    }
    /// Canonical snail blocks `from..=to` (to defaults to the head).
    async fn snail_blocks(
        &self,
        ctx: &Context<'_>,
        from: Long,
        to: Option<Long>,
    ) -> Result<Vec<SnailBlock>> {
        let chain = api(ctx)?.chain();
        let head = chain.snail_head().map_err(err)?.map_or(0, |(n, _)| n);
        let requested = to.map_or(head, |t| t.0);
        if requested >= from.0 && requested - from.0 >= MAX_BLOCK_RANGE {
            return Err(err(format!(
                "block range {}..{requested} exceeds the limit of {MAX_BLOCK_RANGE} blocks",
                from.0
            )));
        }
        let mut out = Vec::new();
        for n in from.0..=requested.min(head) {
            if let Some(hash) = chain.snail_canonical(n).map_err(err)?
                && let Some(b) = chain.snail_block(&hash).map_err(err)?
            {
                out.push(SnailBlock(b));
            }
        }
        Ok(out)
    }
    /// The committee of an epoch (the current one when absent).
    async fn committee(&self, ctx: &Context<'_>, epoch: Option<Long>) -> Result<Option<Committee>> {
        let chain = api(ctx)?.chain();
        Ok(match epoch {
            Some(e) => chain.committee(e.0).map_err(err)?,
            None => chain.latest_committee().map_err(err)?,
        }
        .map(Committee))
    }
    /// Every stored committee, epoch ascending: `from..=to` (default: the latest
    /// `MAX_BLOCK_RANGE` epochs up to the current one; a wider range is an error).
    async fn epochs(
        &self,
        ctx: &Context<'_>,
        from: Option<Long>,
        to: Option<Long>,
    ) -> Result<Vec<Committee>> {
        let chain = api(ctx)?.chain();
        let Some(latest) = chain.latest_committee().map_err(err)? else {
            return Ok(Vec::new());
        };
        let requested = to.map_or(latest.epoch, |t| t.0);
        let from = from.map_or(requested.saturating_sub(MAX_BLOCK_RANGE - 1), |f| f.0);
        if requested >= from && requested - from >= MAX_BLOCK_RANGE {
            return Err(err(format!(
                "epoch range {from}..{requested} exceeds the limit of {MAX_BLOCK_RANGE} epochs"
            )));
        }
        let mut out = Vec::new();
        for e in from..=requested.min(latest.epoch) {
            if e == latest.epoch {
                out.push(Committee(latest.clone()));
            } else if let Some(c) = chain.committee(e).map_err(err)? {
                out.push(Committee(c));
            }
        }
        Ok(out)
    }
    /// The transaction pool: per-sender queues with nonces, recent rejections with reasons.
    async fn mempool(&self, ctx: &Context<'_>) -> Result<crate::pool::Mempool> {
        crate::pool::mempool(ctx).await
    }
    /// Per-table storage statistics of this node.
    async fn storage(&self, ctx: &Context<'_>) -> Result<Vec<TableStats>> {
        Ok(api(ctx)?
            .chain()
            .stats()
            .map_err(err)?
            .into_iter()
            .map(|t| TableStats {
                name: t.name,
                live_sst_bytes: Long(t.live_sst_bytes),
                estimated_keys: Long(t.estimated_keys),
                memtable_bytes: Long(t.memtable_bytes),
                bytes_read: Long(t.bytes_read),
                bytes_written: Long(t.bytes_written),
                reads: Long(t.reads),
                writes: Long(t.writes),
            })
            .collect())
    }
}
