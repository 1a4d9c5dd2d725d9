//! Signing and verification behind two small traits, with the real ed25519 implementation, and
//! the public commit-certificate check.
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use tc_types::{B512, CommitCertificate, Committee, MemberIndex, PubKey, Signature};

/// Signs with one member's key.
pub trait Signer {
    /// The public key (must be this member's key in the committee).
    fn public_key(&self) -> PubKey;
    /// Signature over `msg`.
    fn sign(&self, msg: &[u8]) -> Signature;
}

/// Verifies signatures of any key.
pub trait Verifier {
    /// Whether `sig` is a valid signature of `key` over `msg`.
    fn verify(&self, key: &PubKey, msg: &[u8], sig: &Signature) -> bool;
}

impl<V: Verifier + ?Sized> Verifier for &V {
    fn verify(&self, key: &PubKey, msg: &[u8], sig: &Signature) -> bool {
        (**self).verify(key, msg, sig)
    }
}

/// ed25519 signer (ed25519-dalek).
#[derive(Clone)]
pub struct Ed25519Signer {
    key: SigningKey,
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("public", &self.public_key())
            .finish_non_exhaustive()
    }
}

impl Ed25519Signer {
    /// From a 32-byte secret seed.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// From an existing dalek key.
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }
}

impl Signer for Ed25519Signer {
    fn public_key(&self) -> PubKey {
        PubKey::from(self.key.verifying_key().to_bytes())
    }

    fn sign(&self, msg: &[u8]) -> Signature {
        B512::from(self.key.sign(msg).to_bytes())
    }
}

/// ed25519 verifier (strict-ish: dalek's `verify_strict`, rejecting weak keys / malleable sigs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Ed25519Verifier;

impl Verifier for Ed25519Verifier {
    fn verify(&self, key: &PubKey, msg: &[u8], sig: &Signature) -> bool {
        let Ok(vk) = VerifyingKey::from_bytes(&key.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(msg, &sig).is_ok()
    }
}

/// Why a commit certificate is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Certificate of another epoch.
    #[error("certificate epoch {got} but committee epoch {expected}")]
    WrongEpoch {
        /// Certificate epoch.
        got: u64,
        /// Committee epoch.
        expected: u64,
    },
    /// A signer index outside the committee.
    #[error("signer {signer} is not a member (committee of {size})")]
    NotMember {
        /// Signer index.
        signer: MemberIndex,
        /// Committee size.
        size: usize,
    },
    /// Signers not strictly increasing (duplicates or unsorted).
    #[error("signers not strictly increasing at signer {signer}")]
    DuplicateOrUnsorted {
        /// Offending signer.
        signer: MemberIndex,
    },
    /// A signature that does not verify.
    #[error("invalid signature of signer {signer}")]
    BadSignature {
        /// Signer index.
        signer: MemberIndex,
    },
    /// Too few signatures.
    #[error("{got} signatures, quorum is {need}")]
    NoQuorum {
        /// Distinct valid signers.
        got: usize,
        /// Quorum.
        need: usize,
    },
}

/// Verifies a [`CommitCertificate`] against the committee of its epoch: at least `quorum()`
/// distinct members, sorted by index, each with a valid signature over
/// [`tc_types::commit_signing_bytes`].
pub fn verify_certificate(
    committee: &Committee,
    cert: &CommitCertificate,
    verifier: &impl Verifier,
) -> Result<(), CertificateError> {
    if cert.epoch != committee.epoch {
        return Err(CertificateError::WrongEpoch {
            got: cert.epoch,
            expected: committee.epoch,
        });
    }
    let bytes = cert.signing_bytes();
    let mut last: Option<MemberIndex> = None;
    for s in &cert.signatures {
        if last.is_some_and(|l| s.signer <= l) {
            return Err(CertificateError::DuplicateOrUnsorted { signer: s.signer });
        }
        last = Some(s.signer);
        let member = committee
            .member(s.signer)
            .ok_or(CertificateError::NotMember {
                signer: s.signer,
                size: committee.size(),
            })?;
        if !verifier.verify(&member.key, &bytes, &s.signature) {
            return Err(CertificateError::BadSignature { signer: s.signer });
        }
    }
    let need = committee.quorum();
    if cert.signatures.len() < need {
        return Err(CertificateError::NoQuorum {
            got: cert.signatures.len(),
            need,
        });
    }
    Ok(())
}
