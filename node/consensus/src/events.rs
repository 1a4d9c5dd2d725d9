//! Which [`NodeEvent`]s the shell emits for snail-chain and committee transitions, as pure
//! constructors (the shell publishes them after persisting the change):
//!
//! | transition                                        | events                                    |
//! |---------------------------------------------------|-------------------------------------------|
//! | local miner solved a block, import ok             | `SnailBlockMined` (+ as below)            |
//! | peer block imported (any [`ImportOutcome`] but `AlreadyKnown`) | `SnailBlockImported`          |
//! | outcome `Reorg`                                   | `SnailReorg`                              |
//! | a block with fruits joins the canonical chain     | `FruitsIncluded` (for each enacted block) |
//! | [`EpochSchedule::sync`] elected an epoch          | `CommitteeElected`, `RotationScheduled`   |
//! | last fast block of an epoch committed             | `RotationStarted`                         |
//! | first fast block of the new epoch committed       | `RotationDone`                            |
//!
//! [`EpochSchedule::sync`]: crate::committee::EpochSchedule::sync
use tc_types::{B256, Committee, NodeEvent, SnailBlock};

use crate::snail::{ImportOutcome, SnailTree};

/// Events for a successful [`SnailTree::import`] of `block` (already applied to `tree`).
pub fn snail_import_events(
    tree: &SnailTree,
    block: &SnailBlock,
    outcome: &ImportOutcome,
    mined_locally: bool,
) -> Vec<NodeEvent> {
    let h = &block.header;
    let hash = h.hash();
    let fruits = u32::try_from(block.fruits.len()).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    if matches!(outcome, ImportOutcome::AlreadyKnown { .. }) {
        return out;
    }
    out.push(if mined_locally {
        NodeEvent::SnailBlockMined {
            number: h.number,
            hash,
            difficulty: h.difficulty,
            fruits,
        }
    } else {
        NodeEvent::SnailBlockImported {
            number: h.number,
            hash,
            miner: h.miner,
            difficulty: h.difficulty,
            fruits,
        }
    });
    let enacted: Vec<B256> = match outcome {
        ImportOutcome::NewHead { hash, .. } => vec![*hash],
        ImportOutcome::Reorg(r) => {
            out.push(NodeEvent::SnailReorg {
                old_head: r.old_head,
                new_head: r.new_head,
                depth: r.depth,
            });
            r.enacted.clone()
        }
        ImportOutcome::SideChain { .. } | ImportOutcome::AlreadyKnown { .. } => vec![],
    };
    for e in enacted {
        if let Some(b) = tree.block(&e).filter(|b| !b.fruits.is_empty()) {
            out.push(NodeEvent::FruitsIncluded {
                snail_number: b.header.number,
                snail_hash: e,
                fruits: b.fruits.clone(),
            });
        }
    }
    out
}

/// Events for a newly determined epoch.
pub fn election_events(committee: &Committee) -> Vec<NodeEvent> {
    vec![
        NodeEvent::CommitteeElected {
            epoch: committee.epoch,
            members: committee.members.clone(),
            seed: committee.seed,
            start_height: committee.start_height,
        },
        NodeEvent::RotationScheduled {
            epoch: committee.epoch,
            at_height: committee.start_height,
        },
    ]
}

/// `RotationStarted` when the committed fast block `last_height` names `next` as the next
/// committee.
pub fn rotation_started(last_height: u64, next: &Committee) -> NodeEvent {
    NodeEvent::RotationStarted {
        epoch: next.epoch,
        last_height,
        next_committee: next.hash(),
    }
}

/// `RotationDone` when the first block of `committee`'s epoch is committed.
pub fn rotation_done(committee: &Committee) -> NodeEvent {
    NodeEvent::RotationDone {
        epoch: committee.epoch,
        first_height: committee.start_height,
    }
}
