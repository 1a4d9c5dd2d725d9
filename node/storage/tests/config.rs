//! `[storage]` config: parsing, defaults, overrides, and every validation error's exact text.
use serde::Deserialize;
use tc_storage::{Compression, StorageConfig, Table, TableOptions};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeToml {
    storage: StorageConfig,
}

fn parse(s: &str) -> Result<StorageConfig, String> {
    toml::from_str::<NodeToml>(s)
        .map(|n| n.storage)
        .map_err(|e| e.to_string())
}

#[test]
fn documented_example_parses_and_merges_overrides() {
    let cfg = parse(
        r#"
        [storage]
        path = "data/db"
        sync_writes = false
        history_blocks = 1024

        [storage.default]
        compression = "lz4"
        block_cache_mb = 8
        write_buffer_mb = 4
        bloom_bits_per_key = 10

        [storage.tables.receipts]
        compression = "zstd"
        write_buffer_mb = 16
        "#,
    )
    .expect("parse");
    cfg.validate().expect("valid");
    assert_eq!(
        cfg.table_options(Table::Receipts),
        TableOptions {
            compression: Compression::Zstd,
            block_cache_mb: 8,
            write_buffer_mb: 16,
            bloom_bits_per_key: 10
        }
    );
    assert_eq!(cfg.table_options(Table::Accounts), TableOptions::default());
    assert_eq!(
        cfg,
        StorageConfig {
            tables: cfg.tables.clone(),
            ..StorageConfig::default()
        }
    );
}

#[test]
fn empty_section_is_the_default_and_valid() {
    let cfg = parse("[storage]\n").expect("parse");
    assert_eq!(cfg, StorageConfig::default());
    cfg.validate().expect("default is valid");
    let d = TableOptions::default();
    assert_eq!(
        (
            d.compression,
            d.block_cache_mb,
            d.write_buffer_mb,
            d.bloom_bits_per_key
        ),
        (Compression::Lz4, 8, 4, 10)
    );
    assert_eq!(cfg.history_blocks, 1024);
    assert!(!cfg.sync_writes);
}

#[test]
fn unknown_fields_and_values_are_rejected() {
    for (toml, needle) in [
        ("[storage]\nbogus = 1\n", "unknown field `bogus`"),
        (
            "[storage.default]\ncache_mb = 1\n",
            "unknown field `cache_mb`",
        ),
        (
            "[storage.tables.receipts]\nwrite_buffer = 1\n",
            "unknown field `write_buffer`",
        ),
        (
            "[storage.default]\ncompression = \"brotli\"\n",
            "unknown variant `brotli`",
        ),
        ("[storage.default]\nwrite_buffer_mb = -1\n", "invalid value"),
    ] {
        let err = parse(toml).expect_err(toml);
        assert!(err.contains(needle), "{toml:?}: {err}");
    }
}

#[test]
fn validation_errors_name_the_field_and_the_range() {
    let table_names = Table::ALL
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ");
    let cases: Vec<(&str, String)> = vec![
        (
            "[storage]\npath = \"\"\n",
            "storage.path: must not be empty".into(),
        ),
        (
            "[storage]\nhistory_blocks = 0\n",
            "storage.history_blocks: must be between 1 and 1000000 (got 0)".into(),
        ),
        (
            "[storage]\nhistory_blocks = 1000001\n",
            "storage.history_blocks: must be between 1 and 1000000 (got 1000001)".into(),
        ),
        (
            "[storage.default]\nblock_cache_mb = 70000\n",
            "storage.default.block_cache_mb: must be between 0 and 65536 (got 70000)".into(),
        ),
        (
            "[storage.default]\nwrite_buffer_mb = 0\n",
            "storage.default.write_buffer_mb: must be between 1 and 4096 (got 0)".into(),
        ),
        (
            "[storage.default]\nwrite_buffer_mb = 5000\n",
            "storage.default.write_buffer_mb: must be between 1 and 4096 (got 5000)".into(),
        ),
        (
            "[storage.default]\nbloom_bits_per_key = 65\n",
            "storage.default.bloom_bits_per_key: must be between 0 and 64 (got 65)".into(),
        ),
        (
            "[storage.tables.receipts]\nwrite_buffer_mb = 0\n",
            "storage.tables.receipts.write_buffer_mb: must be between 1 and 4096 (got 0)".into(),
        ),
        (
            "[storage.tables.accounts]\nblock_cache_mb = 65537\n",
            "storage.tables.accounts.block_cache_mb: must be between 0 and 65536 (got 65537)"
                .into(),
        ),
        (
            "[storage.tables.tx_index]\nbloom_bits_per_key = 100\n",
            "storage.tables.tx_index.bloom_bits_per_key: must be between 0 and 64 (got 100)".into(),
        ),
        (
            "[storage.tables.blocks]\ncompression = \"zstd\"\n",
            format!("storage.tables.blocks: unknown table (expected one of: {table_names})"),
        ),
    ];
    for (toml, expected) in cases {
        let cfg = parse(toml).expect(toml);
        let err = cfg.validate().expect_err(toml);
        assert_eq!(err.to_string(), expected, "{toml:?}");
    }
}
