//! Followers: accept a fast block only with a valid certificate from *that epoch's* committee,
//! where the committee comes from the follower's own snail chain ([`EpochSchedule`]).
use tc_types::{B256, CommitCertificate, FastHeader};

use super::schedule::{EpochSchedule, RotationError};
use crate::pbft::{CertificateError, Verifier, verify_certificate};
use crate::snail::ChainView;

/// Why a certified fast block is not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FollowError {
    /// The header breaks the rotation rule (or the schedule is not there yet).
    #[error(transparent)]
    Rotation(#[from] RotationError),
    /// The certificate is for another height or block.
    #[error("certificate for seq {cert_seq} / {cert_hash} does not match block {number} / {hash}")]
    Mismatch {
        /// Block number.
        number: u64,
        /// Block hash.
        hash: B256,
        /// Certificate seq.
        cert_seq: u64,
        /// Certificate block hash.
        cert_hash: B256,
    },
    /// The certificate does not verify against the epoch's committee.
    #[error("fast block {number} (epoch {epoch}): {source}")]
    Certificate {
        /// Block number.
        number: u64,
        /// Epoch.
        epoch: u64,
        /// Detail.
        source: CertificateError,
    },
}

/// Check a committed fast block as a follower: `epoch` / `next_committee` per the schedule
/// ([`EpochSchedule::check_fast_header`]), the certificate names this header, and a quorum of
/// that epoch's committee signed it. [`RotationError::Undetermined`] means "sync the snail
/// chain and retry", anything else means the block (or its sender) is bad.
pub fn check_committed_block(
    schedule: &EpochSchedule,
    view: &impl ChainView,
    header: &FastHeader,
    cert: &CommitCertificate,
    verifier: &impl Verifier,
) -> Result<(), FollowError> {
    schedule.check_fast_header(header, view)?;
    let hash = header.hash();
    if cert.seq != header.number || cert.block_hash != hash {
        return Err(FollowError::Mismatch {
            number: header.number,
            hash,
            cert_seq: cert.seq,
            cert_hash: cert.block_hash,
        });
    }
    let number = header.number;
    let epoch = header.epoch;
    let committee = schedule
        .committee(epoch)
        .ok_or(RotationError::Undetermined { height: number })?;
    verify_certificate(committee, cert, verifier).map_err(|source| FollowError::Certificate {
        number,
        epoch,
        source,
    })
}
