//! Keys: the dev accounts every Ethereum tool knows, the node's ed25519 consensus key, and
//! transaction signing helpers (used by the CLI, tests and load generators).
use std::path::Path;

use alloy_consensus::{SignableTransaction, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use ed25519_dalek::SigningKey;
use tc_types::{PubKey, TxEnvelope};

/// The well-known development mnemonic (Hardhat, Foundry/anvil, ganache).
pub const DEV_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Errors from key handling.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Derivation from the mnemonic failed.
    #[error("cannot derive dev account {index}: {reason}")]
    Derive {
        /// Account index.
        index: u32,
        /// Why.
        reason: String,
    },
    /// Key file unreadable or malformed.
    #[error("key file {path}: {reason}")]
    File {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Dev account `i` (path m/44'/60'/0'/0/i of [`DEV_MNEMONIC`]).
pub fn dev_signer(index: u32) -> Result<PrivateKeySigner, KeyError> {
    MnemonicBuilder::<English>::default()
        .phrase(DEV_MNEMONIC)
        .index(index)
        .and_then(|b| b.build())
        .map_err(|e| KeyError::Derive {
            index,
            reason: e.to_string(),
        })
}

/// The first `n` dev accounts.
pub fn dev_signers(n: u32) -> Result<Vec<PrivateKeySigner>, KeyError> {
    (0..n).map(dev_signer).collect()
}

/// The node's ed25519 consensus key (signs PBFT messages; identifies it as miner/member).
#[derive(Clone)]
pub struct ConsensusKey(SigningKey);

impl std::fmt::Debug for ConsensusKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConsensusKey({})", self.public())
    }
}

impl ConsensusKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// A deterministic key from a 32-byte seed (tests, devnet key generation from a seed).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// Public key bytes.
    pub fn public(&self) -> PubKey {
        PubKey::from(self.0.verifying_key().to_bytes())
    }

    /// The dalek signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    /// Fee recipient of this member: the last 20 bytes of keccak256(public key).
    pub fn coinbase(&self) -> alloy_primitives::Address {
        coinbase_of(&self.public())
    }

    /// The PBFT signer over this key.
    pub fn pbft_signer(&self) -> tc_consensus::pbft::Ed25519Signer {
        tc_consensus::pbft::Ed25519Signer::from_seed(self.0.to_bytes())
    }

    /// Read a key file (64 hex characters, optional 0x, surrounding whitespace ignored).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let text = text.trim();
        let hex_str = text.strip_prefix("0x").unwrap_or(text);
        let bytes = hex::decode(hex_str).map_err(|e| err(format!("not hex: {e}")))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| err(format!("expected 32 bytes, got {}", b.len())))?;
        Ok(Self::from_seed(seed))
    }

    /// Write the key file (mode 0600 on Unix).
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let err = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        std::fs::write(path, format!("{}\n", hex::encode(self.0.to_bytes()))).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
        }
        Ok(())
    }
}

/// Fields of an EIP-1559 transaction to sign.
#[derive(Clone, Debug)]
pub struct TxParams {
    /// Chain id.
    pub chain_id: u64,
    /// Sender nonce.
    pub nonce: u64,
    /// Recipient (None = contract creation).
    pub to: Option<Address>,
    /// Wei sent.
    pub value: U256,
    /// Calldata / init code.
    pub input: Bytes,
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas (wei).
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas (wei).
    pub max_priority_fee_per_gas: u128,
}

/// Sign an EIP-1559 transaction.
pub fn sign_eip1559(signer: &PrivateKeySigner, p: &TxParams) -> Result<TxEnvelope, KeyError> {
    let tx = TxEip1559 {
        chain_id: p.chain_id,
        nonce: p.nonce,
        gas_limit: p.gas_limit,
        max_fee_per_gas: p.max_fee_per_gas,
        max_priority_fee_per_gas: p.max_priority_fee_per_gas,
        to: p.to.map_or(TxKind::Create, TxKind::Call),
        value: p.value,
        access_list: Default::default(),
        input: p.input.clone(),
    };
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .map_err(|e| KeyError::Sign(e.to_string()))?;
    Ok(TxEnvelope::from(tx.into_signed(sig)))
}

/// Parse a hex private key (32 bytes, optional 0x).
pub fn signer_from_hex(s: &str) -> Result<PrivateKeySigner, KeyError> {
    let s = s.trim();
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|e| KeyError::File {
        path: "<private key>".into(),
        reason: format!("not hex: {e}"),
    })?;
    let b = B256::try_from(bytes.as_slice()).map_err(|_| KeyError::File {
        path: "<private key>".into(),
        reason: format!("expected 32 bytes, got {}", bytes.len()),
    })?;
    PrivateKeySigner::from_bytes(&b).map_err(|e| KeyError::File {
        path: "<private key>".into(),
        reason: e.to_string(),
    })
}

/// Fee recipient derived from a consensus key: the last 20 bytes of keccak256(key).
pub fn coinbase_of(key: &PubKey) -> alloy_primitives::Address {
    alloy_primitives::Address::from_slice(&alloy_primitives::keccak256(key)[12..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use tc_types::RecoveredTx;

    #[test]
    fn dev_accounts_are_the_well_known_ones() {
        let want = [
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(
                dev_signer(i as u32)
                    .expect("derive")
                    .address()
                    .to_checksum(None),
                *w
            );
        }
    }

    #[test]
    fn signed_tx_recovers_sender() {
        let s = dev_signer(0).expect("derive");
        let tx = sign_eip1559(
            &s,
            &TxParams {
                chain_id: 1337,
                nonce: 0,
                to: Some(Address::ZERO),
                value: U256::from(1),
                input: Bytes::new(),
                gas_limit: 21_000,
                max_fee_per_gas: 2_000_000_000,
                max_priority_fee_per_gas: 1,
            },
        )
        .expect("sign");
        assert_eq!(
            RecoveredTx::recover(tx).expect("recover").sender,
            s.address()
        );
    }

    #[test]
    fn consensus_key_file_round_trip_and_errors() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("k");
        let k = ConsensusKey::from_seed([7; 32]);
        k.save(&p).expect("save");
        assert_eq!(ConsensusKey::load(&p).expect("load").public(), k.public());
        std::fs::write(&p, "abcd").expect("write");
        let e = ConsensusKey::load(&p).expect_err("short").to_string();
        assert!(e.ends_with("expected 32 bytes, got 2"), "{e}");
        std::fs::write(&p, "zz").expect("write");
        assert!(
            ConsensusKey::load(&p)
                .expect_err("hex")
                .to_string()
                .contains("not hex")
        );
    }
}
