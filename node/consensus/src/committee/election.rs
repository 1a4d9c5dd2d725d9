//! Committee election from the snail chain (Pass & Shi, TrueChain-style weighting). The rule is
//! specified in `docs/election.md`; in short, for epoch `e ≥ 1`:
//! - **window** = canonical snail blocks `(e−1)·E + 1 ..= e·E − λ`; the election is
//!   determined once the head reaches `close(e) = e·E` (the last λ blocks are confirmations);
//! - **seed** = keccak256("tc-election-v1" ‖ e as 8 BE bytes ‖ hash of every window block in
//!   ascending number order);
//! - **candidates** = distinct miner keys in the window, weight = sum of the difficulties they
//!   mined (saturating u64), coinbase = the one in their highest window block; key order;
//! - **sampling**: `min(C, candidates)` draws without replacement, each draw picks a candidate
//!   with probability ∝ weight among the remaining ones, using the [`SeedStream`] (keccak
//!   counter stream) with rejection sampling (no modulo bias);
//! - **members** = the drawn candidates sorted by key (canonical order), weight = their work;
//! - **fill-up**: fewer than `C` members drawn (the window had fewer distinct miners) ⇒ members
//!   of the previous committee who were not drawn fill the remaining seats, heaviest first
//!   (previous weight descending, then key ascending), with their previous coinbase and weight
//!   ([`fill_up`]); no candidate at all is the same rule with nobody drawn.
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use tc_types::{Address, B256, Member, PubKey, keccak256};

/// Domain separator of the election seed.
pub const SEED_DOMAIN: &[u8] = b"tc-election-v1";

/// Election parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElectionConfig {
    /// Epoch length `E` in snail blocks.
    pub epoch_length: u64,
    /// Confirmations `λ` ignored at the end of each window (`λ < E`).
    pub lambda: u64,
    /// Committee size `C`.
    pub committee_size: usize,
}

impl Default for ElectionConfig {
    fn default() -> Self {
        Self {
            epoch_length: 20,
            lambda: 2,
            committee_size: 4,
        }
    }
}

/// Why an election cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElectionError {
    /// Configuration makes no sense.
    #[error("bad election config: {0}")]
    BadConfig(&'static str),
    /// Epoch 0 is the genesis committee; it is not elected.
    #[error("epoch 0 is the genesis committee")]
    GenesisEpoch,
    /// The snail chain is not long enough yet.
    #[error("epoch {epoch} is determined at snail block {close}; the head is {head}")]
    NotYetDetermined {
        /// Epoch.
        epoch: u64,
        /// `close(e)`.
        close: u64,
        /// Current head.
        head: u64,
    },
    /// A canonical block is missing from the view.
    #[error("canonical snail block {number} is missing")]
    MissingBlock {
        /// Number.
        number: u64,
    },
}

impl ElectionConfig {
    /// Check `E ≥ 1`, `λ < E`, `C ≥ 1`.
    pub fn validate(&self) -> Result<(), ElectionError> {
        if self.epoch_length == 0 {
            return Err(ElectionError::BadConfig("epoch_length must be ≥ 1"));
        }
        if self.lambda >= self.epoch_length {
            return Err(ElectionError::BadConfig("lambda must be < epoch_length"));
        }
        if self.committee_size == 0 {
            return Err(ElectionError::BadConfig("committee_size must be ≥ 1"));
        }
        Ok(())
    }

    /// Snail numbers of epoch `e`'s election window (`e ≥ 1`).
    pub fn window(&self, epoch: u64) -> RangeInclusive<u64> {
        let lo = epoch
            .saturating_sub(1)
            .saturating_mul(self.epoch_length)
            .saturating_add(1);
        let hi = epoch
            .saturating_mul(self.epoch_length)
            .saturating_sub(self.lambda);
        lo..=hi
    }

    /// Snail number at which epoch `e`'s election is determined: `e·E`.
    pub fn close(&self, epoch: u64) -> u64 {
        epoch.saturating_mul(self.epoch_length)
    }
}

/// One window block as the election sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowBlock {
    /// Block hash.
    pub hash: B256,
    /// Miner key.
    pub miner: PubKey,
    /// Miner coinbase.
    pub coinbase: Address,
    /// Difficulty (the work it represents).
    pub difficulty: u64,
}

/// A distinct miner of the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Key.
    pub key: PubKey,
    /// Coinbase of its highest window block.
    pub coinbase: Address,
    /// Sum of the difficulties it mined (saturating).
    pub work: u64,
}

/// The result of an election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    /// Epoch elected.
    pub epoch: u64,
    /// Seed.
    pub seed: B256,
    /// All candidates, key order.
    pub candidates: Vec<Candidate>,
    /// Elected members, key order (empty when there was no candidate).
    pub members: Vec<Member>,
}

/// keccak256(`SEED_DOMAIN` ‖ epoch_be8 ‖ hash_1 ‖ … ‖ hash_n).
pub fn election_seed(epoch: u64, hashes: impl IntoIterator<Item = B256>) -> B256 {
    let mut buf = Vec::from(SEED_DOMAIN);
    buf.extend_from_slice(&epoch.to_be_bytes());
    for h in hashes {
        buf.extend_from_slice(h.as_slice());
    }
    keccak256(&buf)
}

/// Deterministic random stream: block `i` = keccak256(seed ‖ i as 8 BE bytes), `i = 0, 1, …`;
/// each draw consumes one block and reads its first 16 bytes as a big-endian u128.
#[derive(Clone, Debug)]
pub struct SeedStream {
    seed: B256,
    counter: u64,
}

impl SeedStream {
    /// A stream from `seed`.
    pub fn new(seed: B256) -> Self {
        Self { seed, counter: 0 }
    }

    /// Next raw 128-bit value.
    pub fn next_u128(&mut self) -> u128 {
        let mut buf = [0u8; 40];
        buf[..32].copy_from_slice(self.seed.as_slice());
        buf[32..].copy_from_slice(&self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        let h = keccak256(buf);
        let mut hi = [0u8; 16];
        hi.copy_from_slice(&h[..16]);
        u128::from_be_bytes(hi)
    }

    /// Uniform in `0..bound` (`bound ≥ 1`) by rejection: values `≥ ⌊2^128−1 / bound⌋·bound`
    /// are redrawn.
    pub fn below(&mut self, bound: u128) -> u128 {
        let bound = bound.max(1);
        let zone = (u128::MAX / bound) * bound;
        loop {
            let x = self.next_u128();
            if x < zone {
                return x % bound;
            }
        }
    }
}

/// Distinct miners of a window, key order.
pub fn candidates(window: &[WindowBlock]) -> Vec<Candidate> {
    let mut by_key: BTreeMap<PubKey, Candidate> = BTreeMap::new();
    for b in window {
        let c = by_key.entry(b.miner).or_insert(Candidate {
            key: b.miner,
            coinbase: b.coinbase,
            work: 0,
        });
        c.work = c.work.saturating_add(b.difficulty);
        c.coinbase = b.coinbase; // blocks come in ascending order: the last one wins
    }
    by_key.into_values().collect()
}

/// Weighted sampling without replacement: `min(size, candidates)` picks.
pub fn sample(candidates: &[Candidate], size: usize, seed: B256) -> Vec<Candidate> {
    let mut pool: Vec<Candidate> = candidates.iter().filter(|c| c.work > 0).cloned().collect();
    let mut stream = SeedStream::new(seed);
    let mut picked = Vec::new();
    while picked.len() < size && !pool.is_empty() {
        let total: u128 = pool.iter().map(|c| u128::from(c.work)).sum();
        let mut r = stream.below(total);
        let mut idx = pool.len() - 1;
        for (i, c) in pool.iter().enumerate() {
            let w = u128::from(c.work);
            if r < w {
                idx = i;
                break;
            }
            r -= w;
        }
        picked.push(pool.remove(idx));
    }
    picked.sort_by_key(|c| c.key);
    picked
}

/// The fill-up rule: `drawn` (distinct keys) plus members of `previous` not among them,
/// heaviest first (weight descending, then key ascending), until `size` members or `previous`
/// is exhausted; the result in key order, and how many seats were filled from `previous`.
/// `drawn` longer than `size` is returned as is (sorted).
pub fn fill_up(drawn: Vec<Member>, previous: &[Member], size: usize) -> (Vec<Member>, usize) {
    let mut members = drawn;
    let mut rest: Vec<&Member> = previous
        .iter()
        .filter(|p| members.iter().all(|m| m.key != p.key))
        .collect();
    rest.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.key.cmp(&b.key)));
    let seats = size.saturating_sub(members.len());
    let filled = seats.min(rest.len());
    members.extend(rest.into_iter().take(filled).cloned());
    members.sort_by_key(|m| m.key);
    (members, filled)
}

/// The election rule over an explicit window (blocks in ascending number order).
pub fn elect_from_window(cfg: &ElectionConfig, epoch: u64, window: &[WindowBlock]) -> Election {
    let seed = election_seed(epoch, window.iter().map(|b| b.hash));
    let candidates = candidates(window);
    let members = sample(&candidates, cfg.committee_size, seed)
        .into_iter()
        .map(|c| Member {
            key: c.key,
            coinbase: c.coinbase,
            weight: c.work,
        })
        .collect();
    Election {
        epoch,
        seed,
        candidates,
        members,
    }
}

/// The election of `epoch` from a chain view (the window must be determined: head ≥ close).
pub fn election_for(
    cfg: &ElectionConfig,
    epoch: u64,
    view: &impl crate::snail::ChainView,
) -> Result<Election, ElectionError> {
    cfg.validate()?;
    if epoch == 0 {
        return Err(ElectionError::GenesisEpoch);
    }
    let close = cfg.close(epoch);
    let head = view.head_number();
    if head < close {
        return Err(ElectionError::NotYetDetermined { epoch, close, head });
    }
    let mut window = Vec::new();
    for number in cfg.window(epoch) {
        let h = view
            .canonical_header(number)
            .ok_or(ElectionError::MissingBlock { number })?;
        let hash = view
            .canonical_hash(number)
            .ok_or(ElectionError::MissingBlock { number })?;
        window.push(WindowBlock {
            hash,
            miner: h.miner,
            coinbase: h.coinbase,
            difficulty: h.difficulty,
        });
    }
    Ok(elect_from_window(cfg, epoch, &window))
}
