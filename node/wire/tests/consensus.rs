//! PBFT `SignedMessage` ↔ `ConsensusMessage`: round trips for every payload kind (nested proofs
//! included), no panic on random/truncated/mutated bytes, precise errors.
use prost::Message;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tc_consensus::pbft::{Payload, PreparedProof, SignedMessage};
use tc_types::{B256, B512, CertSignature, CommitCertificate};
use tc_wire::consensus::MAX_NESTING;
use tc_wire::{PROTOCOL_VERSION, decode_consensus, encode_consensus, pb};

fn signed(from: u32, payload: Payload) -> SignedMessage {
    SignedMessage {
        epoch: 3,
        from,
        payload,
        signature: B512::repeat_byte(from as u8 + 1),
    }
}

fn vote(view: u64, seq: u64) -> (u64, u64, B256) {
    (view, seq, B256::repeat_byte(seq as u8))
}

fn pre_prepare(view: u64, seq: u64, block: Vec<u8>) -> SignedMessage {
    let (view, seq, digest) = vote(view, seq);
    signed(
        0,
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block,
        },
    )
}

fn prepare(from: u32, view: u64, seq: u64) -> SignedMessage {
    let (view, seq, digest) = vote(view, seq);
    signed(from, Payload::Prepare { view, seq, digest })
}

fn checkpoint(from: u32, seq: u64) -> SignedMessage {
    signed(
        from,
        Payload::Checkpoint {
            seq,
            state: B256::repeat_byte(0xcc),
        },
    )
}

fn view_change(from: u32) -> SignedMessage {
    signed(
        from,
        Payload::ViewChange {
            new_view: 2,
            stable_seq: 10,
            checkpoint_proof: (0..3).map(|i| checkpoint(i, 10)).collect(),
            prepared: vec![PreparedProof {
                pre_prepare: pre_prepare(1, 11, vec![9; 40]),
                prepares: (1..3).map(|i| prepare(i, 1, 11)).collect(),
            }],
        },
    )
}

fn samples() -> Vec<SignedMessage> {
    let (view, seq, digest) = vote(1, 11);
    vec![
        pre_prepare(1, 11, vec![1, 2, 3]),
        pre_prepare(1, 12, Vec::new()),
        prepare(2, 1, 11),
        signed(3, Payload::Commit { view, seq, digest }),
        checkpoint(1, 20),
        view_change(1),
        signed(
            2,
            Payload::NewView {
                view: 2,
                view_changes: (0..3).map(view_change).collect(),
                pre_prepares: vec![pre_prepare(2, 11, Vec::new())],
            },
        ),
        signed(
            1,
            Payload::Status {
                view: 4,
                view_changing: true,
                last_decided: 99,
                stable_seq: 90,
            },
        ),
        signed(
            0,
            Payload::Decided {
                certificate: CommitCertificate {
                    epoch: 3,
                    view: 1,
                    seq: 11,
                    block_hash: digest,
                    signatures: (0..3)
                        .map(|i| CertSignature {
                            signer: i,
                            signature: B512::repeat_byte(i as u8),
                        })
                        .collect(),
                },
            },
        ),
    ]
}

#[test]
fn every_payload_kind_round_trips() {
    for m in samples() {
        let bytes = encode_consensus(&m);
        assert_eq!(
            decode_consensus(&bytes).as_ref(),
            Ok(&m),
            "{}",
            m.payload.kind()
        );
    }
}

#[test]
fn random_truncated_and_mutated_bytes_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut rejected = 0;
    for _ in 0..10_000 {
        let len = rng.gen_range(0..512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        if decode_consensus(&bytes).is_err() {
            rejected += 1;
        }
    }
    assert!(
        rejected > 9_000,
        "random bytes mostly rejected ({rejected})"
    );
    for m in samples() {
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
}

fn to_pb(m: &SignedMessage) -> pb::ConsensusMessage {
    pb::ConsensusMessage::decode(encode_consensus(m).as_slice()).expect("pb")
}

fn err(m: &pb::ConsensusMessage) -> String {
    decode_consensus(&m.encode_to_vec())
        .expect_err("must fail")
        .to_string()
}

#[test]
fn errors_name_the_problem() {
    let mut m = to_pb(&prepare(1, 1, 1));
    m.version = 2;
    assert_eq!(
        err(&m),
        "unsupported protocol version 2 in ConsensusMessage (this node speaks 1)"
    );

    let m = pb::ConsensusMessage {
        version: PROTOCOL_VERSION,
        message: None,
    };
    assert_eq!(err(&m), "missing field consensus.message");

    let mut m = to_pb(&prepare(1, 1, 1));
    if let Some(s) = m.message.as_mut() {
        s.payload = None;
    }
    assert_eq!(err(&m), "missing field consensus.payload");

    let mut m = to_pb(&prepare(1, 1, 1));
    if let Some(s) = m.message.as_mut() {
        s.signature.truncate(63);
    }
    assert_eq!(
        err(&m),
        "field consensus.signature: expected 64 bytes, got 63"
    );

    let mut m = to_pb(&prepare(1, 1, 1));
    if let Some(pb::signed_consensus::Payload::Prepare(v)) =
        m.message.as_mut().and_then(|s| s.payload.as_mut())
    {
        v.digest = vec![1; 33];
    }
    assert_eq!(
        err(&m),
        "field consensus.prepare.digest: expected 32 bytes, got 33"
    );
}

#[test]
fn nesting_is_bounded() {
    // NEW-VIEW → VIEW-CHANGE → CHECKPOINT is depth 3: accepted (sample above). One more level
    // (a NEW-VIEW inside a VIEW-CHANGE's checkpoint proof inside a NEW-VIEW) is refused.
    let inner_nv = signed(
        0,
        Payload::NewView {
            view: 1,
            view_changes: vec![view_change(0)],
            pre_prepares: Vec::new(),
        },
    );
    let vc = signed(
        0,
        Payload::ViewChange {
            new_view: 2,
            stable_seq: 0,
            checkpoint_proof: vec![inner_nv],
            prepared: Vec::new(),
        },
    );
    let outer = signed(
        0,
        Payload::NewView {
            view: 2,
            view_changes: vec![vc],
            pre_prepares: Vec::new(),
        },
    );
    let e = decode_consensus(&encode_consensus(&outer)).expect_err("too deep");
    assert_eq!(
        e.to_string(),
        format!("field consensus.message: signed messages nested deeper than {MAX_NESTING}")
    );
}
