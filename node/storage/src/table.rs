//! The tables of the store. Each one is a RocksDB column family (and a `BTreeMap` in the
//! in-memory twin). Numbers inside keys are big-endian so that iteration order is numeric order.
use std::fmt;

/// One table (column family). The `name()` is the column family name and the key used in
/// `storage.tables.<name>` config overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// Fast block number (u64 BE) → RLP [`tc_types::FastHeader`].
    FastHeaders,
    /// Fast block hash (32 bytes) → number (u64 BE).
    FastHashes,
    /// Fast block number → RLP list of EIP-2718 encoded transactions.
    FastBodies,
    /// Fast block number → RLP list of [`tc_types::Receipt`].
    Receipts,
    /// Fast block number → RLP [`tc_types::CommitCertificate`].
    Certificates,
    /// Transaction hash → RLP [`tc_types::TxLocation`].
    TxIndex,
    /// Address (20 bytes) → RLP [`tc_types::AccountInfo`] (latest state).
    Accounts,
    /// Address ‖ slot (20 + 32 bytes) → value (32 bytes BE; zero slots are deleted).
    Storage,
    /// Code hash → bytecode.
    Code,
    /// Pre-values of changed accounts/slots per block, for historical reads (see `history`).
    StateHistory,
    /// Snail block hash → RLP [`tc_types::SnailHeader`].
    SnailHeaders,
    /// Snail block hash → RLP list of [`tc_types::FruitRef`].
    SnailBodies,
    /// Snail block number (u64 BE) → canonical hash.
    SnailCanonical,
    /// Epoch (u64 BE) → JSON [`tc_types::Committee`].
    Committees,
    /// Opaque keys/values persisted by the PBFT engine (votes, view, checkpoints).
    ConsensusLog,
    /// UTF-8 string keys: heads, genesis hash, schema version.
    Meta,
}

impl Table {
    /// Every table, in a fixed order (also the order of [`crate::Store::stats`]).
    pub const ALL: [Table; 16] = [
        Table::FastHeaders,
        Table::FastHashes,
        Table::FastBodies,
        Table::Receipts,
        Table::Certificates,
        Table::TxIndex,
        Table::Accounts,
        Table::Storage,
        Table::Code,
        Table::StateHistory,
        Table::SnailHeaders,
        Table::SnailBodies,
        Table::SnailCanonical,
        Table::Committees,
        Table::ConsensusLog,
        Table::Meta,
    ];

    /// Column family / config name, e.g. `"fast_headers"`.
    pub const fn name(self) -> &'static str {
        match self {
            Table::FastHeaders => "fast_headers",
            Table::FastHashes => "fast_hashes",
            Table::FastBodies => "fast_bodies",
            Table::Receipts => "receipts",
            Table::Certificates => "certificates",
            Table::TxIndex => "tx_index",
            Table::Accounts => "accounts",
            Table::Storage => "storage",
            Table::Code => "code",
            Table::StateHistory => "state_history",
            Table::SnailHeaders => "snail_headers",
            Table::SnailBodies => "snail_bodies",
            Table::SnailCanonical => "snail_canonical",
            Table::Committees => "committees",
            Table::ConsensusLog => "consensus_log",
            Table::Meta => "meta",
        }
    }

    /// Position in [`Table::ALL`] (dense index for per-table arrays).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Table by its name.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip_and_indices_are_dense() {
        for (i, t) in Table::ALL.into_iter().enumerate() {
            assert_eq!(t.index(), i);
            assert_eq!(Table::from_name(t.name()), Some(t));
        }
        assert_eq!(Table::from_name("nope"), None);
    }
}
