//! Seeded keys and a verification cache shared by the engines of one simulated run.
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sha2::{Digest as _, Sha256};
use tc_consensus::pbft::{Ed25519Signer, Ed25519Verifier, Signer as _, Verifier};
use tc_types::{Address, Committee, Member, PubKey, Signature};

/// Deterministic signer of member `i` (test keys, never for production).
pub fn test_signer(i: usize) -> Ed25519Signer {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
    seed[31] = 0xa5;
    Ed25519Signer::from_seed(seed)
}

/// A committee of `n` test members for `epoch`, starting at height `start_height`.
pub fn test_committee(n: usize, epoch: u64, start_height: u64) -> Committee {
    let members = (0..n)
        .map(|i| Member {
            key: test_signer(i).public_key(),
            coinbase: Address::ZERO,
            weight: 1,
        })
        .collect();
    Committee {
        epoch,
        start_height,
        members,
        seed: Default::default(),
    }
}

/// Real ed25519 verification, memoised by (key, message hash, signature): every distinct
/// signature is verified once per run. The map is only looked up, never iterated.
#[derive(Clone, Debug, Default)]
pub struct CachingVerifier {
    cache: Rc<RefCell<HashMap<[u8; 32], bool>>>,
    stats: Rc<RefCell<(u64, u64)>>,
}

impl CachingVerifier {
    /// A fresh, empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// (real verifications, cache hits).
    pub fn stats(&self) -> (u64, u64) {
        *self.stats.borrow()
    }
}

impl Verifier for CachingVerifier {
    fn verify(&self, key: &PubKey, msg: &[u8], sig: &Signature) -> bool {
        let mut h = Sha256::new();
        h.update(key);
        h.update(sig);
        h.update(msg);
        let id: [u8; 32] = h.finalize().into();
        if let Some(ok) = self.cache.borrow().get(&id) {
            self.stats.borrow_mut().1 += 1;
            return *ok;
        }
        let ok = Ed25519Verifier.verify(key, msg, sig);
        self.stats.borrow_mut().0 += 1;
        self.cache.borrow_mut().insert(id, ok);
        ok
    }
}
