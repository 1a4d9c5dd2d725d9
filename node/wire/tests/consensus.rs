//! Protobuf of signed PBFT messages: every payload kind round-trips, signatures still verify
//! after re-encoding, and hostile bytes (random, truncated, deeply nested) give errors.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tc_consensus::pbft::{
    Ed25519Signer, Ed25519Verifier, Payload, PreparedProof, SignedMessage, Signer, Verifier,
    signing_bytes,
};
use tc_types::{B256, CertSignature, CommitCertificate};
use tc_wire::{decode_consensus, encode_consensus};

fn signed(signer: &Ed25519Signer, from: u32, payload: Payload) -> SignedMessage {
    let signature = signer.sign(&signing_bytes(7, &payload));
    SignedMessage {
        epoch: 7,
        from,
        payload,
        signature,
    }
}

fn all_kinds() -> Vec<SignedMessage> {
    let s = Ed25519Signer::from_seed([5; 32]);
    let d = B256::repeat_byte(0xab);
    let pp = signed(
        &s,
        0,
        Payload::PrePrepare {
            view: 1,
            seq: 10,
            digest: d,
            block: vec![1, 2, 3],
        },
    );
    let prep = signed(
        &s,
        1,
        Payload::Prepare {
            view: 1,
            seq: 10,
            digest: d,
        },
    );
    let ckpt = signed(
        &s,
        2,
        Payload::Checkpoint {
            seq: 16,
            state: B256::repeat_byte(1),
        },
    );
    let vc = signed(
        &s,
        3,
        Payload::ViewChange {
            new_view: 2,
            stable_seq: 16,
            checkpoint_proof: vec![ckpt.clone(), ckpt.clone()],
            prepared: vec![PreparedProof {
                pre_prepare: pp.clone(),
                prepares: vec![prep.clone()],
            }],
        },
    );
    let cert = CommitCertificate {
        epoch: 7,
        view: 1,
        seq: 10,
        block_hash: d,
        signatures: vec![CertSignature {
            signer: 0,
            signature: s.sign(b"x"),
        }],
    };
    vec![
        pp.clone(),
        prep,
        signed(
            &s,
            1,
            Payload::Commit {
                view: 1,
                seq: 10,
                digest: d,
            },
        ),
        ckpt,
        vc.clone(),
        signed(
            &s,
            2,
            Payload::NewView {
                view: 2,
                view_changes: vec![vc],
                pre_prepares: vec![pp],
            },
        ),
        signed(
            &s,
            0,
            Payload::Status {
                view: 2,
                view_changing: true,
                last_decided: 9,
                stable_seq: 0,
            },
        ),
        signed(&s, 1, Payload::Decided { certificate: cert }),
    ]
}

#[test]
fn every_kind_round_trips_and_signatures_still_verify() {
    let key = Ed25519Signer::from_seed([5; 32]).public_key();
    for m in all_kinds() {
        let back = decode_consensus(&encode_consensus(&m))
            .unwrap_or_else(|e| panic!("{}: {e}", m.payload.kind()));
        assert_eq!(back, m);
        assert!(
            Ed25519Verifier.verify(&key, &back.signing_bytes(), &back.signature),
            "{}",
            m.payload.kind()
        );
    }
}

#[test]
fn hostile_bytes_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut rejected = 0;
    for _ in 0..10_000 {
        let len = rng.gen_range(0..512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        rejected += usize::from(decode_consensus(&bytes).is_err());
    }
    assert!(rejected > 9_000, "{rejected}");
    for m in all_kinds() {
        let bytes = encode_consensus(&m);
        for cut in 0..bytes.len() {
            let _ = decode_consensus(&bytes[..cut]);
        }
        for _ in 0..500 {
            let mut b = bytes.clone();
            let i = rng.gen_range(0..b.len());
            b[i] ^= 1 << rng.gen_range(0..8);
            let _ = decode_consensus(&b);
        }
    }
    // Deep nesting (a NEW-VIEW inside a NEW-VIEW inside ...) is refused, not a stack overflow.
    let s = Ed25519Signer::from_seed([1; 32]);
    let mut m = signed(
        &s,
        0,
        Payload::Status {
            view: 0,
            view_changing: false,
            last_decided: 0,
            stable_seq: 0,
        },
    );
    for _ in 0..200 {
        m = signed(
            &s,
            0,
            Payload::NewView {
                view: 1,
                view_changes: vec![m],
                pre_prepares: vec![],
            },
        );
    }
    let err = decode_consensus(&encode_consensus(&m)).expect_err("too deep");
    assert!(err.to_string().contains("recursion"), "{err}");
}

#[test]
fn errors_name_the_field() {
    let mut m = tc_wire::pb::ConsensusMessage {
        version: 1,
        ..Default::default()
    };
    let err = decode_consensus(&prost::Message::encode_to_vec(&m)).expect_err("no body");
    assert_eq!(err.to_string(), "missing field consensus.body");
    m.body = Some(tc_wire::pb::consensus_message::Body::Prepare(
        tc_wire::pb::Vote {
            view: 0,
            seq: 1,
            digest: vec![1; 31],
        },
    ));
    let err = decode_consensus(&prost::Message::encode_to_vec(&m)).expect_err("short digest");
    assert_eq!(
        err.to_string(),
        "field consensus.prepare.digest: expected 32 bytes, got 31"
    );
    m.version = 2;
    let err = decode_consensus(&prost::Message::encode_to_vec(&m)).expect_err("version");
    assert_eq!(
        err.to_string(),
        "unsupported protocol version 2 in ConsensusMessage (this node speaks 1)"
    );
}
