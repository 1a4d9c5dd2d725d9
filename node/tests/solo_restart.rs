//! Real process test: `tc-node run` in solo mode, transactions over JSON-RPC, SIGKILL after
//! some blocks, then (1) the database opened directly holds every committed block with its
//! certificate and the same balances, and (2) the restarted node serves the same chain and
//! keeps committing. Every wait has a deadline.
mod common;

use std::path::Path;
use std::process::Command;

use alloy_primitives::{Address, Bytes, U256};
use serde_json::json;
use tc_node::config::NodeConfig;
use tc_node::keys::dev_signer;
use tc_types::StateReader;

use common::{BIN, Proc, free_port, hex_u64, raw_post, rpc, wait_for};

fn start(config: &Path, url: &str) -> Proc {
    common::start(config, url, &config.with_file_name("node.log"))
}

fn balance(url: &str, a: Address) -> U256 {
    serde_json::from_value(rpc(url, "eth_getBalance", json!([a, "latest"])).expect("balance"))
        .expect("U256")
}

#[test]
fn sigkill_and_restart_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let out = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(dir.path())
        .args(["--http", &format!("127.0.0.1:{port}"), "--force"])
        .output()
        .expect("init");
    assert!(
        out.status.success(),
        "init failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("node.toml");
    let mut cfg = NodeConfig::load(&config).expect("load config");
    cfg.consensus.block_interval_ms = 50;
    cfg.consensus.empty_block_interval_ms = 100;
    // Written back with paths relative to the config dir, as init wrote them.
    cfg.storage.path = "db".into();
    cfg.node.genesis = "genesis.json".into();
    cfg.node.key_file = "node.key".into();
    std::fs::write(&config, cfg.to_toml().expect("toml")).expect("write config");

    let node = start(&config, &url);
    // 5 senders × 4 transfers each to distinct recipients.
    let recipients: Vec<Address> = (0..5u8).map(|i| Address::repeat_byte(0x10 + i)).collect();
    let mut hashes = Vec::new();
    for s in 0..5u32 {
        for n in 0..4u64 {
            let raw = common::raw_tx(
                s,
                1337,
                n,
                Some(recipients[s as usize]),
                U256::from(1_000 + n),
                Bytes::new(),
                21_000,
            );
            hashes.push(rpc(&url, "eth_sendRawTransaction", json!([raw])).expect("send"));
        }
    }
    for h in &hashes {
        wait_for("receipt", 30, || {
            rpc(&url, "eth_getTransactionReceipt", json!([h]))
                .ok()
                .filter(|r| !r.is_null())
        });
    }
    // Let a few empty blocks follow, then record and kill.
    let seen = hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("head"));
    wait_for("more blocks", 30, || {
        (hex_u64(&rpc(&url, "eth_blockNumber", json!([])).ok()?) >= seen + 3).then_some(())
    });
    let balances: Vec<U256> = recipients.iter().map(|a| balance(&url, *a)).collect();
    assert_eq!(balances[0], U256::from(1_000 + 1_001 + 1_002 + 1_003));
    // The snail chain is being mined alongside (real PoW at devnet difficulty).
    wait_for("two snail blocks", 90, || {
        let head = rpc(&url, "tc_snailHead", json!([])).ok()?;
        (hex_u64(&head["number"]) >= 2).then_some(())
    });
    let before_kill = hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("head"));
    let snail_before = hex_u64(&rpc(&url, "tc_snailHead", json!([])).expect("snail")["number"]);
    drop(node); // SIGKILL

    // (1) The database, opened directly: contiguous blocks with certificates, same balances.
    let cfg = NodeConfig::load(&config).expect("config");
    let chain = tc_storage::open_chain(&cfg.storage).expect("open db after kill");
    let (head, head_hash) = chain.fast_head().expect("head").expect("some head");
    assert!(
        head >= before_kill,
        "head {head} went back below {before_kill}"
    );
    let mut parent = chain
        .header_by_number(0)
        .expect("genesis")
        .expect("genesis")
        .hash();
    for n in 1..=head {
        let b = chain
            .block_by_number(n)
            .expect("read")
            .unwrap_or_else(|| panic!("block {n} lost"));
        assert_eq!(b.header.parent_hash, parent, "block {n} parent");
        let cert = chain
            .certificate(n)
            .expect("read")
            .unwrap_or_else(|| panic!("certificate {n} lost"));
        assert_eq!(cert.block_hash, b.hash());
        assert_eq!(
            chain.receipts(n).expect("read").map(|r| r.len()),
            Some(b.transactions.len())
        );
        parent = b.hash();
    }
    assert_eq!(parent, head_hash);
    let state = chain.latest_state();
    for (a, want) in recipients.iter().zip(&balances) {
        assert_eq!(
            state.account(a).expect("read").map(|i| i.balance),
            Some(*want)
        );
    }
    for h in &hashes {
        let h: alloy_primitives::B256 = serde_json::from_value(h.clone()).expect("hash");
        assert!(
            chain.tx_location(&h).expect("read").is_some(),
            "tx {h} lost"
        );
    }
    drop(state);
    // Snail chain on disk: contiguous, valid PoW, fruits naming real committed fast blocks.
    let (snail_head, _) = chain.snail_head().expect("read").expect("snail head");
    assert!(
        snail_head >= snail_before,
        "snail head {snail_head} below {snail_before}"
    );
    let mut parent = chain
        .snail_canonical(0)
        .expect("read")
        .expect("snail genesis");
    for n in 1..=snail_head {
        let hash = chain
            .snail_canonical(n)
            .expect("read")
            .unwrap_or_else(|| panic!("snail #{n} lost"));
        let b = chain
            .snail_block(&hash)
            .expect("read")
            .expect("snail block");
        assert_eq!(b.header.parent_hash, parent, "snail #{n} parent");
        tc_consensus::snail::check_pow(&b.header).unwrap_or_else(|e| panic!("snail #{n}: {e}"));
        assert_eq!(tc_types::fruits_hash(&b.fruits), b.header.fruits_hash);
        for f in &b.fruits {
            assert_eq!(
                chain.block_hash(f.number).expect("read"),
                Some(f.hash),
                "fruit {f:?} in snail #{n}"
            );
        }
        parent = hash;
    }
    drop(chain);

    // (2) Restart: same chain, balances, and it keeps committing.
    let _node = start(&config, &url);
    let after = hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("head"));
    assert!(after >= head);
    for (a, want) in recipients.iter().zip(&balances) {
        assert_eq!(balance(&url, *a), *want);
    }
    wait_for("commits after restart", 30, || {
        (hex_u64(&rpc(&url, "eth_blockNumber", json!([])).ok()?) > after + 2).then_some(())
    });
    // A new transaction from a sender that already used nonces 0..3 is accepted with nonce 4.
    let k = dev_signer(0).expect("dev key");
    let nonce = hex_u64(
        &rpc(
            &url,
            "eth_getTransactionCount",
            json!([k.address(), "pending"]),
        )
        .expect("nonce"),
    );
    assert_eq!(nonce, 4);
}

#[test]
fn bad_input_gets_clear_errors_and_node_keeps_committing() {
    let node = common::TestNode::init(50, 100);
    let _node = node.start();
    let url = node.url.clone();
    let head0 = hex_u64(&rpc(&url, "eth_blockNumber", json!([])).expect("head"));

    let cases: &[(&str, i64, &str)] = &[
        ("{not json", -32700, "parse error"),
        (r#"{"jsonrpc":"2.0","id":1}"#, -32600, "missing \"method\""),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}"#,
            -32601,
            "the method eth_nope does not exist",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12"]}"#,
            -32602,
            "invalid argument 0 (address)",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[]}"#,
            -32602,
            "missing value for required argument 0",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x0000000000000000000000000000000000000001","soon"]}"#,
            -32602,
            "is not a block number or tag",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0x02c0"]}"#,
            -32000,
            "malformed transaction",
        ),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xzz"]}"#,
            -32602,
            "invalid argument 0 (data)",
        ),
        (r#"[]"#, -32600, "empty batch"),
    ];
    for (body, code, msg) in cases {
        let v = raw_post(&url, body);
        let err = v
            .get("error")
            .unwrap_or_else(|| panic!("{body}: expected an error, got {v}"));
        assert_eq!(err["code"].as_i64(), Some(*code), "{body}: {v}");
        assert!(
            err["message"].as_str().unwrap_or_default().contains(msg),
            "{body}: {v}"
        );
    }
    // A batch answers each call.
    let v = raw_post(
        &url,
        r#"[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#,
    );
    assert_eq!(v[0]["result"], json!("0x539"));
    assert_eq!(v[1]["error"]["code"], json!(-32601));
    // A transaction the pool refuses says why.
    let raw = common::raw_tx(
        1,
        1,
        0,
        Some(Address::ZERO),
        U256::ZERO,
        Bytes::new(),
        21_000,
    );
    let e = rpc(&url, "eth_sendRawTransaction", json!([raw])).expect_err("wrong chain");
    assert!(
        e.contains("wrong chain id: expected 1337, got Some(1)"),
        "{e}"
    );
    // Still committing.
    wait_for("commits after bad input", 30, || {
        (hex_u64(&rpc(&url, "eth_blockNumber", json!([])).ok()?) > head0 + 2).then_some(())
    });
}
