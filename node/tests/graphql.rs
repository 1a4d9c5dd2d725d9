//! GraphQL (`POST /graphql`, geth's EIP-1767 names) against a running node: a chain with a
//! Bank deployment, a deposit (log), a plain transfer and a reverted call, checked field by
//! field against what JSON-RPC says; limits and bad input give GraphQL errors.
mod common;

use alloy_primitives::{Address, Bytes, U256};
use common::{TestNode, hex_u64, rpc, wait_for};
use serde_json::{Value, json};
use tc_node::keys::dev_signer;

fn gql(url: &str, query: &str) -> Value {
    let mut resp = ureq::post(&format!("{url}/graphql"))
        .send_json(json!({ "query": query }))
        .expect("post");
    resp.body_mut().read_json().expect("json")
}

fn data(url: &str, query: &str) -> Value {
    let v = gql(url, query);
    assert!(v.get("errors").is_none(), "{query}\n→ {v}");
    v["data"].clone()
}

fn send(
    url: &str,
    dev: u32,
    nonce: u64,
    to: Option<Address>,
    value: U256,
    input: Bytes,
    gas: u64,
) -> String {
    let raw = common::raw_tx(dev, 1337, nonce, to, value, input, gas);
    rpc(url, "eth_sendRawTransaction", json!([raw]))
        .expect("send")
        .as_str()
        .expect("hash")
        .to_string()
}

fn receipt(url: &str, hash: &str) -> Value {
    wait_for("receipt", 30, || {
        rpc(url, "eth_getTransactionReceipt", json!([hash]))
            .ok()
            .filter(|r| !r.is_null())
    })
}

#[test]
fn eip1767_fields_match_the_chain() {
    let node = TestNode::init(50, 1_000);
    let _p = node.start();
    let url = &node.url;
    let alice = dev_signer(0).expect("key").address();
    let bank = alice.create(0);
    let deploy = send(
        url,
        0,
        0,
        None,
        U256::ZERO,
        tc_exec::bank::creation_code().expect("artifact"),
        1_000_000,
    );
    assert_eq!(receipt(url, &deploy)["status"], "0x1");
    let deposit = send(
        url,
        0,
        1,
        Some(bank),
        U256::from(777),
        tc_exec::bank::deposit_calldata(),
        200_000,
    );
    let transfer = send(
        url,
        1,
        0,
        Some(Address::repeat_byte(0x42)),
        U256::from(5),
        Bytes::new(),
        21_000,
    );
    let revert = send(
        url,
        2,
        0,
        Some(bank),
        U256::ZERO,
        tc_exec::bank::withdraw_calldata(U256::from(1)),
        200_000,
    );
    let r_dep = receipt(url, &deposit);
    receipt(url, &transfer);
    assert_eq!(receipt(url, &revert)["status"], "0x0");

    // Block by number: header fields, transactions, receipts, logs.
    let n = hex_u64(&r_dep["blockNumber"]);
    let q = format!(
        "{{ block(number: {n}) {{ number hash parent {{ number hash }} transactionCount gasUsed gasLimit baseFeePerGas timestamp \
         transactionsRoot stateRoot receiptsRoot logsBloom epoch view certificateSigners \
         transactions {{ hash index status gasUsed cumulativeGasUsed from {{ address }} to {{ address }} value nonce \
         logs {{ index topics data account {{ address }} transaction {{ hash }} }} }} }} }}"
    );
    let b = &data(url, &q)["block"];
    let rpc_block = rpc(
        url,
        "eth_getBlockByNumber",
        json!([format!("{n:#x}"), false]),
    )
    .expect("block");
    assert_eq!(b["number"], json!(format!("{n:#x}")));
    assert_eq!(b["hash"], rpc_block["hash"]);
    assert_eq!(b["parent"]["hash"], rpc_block["parentHash"]);
    assert_eq!(b["gasUsed"], rpc_block["gasUsed"]);
    assert_eq!(b["stateRoot"], rpc_block["stateRoot"]);
    assert_eq!(b["logsBloom"], rpc_block["logsBloom"]);
    assert_eq!(b["certificateSigners"], json!([0]));
    let txs = b["transactions"].as_array().expect("txs");
    assert_eq!(b["transactionCount"], json!(txs.len()));
    let dep = txs
        .iter()
        .find(|t| t["hash"] == json!(deposit))
        .expect("deposit in its block");
    assert_eq!(dep["status"], "0x1");
    assert_eq!(dep["gasUsed"], r_dep["gasUsed"]);
    assert_eq!(dep["value"], "0x309");
    assert_eq!(dep["from"]["address"], json!(format!("{alice:#x}")));
    assert_eq!(dep["to"]["address"], json!(format!("{bank:#x}")));
    let log = &dep["logs"][0];
    assert_eq!(log["topics"][0], json!(tc_exec::bank::deposit_topic()));
    assert_eq!(log["account"]["address"], json!(format!("{bank:#x}")));
    assert_eq!(log["transaction"]["hash"], json!(deposit));

    // Transactions by hash: the revert, the creation.
    let t = &data(
        url,
        &format!(
            "{{ transaction(hash: \"{revert}\") {{ status gasUsed logs {{ index }} block {{ number }} }} }}"
        ),
    )["transaction"];
    assert_eq!(t["status"], "0x0");
    assert_eq!(t["logs"], json!([]));
    let t = &data(
        url,
        &format!(
            "{{ transaction(hash: \"{deploy}\") {{ to {{ address }} createdContract {{ address code }} }} }}"
        ),
    )["transaction"];
    assert_eq!(t["to"], Value::Null);
    assert_eq!(t["createdContract"]["address"], json!(format!("{bank:#x}")));
    assert!(t["createdContract"]["code"].as_str().expect("code").len() > 100);

    // Logs across blocks, accounts, calls, chain facts.
    let logs = &data(
        url,
        &format!(
            "{{ logs(filter: {{ fromBlock: 0, addresses: [\"{bank:#x}\"] }}) {{ topics transaction {{ hash }} }} }}"
        ),
    )["logs"];
    assert_eq!(logs.as_array().map(Vec::len), Some(1));
    let acct = &data(
        url,
        &format!(
            "{{ block {{ account(address: \"{alice:#x}\") {{ balance transactionCount }} }} }}"
        ),
    )["block"]["account"];
    assert_eq!(
        acct["balance"],
        rpc(url, "eth_getBalance", json!([alice, "latest"])).expect("balance")
    );
    assert_eq!(acct["transactionCount"], "0x2");
    let call = format!(
        "{{ block {{ call(data: {{ to: \"{bank:#x}\", data: \"{}\" }}) {{ data status }} }} }}",
        tc_exec::bank::balance_of_calldata(alice)
    );
    let c = &data(url, &call)["block"]["call"];
    assert_eq!(c["status"], "0x1");
    assert_eq!(c["data"], json!(format!("0x{:064x}", 777)));
    let facts = data(
        url,
        "{ chainID gasPrice maxPriorityFeePerGas pending { transactionCount } syncing { currentBlock } }",
    );
    assert_eq!(facts["chainID"], "0x539");
    assert_eq!(facts["pending"]["transactionCount"], json!(0));
    assert_eq!(facts["syncing"], Value::Null);
    // trueconsensus extensions: the snail chain with fruits, the committee, storage stats.
    wait_for("a snail block", 90, || {
        let h = rpc(url, "tc_snailHead", json!([])).ok()?;
        (hex_u64(&h["number"]) >= 1).then_some(())
    });
    let ext = data(
        url,
        "{ snailBlock { number hash parentHash difficulty miner fruits { number hash } } \
           snailBlocks(from: 0) { number hash } \
           committee(epoch: 0) { epoch startHeight quorum maxFaulty members { index key weight } } \
           storage { name bytesWritten estimatedKeys } }",
    );
    let snail_head = rpc(url, "tc_snailHead", json!([])).expect("snail head");
    let sb = &ext["snailBlock"];
    assert!(hex_u64(&sb["number"]) >= 1);
    let blocks = ext["snailBlocks"].as_array().expect("snail blocks");
    assert_eq!(blocks[0]["number"], "0x0");
    assert!(
        blocks.iter().any(|b| b["hash"] == snail_head["hash"])
            || hex_u64(&snail_head["number"]) > hex_u64(&sb["number"])
    );
    for f in sb["fruits"].as_array().expect("fruits") {
        let fb =
            rpc(url, "eth_getBlockByNumber", json!([f["number"], false])).expect("fruit block");
        assert_eq!(fb["hash"], f["hash"], "fruit names a committed fast block");
    }
    let c = &ext["committee"];
    assert_eq!(c["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(c["quorum"], json!(1));
    let receipts = ext["storage"]
        .as_array()
        .expect("storage")
        .iter()
        .find(|t| t["name"] == "receipts")
        .cloned()
        .expect("receipts table");
    assert!(hex_u64(&receipts["bytesWritten"]) > 0, "{receipts}");
    // Mutation.
    let raw = common::raw_tx(
        3,
        1337,
        0,
        Some(Address::ZERO),
        U256::from(1),
        Bytes::new(),
        21_000,
    );
    let m = data(
        url,
        &format!("mutation {{ sendRawTransaction(data: \"{raw}\") }}"),
    );
    receipt(url, m["sendRawTransaction"].as_str().expect("hash"));
}

#[test]
fn bad_queries_get_graphql_errors_and_the_node_keeps_going() {
    let node = TestNode::init(50, 100);
    let _p = node.start();
    let url = &node.url;
    let deep = format!(
        "{{ block {{ {}number{} }} }}",
        "parent { ".repeat(25),
        " }".repeat(25)
    );
    let cases: [(String, &str); 6] = [
        (deep, "nested too deep"),
        ("{ block { nope } }".into(), "Unknown field \"nope\""),
        (
            "{ block(number: \"0xzz\") { number } }".into(),
            "invalid hex",
        ),
        (
            "{ transaction(hash: \"0x12\") { hash } }".into(),
            "invalid Bytes32",
        ),
        (
            "{ blocks(from: 0, to: 5000) { number } }".into(),
            "exceeds the limit of 1000 blocks",
        ),
        (
            "mutation { sendRawTransaction(data: \"0x02c0\") }".into(),
            "malformed transaction",
        ),
    ];
    for (q, want) in cases {
        let v = gql(url, &q);
        let msg = v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(msg.contains(want), "{q}\n→ {v}");
    }
    let mut resp = ureq::post(&format!("{url}/graphql"))
        .header("content-type", "application/json")
        .send("{oops")
        .expect("post");
    let v: Value = resp.body_mut().read_json().expect("json");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("malformed GraphQL request"),
        "{v}"
    );
    let h0 = hex_u64(&rpc(url, "eth_blockNumber", json!([])).expect("head"));
    wait_for("commits after bad queries", 30, || {
        (hex_u64(&rpc(url, "eth_blockNumber", json!([])).ok()?) > h0 + 2).then_some(())
    });
}

#[test]
fn consensus_and_peers_report_a_solo_member() {
    let node = TestNode::init(50, 200);
    let _p = node.start();
    let url = &node.url;
    wait_for("a few blocks", 30, || {
        rpc(url, "eth_blockNumber", json!([]))
            .ok()
            .filter(|n| hex_u64(n) >= 3)
    });
    let q = "{ consensus { epoch role memberIndex committeeSize view seq phase viewChanging \
             lastDecided head stableCheckpoint viewChanges lastViewChange { reason } } \
             block { number } peers { peerId } }";
    let d = data(url, q);
    let c = &d["consensus"];
    // The only member of epoch 0's committee is the primary of every view.
    assert_eq!(c["epoch"], "0x0", "{d}");
    assert_eq!(c["role"], "PRIMARY", "{d}");
    assert_eq!(c["memberIndex"], 0, "{d}");
    assert_eq!(c["committeeSize"], 1, "{d}");
    assert_eq!(c["view"], "0x0", "{d}");
    assert_eq!(c["viewChanging"], false, "{d}");
    assert_eq!(c["viewChanges"], "0x0", "{d}");
    assert!(c["lastViewChange"].is_null(), "{d}");
    assert!(
        ["PRE_PREPARE", "PREPARE", "COMMIT", "DECIDED"]
            .contains(&c["phase"].as_str().unwrap_or("")),
        "{d}"
    );
    // seq is the height being decided: the committed head + 1, read in the same snapshot.
    let head = hex_u64(&c["head"]);
    assert!(head >= 3, "{d}");
    assert_eq!(hex_u64(&c["seq"]), head + 1, "{d}");
    assert!(hex_u64(&c["lastDecided"]) >= head, "{d}");
    // The block query ran after the consensus snapshot: the chain cannot be behind it.
    assert!(hex_u64(&d["block"]["number"]) >= head, "{d}");
    assert_eq!(d["peers"], json!([]), "a solo node has no peers: {d}");

    // The phase timings of those decisions are in the metrics.
    for phase in ["prepare_quorum", "commit_quorum", "block_committed"] {
        let sample = format!("tc_pbft_phase_seconds_count{{phase=\"{phase}\"}}");
        let n = common::metric(url, &sample).unwrap_or_else(|| panic!("{sample} missing"));
        assert!(n >= 3.0, "{sample} = {n}");
    }
    assert_eq!(
        common::metric(url, "tc_pbft_view_change_seconds_count"),
        Some(0.0)
    );
}
