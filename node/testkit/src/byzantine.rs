//! Byzantine behaviour hooks: a trait with default (honest) methods that can withhold proposals
//! and mutate, suppress or duplicate a node's outgoing messages, plus the stock behaviours.
use std::collections::BTreeSet;

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest as _, Sha256};
use tc_consensus::pbft::{Ed25519Signer, Payload, SignedMessage, Signer as _, signing_bytes};
use tc_types::{B256, MemberIndex};

/// What a hook may use: the node's own key, the run's RNG and the set of proposed digests
/// (register any digest a byzantine primary proposes so the validity check knows it).
#[derive(Debug)]
pub struct HookCtx<'a> {
    /// The node's signing key.
    pub signer: &'a Ed25519Signer,
    /// The node's index.
    pub me: MemberIndex,
    /// Committee size.
    pub n: usize,
    /// The run's RNG.
    pub rng: &'a mut ChaCha8Rng,
    /// Digests proposed so far (validity).
    pub proposed: &'a mut BTreeSet<B256>,
}

impl HookCtx<'_> {
    /// Re-sign a payload as this node.
    pub fn sign(&self, epoch: u64, payload: Payload) -> SignedMessage {
        let signature = self.signer.sign(&signing_bytes(epoch, &payload));
        SignedMessage {
            epoch,
            from: self.me,
            payload,
            signature,
        }
    }
}

/// A node's behaviour. The defaults are honest.
pub trait Behaviour: std::fmt::Debug {
    /// Short name for traces.
    fn name(&self) -> &'static str {
        "honest"
    }
    /// Whether the node's shell proposes when its engine asks for a proposal.
    fn propose(&mut self) -> bool {
        true
    }
    /// The messages actually sent to `to` in place of `msg`.
    fn outgoing(
        &mut self,
        _to: MemberIndex,
        msg: SignedMessage,
        _ctx: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        vec![msg]
    }
}

/// Follows the protocol.
#[derive(Debug, Default)]
pub struct Honest;
impl Behaviour for Honest {}

/// Sends nothing and proposes nothing.
#[derive(Debug, Default)]
pub struct Silent;
impl Behaviour for Silent {
    fn name(&self) -> &'static str {
        "silent"
    }
    fn propose(&mut self) -> bool {
        false
    }
    fn outgoing(
        &mut self,
        _: MemberIndex,
        _: SignedMessage,
        _: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        Vec::new()
    }
}

fn evil_digest(d: &B256, salt: u64) -> B256 {
    let mut h = Sha256::new();
    h.update(d);
    h.update(salt.to_be_bytes());
    h.update(b"evil");
    B256::from_slice(&h.finalize())
}

/// As primary, sends a different PRE-PREPARE to odd-numbered members (equivocation).
#[derive(Debug, Default)]
pub struct Equivocator;
impl Behaviour for Equivocator {
    fn name(&self) -> &'static str {
        "equivocating-primary"
    }
    fn outgoing(
        &mut self,
        to: MemberIndex,
        msg: SignedMessage,
        ctx: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        match &msg.payload {
            Payload::PrePrepare {
                view,
                seq,
                digest,
                block,
            } if to % 2 == 1 => {
                let other = evil_digest(digest, *seq);
                ctx.proposed.insert(other);
                let p = Payload::PrePrepare {
                    view: *view,
                    seq: *seq,
                    digest: other,
                    block: block.clone(),
                };
                vec![ctx.sign(msg.epoch, p)]
            }
            _ => vec![msg],
        }
    }
}

/// Votes (PREPARE and COMMIT) for a random digest, a different one per recipient.
#[derive(Debug, Default)]
pub struct ConflictingVoter;
impl Behaviour for ConflictingVoter {
    fn name(&self) -> &'static str {
        "conflicting-voter"
    }
    fn outgoing(
        &mut self,
        to: MemberIndex,
        msg: SignedMessage,
        ctx: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        // A different wrong digest per recipient and seq (deterministic so signature caches hit).
        let seq = msg.payload.normal_view_seq().map_or(0, |(_, s, _)| s);
        let bad = evil_digest(&B256::with_last_byte(to as u8), seq);
        let p = match &msg.payload {
            Payload::Prepare { view, seq, .. } => Payload::Prepare {
                view: *view,
                seq: *seq,
                digest: bad,
            },
            Payload::Commit { view, seq, .. } => Payload::Commit {
                view: *view,
                seq: *seq,
                digest: bad,
            },
            _ => return vec![msg],
        };
        vec![ctx.sign(msg.epoch, p)]
    }
}

/// Corrupts signatures or forges the sender field (signing with its own key).
#[derive(Debug, Default)]
pub struct Forger;
impl Behaviour for Forger {
    fn name(&self) -> &'static str {
        "forger"
    }
    fn outgoing(
        &mut self,
        to: MemberIndex,
        mut msg: SignedMessage,
        ctx: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        if ctx.rng.gen_bool(0.5) {
            let i = ctx.rng.gen_range(0..64);
            msg.signature.0[i] ^= 1 << ctx.rng.gen_range(0..8);
        } else {
            let n = ctx.n as MemberIndex;
            let claimed = (ctx.me + 1 + ctx.rng.gen_range(0..n.max(2) - 1)) % n.max(1);
            msg.from = if claimed == to { ctx.me } else { claimed };
            let i = ctx.rng.gen_range(0..64);
            msg.signature.0[i] ^= 0x80;
        }
        vec![msg]
    }
}

/// Follows the protocol but also replays old messages (old views, old seqs) it sent earlier.
#[derive(Debug, Default)]
pub struct Replayer {
    sent: Vec<SignedMessage>,
}
impl Behaviour for Replayer {
    fn name(&self) -> &'static str {
        "replayer"
    }
    fn outgoing(
        &mut self,
        _to: MemberIndex,
        msg: SignedMessage,
        ctx: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        let mut out = vec![msg.clone()];
        for _ in 0..2 {
            if !self.sent.is_empty() {
                let i = ctx.rng.gen_range(0..self.sent.len());
                out.push(self.sent[i].clone());
            }
        }
        if self.sent.len() < 512 {
            self.sent.push(msg);
        } else {
            let i = ctx.rng.gen_range(0..self.sent.len());
            self.sent[i] = msg;
        }
        out
    }
}

/// A primary that withholds proposals (and its NEW-VIEWs' re-proposals).
#[derive(Debug, Default)]
pub struct Withholder;
impl Behaviour for Withholder {
    fn name(&self) -> &'static str {
        "withholding-primary"
    }
    fn propose(&mut self) -> bool {
        false
    }
    fn outgoing(
        &mut self,
        _: MemberIndex,
        msg: SignedMessage,
        _: &mut HookCtx<'_>,
    ) -> Vec<SignedMessage> {
        match msg.payload {
            Payload::PrePrepare { .. } | Payload::NewView { .. } => Vec::new(),
            _ => vec![msg],
        }
    }
}

/// The stock byzantine kinds, for profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ByzKind {
    /// [`Silent`].
    Silent,
    /// [`Equivocator`].
    Equivocator,
    /// [`ConflictingVoter`].
    ConflictingVoter,
    /// [`Forger`].
    Forger,
    /// [`Replayer`].
    Replayer,
    /// [`Withholder`].
    Withholder,
}

impl ByzKind {
    /// Every kind.
    pub const ALL: [ByzKind; 6] = [
        ByzKind::Silent,
        ByzKind::Equivocator,
        ByzKind::ConflictingVoter,
        ByzKind::Forger,
        ByzKind::Replayer,
        ByzKind::Withholder,
    ];

    /// A fresh behaviour of this kind.
    pub fn behaviour(self) -> Box<dyn Behaviour> {
        match self {
            ByzKind::Silent => Box::new(Silent),
            ByzKind::Equivocator => Box::new(Equivocator),
            ByzKind::ConflictingVoter => Box::new(ConflictingVoter),
            ByzKind::Forger => Box::new(Forger),
            ByzKind::Replayer => Box::<Replayer>::default(),
            ByzKind::Withholder => Box::new(Withholder),
        }
    }
}
