//! Query and Mutation roots, limits and the schema constructor.
use async_graphql::{Context, Error, InputObject, MergedObject, Object, Result, Schema};

use crate::objects::{
    Account, Block, CallData, CallResult, Log, SyncState, Transaction, api, log_matches, run_call,
};
use crate::scalars::{Address, BigInt, Bytes, Bytes32, Long};
use crate::{Api, NodeApi};

/// Maximum query depth (geth uses 20).
pub const MAX_DEPTH: usize = 20;
/// Maximum query complexity (fields resolved).
pub const MAX_COMPLEXITY: usize = 5_000;
/// Widest `blocks(from, to)` / `logs` range.
pub const MAX_BLOCK_RANGE: u64 = 1_000;

/// Query root: geth's fields plus the trueconsensus extensions.
#[derive(MergedObject, Debug, Default)]
pub struct QueryRoot(EthQuery, crate::hybrid::HybridQuery, crate::node::NodeQuery);

/// The schema type.
pub type TcSchema = Schema<QueryRoot, Mutation, crate::subscription::SubscriptionRoot>;

/// Build the schema over a node.
pub fn schema(node: std::sync::Arc<dyn NodeApi>) -> TcSchema {
    Schema::build(
        QueryRoot::default(),
        Mutation,
        crate::subscription::SubscriptionRoot,
    )
    .data::<Api>(node)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

fn head(api: &Api) -> Result<u64> {
    Ok(api.chain().fast_head().map_err(err)?.map_or(0, |(n, _)| n))
}

/// Log filter over a block range (geth's `FilterCriteria`).
#[derive(Clone, Debug, Default, InputObject)]
pub struct FilterCriteria {
    /// First block (default: latest).
    pub from_block: Option<Long>,
    /// Last block (default: latest).
    pub to_block: Option<Long>,
    /// Addresses (empty = any).
    pub addresses: Option<Vec<Address>>,
    /// Topic alternatives per position.
    pub topics: Option<Vec<Vec<Bytes32>>>,
}

/// The pool's view.
#[derive(Debug)]
pub struct Pending;

#[Object]
impl Pending {
    /// Pooled transactions.
    async fn transaction_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(i32::try_from(api(ctx)?.pending_transactions().await.len()).unwrap_or(i32::MAX))
    }
    /// The pooled transactions.
    async fn transactions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Transaction>>> {
        let txs = api(ctx)?.pending_transactions().await;
        Ok(Some(
            txs.into_iter()
                .map(|tx| Transaction {
                    tx,
                    loc: None,
                    receipt: None,
                    base_fee: 0,
                })
                .collect(),
        ))
    }
    /// An account at the latest state.
    async fn account(&self, address: Address) -> Account {
        Account {
            address: address.0,
            block: None,
        }
    }
    /// A local call at the latest state.
    async fn call(&self, ctx: &Context<'_>, data: CallData) -> Result<Option<CallResult>> {
        let a = api(ctx)?;
        let (ok, out, gas) = run_call(a, head(a)?, data, false)?;
        Ok(Some(CallResult {
            data: Bytes(out),
            gas_used: Long(gas),
            status: Long(u64::from(ok)),
        }))
    }
    /// Gas estimate at the latest state.
    async fn estimate_gas(&self, ctx: &Context<'_>, data: CallData) -> Result<Long> {
        let a = api(ctx)?;
        Ok(Long(run_call(a, head(a)?, data, true)?.2))
    }
}

/// geth's EIP-1767 query fields.
#[derive(Debug, Default)]
pub struct EthQuery;

#[Object]
impl EthQuery {
    /// A block by number or hash; the latest when neither is given.
    async fn block(
        &self,
        ctx: &Context<'_>,
        number: Option<Long>,
        hash: Option<Bytes32>,
    ) -> Result<Option<Block>> {
        let a = api(ctx)?;
        match (number, hash) {
            (Some(_), Some(_)) => Err(err("only one of number or hash may be given")),
            (None, Some(h)) => match a.chain().block_number(&h.0).map_err(err)? {
                Some(n) => Block::by_number(a, n),
                None => Ok(None),
            },
            (Some(n), None) => Block::by_number(a, n.0),
            (None, None) => Block::by_number(a, head(a)?),
        }
    }
    /// Blocks `from..=to` (to defaults to the latest), at most `MAX_BLOCK_RANGE`.
    async fn blocks(&self, ctx: &Context<'_>, from: Long, to: Option<Long>) -> Result<Vec<Block>> {
        let a = api(ctx)?;
        let requested = to.map_or(head(a)?, |t| t.0);
        if requested >= from.0 && requested - from.0 >= MAX_BLOCK_RANGE {
            return Err(err(format!(
                "block range {}..{requested} exceeds the limit of {MAX_BLOCK_RANGE} blocks",
                from.0
            )));
        }
        let to = requested.min(head(a)?);
        let mut out = Vec::new();
        for n in from.0..=to {
            if let Some(b) = Block::by_number(a, n)? {
                out.push(b);
            }
        }
        Ok(out)
    }
    /// The pending state.
    async fn pending(&self) -> Pending {
        Pending
    }
    /// A transaction by hash (committed or pooled).
    async fn transaction(&self, ctx: &Context<'_>, hash: Bytes32) -> Result<Option<Transaction>> {
        let a = api(ctx)?;
        if let Some(t) = Transaction::load(a, &hash.0)? {
            return Ok(Some(t));
        }
        Ok(a.pending_transactions()
            .await
            .into_iter()
            .find(|t| t.hash == hash.0)
            .map(|tx| Transaction {
                tx,
                loc: None,
                receipt: None,
                base_fee: 0,
            }))
    }
    /// Logs matching the filter.
    async fn logs(&self, ctx: &Context<'_>, filter: FilterCriteria) -> Result<Vec<Log>> {
        let a = api(ctx)?;
        let h = head(a)?;
        let from = filter.from_block.map_or(h, |b| b.0);
        let requested = filter.to_block.map_or(h, |b| b.0);
        if requested >= from && requested - from >= MAX_BLOCK_RANGE {
            return Err(err(format!(
                "block range {from}..{requested} exceeds the limit of {MAX_BLOCK_RANGE} blocks"
            )));
        }
        let to = requested.min(h);
        let mut out = Vec::new();
        for n in from..=to {
            let Some(receipts) = a.chain().receipts(n).map_err(err)? else {
                continue;
            };
            if receipts.iter().all(|r| r.logs.is_empty()) {
                continue;
            }
            let Some(block) = Block::by_number(a, n)? else {
                continue;
            };
            let body = a.chain().body(n).map_err(err)?.unwrap_or_default();
            let mut index = 0u64;
            for (i, (r, t)) in receipts.iter().zip(body).enumerate() {
                let tx = Transaction {
                    tx: tc_types::RecoveredTx::recover(t).map_err(err)?,
                    loc: Some(tc_types::TxLocation {
                        block_number: n,
                        block_hash: block.hash,
                        index: i as u64,
                    }),
                    receipt: Some(r.clone()),
                    base_fee: block.header.base_fee,
                };
                for l in &r.logs {
                    if log_matches(l, &filter.addresses, &filter.topics) {
                        out.push(Log {
                            log: l.clone(),
                            index,
                            tx: tx.clone(),
                        });
                    }
                    index += 1;
                }
            }
        }
        Ok(out)
    }
    /// Suggested gas price: base fee + 1 gwei tip.
    async fn gas_price(&self, ctx: &Context<'_>) -> Result<BigInt> {
        let a = api(ctx)?;
        let base = a
            .chain()
            .header_by_number(head(a)?)
            .map_err(err)?
            .map_or(0, |h| h.base_fee);
        Ok(BigInt(
            alloy_primitives::U256::from(base) + alloy_primitives::U256::from(1_000_000_000u64),
        ))
    }
    /// Suggested priority fee: 1 gwei.
    async fn max_priority_fee_per_gas(&self) -> BigInt {
        BigInt(alloy_primitives::U256::from(1_000_000_000u64))
    }
    /// Chain id.
    #[graphql(name = "chainID")]
    async fn chain_id(&self, ctx: &Context<'_>) -> Result<BigInt> {
        Ok(BigInt(alloy_primitives::U256::from(api(ctx)?.chain_id())))
    }
    /// Wire protocol version.
    async fn protocol_version(&self) -> i32 {
        i32::try_from(tc_types::SCHEMA_VERSION).unwrap_or(i32::MAX)
    }
    /// Null: a solo node is always in sync.
    async fn syncing(&self) -> Option<SyncState> {
        None
    }
}

/// Mutation root.
#[derive(Debug)]
pub struct Mutation;

#[Object]
impl Mutation {
    /// Submit raw EIP-2718 transaction bytes; returns the hash.
    async fn send_raw_transaction(&self, ctx: &Context<'_>, data: Bytes) -> Result<Bytes32> {
        let a = api(ctx)?;
        a.send_raw_transaction(data.0)
            .await
            .map(Bytes32)
            .map_err(Error::new)
    }
}
