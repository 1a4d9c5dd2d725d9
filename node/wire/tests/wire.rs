//! Protobuf round trips for every top-level message, and no panic on random or truncated bytes.
use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tc_types::{
    Address, B256, B512, Bytes, CertSignature, CommitCertificate, FastBlock, FastHeader, FruitRef,
    SnailBlock, SnailHeader, TxEnvelope, U256,
};
use tc_wire::*;

fn signer() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(0x11)).expect("valid key")
}

fn txs() -> Vec<TxEnvelope> {
    let s = signer();
    let to = Address::repeat_byte(0x22);
    let legacy = TxLegacy {
        chain_id: Some(1337),
        nonce: 0,
        gas_price: 1_000_000_000,
        gas_limit: 21_000,
        to: to.into(),
        value: U256::from(5),
        input: Bytes::new(),
    };
    let eip2930 = TxEip2930 {
        chain_id: 1337,
        nonce: 1,
        gas_price: 2,
        gas_limit: 30_000,
        to: to.into(),
        ..Default::default()
    };
    let eip1559 = TxEip1559 {
        chain_id: 1337,
        nonce: 2,
        gas_limit: 50_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 1,
        to: to.into(),
        input: Bytes::from(vec![1, 2, 3]),
        ..Default::default()
    };
    let sign = |h: B256| s.sign_hash_sync(&h).expect("sign");
    vec![
        TxEnvelope::from(legacy.clone().into_signed(sign(legacy.signature_hash()))),
        TxEnvelope::from(eip2930.clone().into_signed(sign(eip2930.signature_hash()))),
        TxEnvelope::from(eip1559.clone().into_signed(sign(eip1559.signature_hash()))),
    ]
}

fn block() -> (FastBlock, CommitCertificate) {
    let header = FastHeader {
        number: 9,
        parent_hash: B256::repeat_byte(1),
        epoch: 2,
        view: 3,
        proposer: B256::repeat_byte(4),
        coinbase: Address::repeat_byte(5),
        timestamp_ms: 1_700_000_000_000,
        gas_used: 21_000,
        gas_limit: 30_000_000,
        base_fee: 7,
        tx_root: B256::repeat_byte(6),
        receipts_root: B256::repeat_byte(7),
        state_root: B256::repeat_byte(8),
        next_committee: B256::ZERO,
    };
    let block = FastBlock {
        header,
        transactions: txs(),
    };
    let cert = CommitCertificate {
        epoch: 2,
        view: 3,
        seq: 9,
        block_hash: block.hash(),
        signatures: (0..3)
            .map(|i| CertSignature {
                signer: i,
                signature: B512::repeat_byte(i as u8),
            })
            .collect(),
    };
    (block, cert)
}

fn snail() -> SnailBlock {
    let fruits = vec![
        FruitRef {
            number: 1,
            hash: B256::repeat_byte(9),
        },
        FruitRef {
            number: 2,
            hash: B256::repeat_byte(10),
        },
    ];
    SnailBlock {
        header: SnailHeader {
            number: 4,
            parent_hash: B256::repeat_byte(3),
            difficulty: 1000,
            nonce: 42,
            miner: B256::repeat_byte(2),
            coinbase: Address::repeat_byte(1),
            timestamp_ms: 5,
            fruits_hash: tc_types::fruits_hash(&fruits),
        },
        fruits,
    }
}

fn sync_requests() -> Vec<SyncRequest> {
    vec![
        SyncRequest::Status,
        SyncRequest::FastBlocks {
            from: 10,
            count: 64,
        },
        SyncRequest::SnailBlocks { from: 0, count: 1 },
    ]
}

fn sync_responses() -> Vec<SyncResponse> {
    vec![
        SyncResponse::Status(ChainStatus {
            genesis_hash: B256::repeat_byte(1),
            fast_head: 100,
            fast_head_hash: B256::repeat_byte(2),
            snail_head: 7,
            snail_head_hash: B256::repeat_byte(3),
        }),
        SyncResponse::FastBlocks(vec![block()]),
        SyncResponse::SnailBlocks(vec![snail(), snail()]),
        SyncResponse::Error("range not available".into()),
    ]
}

fn events() -> Vec<tc_types::Stamped> {
    use tc_types::event::{PbftEvent, TableStats};
    use tc_types::{Member, NodeEvent, PbftPhase};
    let h = B256::repeat_byte(3);
    let all = vec![
        NodeEvent::NodeStarted {
            node: "n0".into(),
            chain_id: 1337,
            fast_head: 5,
            snail_head: 2,
        },
        NodeEvent::FastBlockCommitted {
            number: 9,
            hash: h,
            epoch: 1,
            view: 2,
            proposer: B256::repeat_byte(4),
            tx_count: 3,
            gas_used: 63_000,
            timestamp_ms: 77,
            signers: vec![0, 2, 3],
        },
        NodeEvent::TxAdmitted {
            hash: h,
            sender: Address::repeat_byte(1),
            nonce: 4,
        },
        NodeEvent::TxRejected {
            hash: None,
            reason: "malformed".into(),
        },
        NodeEvent::TxRejected {
            hash: Some(h),
            reason: "nonce too low".into(),
        },
        NodeEvent::Pbft(PbftEvent::PhaseEntered {
            epoch: 1,
            view: 0,
            seq: 3,
            phase: PbftPhase::Commit,
            digest: h,
        }),
        NodeEvent::Pbft(PbftEvent::QuorumReached {
            epoch: 1,
            view: 0,
            seq: 3,
            phase: PbftPhase::Prepare,
            votes: 3,
        }),
        NodeEvent::Pbft(PbftEvent::ViewChangeStarted {
            epoch: 1,
            from_view: 0,
            to_view: 1,
            reason: "timeout".into(),
        }),
        NodeEvent::Pbft(PbftEvent::ViewChangeCompleted {
            epoch: 1,
            view: 1,
            primary: 1,
        }),
        NodeEvent::Pbft(PbftEvent::CheckpointStable { epoch: 1, seq: 16 }),
        NodeEvent::Pbft(PbftEvent::MessageDropped {
            from: Some(2),
            message: "prepare".into(),
            reason: "bad signature".into(),
        }),
        NodeEvent::Pbft(PbftEvent::MessageDropped {
            from: None,
            message: "x".into(),
            reason: "y".into(),
        }),
        NodeEvent::SnailBlockMined {
            number: 1,
            hash: h,
            difficulty: 1000,
            fruits: 2,
        },
        NodeEvent::SnailBlockImported {
            number: 1,
            hash: h,
            miner: h,
            difficulty: 1000,
            fruits: 0,
        },
        NodeEvent::SnailReorg {
            old_head: h,
            new_head: B256::repeat_byte(9),
            depth: 2,
        },
        NodeEvent::CommitteeElected {
            epoch: 2,
            members: vec![Member {
                key: h,
                coinbase: Address::repeat_byte(2),
                weight: 7,
            }],
            seed: h,
            start_height: 100,
        },
        NodeEvent::RotationScheduled {
            epoch: 2,
            at_height: 100,
        },
        NodeEvent::RotationDone {
            epoch: 2,
            first_height: 100,
        },
        NodeEvent::RotationStarted {
            epoch: 2,
            last_height: 99,
            next_committee: h,
        },
        NodeEvent::FruitsIncluded {
            snail_number: 4,
            snail_hash: h,
            fruits: vec![tc_types::FruitRef { number: 9, hash: h }],
        },
        NodeEvent::PeerConnected {
            peer: "12D3Koo".into(),
        },
        NodeEvent::PeerDisconnected {
            peer: "12D3Koo".into(),
        },
        NodeEvent::PeerRtt {
            peer: "12D3Koo".into(),
            rtt_us: 350,
        },
        NodeEvent::PeerPenalized {
            peer: "12D3Koo".into(),
            reason: "malformed gossip".into(),
        },
        NodeEvent::StorageStats {
            tables: vec![TableStats {
                name: "receipts".into(),
                live_sst_bytes: 1,
                estimated_keys: 2,
                memtable_bytes: 3,
                bytes_read: 4,
                bytes_written: 5,
                reads: 6,
                writes: 7,
            }],
        },
    ];
    all.into_iter()
        .enumerate()
        .map(|(i, event)| tc_types::Stamped {
            seq: i as u64,
            time_ms: 1_000 + i as u64,
            event,
        })
        .collect()
}

/// Every encoding of every message type, with the decoder that must accept it.
type Decoder = fn(&[u8]) -> Result<(), WireError>;
fn samples() -> Vec<(&'static str, Vec<u8>, Decoder)> {
    let mut out: Vec<(&'static str, Vec<u8>, Decoder)> = Vec::new();
    for tx in txs() {
        out.push(("Transaction", encode_transaction(&tx), |b| {
            decode_transaction(b).map(drop)
        }));
    }
    let raws: Vec<Vec<u8>> = txs()
        .iter()
        .map(alloy_eips::eip2718::Encodable2718::encoded_2718)
        .collect();
    out.push(("TxBatch", encode_tx_batch(&raws), |b| {
        decode_tx_batch(b).map(drop)
    }));
    let (b, c) = block();
    out.push(("CertifiedBlock", encode_certified_block(&b, &c), |b| {
        decode_certified_block(b).map(drop)
    }));
    out.push(("SnailBlock", encode_snail_block(&snail()), |b| {
        decode_snail_block(b).map(drop)
    }));
    for r in sync_requests() {
        out.push(("SyncRequest", encode_sync_request(&r), |b| {
            decode_sync_request(b).map(drop)
        }));
    }
    for r in sync_responses() {
        out.push(("SyncResponse", encode_sync_response(&r), |b| {
            decode_sync_response(b).map(drop)
        }));
    }
    for e in events() {
        out.push(("Event", encode_event(&e), |b| decode_event(b).map(drop)));
    }
    out
}

#[test]
fn round_trips() {
    for tx in txs() {
        assert_eq!(
            decode_transaction(&encode_transaction(&tx)).expect("tx"),
            tx
        );
    }
    let raws: Vec<Vec<u8>> = txs()
        .iter()
        .map(alloy_eips::eip2718::Encodable2718::encoded_2718)
        .collect();
    assert_eq!(
        decode_tx_batch(&encode_tx_batch(&raws)).expect("batch"),
        raws
    );
    let empty: [&[u8]; 0] = [];
    assert!(
        decode_tx_batch(&encode_tx_batch(&empty))
            .is_err_and(|e| e.to_string().contains("no transactions"))
    );
    let (b, c) = block();
    assert_eq!(
        decode_certified_block(&encode_certified_block(&b, &c)).expect("block"),
        (b, c)
    );
    assert_eq!(
        decode_snail_block(&encode_snail_block(&snail())).expect("snail"),
        snail()
    );
    for r in sync_requests() {
        assert_eq!(
            decode_sync_request(&encode_sync_request(&r)).expect("req"),
            r
        );
    }
    for r in sync_responses() {
        assert_eq!(
            decode_sync_response(&encode_sync_response(&r)).expect("resp"),
            r
        );
    }
    for e in events() {
        assert_eq!(decode_event(&encode_event(&e)).expect("event"), e);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let decoders: [(&str, Decoder); 7] = [
        ("Event", |b| decode_event(b).map(drop)),
        ("TxBatch", |b| decode_tx_batch(b).map(drop)),
        ("Transaction", |b| decode_transaction(b).map(drop)),
        ("CertifiedBlock", |b| decode_certified_block(b).map(drop)),
        ("SnailBlock", |b| decode_snail_block(b).map(drop)),
        ("SyncRequest", |b| decode_sync_request(b).map(drop)),
        ("SyncResponse", |b| decode_sync_response(b).map(drop)),
    ];
    for (name, decode) in decoders {
        let mut rejected = 0;
        for _ in 0..10_000 {
            let len = rng.gen_range(0..512);
            let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            if decode(&bytes).is_err() {
                rejected += 1;
            }
        }
        assert!(
            rejected > 9_000,
            "{name}: random bytes should almost always be rejected ({rejected})"
        );
    }
}

#[test]
fn truncated_and_mutated_encodings_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for (name, bytes, decode) in samples() {
        for cut in 0..bytes.len() {
            let _ = decode(&bytes[..cut]);
        }
        for _ in 0..2_000 {
            let mut m = bytes.clone();
            let i = rng.gen_range(0..m.len());
            m[i] ^= 1 << rng.gen_range(0..8);
            let _ = decode(&m);
        }
        assert!(decode(&bytes).is_ok(), "{name} sample must decode");
    }
}

#[test]
fn errors_name_the_problem() {
    // wrong version
    let mut m = <tc_wire::pb::Transaction as prost::Message>::decode(
        encode_transaction(&txs()[0]).as_slice(),
    )
    .expect("pb");
    m.version = 9;
    let err = decode_transaction(&prost::Message::encode_to_vec(&m)).expect_err("version");
    assert_eq!(
        err.to_string(),
        "unsupported protocol version 9 in Transaction (this node speaks 1)"
    );
    // short hash
    let (b, c) = block();
    let mut pb = <tc_wire::pb::CertifiedBlock as prost::Message>::decode(
        encode_certified_block(&b, &c).as_slice(),
    )
    .expect("pb");
    if let Some(h) = pb.block.as_mut().and_then(|b| b.header.as_mut()) {
        h.parent_hash.truncate(31);
    }
    let err = decode_certified_block(&prost::Message::encode_to_vec(&pb)).expect_err("len");
    assert_eq!(
        err.to_string(),
        "field header.parent_hash: expected 32 bytes, got 31"
    );
    // oversized range
    let bad = prost::Message::encode_to_vec(&tc_wire::pb::SyncRequest {
        version: PROTOCOL_VERSION,
        kind: Some(tc_wire::pb::sync_request::Kind::FastBlocks(
            tc_wire::pb::Range {
                from: 0,
                count: 100_000,
            },
        )),
    });
    let err = decode_sync_request(&bad).expect_err("range");
    assert_eq!(
        err.to_string(),
        "field sync_request.fast_blocks.count: must be between 1 and 512 (got 100000)"
    );
    // missing body
    let err = decode_sync_request(&prost::Message::encode_to_vec(&tc_wire::pb::SyncRequest {
        version: 1,
        kind: None,
    }))
    .expect_err("missing");
    assert_eq!(err.to_string(), "missing field sync_request.kind");
}
