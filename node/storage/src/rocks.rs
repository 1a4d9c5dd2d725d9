//! [`RocksStore`]: the durable [`Store`], one RocksDB column family per [`Table`].
//!
//! Durability: the write-ahead log is always on. A [`Store::write`] returns after the batch is
//! in the WAL (and the memtables), so it survives a process crash or SIGKILL even with
//! `sync_writes = false`; only with `sync_writes = true` does it also survive a power loss or
//! kernel crash (each write then waits for fsync).
use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType, Options,
    ReadOptions,
};
use tc_types::TableStats;

use crate::config::{Compression, StorageConfig, TableOptions};
use crate::error::StorageError;
use crate::store::{Entry, IoCounters, Op, Store, WriteBatch};
use crate::table::Table;

const MIB: usize = 1024 * 1024;

/// A [`Store`] backed by RocksDB.
pub struct RocksStore {
    db: DB,
    sync_writes: bool,
    counters: IoCounters,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore")
            .field("path", &self.db.path())
            .field("sync_writes", &self.sync_writes)
            .finish()
    }
}

fn compression(c: Compression) -> DBCompressionType {
    match c {
        Compression::None => DBCompressionType::None,
        Compression::Snappy => DBCompressionType::Snappy,
        Compression::Lz4 => DBCompressionType::Lz4,
        Compression::Zstd => DBCompressionType::Zstd,
        Compression::Zlib => DBCompressionType::Zlib,
    }
}

/// Column family options from a table's tunables.
fn cf_options(o: &TableOptions) -> Options {
    let mut opts = Options::default();
    opts.set_compression_type(compression(o.compression));
    opts.set_write_buffer_size(
        usize::try_from(o.write_buffer_mb)
            .unwrap_or(usize::MAX / MIB)
            .saturating_mul(MIB),
    );
    let mut block = BlockBasedOptions::default();
    if o.block_cache_mb == 0 {
        block.disable_cache();
    } else {
        let bytes = usize::try_from(o.block_cache_mb)
            .unwrap_or(usize::MAX / MIB)
            .saturating_mul(MIB);
        block.set_block_cache(&Cache::new_lru_cache(bytes));
    }
    if o.bloom_bits_per_key > 0 {
        block.set_bloom_filter(f64::from(o.bloom_bits_per_key), false);
    }
    opts.set_block_based_table_factory(&block);
    opts
}

impl RocksStore {
    /// Open (creating if missing) the database at `config.path` with every table's column
    /// family. The config is validated first.
    pub fn open(config: &StorageConfig) -> Result<Self, StorageError> {
        config.validate()?;
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_keep_log_file_num(4);
        let mut cfs: Vec<ColumnFamilyDescriptor> = Table::ALL
            .into_iter()
            .map(|t| ColumnFamilyDescriptor::new(t.name(), cf_options(&config.table_options(t))))
            .collect();
        // Column families this build does not know (written by a newer version) must still be
        // opened; RocksDB refuses to open otherwise. Their data is left alone.
        if let Ok(existing) = DB::list_cf(&db_opts, &config.path) {
            for name in existing {
                if name != "default" && Table::from_name(&name).is_none() {
                    cfs.push(ColumnFamilyDescriptor::new(name, Options::default()));
                }
            }
        }
        let db = DB::open_cf_descriptors(&db_opts, &config.path, cfs).map_err(|e| {
            StorageError::backend_db("open", format!("{}: {e}", config.path.display()))
        })?;
        Ok(Self {
            db,
            sync_writes: config.sync_writes,
            counters: IoCounters::default(),
        })
    }

    fn cf(&self, table: Table) -> Result<&ColumnFamily, StorageError> {
        self.db
            .cf_handle(table.name())
            .ok_or_else(|| StorageError::backend(table, "cf", "column family missing"))
    }

    fn range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        rev: bool,
    ) -> Result<Vec<Entry>, StorageError> {
        if let Some(to) = to
            && to <= from
        {
            return Ok(Vec::new());
        }
        let cf = self.cf(table)?;
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(from.to_vec());
        if let Some(to) = to {
            ro.set_iterate_upper_bound(to.to_vec());
        }
        let mut it = self.db.raw_iterator_cf_opt(cf, ro);
        if rev {
            it.seek_to_last();
        } else {
            it.seek(from);
        }
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < limit && it.valid() {
            if let (Some(k), Some(v)) = (it.key(), it.value()) {
                bytes += k.len() + v.len();
                out.push((k.to_vec(), v.to_vec()));
            }
            if rev {
                it.prev();
            } else {
                it.next();
            }
        }
        it.status()
            .map_err(|e| StorageError::backend(table, "iter", e))?;
        self.counters.read(table, bytes);
        Ok(out)
    }

    fn property(&self, table: Table, name: &str) -> Result<u64, StorageError> {
        let cf = self.cf(table)?;
        let v = self
            .db
            .property_int_value_cf(cf, name)
            .map_err(|e| StorageError::backend(table, "property", e))?;
        Ok(v.unwrap_or(0))
    }
}

impl Store for RocksStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let v = self
            .db
            .get_cf(self.cf(table)?, key)
            .map_err(|e| StorageError::backend(table, "get", e))?;
        self.counters.read(table, v.as_ref().map_or(0, Vec::len));
        Ok(v)
    }

    fn multi_get(
        &self,
        table: Table,
        keys: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let cf = self.cf(table)?;
        let results = self
            .db
            .batched_multi_get_cf(cf, keys.iter().copied(), false);
        let mut out = Vec::with_capacity(keys.len());
        for r in results {
            let v = r.map_err(|e| StorageError::backend(table, "multi_get", e))?;
            let v = v.map(|p| p.to_vec());
            self.counters.read(table, v.as_ref().map_or(0, Vec::len));
            out.push(v);
        }
        Ok(out)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let ops = batch.into_ops();
        let mut wb = rocksdb::WriteBatch::default();
        for op in &ops {
            let cf = self.cf(op.table())?;
            match op {
                Op::Put { key, value, .. } => wb.put_cf(cf, key, value),
                Op::Delete { key, .. } => wb.delete_cf(cf, key),
                Op::DeleteRange { from, to, .. } => {
                    if from < to {
                        wb.delete_range_cf(cf, from, to);
                    }
                }
            }
        }
        let mut wo = rocksdb::WriteOptions::default();
        wo.set_sync(self.sync_writes);
        wo.disable_wal(false);
        self.db
            .write_opt(wb, &wo)
            .map_err(|e| StorageError::backend_db("write", e))?;
        self.counters.wrote(&ops);
        Ok(())
    }

    fn iter_range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.range(table, from, to, limit, false)
    }

    fn iter_range_rev(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        self.range(table, from, to, limit, true)
    }

    fn stats(&self) -> Result<Vec<TableStats>, StorageError> {
        Table::ALL
            .into_iter()
            .map(|t| {
                let mut s = self.counters.snapshot(t);
                s.live_sst_bytes = self.property(t, "rocksdb.live-sst-files-size")?;
                s.estimated_keys = self.property(t, "rocksdb.estimate-num-keys")?;
                s.memtable_bytes = self.property(t, "rocksdb.cur-size-all-mem-tables")?;
                Ok(s)
            })
            .collect()
    }

    fn flush(&self) -> Result<(), StorageError> {
        for t in Table::ALL {
            self.db
                .flush_cf(self.cf(t)?)
                .map_err(|e| StorageError::backend(t, "flush", e))?;
        }
        Ok(())
    }
}
