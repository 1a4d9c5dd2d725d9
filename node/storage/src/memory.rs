//! [`MemoryStore`]: the in-memory twin of [`crate::RocksStore`] (one `BTreeMap` per table behind
//! one lock, so a batch is atomic), for unit tests and the simulator.
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use tc_types::TableStats;

use crate::error::StorageError;
use crate::store::{Entry, IoCounters, Op, Store, WriteBatch};
use crate::table::Table;

type Tables = Vec<BTreeMap<Vec<u8>, Vec<u8>>>;

/// A [`Store`] kept in memory. Same ordering, range and batch semantics as RocksDB.
#[derive(Debug)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
    counters: IoCounters,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            tables: RwLock::new(vec![BTreeMap::new(); Table::ALL.len()]),
            counters: IoCounters::default(),
        }
    }

    // A poisoned lock only means another thread panicked while holding it; the maps are
    // still consistent because every batch is applied without panicking paths.
    fn read(&self) -> RwLockReadGuard<'_, Tables> {
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, Tables> {
        self.tables.write().unwrap_or_else(|e| e.into_inner())
    }

    fn range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
        rev: bool,
    ) -> Vec<Entry> {
        let guard = self.read();
        let map = &guard[table.index()];
        if let Some(to) = to
            && to <= from
        {
            return Vec::new();
        }
        let upper = match to {
            Some(t) => Bound::Excluded(t),
            None => Bound::Unbounded,
        };
        let range = map.range::<[u8], _>((Bound::Included(from), upper));
        let out: Vec<Entry> = if rev {
            range
                .rev()
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            range
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let bytes = out.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.counters.read(table, bytes);
        out
    }
}

impl Store for MemoryStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let value = self.read()[table.index()].get(key).cloned();
        self.counters
            .read(table, value.as_ref().map_or(0, Vec::len));
        Ok(value)
    }

    fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let ops = batch.into_ops();
        self.counters.wrote(&ops);
        let mut tables = self.write_lock();
        for op in ops {
            let map = &mut tables[op.table().index()];
            match op {
                Op::Put { key, value, .. } => {
                    map.insert(key, value);
                }
                Op::Delete { key, .. } => {
                    map.remove(&key);
                }
                Op::DeleteRange { from, to, .. } => {
                    if from < to {
                        let doomed: Vec<Vec<u8>> = map
                            .range::<[u8], _>((
                                Bound::Included(from.as_slice()),
                                Bound::Excluded(to.as_slice()),
                            ))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for k in doomed {
                            map.remove(&k);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn iter_range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self.range(table, from, to, limit, false))
    }

    fn iter_range_rev(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self.range(table, from, to, limit, true))
    }

    fn stats(&self) -> Result<Vec<TableStats>, StorageError> {
        let guard = self.read();
        Ok(Table::ALL
            .into_iter()
            .map(|t| {
                let map = &guard[t.index()];
                let mut s = self.counters.snapshot(t);
                s.estimated_keys = map.len() as u64;
                s.memtable_bytes = map.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
                s
            })
            .collect())
    }

    fn flush(&self) -> Result<(), StorageError> {
        Ok(())
    }
}
