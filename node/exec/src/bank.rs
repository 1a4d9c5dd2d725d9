//! The `Bank` sample ledger (seed item 10): compiled artifact (`contracts/Bank.json`, built
//! from `contracts/Bank.sol` by `contracts/build.sh`), its fixed genesis address, and ABI
//! helpers (calldata encoders, storage slots, event decoding). Schema: `contracts/README.md`.
use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use tc_types::Log;

/// Where the default genesis deploys the Bank runtime code ("ba4c" ≈ "BANK").
pub const BANK_ADDRESS: Address = address!("0x000000000000000000000000000000000000ba4c");

/// The compiled artifact (abi, bytecode, deployedBytecode, compiler version).
pub const ARTIFACT_JSON: &str = include_str!("../contracts/Bank.json");

/// Storage slot of `mapping(address => uint256) balances`.
pub const BALANCES_SLOT: U256 = U256::ZERO;
/// Storage slot of `uint256 total` (returned by `totalDeposits()`).
pub const TOTAL_DEPOSITS_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);

/// `deposit()`.
pub const DEPOSIT: [u8; 4] = [0xd0, 0xe3, 0x0d, 0xb0];
/// `withdraw(uint256)`.
pub const WITHDRAW: [u8; 4] = [0x2e, 0x1a, 0x7d, 0x4d];
/// `transfer(address,uint256)`.
pub const TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `balanceOf(address)`.
pub const BALANCE_OF: [u8; 4] = [0x70, 0xa0, 0x82, 0x31];
/// `totalDeposits()`.
pub const TOTAL_DEPOSITS: [u8; 4] = [0x7d, 0x88, 0x20, 0x97];

/// The artifact is unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    /// Not valid JSON.
    #[error("contracts/Bank.json is not valid JSON: {0}")]
    Json(String),
    /// A field is missing or not a string.
    #[error("contracts/Bank.json: field `{0}` missing or not a string")]
    Missing(&'static str),
    /// A hex field does not decode.
    #[error("contracts/Bank.json: field `{field}` is not hex: {reason}")]
    Hex {
        /// Field name.
        field: &'static str,
        /// Decoder message.
        reason: String,
    },
}

fn artifact() -> Result<serde_json::Value, ArtifactError> {
    serde_json::from_str(ARTIFACT_JSON).map_err(|e| ArtifactError::Json(e.to_string()))
}

fn hex_field(field: &'static str) -> Result<Bytes, ArtifactError> {
    let v = artifact()?;
    let s = v
        .get(field)
        .and_then(|x| x.as_str())
        .ok_or(ArtifactError::Missing(field))?;
    s.parse::<Bytes>().map_err(|e| ArtifactError::Hex {
        field,
        reason: e.to_string(),
    })
}

/// Init code (deploy with a CREATE transaction).
pub fn creation_code() -> Result<Bytes, ArtifactError> {
    hex_field("bytecode")
}

/// Runtime code (what genesis installs at [`BANK_ADDRESS`]; the constructor sets no storage).
pub fn runtime_code() -> Result<Bytes, ArtifactError> {
    hex_field("deployedBytecode")
}

/// The ABI as a JSON array string.
pub fn abi_json() -> Result<String, ArtifactError> {
    let v = artifact()?;
    let abi = v.get("abi").ok_or(ArtifactError::Missing("abi"))?;
    Ok(abi.to_string())
}

/// Compiler version recorded in the artifact.
pub fn solc_version() -> Result<String, ArtifactError> {
    let v = artifact()?;
    v.pointer("/compiler/version")
        .and_then(|x| x.as_str())
        .map(str::to_owned)
        .ok_or(ArtifactError::Missing("compiler.version"))
}

fn word_addr(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

fn calldata(selector: [u8; 4], words: &[[u8; 32]]) -> Bytes {
    let mut out = Vec::with_capacity(4 + 32 * words.len());
    out.extend_from_slice(&selector);
    for w in words {
        out.extend_from_slice(w);
    }
    out.into()
}

/// Calldata for `deposit()` (send the amount as the transaction value).
pub fn deposit_calldata() -> Bytes {
    calldata(DEPOSIT, &[])
}

/// Calldata for `withdraw(amount)`.
pub fn withdraw_calldata(amount: U256) -> Bytes {
    calldata(WITHDRAW, &[amount.to_be_bytes()])
}

/// Calldata for `transfer(to, amount)`.
pub fn transfer_calldata(to: Address, amount: U256) -> Bytes {
    calldata(TRANSFER, &[word_addr(&to), amount.to_be_bytes()])
}

/// Calldata for `balanceOf(account)`.
pub fn balance_of_calldata(account: Address) -> Bytes {
    calldata(BALANCE_OF, &[word_addr(&account)])
}

/// Calldata for `totalDeposits()`.
pub fn total_deposits_calldata() -> Bytes {
    calldata(TOTAL_DEPOSITS, &[])
}

/// Storage slot holding `balances[account]`: keccak256(pad32(account) ‖ pad32(0)).
pub fn balance_slot(account: Address) -> U256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(&word_addr(&account));
    buf[32..].copy_from_slice(&BALANCES_SLOT.to_be_bytes::<32>());
    U256::from_be_bytes(keccak256(buf).0)
}

/// topic0 of `Deposit(address,uint256)`.
pub fn deposit_topic() -> B256 {
    keccak256("Deposit(address,uint256)")
}

/// topic0 of `Withdrawal(address,uint256)`.
pub fn withdrawal_topic() -> B256 {
    keccak256("Withdrawal(address,uint256)")
}

/// topic0 of `Transfer(address,address,uint256)`.
pub fn transfer_topic() -> B256 {
    keccak256("Transfer(address,address,uint256)")
}

/// A decoded Bank event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankEvent {
    /// `Deposit(account, amount)`.
    Deposit {
        /// Depositor.
        account: Address,
        /// Wei.
        amount: U256,
    },
    /// `Withdrawal(account, amount)`.
    Withdrawal {
        /// Withdrawer.
        account: Address,
        /// Wei.
        amount: U256,
    },
    /// `Transfer(from, to, amount)`.
    Transfer {
        /// Payer.
        from: Address,
        /// Payee.
        to: Address,
        /// Wei.
        amount: U256,
    },
}

/// Decode a log emitted by a Bank contract; `None` if it is not one of its events.
pub fn decode_event(log: &Log) -> Option<BankEvent> {
    let topic_addr = |i: usize| log.topics.get(i).map(|t| Address::from_slice(&t[12..]));
    let amount = U256::try_from_be_slice(log.data.get(..32)?)?;
    let topic0 = *log.topics.first()?;
    if topic0 == deposit_topic() {
        Some(BankEvent::Deposit {
            account: topic_addr(1)?,
            amount,
        })
    } else if topic0 == withdrawal_topic() {
        Some(BankEvent::Withdrawal {
            account: topic_addr(1)?,
            amount,
        })
    } else if topic0 == transfer_topic() {
        Some(BankEvent::Transfer {
            from: topic_addr(1)?,
            to: topic_addr(2)?,
            amount,
        })
    } else {
        None
    }
}

/// Decode a 32-byte ABI `uint256` return value.
pub fn decode_uint(output: &[u8]) -> Option<U256> {
    U256::try_from_be_slice(output.get(..32)?)
}
