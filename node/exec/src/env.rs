//! What a block gives the EVM, and the fixed chain rules.
use alloy_primitives::{Address, B256, U256};
use revm::context::{BlockEnv as RevmBlockEnv, CfgEnv};
use revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE;
use revm::primitives::hardfork::SpecId;
use tc_types::FastHeader;

/// The EVM rules of the chain: Prague (Cancun + EIP-7623 calldata floor, EIP-2537, EIP-7702
/// opcodes; 7702/4844 *transactions* are refused by [`crate::txenv`]).
pub const SPEC: SpecId = SpecId::PRAGUE;

/// Block context for execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Fast block number (NUMBER opcode).
    pub number: u64,
    /// Proposal time in milliseconds; the EVM sees whole seconds (TIMESTAMP opcode).
    pub timestamp_ms: u64,
    /// Fee recipient: receives the priority fee (base fee is burnt).
    pub coinbase: Address,
    /// EIP-1559 base fee per gas (wei).
    pub base_fee: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Chain id transactions must carry (EIP-155).
    pub chain_id: u64,
    /// PREVRANDAO value; the node uses the parent block hash (deterministic, not random).
    pub prevrandao: B256,
}

impl BlockEnv {
    /// The environment for executing the block with this header (prevrandao = parent hash).
    pub fn from_header(header: &FastHeader, chain_id: u64) -> Self {
        Self {
            number: header.number,
            timestamp_ms: header.timestamp_ms,
            coinbase: header.coinbase,
            base_fee: header.base_fee,
            gas_limit: header.gas_limit,
            chain_id,
            prevrandao: header.parent_hash,
        }
    }

    /// The environment of the block that would follow `parent`: next number, timestamp at
    /// least one millisecond after the parent's, the parent's base fee and gas limit,
    /// prevrandao = parent hash. Used to build a block and to run calls "on top of" a block.
    pub fn child_of(
        parent: &FastHeader,
        chain_id: u64,
        coinbase: Address,
        timestamp_ms: u64,
    ) -> Self {
        Self {
            number: parent.number + 1,
            timestamp_ms: timestamp_ms.max(parent.timestamp_ms + 1),
            coinbase,
            base_fee: parent.base_fee,
            gas_limit: parent.gas_limit,
            chain_id,
            prevrandao: parent.hash(),
        }
    }

    /// revm's block environment.
    pub(crate) fn to_revm(&self) -> RevmBlockEnv {
        let mut b = RevmBlockEnv {
            number: U256::from(self.number),
            beneficiary: self.coinbase,
            timestamp: U256::from(self.timestamp_ms / 1000),
            gas_limit: self.gas_limit,
            basefee: self.base_fee,
            difficulty: U256::ZERO,
            prevrandao: Some(self.prevrandao),
            ..RevmBlockEnv::default()
        };
        b.set_blob_excess_gas_and_price(0, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE);
        b
    }

    /// revm's configuration for this chain.
    pub(crate) fn cfg(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(SPEC);
        cfg.chain_id = self.chain_id;
        cfg
    }
}
