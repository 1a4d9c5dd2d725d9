//! Seeded keys and a verification cache shared by the engines of one simulated run.
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sha2::{Digest as _, Sha256};
use tc_consensus::pbft::{Ed25519Signer, Ed25519Verifier, Signer, Verifier};
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

/// Entries kept per thread before a cache is cleared (bounds memory in long soaks).
const CACHE_LIMIT: usize = 400_000;

thread_local! {
    static VERIFIED: RefCell<HashMap<[u8; 32], bool>> = RefCell::new(HashMap::new());
    static SIGNED: RefCell<HashMap<[u8; 32], Signature>> = RefCell::new(HashMap::new());
}

fn cache_key(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Real ed25519 verification, memoised per thread by (key, signature, message hash): every
/// distinct signature is really verified once. The map is only looked up, never iterated, so it
/// cannot influence outputs.
#[derive(Clone, Debug, Default)]
pub struct CachingVerifier {
    stats: Rc<RefCell<(u64, u64)>>,
}

impl CachingVerifier {
    /// A verifier with fresh statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// (real verifications, cache hits) through this verifier.
    pub fn stats(&self) -> (u64, u64) {
        *self.stats.borrow()
    }
}

impl Verifier for CachingVerifier {
    fn verify(&self, key: &PubKey, msg: &[u8], sig: &Signature) -> bool {
        let id = cache_key(&[key.as_slice(), sig.as_slice(), msg]);
        if let Some(ok) = VERIFIED.with(|c| c.borrow().get(&id).copied()) {
            self.stats.borrow_mut().1 += 1;
            return ok;
        }
        let ok = Ed25519Verifier.verify(key, msg, sig);
        self.stats.borrow_mut().0 += 1;
        VERIFIED.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.insert(id, ok);
        });
        ok
    }
}

/// ed25519 signer memoised per thread by (key, message hash). ed25519 signatures are
/// deterministic, so the cached signature is exactly the one the key would produce.
#[derive(Clone, Debug)]
pub struct CachingSigner {
    inner: Ed25519Signer,
    public: PubKey,
}

impl CachingSigner {
    /// Wrap a signer.
    pub fn new(inner: Ed25519Signer) -> Self {
        let public = inner.public_key();
        Self { inner, public }
    }
}

impl Signer for CachingSigner {
    fn public_key(&self) -> PubKey {
        self.public
    }

    fn sign(&self, msg: &[u8]) -> Signature {
        let id = cache_key(&[self.public.as_slice(), msg]);
        if let Some(sig) = SIGNED.with(|c| c.borrow().get(&id).copied()) {
            return sig;
        }
        let sig = self.inner.sign(msg);
        SIGNED.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.insert(id, sig);
        });
        sig
    }
}
