use super::*;

const BANK: &str = include_str!("../../node/exec/contracts/Bank.json");

fn param(ty: &str) -> Param {
    Param {
        name: String::new(),
        ty: ty.into(),
        kind: Kind::parse(ty),
        indexed: false,
    }
}

fn word(hex_str: &str) -> Vec<u8> {
    let mut w = vec![0u8; 32];
    let b = parse_hex(hex_str).expect("hex");
    w[32 - b.len()..].copy_from_slice(&b);
    w
}

#[test]
fn bank_artifact_selectors_match_solc() {
    let a = Artifact::parse(BANK).expect("Bank.json");
    assert_eq!(a.name, "Bank");
    assert!(a.bytecode.starts_with(&[0x60, 0x80, 0x60, 0x40]));
    let v: Value = serde_json::from_str(BANK).expect("json");
    let ids = v["methodIdentifiers"]
        .as_object()
        .expect("methodIdentifiers");
    assert_eq!(ids.len(), a.abi.functions.len());
    for f in &a.abi.functions {
        assert_eq!(
            ids[&f.signature()].as_str(),
            Some(hex(&f.selector()).as_str()),
            "{}",
            f.signature()
        );
        assert_eq!(f.unsupported(), None);
    }
    let deposit = a
        .abi
        .functions
        .iter()
        .find(|f| f.name == "deposit")
        .expect("deposit");
    assert!(deposit.is_payable() && !deposit.is_read());
    assert_eq!(
        deposit.calldata(&[]).expect("calldata"),
        vec![0xd0, 0xe3, 0x0d, 0xb0]
    );
    let names: Vec<&str> = a.abi.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Deposit", "Transfer", "Withdrawal"]);
    // WETH9's Deposit(address,uint256) has the same well-known topic.
    assert_eq!(
        a.abi.events[0].topic0().to_string(),
        "0xe1fffcc4923d04b559f4d29a8bfc6cda04eb5b0d3c460751c2402c5c5cc9109c"
    );
    assert_eq!(a.deploy_data(&[]).expect("deploy"), a.bytecode);
    assert!(a.deploy_data(&["1".into()]).is_err());
}

#[test]
fn decodes_bank_events_from_topics_and_data() {
    let a = Artifact::parse(BANK).expect("Bank.json");
    let from = "0x00000000000000000000000000000000000000aa";
    let to = "0x00000000000000000000000000000000000000bb";
    let transfer = &a.abi.events[1];
    let topics = [
        transfer.topic0(),
        B256::from_slice(&word(from)),
        B256::from_slice(&word(to)),
    ];
    let log = a
        .abi
        .decode_log(&topics, &word("0x2a"))
        .expect("known event")
        .expect("decoded");
    assert_eq!(log.name, "Transfer");
    // Addresses print EIP-55 checksummed.
    let shown: Vec<String> = log.args.iter().map(|(n, v)| format!("{n}={v}")).collect();
    assert_eq!(
        shown,
        [
            "from=0x00000000000000000000000000000000000000AA",
            "to=0x00000000000000000000000000000000000000bb",
            "amount=42"
        ]
    );
    // Wrong topic count, short data and unknown events are reported, not panics.
    assert!(
        a.abi
            .decode_log(&topics[..2], &word("0x2a"))
            .expect("known")
            .is_err()
    );
    assert!(
        a.abi
            .decode_log(&topics, &[0u8; 5])
            .expect("known")
            .is_err()
    );
    assert!(a.abi.decode_log(&[B256::ZERO], &[]).is_none());
    assert!(a.abi.decode_log(&[], &[]).is_none());
}

#[test]
fn encodes_static_and_dynamic_arguments() {
    let params = [
        param("uint256"),
        param("string"),
        param("bool"),
        param("bytes"),
    ];
    let args = ["0x123", "Hello, world!", "true", "0xdeadbeef"].map(String::from);
    let enc = encode(&params, &args).expect("encode");
    // Head: 4 words; tails: string (len + 1 word), bytes (len + 1 word).
    assert_eq!(enc.len(), 32 * 8);
    assert_eq!(enc[..32], word("0x0123")[..]);
    assert_eq!(enc[32..64], word("0x80")[..]);
    assert_eq!(enc[64..96], word("0x01")[..]);
    assert_eq!(enc[96..128], word("0xc0")[..]);
    assert_eq!(enc[128..160], word("0x0d")[..]);
    assert_eq!(&enc[160..173], b"Hello, world!");
    assert!(enc[173..192].iter().all(|b| *b == 0));
    let back = decode(&params, &enc).expect("decode");
    assert_eq!(
        back,
        [
            Val::Uint(U256::from(0x123)),
            Val::Str("Hello, world!".into()),
            Val::Bool(true),
            Val::Bytes(vec![0xde, 0xad, 0xbe, 0xef]),
        ]
    );
}

#[test]
fn hostile_offsets_and_lengths_are_errors() {
    let p = [param("string")];
    // Offset near usize::MAX, and a length running past the data.
    let mut huge = vec![0u8; 32];
    huge[24..].copy_from_slice(&(usize::MAX as u64).to_be_bytes());
    assert!(decode(&p, &huge).is_err());
    let mut long = word("0x20");
    long.extend(word("0xffffffff"));
    assert!(decode(&p, &long).is_err());
    let mut over = word("0x20");
    over.extend([0xff; 32]);
    assert!(
        decode(&p, &over)
            .expect_err("u256 length")
            .contains("too large")
    );
}

#[test]
fn integers_are_range_checked_and_signed_ones_round_trip() {
    let p = [param("int8")];
    for (arg, ok) in [
        ("127", true),
        ("-128", true),
        ("128", false),
        ("-129", false),
        ("x", false),
    ] {
        assert_eq!(encode(&p, &[arg.into()]).is_ok(), ok, "{arg}");
    }
    let enc = encode(&[param("int256")], &["-1".into()]).expect("encode");
    assert!(enc.iter().all(|b| *b == 0xff));
    assert_eq!(
        decode(&[param("int256")], &enc).expect("decode")[0].to_string(),
        "-1"
    );
    assert!(encode(&[param("uint8")], &["256".into()]).is_err());
    assert!(encode(&[param("uint8")], &["255".into()]).is_ok());
    assert!(encode(&[param("uint256")], &["-1".into()]).is_err());
    assert!(encode(&[param("address")], &["0x1234".into()]).is_err());
    assert!(encode(&[param("bool")], &["yes".into()]).is_err());
    assert!(encode(&[param("bytes4")], &["0x0102".into()]).is_err());
    let e = encode(&[param("uint256")], &[]).expect_err("count");
    assert!(e.contains("1 arguments expected, got 0"), "{e}");
}

#[test]
fn unsupported_types_are_named_not_guessed() {
    for ty in [
        "uint256[]",
        "tuple",
        "uint7",
        "bytes33",
        "fixed128x18",
        "uint300",
    ] {
        assert!(Kind::parse(ty).is_err(), "{ty}");
    }
    assert_eq!(Kind::parse("uint"), Ok(Kind::Uint(256)));
    assert_eq!(Kind::parse("int"), Ok(Kind::Int(256)));
    let abi = Abi::from_json(&serde_json::json!([
        {"type":"function","name":"many","inputs":[{"name":"xs","type":"uint256[]"}],"outputs":[],"stateMutability":"view"},
        {"type":"constructor","inputs":[{"name":"owner","type":"address"}],"stateMutability":"nonpayable"},
        {"type":"fallback"},
        {"type":"error","name":"Nope","inputs":[]}
    ]))
    .expect("abi");
    assert!(
        abi.functions[0]
            .unsupported()
            .expect("unsupported")
            .contains("uint256[]")
    );
    // The canonical `uint` spelling is used in signatures.
    assert_eq!(abi.functions[0].signature(), "many(uint256[])");
    assert_eq!(abi.constructor.expect("constructor").inputs.len(), 1);
    assert!(Abi::from_json(&serde_json::json!({"abi": []})).is_err());
}

#[test]
fn artifacts_of_forge_hardhat_and_solc() {
    let forge = r#"{"abi":[],"bytecode":{"object":"0x6080","sourceMap":""}}"#;
    assert_eq!(
        Artifact::parse(forge).expect("forge").bytecode,
        [0x60, 0x80]
    );
    let hardhat = r#"{"contractName":"C","abi":[],"bytecode":"0x6080"}"#;
    assert_eq!(Artifact::parse(hardhat).expect("hardhat").name, "C");
    let solc = r#"{"abi":[],"evm":{"bytecode":{"object":"6080"}}}"#;
    assert_eq!(Artifact::parse(solc).expect("solc").bytecode, [0x60, 0x80]);
    let combined = r#"{"abi":"[]","bin":"6080"}"#;
    assert_eq!(
        Artifact::parse(combined).expect("combined").bytecode,
        [0x60, 0x80]
    );
    for (bad, why) in [
        ("nope", "not JSON"),
        (r#"{"bytecode":"0x60"}"#, "no \"abi\""),
        (r#"{"abi":[]}"#, "no bytecode"),
        (r#"{"abi":[],"bytecode":"0x"}"#, "empty"),
        (r#"{"abi":[],"bytecode":"0x60__$abc$__"}"#, "unlinked"),
        (r#"{"abi":[],"bytecode":"0x6"}"#, "odd number"),
        (r#"{"abi":[],"bytecode":"0xzz"}"#, "not hex"),
    ] {
        let e = Artifact::parse(bad).expect_err(bad);
        assert!(e.contains(why), "{bad}: {e}");
    }
}

#[test]
fn amounts_and_revert_reasons() {
    let eth = U256::from(10u64).pow(U256::from(18));
    assert_eq!(parse_amount("1 ether"), Ok(eth));
    assert_eq!(parse_amount("0.5 ETH"), Ok(eth / U256::from(2)));
    assert_eq!(parse_amount("3 gwei"), Ok(U256::from(3_000_000_000u64)));
    assert_eq!(parse_amount("1000"), Ok(U256::from(1000)));
    assert_eq!(parse_amount(""), Ok(U256::ZERO));
    assert!(parse_amount("1.5").is_err());
    assert!(parse_amount("1 btc").is_err());
    assert!(parse_amount("-1").is_err());
    assert!(parse_amount(". ether").is_err());
    let mut data = vec![0x08, 0xc3, 0x79, 0xa0];
    data.extend(encode(&[param("string")], &["Bank: zero deposit".into()]).expect("encode"));
    assert_eq!(revert_reason(&data).as_deref(), Some("Bank: zero deposit"));
    assert_eq!(revert_reason(&data[..40]), None);
    assert_eq!(revert_reason(&[1, 2, 3]), None);
}
