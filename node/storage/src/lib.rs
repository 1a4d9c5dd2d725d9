//! Store trait, RocksDB implementation (one column family per table) and an in-memory twin
//!
//! Not built yet: see the open issues.
