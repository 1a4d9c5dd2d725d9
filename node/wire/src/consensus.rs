//! PBFT messages (tc-consensus [`SignedMessage`]) on the wire: `ConsensusMessage` wrapping a
//! `SignedConsensus`. Decoding is strict (hash and signature lengths, required fields, bounded
//! nesting) and never panics; the signature itself is checked by the engine.

use prost::Message;
use tc_consensus::pbft::{Payload, PreparedProof, SignedMessage};

use crate::convert::{b256, b512, certificate_from_pb, certificate_to_pb};
use crate::{PROTOCOL_VERSION, WireError, check_version, decode_pb, pb};

/// Deepest nesting of signed messages accepted: NEW-VIEW (1) → VIEW-CHANGE (2) → prepared
/// PRE-PREPARE / PREPARE or CHECKPOINT (3). Anything deeper is not a message the engine sends.
pub const MAX_NESTING: usize = 3;

/// Encode a signed PBFT message.
pub fn encode_consensus(m: &SignedMessage) -> Vec<u8> {
    pb::ConsensusMessage {
        version: PROTOCOL_VERSION,
        message: Some(signed_to_pb(m)),
    }
    .encode_to_vec()
}

/// Decode a signed PBFT message (signature not yet verified).
pub fn decode_consensus(bytes: &[u8]) -> Result<SignedMessage, WireError> {
    let m: pb::ConsensusMessage = decode_pb("ConsensusMessage", bytes)?;
    check_version("ConsensusMessage", m.version)?;
    signed_from_pb(
        m.message
            .as_ref()
            .ok_or(WireError::Missing("consensus.message"))?,
        1,
    )
}

fn signed_to_pb(m: &SignedMessage) -> pb::SignedConsensus {
    use pb::signed_consensus::Payload as P;
    let payload = match &m.payload {
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block,
        } => P::PrePrepare(pb::PrePrepare {
            view: *view,
            seq: *seq,
            digest: digest.to_vec(),
            block: block.clone(),
        }),
        Payload::Prepare { view, seq, digest } => P::Prepare(pb::Vote {
            view: *view,
            seq: *seq,
            digest: digest.to_vec(),
        }),
        Payload::Commit { view, seq, digest } => P::Commit(pb::Vote {
            view: *view,
            seq: *seq,
            digest: digest.to_vec(),
        }),
        Payload::Checkpoint { seq, state } => P::Checkpoint(pb::Checkpoint {
            seq: *seq,
            state: state.to_vec(),
        }),
        Payload::ViewChange {
            new_view,
            stable_seq,
            checkpoint_proof,
            prepared,
        } => P::ViewChange(pb::ViewChange {
            new_view: *new_view,
            stable_seq: *stable_seq,
            checkpoint_proof: checkpoint_proof.iter().map(signed_to_pb).collect(),
            prepared: prepared
                .iter()
                .map(|p| pb::PreparedProof {
                    pre_prepare: Some(signed_to_pb(&p.pre_prepare)),
                    prepares: p.prepares.iter().map(signed_to_pb).collect(),
                })
                .collect(),
        }),
        Payload::NewView {
            view,
            view_changes,
            pre_prepares,
        } => P::NewView(pb::NewView {
            view: *view,
            view_changes: view_changes.iter().map(signed_to_pb).collect(),
            pre_prepares: pre_prepares.iter().map(signed_to_pb).collect(),
        }),
        Payload::Status {
            view,
            view_changing,
            last_decided,
            stable_seq,
        } => P::Status(pb::Status {
            view: *view,
            view_changing: *view_changing,
            last_decided: *last_decided,
            stable_seq: *stable_seq,
        }),
        Payload::Decided { certificate } => P::Decided(pb::Decided {
            certificate: Some(certificate_to_pb(certificate)),
        }),
    };
    pb::SignedConsensus {
        epoch: m.epoch,
        from: m.from,
        signature: m.signature.to_vec(),
        payload: Some(payload),
    }
}

fn signed_list(
    list: &[pb::SignedConsensus],
    depth: usize,
) -> Result<Vec<SignedMessage>, WireError> {
    list.iter().map(|m| signed_from_pb(m, depth + 1)).collect()
}

fn signed_from_pb(m: &pb::SignedConsensus, depth: usize) -> Result<SignedMessage, WireError> {
    use pb::signed_consensus::Payload as P;
    if depth > MAX_NESTING {
        return Err(WireError::Invalid {
            field: "consensus.message",
            reason: format!("signed messages nested deeper than {MAX_NESTING}"),
        });
    }
    let payload = match m
        .payload
        .as_ref()
        .ok_or(WireError::Missing("consensus.payload"))?
    {
        P::PrePrepare(p) => Payload::PrePrepare {
            view: p.view,
            seq: p.seq,
            digest: b256("consensus.pre_prepare.digest", &p.digest)?,
            block: p.block.clone(),
        },
        P::Prepare(v) => Payload::Prepare {
            view: v.view,
            seq: v.seq,
            digest: b256("consensus.prepare.digest", &v.digest)?,
        },
        P::Commit(v) => Payload::Commit {
            view: v.view,
            seq: v.seq,
            digest: b256("consensus.commit.digest", &v.digest)?,
        },
        P::Checkpoint(c) => Payload::Checkpoint {
            seq: c.seq,
            state: b256("consensus.checkpoint.state", &c.state)?,
        },
        P::ViewChange(v) => Payload::ViewChange {
            new_view: v.new_view,
            stable_seq: v.stable_seq,
            checkpoint_proof: signed_list(&v.checkpoint_proof, depth)?,
            prepared: v
                .prepared
                .iter()
                .map(|p| {
                    Ok(PreparedProof {
                        pre_prepare: signed_from_pb(
                            p.pre_prepare.as_ref().ok_or(WireError::Missing(
                                "consensus.view_change.prepared.pre_prepare",
                            ))?,
                            depth + 1,
                        )?,
                        prepares: signed_list(&p.prepares, depth)?,
                    })
                })
                .collect::<Result<Vec<_>, WireError>>()?,
        },
        P::NewView(n) => Payload::NewView {
            view: n.view,
            view_changes: signed_list(&n.view_changes, depth)?,
            pre_prepares: signed_list(&n.pre_prepares, depth)?,
        },
        P::Status(s) => Payload::Status {
            view: s.view,
            view_changing: s.view_changing,
            last_decided: s.last_decided,
            stable_seq: s.stable_seq,
        },
        P::Decided(d) => Payload::Decided {
            certificate: certificate_from_pb(
                d.certificate
                    .as_ref()
                    .ok_or(WireError::Missing("consensus.decided.certificate"))?,
            )?,
        },
    };
    Ok(SignedMessage {
        epoch: m.epoch,
        from: m.from,
        payload,
        signature: b512("consensus.signature", &m.signature)?,
    })
}
