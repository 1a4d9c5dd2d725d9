//! [`ChainStore`]: typed chain accessors over a raw [`Store`]. A committed fast block (header,
//! hash index, body, receipts, certificate, tx index, state changes, state history, head) is
//! one atomic [`WriteBatch`].
use std::sync::{Arc, Mutex};

use alloy_primitives::B256;
use tc_types::{
    CommitCertificate, FastBlock, FastHeader, Receipt, StateDiff, TableStats, TxEnvelope,
    TxLocation,
};

use crate::codec::{
    decode_b256, decode_num, decode_rlp, decode_txs, encode_txs, num_key, rlp, rlp_list,
};
use crate::error::StorageError;
use crate::history;
use crate::memory::MemoryStore;
use crate::state::{HistoricalState, LatestState};
use crate::store::{Store, WriteBatch};
use crate::table::Table;

/// Schema version written to `meta` on first open; a database with another version is refused.
pub const SCHEMA_VERSION: u64 = 1;

/// Well-known keys of the `meta` table.
pub mod meta_keys {
    /// Fast head: number (8 bytes BE) ‖ hash (32 bytes).
    pub const FAST_HEAD: &str = "fast_head";
    /// Snail head: number (8 bytes BE) ‖ hash (32 bytes).
    pub const SNAIL_HEAD: &str = "snail_head";
    /// Hash of the first committed fast block (genesis).
    pub const GENESIS_HASH: &str = "genesis_hash";
    /// Schema version (8 bytes BE).
    pub const SCHEMA_VERSION: &str = "schema_version";
    /// Oldest block whose state is still readable (8 bytes BE).
    pub const HISTORY_FLOOR: &str = "state_history_floor";
}

/// Typed, cheap-to-clone access to the chain data of one node.
///
/// Clones share one commit lock, so concurrent [`ChainStore::commit_block`] calls through
/// clones are serialised; open one `ChainStore` per database and clone it.
#[derive(Clone, Debug)]
pub struct ChainStore {
    store: Arc<dyn Store>,
    history_blocks: u64,
    /// Serialises [`ChainStore::commit_block`] (it reads the head, then writes a batch).
    commit_lock: Arc<Mutex<()>>,
}

/// Decode a `number ‖ hash` head record.
fn decode_head(key: &str, bytes: &[u8]) -> Result<(u64, B256), StorageError> {
    if bytes.len() != 40 {
        return Err(StorageError::corrupt(
            Table::Meta,
            key.as_bytes(),
            "head",
            format!("expected 40 bytes, got {}", bytes.len()),
        ));
    }
    let n = decode_num(Table::Meta, key.as_bytes(), &bytes[..8], "head number")?;
    let h = decode_b256(Table::Meta, key.as_bytes(), &bytes[8..], "head hash")?;
    Ok((n, h))
}

/// Encode a `number ‖ hash` head record.
pub(crate) fn encode_head(number: u64, hash: &B256) -> Vec<u8> {
    let mut v = Vec::with_capacity(40);
    v.extend_from_slice(&number.to_be_bytes());
    v.extend_from_slice(hash.as_slice());
    v
}

impl ChainStore {
    /// Wrap a store, keeping the state of the last `history_blocks` blocks readable. Writes the
    /// schema version into an empty database; refuses a database with another version.
    pub fn open(store: Arc<dyn Store>, history_blocks: u64) -> Result<Self, StorageError> {
        let this = Self {
            store,
            history_blocks: history_blocks.max(1),
            commit_lock: Arc::default(),
        };
        let key = meta_keys::SCHEMA_VERSION.as_bytes();
        match this.store.get(Table::Meta, key)? {
            Some(v) => {
                let found = decode_num(Table::Meta, key, &v, "schema version")?;
                if found != SCHEMA_VERSION {
                    return Err(StorageError::SchemaMismatch {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None => {
                let mut b = WriteBatch::new();
                b.put(Table::Meta, key, SCHEMA_VERSION.to_be_bytes());
                this.store.write(b)?;
            }
        }
        Ok(this)
    }

    /// A fresh in-memory chain store (tests, simulator).
    pub fn memory(history_blocks: u64) -> Self {
        Self {
            store: Arc::new(MemoryStore::new()),
            history_blocks: history_blocks.max(1),
            commit_lock: Arc::default(),
        }
    }

    /// The raw store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// How many recent blocks' state stays readable.
    pub fn history_blocks(&self) -> u64 {
        self.history_blocks
    }

    /// Per-table statistics.
    pub fn stats(&self) -> Result<Vec<TableStats>, StorageError> {
        self.store.stats()
    }

    /// Flush memtables to disk files.
    pub fn flush(&self) -> Result<(), StorageError> {
        self.store.flush()
    }

    // ---- meta -------------------------------------------------------------------------------

    /// Raw value of a `meta` key.
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.store.get(Table::Meta, key.as_bytes())
    }

    /// Set a `meta` key.
    pub fn meta_put(&self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::new();
        b.put(Table::Meta, key.as_bytes(), value);
        self.store.write(b)
    }

    /// A `number ‖ hash` head record.
    pub(crate) fn head_record(&self, key: &str) -> Result<Option<(u64, B256)>, StorageError> {
        self.meta_get(key)?
            .map(|v| decode_head(key, &v))
            .transpose()
    }

    // ---- fast chain ---------------------------------------------------------------------------

    /// Number and hash of the last committed fast block.
    pub fn fast_head(&self) -> Result<Option<(u64, B256)>, StorageError> {
        self.head_record(meta_keys::FAST_HEAD)
    }

    /// Hash of the first committed fast block.
    pub fn genesis_hash(&self) -> Result<Option<B256>, StorageError> {
        let key = meta_keys::GENESIS_HASH;
        self.meta_get(key)?
            .map(|v| decode_b256(Table::Meta, key.as_bytes(), &v, "genesis hash"))
            .transpose()
    }

    /// Commit a fast block with everything it produced, atomically: header, hash index, body,
    /// receipts, certificate (none for genesis), tx index, state changes, state history (with
    /// pruning of blocks that left the window) and the new head.
    ///
    /// The block must extend the head (`number = head + 1`, `parent_hash = head hash`); the
    /// first block committed to an empty store may have any number and becomes the genesis.
    /// There must be one receipt per transaction and the certificate must name this block.
    /// A refused commit writes nothing.
    pub fn commit_block(
        &self,
        block: &FastBlock,
        receipts: &[Receipt],
        certificate: Option<&CommitCertificate>,
        diff: &StateDiff,
    ) -> Result<(), StorageError> {
        self.commit_block_with(block, receipts, certificate, diff, WriteBatch::new())
    }

    /// [`ChainStore::commit_block`] plus caller-supplied operations (e.g. consensus-log
    /// entries such as the last executed sequence number) in the same atomic batch; they are
    /// applied after the block's own writes.
    pub fn commit_block_with(
        &self,
        block: &FastBlock,
        receipts: &[Receipt],
        certificate: Option<&CommitCertificate>,
        diff: &StateDiff,
        extra: WriteBatch,
    ) -> Result<(), StorageError> {
        let header = &block.header;
        let number = header.number;
        let hash = header.hash();
        // A poisoned lock guards no data; the store itself is consistent.
        let _guard = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        let head = self.fast_head()?;
        let mut b = WriteBatch::new();
        if let Some((head_number, head_hash)) = head {
            let expected = head_number.saturating_add(1);
            if number != expected {
                return Err(StorageError::NonContiguous {
                    expected,
                    got: number,
                });
            }
            if header.parent_hash != head_hash {
                return Err(StorageError::ParentMismatch {
                    number,
                    parent: header.parent_hash,
                    head: head_hash,
                });
            }
        } else {
            b.put(
                Table::Meta,
                meta_keys::GENESIS_HASH.as_bytes(),
                hash.as_slice(),
            );
        }
        if receipts.len() != block.transactions.len() {
            let reason = format!(
                "{} receipts for {} transactions",
                receipts.len(),
                block.transactions.len()
            );
            return Err(StorageError::InvalidBlock { number, reason });
        }
        if let Some(cert) = certificate
            && (cert.block_hash != hash || cert.seq != number)
        {
            let reason = format!(
                "certificate is for block {} ({}), not {hash}",
                cert.seq, cert.block_hash
            );
            return Err(StorageError::InvalidBlock { number, reason });
        }
        let key = num_key(number);
        b.put(Table::FastHeaders, key, rlp(header));
        b.put(Table::FastHashes, hash.as_slice(), key);
        b.put(Table::FastBodies, key, encode_txs(&block.transactions));
        b.put(Table::Receipts, key, rlp_list(receipts));
        if let Some(cert) = certificate {
            b.put(Table::Certificates, key, rlp(cert));
        }
        for (index, tx) in block.transactions.iter().enumerate() {
            let loc = TxLocation {
                block_number: number,
                block_hash: hash,
                index: index as u64,
            };
            b.put(Table::TxIndex, tx.tx_hash().as_slice(), rlp(&loc));
        }
        history::apply_diff(self, &mut b, number, head.is_none(), diff)?;
        b.put(
            Table::Meta,
            meta_keys::FAST_HEAD.as_bytes(),
            encode_head(number, &hash),
        );
        for op in extra.into_ops() {
            b.push(op);
        }
        self.store.write(b)
    }

    /// Header by number.
    pub fn header_by_number(&self, number: u64) -> Result<Option<FastHeader>, StorageError> {
        let key = num_key(number);
        self.store
            .get(Table::FastHeaders, &key)?
            .map(|v| decode_rlp(Table::FastHeaders, &key, &v, "fast header"))
            .transpose()
    }

    /// Number of the block with this hash.
    pub fn block_number(&self, hash: &B256) -> Result<Option<u64>, StorageError> {
        let key = hash.as_slice();
        self.store
            .get(Table::FastHashes, key)?
            .map(|v| decode_num(Table::FastHashes, key, &v, "block number"))
            .transpose()
    }

    /// Header by hash.
    pub fn header_by_hash(&self, hash: &B256) -> Result<Option<FastHeader>, StorageError> {
        match self.block_number(hash)? {
            Some(n) => self.header_by_number(n),
            None => Ok(None),
        }
    }

    /// Hash of the block at `number`.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>, StorageError> {
        Ok(self.header_by_number(number)?.map(|h| h.hash()))
    }

    /// Transactions of the block at `number`.
    pub fn body(&self, number: u64) -> Result<Option<Vec<TxEnvelope>>, StorageError> {
        let key = num_key(number);
        self.store
            .get(Table::FastBodies, &key)?
            .map(|v| decode_txs(Table::FastBodies, &key, &v))
            .transpose()
    }

    /// Full block by number.
    pub fn block_by_number(&self, number: u64) -> Result<Option<FastBlock>, StorageError> {
        let Some(header) = self.header_by_number(number)? else {
            return Ok(None);
        };
        let key = num_key(number);
        let transactions = self.body(number)?.ok_or_else(|| {
            StorageError::corrupt(
                Table::FastBodies,
                &key,
                "block body",
                "missing for a stored header",
            )
        })?;
        Ok(Some(FastBlock {
            header,
            transactions,
        }))
    }

    /// Full block by hash.
    pub fn block_by_hash(&self, hash: &B256) -> Result<Option<FastBlock>, StorageError> {
        match self.block_number(hash)? {
            Some(n) => self.block_by_number(n),
            None => Ok(None),
        }
    }

    /// Receipts of the block at `number`.
    pub fn receipts(&self, number: u64) -> Result<Option<Vec<Receipt>>, StorageError> {
        let key = num_key(number);
        self.store
            .get(Table::Receipts, &key)?
            .map(|v| decode_rlp(Table::Receipts, &key, &v, "receipts"))
            .transpose()
    }

    /// Commit certificate of the block at `number` (none for genesis).
    pub fn certificate(&self, number: u64) -> Result<Option<CommitCertificate>, StorageError> {
        let key = num_key(number);
        self.store
            .get(Table::Certificates, &key)?
            .map(|v| decode_rlp(Table::Certificates, &key, &v, "certificate"))
            .transpose()
    }

    /// Where a committed transaction is.
    pub fn tx_location(&self, tx_hash: &B256) -> Result<Option<TxLocation>, StorageError> {
        let key = tx_hash.as_slice();
        self.store
            .get(Table::TxIndex, key)?
            .map(|v| decode_rlp(Table::TxIndex, key, &v, "tx location"))
            .transpose()
    }

    /// A committed transaction with its receipt and location.
    pub fn transaction(
        &self,
        tx_hash: &B256,
    ) -> Result<Option<(TxEnvelope, Receipt, TxLocation)>, StorageError> {
        let Some(loc) = self.tx_location(tx_hash)? else {
            return Ok(None);
        };
        let missing = |what| {
            StorageError::corrupt(
                Table::TxIndex,
                tx_hash.as_slice(),
                what,
                "indexed but not stored",
            )
        };
        let i = usize::try_from(loc.index).map_err(|_| missing("tx index"))?;
        let tx = self
            .body(loc.block_number)?
            .and_then(|mut b| (i < b.len()).then(|| b.swap_remove(i)));
        let receipt = self
            .receipts(loc.block_number)?
            .and_then(|mut r| (i < r.len()).then(|| r.swap_remove(i)));
        match (tx, receipt) {
            (Some(tx), Some(receipt)) => Ok(Some((tx, receipt, loc))),
            (None, _) => Err(missing("transaction")),
            (_, None) => Err(missing("receipt")),
        }
    }

    // ---- state --------------------------------------------------------------------------------

    /// A reader of the latest committed state.
    pub fn latest_state(&self) -> LatestState {
        LatestState::new(self.clone())
    }

    /// Oldest block whose state can be read with [`ChainStore::state_at`].
    pub fn history_floor(&self) -> Result<Option<u64>, StorageError> {
        let key = meta_keys::HISTORY_FLOOR.as_bytes();
        self.store
            .get(Table::Meta, key)?
            .map(|v| decode_num(Table::Meta, key, &v, "history floor"))
            .transpose()
    }

    /// A reader of the state after block `at`: the latest state for `None` or any block at or
    /// above the head, else [`ChainStore::state_at`] (historical; fails below the window).
    pub fn state_reader(
        &self,
        at: Option<u64>,
    ) -> Result<Box<dyn tc_types::StateReader + Send>, StorageError> {
        let head = self.fast_head()?.map_or(0, |(n, _)| n);
        match at {
            Some(n) if n < head => Ok(Box::new(self.state_at(n)?)),
            _ => Ok(Box::new(self.latest_state())),
        }
    }

    /// A reader of the state right after block `number` was committed. Fails with
    /// [`StorageError::HistoryPruned`] below the retained window and
    /// [`StorageError::BeyondHead`] above the head.
    pub fn state_at(&self, number: u64) -> Result<HistoricalState, StorageError> {
        let head = self.fast_head()?.map(|(n, _)| n);
        match head {
            Some(h) if number <= h => {}
            _ => {
                return Err(StorageError::BeyondHead {
                    requested: number,
                    head,
                });
            }
        }
        let floor = self.history_floor()?.unwrap_or(0);
        if number < floor {
            return Err(StorageError::HistoryPruned {
                requested: number,
                oldest: floor,
            });
        }
        Ok(HistoricalState::new(self.clone(), number))
    }
}
