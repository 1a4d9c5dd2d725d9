//! Object types of the schema, resolved lazily from the store.
use alloy_primitives::{Address as A, B256, U256};
use async_graphql::{Context, Error, InputObject, Object, Result, SimpleObject};
use tc_exec::{BlockEnv, CallRequest};
use tc_types::{
    FastHeader, Log as TLog, Receipt, RecoveredTx, StateReader, Transaction as _, TxLocation,
};

use crate::Api;
use crate::scalars::{Address, BigInt, Bytes, Bytes32, Long};

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

pub(crate) fn api<'a>(ctx: &Context<'a>) -> Result<&'a Api> {
    ctx.data::<Api>()
}

/// State at a block (`None` = latest).
pub(crate) fn state(api: &Api, block: Option<u64>) -> Result<Box<dyn StateReader + Send>> {
    api.chain().state_reader(block).map_err(err)
}

/// An account at a block.
#[derive(Clone, Debug)]
pub struct Account {
    pub(crate) address: A,
    pub(crate) block: Option<u64>,
}

#[Object]
impl Account {
    /// Address owning the account.
    async fn address(&self) -> Address {
        Address(self.address)
    }
    /// Balance in wei.
    async fn balance(&self, ctx: &Context<'_>) -> Result<BigInt> {
        let st = state(api(ctx)?, self.block)?;
        Ok(BigInt(
            st.account(&self.address)
                .map_err(err)?
                .map_or(U256::ZERO, |a| a.balance),
        ))
    }
    /// Nonce.
    async fn transaction_count(&self, ctx: &Context<'_>) -> Result<Long> {
        let st = state(api(ctx)?, self.block)?;
        Ok(Long(
            st.account(&self.address)
                .map_err(err)?
                .map_or(0, |a| a.nonce),
        ))
    }
    /// Contract code (`0x` for externally owned accounts).
    async fn code(&self, ctx: &Context<'_>) -> Result<Bytes> {
        let st = state(api(ctx)?, self.block)?;
        let code = match st.account(&self.address).map_err(err)? {
            Some(a) => st.code(&a.code_hash).map_err(err)?.unwrap_or_default(),
            None => Default::default(),
        };
        Ok(Bytes(code))
    }
    /// A storage slot.
    async fn storage(&self, ctx: &Context<'_>, slot: Bytes32) -> Result<Bytes32> {
        let st = state(api(ctx)?, self.block)?;
        Ok(Bytes32(B256::from(
            st.storage(&self.address, &U256::from_be_bytes(slot.0.0))
                .map_err(err)?,
        )))
    }
}

/// An event log.
#[derive(Clone, Debug)]
pub struct Log {
    pub(crate) log: TLog,
    pub(crate) index: u64,
    pub(crate) tx: Transaction,
}

#[Object]
impl Log {
    /// Index of the log in its block.
    async fn index(&self) -> i64 {
        self.index as i64
    }
    /// Emitting contract.
    async fn account(&self, block: Option<Long>) -> Account {
        Account {
            address: self.log.address,
            block: block.map(|b| b.0),
        }
    }
    /// Indexed topics.
    async fn topics(&self) -> Vec<Bytes32> {
        self.log.topics.iter().copied().map(Bytes32).collect()
    }
    /// Unindexed data.
    async fn data(&self) -> Bytes {
        Bytes(self.log.data.clone())
    }
    /// The transaction that emitted it.
    async fn transaction(&self) -> Transaction {
        self.tx.clone()
    }
}

/// A transaction, committed (`loc`/`receipt` set) or pending.
#[derive(Clone, Debug)]
pub struct Transaction {
    pub(crate) tx: RecoveredTx,
    pub(crate) loc: Option<TxLocation>,
    pub(crate) receipt: Option<Receipt>,
    pub(crate) base_fee: u64,
}

impl Transaction {
    /// Load a committed transaction by hash.
    pub(crate) fn load(api: &Api, hash: &B256) -> Result<Option<Self>> {
        let chain = api.chain();
        let Some((tx, receipt, loc)) = chain.transaction(hash).map_err(err)? else {
            return Ok(None);
        };
        let base_fee = chain
            .header_by_number(loc.block_number)
            .map_err(err)?
            .map_or(0, |h| h.base_fee);
        let tx = RecoveredTx::recover(tx).map_err(err)?;
        Ok(Some(Self {
            tx,
            loc: Some(loc),
            receipt: Some(receipt),
            base_fee,
        }))
    }
}

#[Object]
impl Transaction {
    /// Hash.
    async fn hash(&self) -> Bytes32 {
        Bytes32(self.tx.hash)
    }
    /// Sender nonce.
    async fn nonce(&self) -> Long {
        Long(self.tx.nonce())
    }
    /// Index in the block (null while pending).
    async fn index(&self) -> Option<i64> {
        self.loc.map(|l| l.index as i64)
    }
    /// Sender.
    async fn from(&self, block: Option<Long>) -> Account {
        Account {
            address: self.tx.sender,
            block: block.map(|b| b.0),
        }
    }
    /// Recipient (null for contract creation).
    async fn to(&self, block: Option<Long>) -> Option<Account> {
        self.tx.tx.to().map(|a| Account {
            address: a,
            block: block.map(|b| b.0),
        })
    }
    /// Wei sent.
    async fn value(&self) -> BigInt {
        BigInt(self.tx.tx.value())
    }
    /// Effective gas price when committed, else the offered max fee.
    async fn gas_price(&self) -> BigInt {
        let p = if self.loc.is_some() {
            self.tx.tx.effective_gas_price(Some(self.base_fee))
        } else {
            self.tx.tx.max_fee_per_gas()
        };
        BigInt(U256::from(p))
    }
    /// EIP-1559 max fee per gas.
    async fn max_fee_per_gas(&self) -> BigInt {
        BigInt(U256::from(self.tx.tx.max_fee_per_gas()))
    }
    /// EIP-1559 max priority fee per gas.
    async fn max_priority_fee_per_gas(&self) -> BigInt {
        BigInt(U256::from(
            self.tx
                .tx
                .max_priority_fee_per_gas()
                .unwrap_or(self.tx.tx.max_fee_per_gas()),
        ))
    }
    /// Price actually paid per gas (null while pending).
    async fn effective_gas_price(&self) -> Option<BigInt> {
        self.receipt
            .as_ref()
            .map(|r| BigInt(U256::from(r.effective_gas_price)))
    }
    /// Gas limit.
    async fn gas(&self) -> Long {
        Long(self.tx.tx.gas_limit())
    }
    /// Calldata.
    async fn input_data(&self) -> Bytes {
        Bytes(self.tx.tx.input().clone())
    }
    /// Containing block (null while pending).
    async fn block(&self, ctx: &Context<'_>) -> Result<Option<Block>> {
        let Some(loc) = self.loc else { return Ok(None) };
        Block::by_number(api(ctx)?, loc.block_number)
    }
    /// 1 success, 0 failure (null while pending).
    async fn status(&self) -> Option<Long> {
        self.receipt.as_ref().map(|r| Long(u64::from(r.success)))
    }
    /// Gas used (null while pending).
    async fn gas_used(&self) -> Option<Long> {
        self.receipt.as_ref().map(|r| Long(r.gas_used))
    }
    /// Cumulative gas in the block (null while pending).
    async fn cumulative_gas_used(&self) -> Option<Long> {
        self.receipt.as_ref().map(|r| Long(r.cumulative_gas_used))
    }
    /// Created contract (null unless a committed creation).
    async fn created_contract(&self, block: Option<Long>) -> Option<Account> {
        self.receipt
            .as_ref()
            .filter(|r| r.contract_address != A::ZERO)
            .map(|r| Account {
                address: r.contract_address,
                block: block.map(|b| b.0),
            })
    }
    /// Logs (null while pending).
    async fn logs(&self, ctx: &Context<'_>) -> Result<Option<Vec<Log>>> {
        let (Some(r), Some(loc)) = (&self.receipt, self.loc) else {
            return Ok(None);
        };
        let receipts = api(ctx)?
            .chain()
            .receipts(loc.block_number)
            .map_err(err)?
            .unwrap_or_default();
        let first: usize = receipts
            .iter()
            .take(loc.index as usize)
            .map(|r| r.logs.len())
            .sum();
        Ok(Some(
            r.logs
                .iter()
                .enumerate()
                .map(|(i, l)| Log {
                    log: l.clone(),
                    index: (first + i) as u64,
                    tx: self.clone(),
                })
                .collect(),
        ))
    }
    /// EIP-2718 type.
    async fn r#type(&self) -> i32 {
        i32::from(self.tx.tx.tx_type() as u8)
    }
}

/// Call parameters (geth's `CallData`).
#[derive(Clone, Debug, Default, InputObject)]
pub struct CallData {
    /// Caller.
    pub from: Option<Address>,
    /// Callee (absent = creation).
    pub to: Option<Address>,
    /// Gas limit.
    pub gas: Option<Long>,
    /// Gas price.
    pub gas_price: Option<BigInt>,
    /// Value.
    pub value: Option<BigInt>,
    /// Calldata.
    pub data: Option<Bytes>,
}

/// Result of a local call.
#[derive(Clone, Debug, SimpleObject)]
pub struct CallResult {
    /// Return (or revert) data.
    pub data: Bytes,
    /// Gas used.
    pub gas_used: Long,
    /// 1 success, 0 failure.
    pub status: Long,
}

/// Log filter within one block.
#[derive(Clone, Debug, Default, InputObject)]
pub struct BlockFilterCriteria {
    /// Addresses of interest (empty = any).
    pub addresses: Option<Vec<Address>>,
    /// Topic alternatives per position (empty position = any).
    pub topics: Option<Vec<Vec<Bytes32>>>,
}

pub(crate) fn log_matches(
    l: &TLog,
    addresses: &Option<Vec<Address>>,
    topics: &Option<Vec<Vec<Bytes32>>>,
) -> bool {
    if let Some(a) = addresses
        && !a.is_empty()
        && !a.iter().any(|x| x.0 == l.address)
    {
        return false;
    }
    if let Some(t) = topics {
        for (i, alts) in t.iter().enumerate() {
            if alts.is_empty() {
                continue;
            }
            match l.topics.get(i) {
                Some(topic) if alts.iter().any(|x| x.0 == *topic) => {}
                _ => return false,
            }
        }
    }
    true
}

pub(crate) fn run_call(
    api: &Api,
    at: u64,
    data: CallData,
    estimate: bool,
) -> Result<(bool, alloy_primitives::Bytes, u64)> {
    let parent = api
        .chain()
        .header_by_number(at)
        .map_err(err)?
        .ok_or_else(|| err("header not found"))?;
    let st = state(api, Some(at))?;
    let env = BlockEnv::child_of(&parent, api.chain_id(), parent.coinbase, 0);
    let req = CallRequest {
        from: data.from.map(|a| a.0),
        to: data.to.map(|a| a.0),
        data: data.data.map(|b| b.0).unwrap_or_default(),
        value: data.value.map_or(U256::ZERO, |v| v.0),
        gas: data.gas.map(|g| g.0),
        gas_price: data.gas_price.and_then(|p| u128::try_from(p.0).ok()),
    };
    if estimate {
        let g = tc_exec::estimate_gas(st.as_ref(), &env, &req).map_err(err)?;
        return Ok((true, Default::default(), g));
    }
    let out = tc_exec::call(st.as_ref(), &env, &req).map_err(err)?;
    Ok((out.success, out.output, out.gas_used))
}

/// A fast block.
#[derive(Clone, Debug)]
pub struct Block {
    pub(crate) header: FastHeader,
    pub(crate) hash: B256,
}

impl Block {
    pub(crate) fn by_number(api: &Api, n: u64) -> Result<Option<Self>> {
        Ok(api
            .chain()
            .header_by_number(n)
            .map_err(err)?
            .map(|header| Self {
                hash: header.hash(),
                header,
            }))
    }
    fn receipts(&self, api: &Api) -> Result<Vec<Receipt>> {
        Ok(api
            .chain()
            .receipts(self.header.number)
            .map_err(err)?
            .unwrap_or_default())
    }
    fn transactions_vec(&self, api: &Api) -> Result<Vec<Transaction>> {
        let body = api
            .chain()
            .body(self.header.number)
            .map_err(err)?
            .unwrap_or_default();
        let receipts = self.receipts(api)?;
        body.into_iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(Transaction {
                    tx: RecoveredTx::recover(t).map_err(err)?,
                    loc: Some(TxLocation {
                        block_number: self.header.number,
                        block_hash: self.hash,
                        index: i as u64,
                    }),
                    receipt: receipts.get(i).cloned(),
                    base_fee: self.header.base_fee,
                })
            })
            .collect()
    }
}

#[Object]
impl Block {
    /// Height.
    async fn number(&self) -> Long {
        Long(self.header.number)
    }
    /// Hash.
    async fn hash(&self) -> Bytes32 {
        Bytes32(self.hash)
    }
    /// Parent block (null for genesis).
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Block>> {
        match self.header.number {
            0 => Ok(None),
            n => Block::by_number(api(ctx)?, n - 1),
        }
    }
    /// Always zero (no PoW on the fast chain).
    async fn nonce(&self) -> Bytes {
        Bytes(alloy_primitives::Bytes::from(vec![0u8; 8]))
    }
    /// Transactions commitment.
    async fn transactions_root(&self) -> Bytes32 {
        Bytes32(self.header.tx_root)
    }
    /// Number of transactions.
    async fn transaction_count(&self, ctx: &Context<'_>) -> Result<Option<i64>> {
        Ok(api(ctx)?
            .chain()
            .body(self.header.number)
            .map_err(err)?
            .map(|b| b.len() as i64))
    }
    /// State commitment.
    async fn state_root(&self) -> Bytes32 {
        Bytes32(self.header.state_root)
    }
    /// Receipts commitment.
    async fn receipts_root(&self) -> Bytes32 {
        Bytes32(self.header.receipts_root)
    }
    /// Fee recipient of the proposer.
    async fn miner(&self, block: Option<Long>) -> Account {
        Account {
            address: self.header.coinbase,
            block: block.map(|b| b.0),
        }
    }
    /// Empty.
    async fn extra_data(&self) -> Bytes {
        Bytes(Default::default())
    }
    /// Gas limit.
    async fn gas_limit(&self) -> Long {
        Long(self.header.gas_limit)
    }
    /// Gas used.
    async fn gas_used(&self) -> Long {
        Long(self.header.gas_used)
    }
    /// Base fee per gas.
    async fn base_fee_per_gas(&self) -> BigInt {
        BigInt(U256::from(self.header.base_fee))
    }
    /// Unix time (seconds).
    async fn timestamp(&self) -> Long {
        Long(self.header.timestamp_ms / 1000)
    }
    /// Bloom of the block's logs.
    async fn logs_bloom(&self, ctx: &Context<'_>) -> Result<Bytes> {
        let mut b = alloy_primitives::Bloom::default();
        for r in self.receipts(api(ctx)?)? {
            for l in &r.logs {
                b.accrue_raw_log(l.address, &l.topics);
            }
        }
        Ok(Bytes(alloy_primitives::Bytes::copy_from_slice(
            b.as_slice(),
        )))
    }
    /// Zero (fast blocks are decided by the committee, not mined).
    async fn difficulty(&self) -> BigInt {
        BigInt(U256::ZERO)
    }
    /// Zero.
    async fn total_difficulty(&self) -> BigInt {
        BigInt(U256::ZERO)
    }
    /// Zero.
    async fn ommer_count(&self) -> Option<i32> {
        Some(0)
    }
    /// Transactions in order.
    async fn transactions(&self, ctx: &Context<'_>) -> Result<Option<Vec<Transaction>>> {
        Ok(Some(self.transactions_vec(api(ctx)?)?))
    }
    /// Transaction at an index.
    async fn transaction_at(&self, ctx: &Context<'_>, index: i32) -> Result<Option<Transaction>> {
        let txs = self.transactions_vec(api(ctx)?)?;
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| txs.into_iter().nth(i)))
    }
    /// Logs of this block matching the filter.
    async fn logs(&self, ctx: &Context<'_>, filter: BlockFilterCriteria) -> Result<Vec<Log>> {
        let txs = self.transactions_vec(api(ctx)?)?;
        let mut out = Vec::new();
        let mut index = 0u64;
        for t in txs {
            for l in t
                .receipt
                .as_ref()
                .map(|r| r.logs.clone())
                .unwrap_or_default()
            {
                if log_matches(&l, &filter.addresses, &filter.topics) {
                    out.push(Log {
                        log: l,
                        index,
                        tx: t.clone(),
                    });
                }
                index += 1;
            }
        }
        Ok(out)
    }
    /// An account at this block's state.
    async fn account(&self, address: Address) -> Account {
        Account {
            address: address.0,
            block: Some(self.header.number),
        }
    }
    /// A local call at this block's state.
    async fn call(&self, ctx: &Context<'_>, data: CallData) -> Result<Option<CallResult>> {
        let (ok, out, gas) = run_call(api(ctx)?, self.header.number, data, false)?;
        Ok(Some(CallResult {
            data: Bytes(out),
            gas_used: Long(gas),
            status: Long(u64::from(ok)),
        }))
    }
    /// Gas estimate at this block's state.
    async fn estimate_gas(&self, ctx: &Context<'_>, data: CallData) -> Result<Long> {
        Ok(Long(run_call(api(ctx)?, self.header.number, data, true)?.2))
    }
    /// trueconsensus: committee epoch that decided the block.
    async fn epoch(&self) -> Long {
        Long(self.header.epoch)
    }
    /// trueconsensus: PBFT view of the decision.
    async fn view(&self) -> Long {
        Long(self.header.view)
    }
    /// trueconsensus: proposer's consensus key.
    async fn proposer(&self) -> Bytes32 {
        Bytes32(self.header.proposer)
    }
    /// trueconsensus: member indices that signed the commit certificate.
    async fn certificate_signers(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        let cert = api(ctx)?
            .chain()
            .certificate(self.header.number)
            .map_err(err)?;
        Ok(cert
            .map(|c| c.signers().into_iter().map(|s| s as i32).collect())
            .unwrap_or_default())
    }
}

/// Synchronisation state.
#[derive(Clone, Debug, SimpleObject)]
pub struct SyncState {
    /// Where sync started.
    pub starting_block: Long,
    /// Where it is.
    pub current_block: Long,
    /// Highest known.
    pub highest_block: Long,
}
