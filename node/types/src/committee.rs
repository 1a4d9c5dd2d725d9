//! Committee membership and quorum arithmetic.
use alloy_primitives::{Address, B256, B512, keccak256};
use serde::{Deserialize, Serialize};

/// An ed25519 public key (32 bytes) identifying a committee member / miner.
pub type PubKey = B256;
/// An ed25519 signature (64 bytes).
pub type Signature = B512;
/// Position of a member in [`Committee::members`].
pub type MemberIndex = u32;

/// One committee member.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Member {
    /// Consensus key; signs PBFT messages and certificates.
    pub key: PubKey,
    /// Ethereum address that receives rewards (coinbase of the fast blocks it proposes).
    pub coinbase: Address,
    /// Election weight (mined work in the election window; 1 for the genesis committee).
    pub weight: u64,
}

/// The committee of one epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committee {
    /// Epoch this committee serves.
    pub epoch: u64,
    /// First fast-block number this committee decides.
    pub start_height: u64,
    /// Members in canonical order (the order defines member indices and the primary rotation).
    pub members: Vec<Member>,
    /// Election seed (zero for genesis).
    pub seed: B256,
}

impl Committee {
    /// Number of members `n`.
    pub fn size(&self) -> usize {
        self.members.len()
    }

    /// Tolerated byzantine members: `f = ⌊(n-1)/3⌋`.
    pub fn max_faulty(&self) -> usize {
        max_faulty(self.size())
    }

    /// Quorum size: `⌊(n+f)/2⌋+1` (equals 2f+1 when n = 3f+1; any two quorums intersect in an
    /// honest member for every n ≥ 1).
    pub fn quorum(&self) -> usize {
        quorum(self.size())
    }

    /// Index of the member with this key.
    pub fn index_of(&self, key: &PubKey) -> Option<MemberIndex> {
        self.members
            .iter()
            .position(|m| &m.key == key)
            .and_then(|i| MemberIndex::try_from(i).ok())
    }

    /// Member at an index.
    pub fn member(&self, index: MemberIndex) -> Option<&Member> {
        self.members.get(index as usize)
    }

    /// Hash identifying the committee (named by `next_committee` in the last fast block of the
    /// previous epoch): keccak256(epoch_be8 ‖ start_height_be8 ‖ seed ‖ for each member in
    /// order: key ‖ coinbase ‖ weight_be8).
    pub fn hash(&self) -> B256 {
        let mut buf = Vec::with_capacity(48 + self.members.len() * 60);
        buf.extend_from_slice(&self.epoch.to_be_bytes());
        buf.extend_from_slice(&self.start_height.to_be_bytes());
        buf.extend_from_slice(self.seed.as_slice());
        for m in &self.members {
            buf.extend_from_slice(m.key.as_slice());
            buf.extend_from_slice(m.coinbase.as_slice());
            buf.extend_from_slice(&m.weight.to_be_bytes());
        }
        keccak256(&buf)
    }

    /// Primary of a view: `view mod n` (PBFT §4.1).
    pub fn primary(&self, view: u64) -> Option<MemberIndex> {
        let n = self.size() as u64;
        if n == 0 {
            return None;
        }
        MemberIndex::try_from(view % n).ok()
    }
}

/// `f = ⌊(n-1)/3⌋` for a committee of `n` (0 for n = 0).
pub fn max_faulty(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

/// Quorum `⌊(n+f)/2⌋+1` for a committee of `n`.
pub fn quorum(n: usize) -> usize {
    (n + max_faulty(n)) / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_table() {
        // (n, f, quorum)
        for (n, f, q) in [
            (1, 0, 1),
            (2, 0, 2),
            (3, 0, 2),
            (4, 1, 3),
            (5, 1, 4),
            (7, 2, 5),
            (16, 5, 11),
        ] {
            assert_eq!(max_faulty(n), f, "f for n={n}");
            assert_eq!(quorum(n), q, "quorum for n={n}");
            // Two quorums intersect in at least f+1 members (so in an honest one).
            assert!(2 * q > n + f, "intersection for n={n}");
        }
    }
}
