//! The raw key/value boundary: the [`Store`] trait, the atomic [`WriteBatch`] and the per-table
//! IO counters both implementations share.
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

use tc_types::TableStats;

use crate::error::StorageError;
use crate::table::Table;

/// A key/value pair returned by range reads.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One operation of a [`WriteBatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Insert or overwrite `key` with `value`.
    Put {
        /// Table.
        table: Table,
        /// Key.
        key: Vec<u8>,
        /// Value.
        value: Vec<u8>,
    },
    /// Remove `key` (no-op when absent).
    Delete {
        /// Table.
        table: Table,
        /// Key.
        key: Vec<u8>,
    },
    /// Remove every key in `[from, to)`.
    DeleteRange {
        /// Table.
        table: Table,
        /// First key removed.
        from: Vec<u8>,
        /// First key kept (exclusive bound).
        to: Vec<u8>,
    },
}

impl Op {
    /// Table this operation touches.
    pub fn table(&self) -> Table {
        match self {
            Op::Put { table, .. } | Op::Delete { table, .. } | Op::DeleteRange { table, .. } => {
                *table
            }
        }
    }

    /// Bytes this operation writes (keys + value), for the IO counters.
    pub fn size(&self) -> usize {
        match self {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, .. } => key.len(),
            Op::DeleteRange { from, to, .. } => from.len() + to.len(),
        }
    }
}

/// Operations applied atomically, in order, across any number of tables: after a crash either
/// all of them are visible or none is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<Op>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queue a put.
    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(Op::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
    }

    /// Queue a delete.
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.ops.push(Op::Delete {
            table,
            key: key.into(),
        });
    }

    /// Queue the removal of every key in `[from, to)`.
    pub fn delete_range(&mut self, table: Table, from: impl Into<Vec<u8>>, to: impl Into<Vec<u8>>) {
        self.ops.push(Op::DeleteRange {
            table,
            from: from.into(),
            to: to.into(),
        });
    }

    /// Queue an operation.
    pub fn push(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Queued operations in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Take the operations out.
    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }

    /// Number of queued operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A key/value store with one keyspace per [`Table`].
///
/// Implementations: [`crate::RocksStore`] (durable) and [`crate::MemoryStore`] (tests,
/// simulator). Both behave identically for everything this trait promises.
pub trait Store: Send + Sync + Debug {
    /// Value of `key`, `None` if absent.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Values of several keys of one table, in the order given.
    fn multi_get(
        &self,
        table: Table,
        keys: &[&[u8]],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        keys.iter().map(|k| self.get(table, k)).collect()
    }

    /// Apply a batch atomically (all or nothing, also across a process kill).
    fn write(&self, batch: WriteBatch) -> Result<(), StorageError>;

    /// Entries with `from <= key < to` (`to = None`: unbounded) in ascending key order, at most
    /// `limit` of them.
    fn iter_range(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;

    /// Entries with `from <= key < to` in *descending* key order, at most `limit` of them.
    fn iter_range_rev(
        &self,
        table: Table,
        from: &[u8],
        to: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError>;

    /// Entries whose key starts with `prefix`, ascending, at most `limit`.
    fn iter_prefix(
        &self,
        table: Table,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, StorageError> {
        let end = prefix_successor(prefix);
        self.iter_range(table, prefix, end.as_deref(), limit)
    }

    /// Per-table statistics, one entry per table in [`Table::ALL`] order.
    fn stats(&self) -> Result<Vec<TableStats>, StorageError>;

    /// Persist memtables to disk files (no-op in memory). Committed batches are already durable
    /// against a process kill without this; see the crate docs.
    fn flush(&self) -> Result<(), StorageError>;
}

/// The smallest key greater than every key starting with `prefix` (`None`: no such key, i.e.
/// the prefix is empty or all `0xff`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Read/write counters of one table.
#[derive(Debug, Default)]
struct TableCounters {
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
}

/// Per-table IO counters kept by a store (relaxed atomics: statistics, not synchronisation).
#[derive(Debug, Default)]
pub struct IoCounters {
    tables: [TableCounters; Table::ALL.len()],
}

impl IoCounters {
    /// Count one read that returned `bytes` bytes (keys + values).
    pub fn read(&self, table: Table, bytes: usize) {
        let c = &self.tables[table.index()];
        c.reads.fetch_add(1, Ordering::Relaxed);
        c.bytes_read.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Count the operations of a batch that was written.
    pub fn wrote(&self, ops: &[Op]) {
        for op in ops {
            let c = &self.tables[op.table().index()];
            c.writes.fetch_add(1, Ordering::Relaxed);
            c.bytes_written
                .fetch_add(op.size() as u64, Ordering::Relaxed);
        }
    }

    /// A [`TableStats`] with the counters filled in and the engine figures zero.
    pub fn snapshot(&self, table: Table) -> TableStats {
        let c = &self.tables[table.index()];
        TableStats {
            name: table.name().to_string(),
            bytes_read: c.bytes_read.load(Ordering::Relaxed),
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            ..TableStats::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_successor_cases() {
        assert_eq!(prefix_successor(b""), None);
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
    }
}
