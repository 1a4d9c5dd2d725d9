//! Protobuf form of the PBFT engine's [`SignedMessage`]s.
use prost::Message;
use tc_consensus::pbft::{Payload, PreparedProof, SignedMessage};

use crate::convert::{b256, b512, certificate_from_pb, certificate_to_pb};
use crate::{PROTOCOL_VERSION, WireError, check_version, decode_pb, pb};

/// Most messages nested in one VIEW-CHANGE / NEW-VIEW (per list).
pub const MAX_NESTED: usize = 4_096;

fn to_pb(m: &SignedMessage) -> pb::ConsensusMessage {
    use pb::consensus_message::Body;
    let vote = |view: &u64, seq: &u64, digest: &tc_types::B256| pb::Vote {
        view: *view,
        seq: *seq,
        digest: digest.to_vec(),
    };
    let body = match &m.payload {
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block,
        } => Body::PrePrepare(pb::PrePrepare {
            view: *view,
            seq: *seq,
            digest: digest.to_vec(),
            block: block.clone(),
        }),
        Payload::Prepare { view, seq, digest } => Body::Prepare(vote(view, seq, digest)),
        Payload::Commit { view, seq, digest } => Body::Commit(vote(view, seq, digest)),
        Payload::Checkpoint { seq, state } => Body::Checkpoint(pb::Checkpoint {
            seq: *seq,
            state_digest: state.to_vec(),
        }),
        Payload::ViewChange {
            new_view,
            stable_seq,
            checkpoint_proof,
            prepared,
        } => Body::ViewChange(pb::ViewChange {
            new_view: *new_view,
            stable_seq: *stable_seq,
            checkpoint_proof: checkpoint_proof.iter().map(to_pb).collect(),
            prepared: prepared
                .iter()
                .map(|p| pb::PreparedProof {
                    pre_prepare: Some(to_pb(&p.pre_prepare)),
                    prepares: p.prepares.iter().map(to_pb).collect(),
                })
                .collect(),
        }),
        Payload::NewView {
            view,
            view_changes,
            pre_prepares,
        } => Body::NewView(pb::NewView {
            view: *view,
            view_changes: view_changes.iter().map(to_pb).collect(),
            pre_prepares: pre_prepares.iter().map(to_pb).collect(),
        }),
        Payload::Status {
            view,
            view_changing,
            last_decided,
            stable_seq,
        } => Body::Status(pb::Status {
            view: *view,
            last_decided: *last_decided,
            stable_checkpoint: *stable_seq,
            view_changing: *view_changing,
        }),
        Payload::Decided { certificate } => Body::Decided(certificate_to_pb(certificate)),
    };
    pb::ConsensusMessage {
        version: PROTOCOL_VERSION,
        epoch: m.epoch,
        sender: m.from,
        signature: m.signature.to_vec(),
        body: Some(body),
    }
}

fn list(field: &'static str, v: &[pb::ConsensusMessage]) -> Result<Vec<SignedMessage>, WireError> {
    if v.len() > MAX_NESTED {
        return Err(WireError::Invalid {
            field,
            reason: format!("{} messages exceed the limit {MAX_NESTED}", v.len()),
        });
    }
    v.iter().map(from_pb).collect()
}

fn from_pb(m: &pb::ConsensusMessage) -> Result<SignedMessage, WireError> {
    use pb::consensus_message::Body;
    check_version("ConsensusMessage", m.version)?;
    let payload = match m
        .body
        .as_ref()
        .ok_or(WireError::Missing("consensus.body"))?
    {
        Body::PrePrepare(p) => Payload::PrePrepare {
            view: p.view,
            seq: p.seq,
            digest: b256("consensus.pre_prepare.digest", &p.digest)?,
            block: p.block.clone(),
        },
        Body::Prepare(v) => Payload::Prepare {
            view: v.view,
            seq: v.seq,
            digest: b256("consensus.prepare.digest", &v.digest)?,
        },
        Body::Commit(v) => Payload::Commit {
            view: v.view,
            seq: v.seq,
            digest: b256("consensus.commit.digest", &v.digest)?,
        },
        Body::Checkpoint(c) => Payload::Checkpoint {
            seq: c.seq,
            state: b256("consensus.checkpoint.state_digest", &c.state_digest)?,
        },
        Body::ViewChange(vc) => {
            if vc.prepared.len() > MAX_NESTED {
                return Err(WireError::Invalid {
                    field: "consensus.view_change.prepared",
                    reason: format!("{} proofs exceed the limit {MAX_NESTED}", vc.prepared.len()),
                });
            }
            Payload::ViewChange {
                new_view: vc.new_view,
                stable_seq: vc.stable_seq,
                checkpoint_proof: list(
                    "consensus.view_change.checkpoint_proof",
                    &vc.checkpoint_proof,
                )?,
                prepared: vc
                    .prepared
                    .iter()
                    .map(|p| {
                        Ok(PreparedProof {
                            pre_prepare: from_pb(p.pre_prepare.as_ref().ok_or(
                                WireError::Missing("consensus.view_change.prepared.pre_prepare"),
                            )?)?,
                            prepares: list("consensus.view_change.prepared.prepares", &p.prepares)?,
                        })
                    })
                    .collect::<Result<_, WireError>>()?,
            }
        }
        Body::NewView(nv) => Payload::NewView {
            view: nv.view,
            view_changes: list("consensus.new_view.view_changes", &nv.view_changes)?,
            pre_prepares: list("consensus.new_view.pre_prepares", &nv.pre_prepares)?,
        },
        Body::Status(s) => Payload::Status {
            view: s.view,
            view_changing: s.view_changing,
            last_decided: s.last_decided,
            stable_seq: s.stable_checkpoint,
        },
        Body::Decided(c) => Payload::Decided {
            certificate: certificate_from_pb(c)?,
        },
    };
    Ok(SignedMessage {
        epoch: m.epoch,
        from: m.sender,
        payload,
        signature: b512("consensus.signature", &m.signature)?,
    })
}

/// Encode a signed PBFT message.
pub fn encode_consensus(m: &SignedMessage) -> Vec<u8> {
    to_pb(m).encode_to_vec()
}

/// Decode a signed PBFT message (signature not verified here: the engine does that).
pub fn decode_consensus(bytes: &[u8]) -> Result<SignedMessage, WireError> {
    from_pb(&decode_pb::<pb::ConsensusMessage>(
        "ConsensusMessage",
        bytes,
    )?)
}
