//! The genesis file (JSON): chain id, initial allocations, the genesis committee and the snail
//! chain's starting difficulty. `tc-node init` writes the dev genesis: the 10 well-known dev
//! accounts with 10,000 ETH each, the Bank contract at its fixed address, and a one-member
//! committee (the node itself, solo mode).
use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use serde::{Deserialize, Serialize};
use tc_types::{
    AccountChange, AccountInfo, Committee, EMPTY_CODE_HASH, FastHeader, Member, PubKey,
    SnailHeader, StateDiff, StorageChange, fruits_hash, next_state_root, receipts_root, tx_root,
};

/// 10,000 ETH in wei.
pub const DEV_BALANCE_WEI: u128 = 10_000 * 1_000_000_000_000_000_000;

/// Errors in a genesis file.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Unreadable file.
    #[error("cannot read genesis {path}: {reason}")]
    Read {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// Bad JSON or field.
    #[error("genesis {path}: {reason}")]
    Parse {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// A value outside its range.
    #[error("genesis.{field}: {message}")]
    Invalid {
        /// Field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// One pre-funded / pre-deployed account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// Balance in wei (hex `0x…` or decimal string).
    pub balance: U256,
    /// Nonce.
    #[serde(default)]
    pub nonce: u64,
    /// Runtime bytecode (hex).
    #[serde(default, skip_serializing_if = "bytes_empty")]
    pub code: Bytes,
    /// Storage slots.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub storage: BTreeMap<U256, U256>,
}

/// The genesis file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Genesis timestamp (ms since the Unix epoch).
    pub timestamp_ms: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Base fee per gas (wei); constant on this chain (blocks are not congestion-priced).
    pub base_fee: u64,
    /// Initial snail-chain difficulty.
    pub snail_difficulty: u64,
    /// Initial allocations.
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// Epoch-0 committee.
    pub committee: Vec<Member>,
    /// Election and rotation rules (every node of a chain must use the same).
    #[serde(default)]
    pub hybrid: HybridParams,
}

/// The chain's election and rotation parameters (see docs/election.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HybridParams {
    /// `E`: snail blocks per epoch (the committee of epoch e+1 is elected from epoch e's window).
    pub epoch_length: u64,
    /// `λ`: confirmations ignored at the end of each election window (< `epoch_length`).
    pub lambda: u64,
    /// `C`: committee size.
    pub committee_size: usize,
    /// `M`: fast blocks between the λ-confirmed checkpointed fast height and the switch.
    pub switch_margin: u64,
    /// Every epoch has at least this many fast blocks.
    pub min_epoch_blocks: u64,
}

impl Default for HybridParams {
    fn default() -> Self {
        Self {
            epoch_length: 10,
            lambda: 2,
            committee_size: 4,
            switch_margin: 24,
            min_epoch_blocks: 8,
        }
    }
}

impl HybridParams {
    /// What genesis commits to: keccak256 of a domain tag and every parameter (8-byte
    /// big-endian, field order). It is the seed of the epoch-0 committee, so it enters that
    /// committee's hash, which the genesis block names: nodes whose hybrid parameters differ
    /// have different genesis hashes and refuse each other as "on another chain".
    pub fn commitment(&self) -> B256 {
        let mut buf = Vec::with_capacity(24 + 5 * 8);
        buf.extend_from_slice(b"trueconsensus/genesis-hybrid/v1");
        for v in [
            self.epoch_length,
            self.lambda,
            self.committee_size as u64,
            self.switch_margin,
            self.min_epoch_blocks,
        ] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
        keccak256(&buf)
    }

    /// The consensus crate's configuration.
    pub fn config(&self) -> tc_consensus::committee::HybridConfig {
        tc_consensus::committee::HybridConfig {
            election: tc_consensus::committee::ElectionConfig {
                epoch_length: self.epoch_length,
                lambda: self.lambda,
                committee_size: self.committee_size,
            },
            rotation: tc_consensus::committee::RotationConfig {
                switch_margin: self.switch_margin,
                min_epoch_blocks: self.min_epoch_blocks,
            },
        }
    }
}

/// What genesis produces for the store.
#[derive(Clone, Debug)]
pub struct GenesisState {
    /// Fast block 0.
    pub header: FastHeader,
    /// State written at genesis.
    pub diff: StateDiff,
    /// Committee of epoch 0.
    pub committee: Committee,
    /// Snail block 0.
    pub snail: SnailHeader,
}

impl Genesis {
    /// Dev genesis: chain 1337, the first `dev_accounts` dev accounts funded, extra alloc (e.g.
    /// the Bank contract) and the given committee.
    pub fn dev(
        dev_accounts: &[Address],
        extra: BTreeMap<Address, GenesisAccount>,
        committee: Vec<Member>,
    ) -> Self {
        let mut alloc: BTreeMap<Address, GenesisAccount> = dev_accounts
            .iter()
            .map(|a| {
                (
                    *a,
                    GenesisAccount {
                        balance: U256::from(DEV_BALANCE_WEI),
                        ..Default::default()
                    },
                )
            })
            .collect();
        alloc.extend(extra);
        Self {
            chain_id: 1337,
            timestamp_ms: 0,
            gas_limit: 30_000_000,
            base_fee: 1_000_000_000,
            snail_difficulty: 50_000,
            alloc,
            committee,
            hybrid: HybridParams::default(),
        }
    }

    /// Read and validate a genesis file.
    pub fn load(path: &Path) -> Result<Self, GenesisError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| GenesisError::Read {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        let g: Self = serde_json::from_str(&text).map_err(|e| GenesisError::Parse {
            path: p,
            reason: e.to_string(),
        })?;
        g.validate()?;
        Ok(g)
    }

    /// Write as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), GenesisError> {
        let p = path.display().to_string();
        let text = serde_json::to_string_pretty(self).map_err(|e| GenesisError::Parse {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| GenesisError::Read {
            path: p,
            reason: e.to_string(),
        })
    }

    /// Check ranges.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |field: &str, message: String| {
            Err(GenesisError::Invalid {
                field: field.into(),
                message,
            })
        };
        if self.chain_id == 0 {
            return bad("chain_id", "must be ≥ 1 (got 0)".into());
        }
        if self.gas_limit < 21_000 {
            return bad(
                "gas_limit",
                format!("must be ≥ 21000 (got {})", self.gas_limit),
            );
        }
        if self.snail_difficulty == 0 {
            return bad("snail_difficulty", "must be ≥ 1 (got 0)".into());
        }
        if self.committee.is_empty() {
            return bad("committee", "must have at least 1 member (got 0)".into());
        }
        let h = &self.hybrid;
        if h.epoch_length == 0 || h.epoch_length > 1_000_000 {
            return bad(
                "hybrid.epoch_length",
                format!("must be between 1 and 1000000 (got {})", h.epoch_length),
            );
        }
        if h.lambda >= h.epoch_length {
            return bad(
                "hybrid.lambda",
                format!(
                    "must be below hybrid.epoch_length {} (got {})",
                    h.epoch_length, h.lambda
                ),
            );
        }
        if h.committee_size == 0 || h.committee_size > 1_000 {
            return bad(
                "hybrid.committee_size",
                format!("must be between 1 and 1000 (got {})", h.committee_size),
            );
        }
        if h.min_epoch_blocks == 0 {
            return bad("hybrid.min_epoch_blocks", "must be ≥ 1 (got 0)".into());
        }
        let mut keys = std::collections::BTreeSet::new();
        for (i, m) in self.committee.iter().enumerate() {
            if !keys.insert(m.key) {
                return bad(
                    &format!("committee[{i}].key"),
                    format!("duplicate member key {}", m.key),
                );
            }
            if m.weight == 0 {
                return bad(
                    &format!("committee[{i}].weight"),
                    "must be ≥ 1 (got 0)".into(),
                );
            }
        }
        Ok(())
    }

    /// Build block 0, the genesis state diff, committee 0 and snail block 0.
    pub fn build(&self) -> GenesisState {
        let mut diff = StateDiff::default();
        let mut code = BTreeMap::new();
        for (addr, acct) in &self.alloc {
            let code_hash = if acct.code.is_empty() {
                EMPTY_CODE_HASH
            } else {
                keccak256(&acct.code)
            };
            if !acct.code.is_empty() {
                code.insert(code_hash, acct.code.clone());
            }
            diff.accounts.push(AccountChange {
                address: *addr,
                info: Some(AccountInfo {
                    nonce: acct.nonce,
                    balance: acct.balance,
                    code_hash,
                }),
            });
            for (slot, value) in &acct.storage {
                diff.storage.push(StorageChange {
                    address: *addr,
                    slot: *slot,
                    value: *value,
                });
            }
        }
        diff.code = code.into_iter().collect();
        let committee = Committee {
            epoch: 0,
            start_height: 1,
            members: self.committee.clone(),
            seed: self.hybrid.commitment(),
        };
        let header = FastHeader {
            number: 0,
            parent_hash: B256::ZERO,
            epoch: 0,
            view: 0,
            proposer: PubKey::ZERO,
            coinbase: Address::ZERO,
            timestamp_ms: self.timestamp_ms,
            gas_used: 0,
            gas_limit: self.gas_limit,
            base_fee: self.base_fee,
            tx_root: tx_root(&[]),
            receipts_root: receipts_root(&[]),
            state_root: next_state_root(&B256::ZERO, &diff),
            next_committee: committee.hash(),
        };
        let snail = SnailHeader {
            number: 0,
            parent_hash: B256::ZERO,
            difficulty: self.snail_difficulty,
            nonce: 0,
            miner: PubKey::ZERO,
            coinbase: Address::ZERO,
            timestamp_ms: self.timestamp_ms,
            fruits_hash: fruits_hash(&[]),
        };
        GenesisState {
            header,
            diff,
            committee,
            snail,
        }
    }
}

/// The Bank sample contract as a genesis account at [`tc_exec::bank::BANK_ADDRESS`] (runtime
/// code, nonce 1 as for any deployed contract, empty ledger).
pub fn bank_alloc() -> Result<(Address, GenesisAccount), tc_exec::bank::ArtifactError> {
    Ok((
        tc_exec::bank::BANK_ADDRESS,
        GenesisAccount {
            balance: U256::ZERO,
            nonce: 1,
            code: tc_exec::bank::runtime_code()?,
            storage: BTreeMap::new(),
        },
    ))
}

fn bytes_empty(b: &Bytes) -> bool {
    b.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(b: u8) -> Member {
        Member {
            key: B256::repeat_byte(b),
            coinbase: Address::repeat_byte(b),
            weight: 1,
        }
    }

    #[test]
    fn dev_genesis_is_deterministic_and_round_trips() {
        let accts = [Address::repeat_byte(1), Address::repeat_byte(2)];
        let g = Genesis::dev(&accts, BTreeMap::new(), vec![member(9)]);
        g.validate().expect("valid");
        let text = serde_json::to_string(&g).expect("json");
        let back: Genesis = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, g);
        let a = g.build();
        let b = back.build();
        assert_eq!(a.header.hash(), b.header.hash());
        assert_eq!(a.diff.accounts.len(), 2);
        assert_eq!(
            a.diff.accounts[0].info.as_ref().map(|i| i.balance),
            Some(U256::from(DEV_BALANCE_WEI))
        );
    }

    #[test]
    fn genesis_hash_covers_every_hybrid_parameter() {
        let g = Genesis::dev(&[], BTreeMap::new(), vec![member(9)]);
        let base = g.build().header.hash();
        type Change = (&'static str, fn(&mut HybridParams));
        let changes: [Change; 5] = [
            ("epoch_length", |h| h.epoch_length += 1),
            ("lambda", |h| h.lambda += 1),
            ("committee_size", |h| h.committee_size += 1),
            ("switch_margin", |h| h.switch_margin += 1),
            ("min_epoch_blocks", |h| h.min_epoch_blocks += 1),
        ];
        let mut seen = std::collections::BTreeSet::from([base]);
        for (name, change) in changes {
            let mut other = g.clone();
            change(&mut other.hybrid);
            let built = other.build();
            assert_eq!(built.committee.seed, other.hybrid.commitment(), "{name}");
            assert_eq!(
                built.header.next_committee,
                built.committee.hash(),
                "{name}"
            );
            assert!(
                seen.insert(built.header.hash()),
                "changing hybrid.{name} left the genesis hash unchanged"
            );
        }
        // Same parameters, same hash.
        assert_eq!(g.clone().build().header.hash(), base);
    }

    #[test]
    fn balances_accept_hex_and_decimal() {
        let j = r#"{"chain_id":5,"timestamp_ms":0,"gas_limit":30000000,"base_fee":1,"snail_difficulty":10,
            "alloc":{"0x0101010101010101010101010101010101010101":{"balance":"0x10"},
                     "0x0202020202020202020202020202020202020202":{"balance":"1000"}},
            "committee":[{"key":"0x0909090909090909090909090909090909090909090909090909090909090909","coinbase":"0x0909090909090909090909090909090909090909","weight":1}]}"#;
        let g: Genesis = serde_json::from_str(j).expect("parse");
        assert_eq!(g.alloc[&Address::repeat_byte(1)].balance, U256::from(16));
        assert_eq!(g.alloc[&Address::repeat_byte(2)].balance, U256::from(1000));
    }

    #[test]
    fn invalid_genesis_names_the_field() {
        let mut g = Genesis::dev(&[], BTreeMap::new(), vec![member(1), member(1)]);
        assert_eq!(
            g.validate().expect_err("dup").to_string(),
            format!(
                "genesis.committee[1].key: duplicate member key {}",
                B256::repeat_byte(1)
            )
        );
        g.committee.clear();
        assert_eq!(
            g.validate().expect_err("empty").to_string(),
            "genesis.committee: must have at least 1 member (got 0)"
        );
        g.committee.push(member(2));
        g.chain_id = 0;
        assert_eq!(
            g.validate().expect_err("chain").to_string(),
            "genesis.chain_id: must be ≥ 1 (got 0)"
        );
    }
}
