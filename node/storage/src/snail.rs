//! Snail chain, committees, the PBFT engine's consensus log: more [`ChainStore`] accessors.
use alloy_primitives::B256;
use tc_types::{Committee, FruitRef, SnailBlock, SnailHeader};

use crate::chain::{ChainStore, encode_head, meta_keys};
use crate::codec::{decode_b256, decode_json, decode_rlp, json, num_key, rlp, rlp_list};
use crate::error::StorageError;
use crate::store::{Entry, WriteBatch};
use crate::table::Table;

impl ChainStore {
    // ---- snail chain --------------------------------------------------------------------------

    /// Store a snail block (header and fruits) under its hash. Does not change the canonical
    /// chain; see [`ChainStore::set_snail_head`].
    pub fn put_snail_block(&self, block: &SnailBlock) -> Result<(), StorageError> {
        let hash = block.header.hash();
        let mut b = WriteBatch::new();
        b.put(Table::SnailHeaders, hash.as_slice(), rlp(&block.header));
        b.put(Table::SnailBodies, hash.as_slice(), rlp_list(&block.fruits));
        self.store().write(b)
    }

    /// Snail header by hash.
    pub fn snail_header(&self, hash: &B256) -> Result<Option<SnailHeader>, StorageError> {
        let key = hash.as_slice();
        self.store()
            .get(Table::SnailHeaders, key)?
            .map(|v| decode_rlp(Table::SnailHeaders, key, &v, "snail header"))
            .transpose()
    }

    /// Snail block by hash.
    pub fn snail_block(&self, hash: &B256) -> Result<Option<SnailBlock>, StorageError> {
        let Some(header) = self.snail_header(hash)? else {
            return Ok(None);
        };
        let key = hash.as_slice();
        let fruits: Vec<FruitRef> = match self.store().get(Table::SnailBodies, key)? {
            Some(v) => decode_rlp(Table::SnailBodies, key, &v, "snail body")?,
            None => {
                return Err(StorageError::corrupt(
                    Table::SnailBodies,
                    key,
                    "snail body",
                    "missing for a stored header",
                ));
            }
        };
        Ok(Some(SnailBlock { header, fruits }))
    }

    /// Make `(number, hash)` the snail head, atomically: writes the canonical entries in
    /// `canonical` (number → hash, e.g. the new branch after a reorg, including the head),
    /// removes canonical entries above `number`, and sets the head.
    pub fn set_snail_head(
        &self,
        number: u64,
        hash: B256,
        canonical: &[(u64, B256)],
    ) -> Result<(), StorageError> {
        let mut b = WriteBatch::new();
        if let Some(above) = number.checked_add(1) {
            b.delete_range(Table::SnailCanonical, num_key(above), [0xffu8; 9]);
        }
        for (n, h) in canonical {
            b.put(Table::SnailCanonical, num_key(*n), h.as_slice());
        }
        b.put(Table::SnailCanonical, num_key(number), hash.as_slice());
        b.put(
            Table::Meta,
            meta_keys::SNAIL_HEAD.as_bytes(),
            encode_head(number, &hash),
        );
        self.store().write(b)
    }

    /// Canonical snail hash at `number`.
    pub fn snail_canonical(&self, number: u64) -> Result<Option<B256>, StorageError> {
        let key = num_key(number);
        self.store()
            .get(Table::SnailCanonical, &key)?
            .map(|v| decode_b256(Table::SnailCanonical, &key, &v, "snail hash"))
            .transpose()
    }

    /// Number and hash of the snail head.
    pub fn snail_head(&self) -> Result<Option<(u64, B256)>, StorageError> {
        self.head_record(meta_keys::SNAIL_HEAD)
    }

    // ---- committees ---------------------------------------------------------------------------

    /// Store the committee of its epoch.
    pub fn put_committee(&self, committee: &Committee) -> Result<(), StorageError> {
        let key = num_key(committee.epoch);
        let mut b = WriteBatch::new();
        b.put(
            Table::Committees,
            key,
            json(Table::Committees, &key, committee)?,
        );
        self.store().write(b)
    }

    /// Committee of an epoch.
    pub fn committee(&self, epoch: u64) -> Result<Option<Committee>, StorageError> {
        let key = num_key(epoch);
        self.store()
            .get(Table::Committees, &key)?
            .map(|v| decode_json(Table::Committees, &key, &v, "committee"))
            .transpose()
    }

    /// The committee with the highest stored epoch.
    pub fn latest_committee(&self) -> Result<Option<Committee>, StorageError> {
        let last = self
            .store()
            .iter_range_rev(Table::Committees, &[], None, 1)?;
        last.into_iter()
            .next()
            .map(|(k, v)| decode_json(Table::Committees, &k, &v, "committee"))
            .transpose()
    }

    // ---- consensus log (opaque to storage) ------------------------------------------------------

    /// Write several consensus-log entries atomically (`None` value = delete).
    pub fn consensus_write(&self, entries: &[(&[u8], Option<&[u8]>)]) -> Result<(), StorageError> {
        let mut b = WriteBatch::new();
        for (k, v) in entries {
            match v {
                Some(v) => b.put(Table::ConsensusLog, *k, *v),
                None => b.delete(Table::ConsensusLog, *k),
            }
        }
        self.store().write(b)
    }

    /// Put one consensus-log entry.
    pub fn consensus_put(&self, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        self.consensus_write(&[(key, Some(value))])
    }

    /// Read one consensus-log entry.
    pub fn consensus_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.store().get(Table::ConsensusLog, key)
    }

    /// Entries with `from <= key < to` (`None` = unbounded), ascending, at most `limit`.
    pub fn consensus_range(
        &self,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.store()
            .iter_range(Table::ConsensusLog, from, to, limit)
    }

    /// Delete one consensus-log entry.
    pub fn consensus_delete(&self, key: &[u8]) -> Result<(), StorageError> {
        self.consensus_write(&[(key, None)])
    }

    /// Delete every consensus-log entry with `from <= key < to` (e.g. below a checkpoint).
    pub fn consensus_delete_range(&self, from: &[u8], to: &[u8]) -> Result<(), StorageError> {
        let mut b = WriteBatch::new();
        b.delete_range(Table::ConsensusLog, from, to);
        self.store().write(b)
    }
}
