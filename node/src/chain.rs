//! Opening the node's chain: RocksDB, genesis initialisation on first start, and the checks
//! that a restarted node is on the same chain with an intact head.
use alloy_primitives::B256;
use tc_storage::{ChainStore, StorageConfig, StorageError};
use tc_types::{Committee, FastBlock, SnailBlock};

use crate::genesis::{Genesis, GenesisState};

/// Why the chain could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Storage failure.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The database was initialised from another genesis.
    #[error(
        "database at {path} belongs to another chain: its genesis is {stored}, the genesis file gives {expected}"
    )]
    GenesisMismatch {
        /// DB path.
        path: String,
        /// Stored genesis hash.
        stored: B256,
        /// Hash of the configured genesis.
        expected: B256,
    },
    /// The database lacks something every initialised chain has.
    #[error("database is inconsistent: {0}")]
    Inconsistent(String),
}

/// Open (and on first start initialise) the chain described by `genesis`.
pub fn open(storage: &StorageConfig, genesis: &Genesis) -> Result<ChainStore, ChainError> {
    let chain = tc_storage::open_chain(storage)?;
    init(&chain, &genesis.build()).map_err(|e| match e {
        ChainError::GenesisMismatch {
            stored, expected, ..
        } => ChainError::GenesisMismatch {
            path: storage.path.display().to_string(),
            stored,
            expected,
        },
        other => other,
    })?;
    Ok(chain)
}

/// Write genesis into an empty store, or check that a non-empty one has the same genesis.
/// Idempotent: each piece is (re)written if missing, so a crash during initialisation heals.
pub fn init(chain: &ChainStore, g: &GenesisState) -> Result<(), ChainError> {
    let expected = g.header.hash();
    match chain.genesis_hash()? {
        Some(stored) if stored != expected => {
            return Err(ChainError::GenesisMismatch {
                path: String::new(),
                stored,
                expected,
            });
        }
        Some(_) => {}
        None => {
            let block = FastBlock {
                header: g.header.clone(),
                transactions: vec![],
            };
            chain.commit_block(&block, &[], None, &g.diff)?;
        }
    }
    if chain.committee(0)?.is_none() {
        chain.put_committee(&g.committee)?;
    }
    if chain.snail_head()?.is_none() {
        let snail = SnailBlock {
            header: g.snail.clone(),
            fruits: vec![],
        };
        let hash = snail.header.hash();
        chain.put_snail_block(&snail)?;
        chain.set_snail_head(0, hash, &[(0, hash)])?;
    }
    Ok(())
}

/// Committee deciding the next block (the latest stored one).
pub fn current_committee(chain: &ChainStore) -> Result<Committee, ChainError> {
    chain
        .latest_committee()?
        .ok_or_else(|| ChainError::Inconsistent("no committee stored".into()))
}
