//! Userspace link shaping of inbound traffic (devnet fault injection; the kernel may lack
//! `sch_netem`): per-peer loss and delay applied in the swarm task before events reach the
//! shell. Delayed events wait in a deadline-ordered queue polled by the task loop, so nothing
//! blocks; per peer, deadlines never go backwards, so arrival order is kept.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use libp2p::PeerId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use crate::types::{LinkShape, NetEvent};

/// What to do with one inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Hand it to the shell now.
    Deliver,
    /// Lose it.
    Drop,
    /// Hand it to the shell at this instant (queue it with [`Shaper::delay`]).
    At(Instant),
}

pub(super) struct Shaper {
    /// Applies to peers without their own entry.
    default: LinkShape,
    per_peer: HashMap<PeerId, LinkShape>,
    /// Seeded from the local peer id: a node's drop pattern is reproducible.
    rng: StdRng,
    queue: BTreeMap<(Instant, u64), NetEvent>,
    /// Latest deadline queued per peer (keeps per-peer order when the delay shrinks).
    last: HashMap<PeerId, Instant>,
    seq: u64,
}

impl Shaper {
    pub(super) fn new(local: &PeerId) -> Self {
        let bytes = local.to_bytes();
        let mut seed = [0u8; 32];
        for (i, b) in bytes.iter().enumerate() {
            seed[i % 32] ^= *b;
        }
        Self {
            default: LinkShape::NONE,
            per_peer: HashMap::new(),
            rng: StdRng::from_seed(seed),
            queue: BTreeMap::new(),
            last: HashMap::new(),
            seq: 0,
        }
    }

    /// Set `peer`'s shape (`NONE` removes it), or with `None` the default for all peers
    /// (which also drops every per-peer shape: "all links" means all).
    pub(super) fn set(&mut self, peer: Option<PeerId>, shape: LinkShape) {
        match peer {
            None => {
                self.default = shape;
                self.per_peer.clear();
            }
            Some(p) if shape.is_none() => {
                self.per_peer.remove(&p);
            }
            Some(p) => {
                self.per_peer.insert(p, shape);
            }
        }
    }

    /// Decide the fate of a message that just arrived from `peer`.
    pub(super) fn fate(&mut self, peer: &PeerId) -> Fate {
        let shape = self.per_peer.get(peer).copied().unwrap_or(self.default);
        if shape.loss > 0.0 && self.rng.gen_bool(shape.loss) {
            return Fate::Drop;
        }
        let now = Instant::now();
        let pending = self.last.get(peer).copied().filter(|t| *t > now);
        if shape.delay_ms == 0 && pending.is_none() {
            return Fate::Deliver;
        }
        let at = (now + Duration::from_millis(shape.delay_ms)).max(pending.unwrap_or(now));
        Fate::At(at)
    }

    /// Queue `ev` from `peer` for delivery at `at` (from [`Fate::At`]).
    pub(super) fn delay(&mut self, peer: PeerId, at: Instant, ev: NetEvent) {
        self.last.insert(peer, at);
        self.seq += 1;
        self.queue.insert((at, self.seq), ev);
    }

    /// Deadline of the next queued event.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Remove and return the events due by now, in order.
    pub(super) fn due(&mut self) -> Vec<NetEvent> {
        let now = Instant::now();
        let mut out = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            out.push(entry.remove());
        }
        self.last.retain(|_, t| *t > now);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn same_seed_same_drops_and_order_kept() {
        let local = PeerId::random();
        let from = PeerId::random();
        let pattern = |s: &mut Shaper| {
            (0..200)
                .map(|_| s.fate(&from) == Fate::Drop)
                .collect::<Vec<_>>()
        };
        let mut a = Shaper::new(&local);
        let mut b = Shaper::new(&local);
        a.set(
            None,
            LinkShape {
                loss: 0.3,
                delay_ms: 0,
            },
        );
        b.set(
            None,
            LinkShape {
                loss: 0.3,
                delay_ms: 0,
            },
        );
        let (pa, pb) = (pattern(&mut a), pattern(&mut b));
        assert_eq!(pa, pb);
        let drops = pa.iter().filter(|d| **d).count();
        assert!(
            (20..=100).contains(&drops),
            "{drops} of 200 dropped at loss 0.3"
        );

        // Shrinking the delay never lets a later message overtake an earlier one.
        let mut s = Shaper::new(&local);
        s.set(
            Some(from),
            LinkShape {
                loss: 0.0,
                delay_ms: 500,
            },
        );
        let Fate::At(first) = s.fate(&from) else {
            panic!("expected a delay")
        };
        s.set(Some(from), LinkShape::NONE);
        s.delay(from, first, NetEvent::PeerDisconnected { peer: from });
        let Fate::At(second) = s.fate(&from) else {
            panic!("order must hold")
        };
        assert!(second >= first);
        // Another peer is not held back.
        assert_eq!(s.fate(&PeerId::random()), Fate::Deliver);
    }
}
