//! PBFT wire messages and their canonical signing bytes.
//!
//! Every message travels as a [`SignedMessage`]: the committee epoch, the sender's member index,
//! the [`Payload`] and an ed25519 signature over [`SignedMessage::signing_bytes`]. A COMMIT signs
//! exactly [`tc_types::commit_signing_bytes`], so a quorum of COMMITs *is* a
//! [`CommitCertificate`]. Every other kind signs a domain-separated canonical encoding.
use tc_types::{B256, CommitCertificate, MemberIndex, Seq, Signature, View, commit_signing_bytes};

/// Digest of the null request the NEW-VIEW uses to fill gaps (PBFT §4.4). The shell must never
/// propose a block with this digest; a decision with it means "no block at this sequence number".
pub const NULL_DIGEST: B256 = B256::ZERO;

/// A prepared certificate (PBFT §4.4 "P"): the PRE-PREPARE and `quorum - 1` matching PREPAREs
/// from distinct backups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedProof {
    /// The primary's signed PRE-PREPARE.
    pub pre_prepare: SignedMessage,
    /// Matching signed PREPAREs.
    pub prepares: Vec<SignedMessage>,
}

/// Message contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// PBFT §4.2: the primary assigns `seq` to the block `digest` in `view`.
    PrePrepare {
        /// View.
        view: View,
        /// Sequence number (fast block height).
        seq: Seq,
        /// Block digest.
        digest: B256,
        /// Optional opaque block bytes (empty in NEW-VIEW re-proposals).
        block: Vec<u8>,
    },
    /// PBFT §4.2: a backup accepted the PRE-PREPARE.
    Prepare {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Block digest.
        digest: B256,
    },
    /// PBFT §4.2: the sender is prepared; signs [`commit_signing_bytes`].
    Commit {
        /// View.
        view: View,
        /// Sequence number.
        seq: Seq,
        /// Block digest.
        digest: B256,
    },
    /// PBFT §4.3: state digest after deciding `seq`.
    Checkpoint {
        /// Checkpoint sequence number.
        seq: Seq,
        /// Running digest of every decision up to `seq`.
        state: B256,
    },
    /// PBFT §4.4: move to `new_view`.
    ViewChange {
        /// Target view.
        new_view: View,
        /// Sender's stable checkpoint sequence number.
        stable_seq: Seq,
        /// Quorum of CHECKPOINT messages proving `stable_seq` (empty for the initial checkpoint).
        checkpoint_proof: Vec<SignedMessage>,
        /// Prepared certificates for sequence numbers above `stable_seq`.
        prepared: Vec<PreparedProof>,
    },
    /// PBFT §4.4: the new primary's NEW-VIEW.
    NewView {
        /// The new view.
        view: View,
        /// A quorum of VIEW-CHANGE messages for `view`.
        view_changes: Vec<SignedMessage>,
        /// Re-proposals ("O"), PRE-PREPAREs for `view`.
        pre_prepares: Vec<SignedMessage>,
    },
    /// Retransmission (PBFT §5.2 / §4.5): the sender's progress, so peers can resend what it lacks.
    Status {
        /// Current view (the target view while view-changing).
        view: View,
        /// Whether the sender is still waiting for the NEW-VIEW of `view`.
        view_changing: bool,
        /// Last sequence number the sender decided (in order).
        last_decided: Seq,
        /// Sender's stable checkpoint.
        stable_seq: Seq,
    },
    /// State transfer (PBFT §5.3, simplified): a decision the receiver lacks, proven by its
    /// commit certificate.
    Decided {
        /// The certificate (its own signatures are what prove the decision).
        certificate: CommitCertificate,
    },
}

impl Payload {
    /// Short kind name for events and traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::PrePrepare { .. } => "pre-prepare",
            Payload::Prepare { .. } => "prepare",
            Payload::Commit { .. } => "commit",
            Payload::Checkpoint { .. } => "checkpoint",
            Payload::ViewChange { .. } => "view-change",
            Payload::NewView { .. } => "new-view",
            Payload::Status { .. } => "status",
            Payload::Decided { .. } => "decided",
        }
    }

    /// The view a normal-case message belongs to.
    pub fn normal_view_seq(&self) -> Option<(View, Seq, B256)> {
        match self {
            Payload::PrePrepare {
                view, seq, digest, ..
            }
            | Payload::Prepare { view, seq, digest }
            | Payload::Commit { view, seq, digest } => Some((*view, *seq, *digest)),
            _ => None,
        }
    }
}

/// A signed message as it travels between members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedMessage {
    /// Committee epoch; messages of another epoch are dropped.
    pub epoch: u64,
    /// Sender's member index.
    pub from: MemberIndex,
    /// Contents.
    pub payload: Payload,
    /// Sender's ed25519 signature over [`SignedMessage::signing_bytes`].
    pub signature: Signature,
}

impl SignedMessage {
    /// The bytes the sender signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes(self.epoch, &self.payload)
    }
}

/// Canonical bytes signed for `payload` in `epoch`.
pub fn signing_bytes(epoch: u64, payload: &Payload) -> Vec<u8> {
    if let Payload::Commit { view, seq, digest } = payload {
        return commit_signing_bytes(epoch, *view, *seq, digest);
    }
    let mut out = Vec::with_capacity(96);
    out.extend_from_slice(b"tc/pbft");
    out.extend_from_slice(&epoch.to_be_bytes());
    encode_payload(payload, &mut out);
    out
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    put_u64(out, n as u64);
}

fn encode_signed(m: &SignedMessage, out: &mut Vec<u8>) {
    put_u64(out, m.epoch);
    out.extend_from_slice(&m.from.to_be_bytes());
    encode_payload(&m.payload, out);
    out.extend_from_slice(m.signature.as_slice());
}

fn encode_payload(p: &Payload, out: &mut Vec<u8>) {
    match p {
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block,
        } => {
            out.push(1);
            put_u64(out, *view);
            put_u64(out, *seq);
            out.extend_from_slice(digest.as_slice());
            put_len(out, block.len());
            out.extend_from_slice(block);
        }
        Payload::Prepare { view, seq, digest } => {
            out.push(2);
            put_u64(out, *view);
            put_u64(out, *seq);
            out.extend_from_slice(digest.as_slice());
        }
        Payload::Commit { view, seq, digest } => {
            out.push(3);
            put_u64(out, *view);
            put_u64(out, *seq);
            out.extend_from_slice(digest.as_slice());
        }
        Payload::Checkpoint { seq, state } => {
            out.push(4);
            put_u64(out, *seq);
            out.extend_from_slice(state.as_slice());
        }
        Payload::ViewChange {
            new_view,
            stable_seq,
            checkpoint_proof,
            prepared,
        } => {
            out.push(5);
            put_u64(out, *new_view);
            put_u64(out, *stable_seq);
            put_len(out, checkpoint_proof.len());
            for m in checkpoint_proof {
                encode_signed(m, out);
            }
            put_len(out, prepared.len());
            for p in prepared {
                encode_signed(&p.pre_prepare, out);
                put_len(out, p.prepares.len());
                for m in &p.prepares {
                    encode_signed(m, out);
                }
            }
        }
        Payload::NewView {
            view,
            view_changes,
            pre_prepares,
        } => {
            out.push(6);
            put_u64(out, *view);
            put_len(out, view_changes.len());
            for m in view_changes {
                encode_signed(m, out);
            }
            put_len(out, pre_prepares.len());
            for m in pre_prepares {
                encode_signed(m, out);
            }
        }
        Payload::Status {
            view,
            view_changing,
            last_decided,
            stable_seq,
        } => {
            out.push(7);
            put_u64(out, *view);
            out.push(u8::from(*view_changing));
            put_u64(out, *last_decided);
            put_u64(out, *stable_seq);
        }
        Payload::Decided { certificate } => {
            out.push(8);
            put_u64(out, certificate.epoch);
            put_u64(out, certificate.view);
            put_u64(out, certificate.seq);
            out.extend_from_slice(certificate.block_hash.as_slice());
            put_len(out, certificate.signatures.len());
            for s in &certificate.signatures {
                out.extend_from_slice(&s.signer.to_be_bytes());
                out.extend_from_slice(s.signature.as_slice());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_signs_certificate_bytes() {
        let d = B256::repeat_byte(7);
        let p = Payload::Commit {
            view: 2,
            seq: 9,
            digest: d,
        };
        assert_eq!(signing_bytes(5, &p), commit_signing_bytes(5, 2, 9, &d));
    }

    #[test]
    fn kinds_are_domain_separated() {
        let d = B256::repeat_byte(7);
        let a = signing_bytes(
            1,
            &Payload::Prepare {
                view: 1,
                seq: 1,
                digest: d,
            },
        );
        let b = signing_bytes(
            1,
            &Payload::PrePrepare {
                view: 1,
                seq: 1,
                digest: d,
                block: vec![],
            },
        );
        let c = signing_bytes(
            2,
            &Payload::Prepare {
                view: 1,
                seq: 1,
                digest: d,
            },
        );
        assert_ne!(a, b);
        assert_ne!(a, c);
    }
}
