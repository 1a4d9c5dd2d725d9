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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snail::tests::{cfg, child, fr, genesis};

    #[test]
    fn import_events_table() {
        let mut t = SnailTree::new(cfg(), genesis());
        let g = t.genesis();
        let a = child(&t, &g, 1, 1_000, vec![fr(1)]);
        let out = t.import(a.clone(), 2_000_000).expect("a");
        let ev = snail_import_events(&t, &a, &out, true);
        assert!(matches!(
            ev[0],
            NodeEvent::SnailBlockMined {
                number: 1,
                fruits: 1,
                ..
            }
        ));
        assert!(
            matches!(&ev[1], NodeEvent::FruitsIncluded { snail_number: 1, fruits, .. } if fruits == &vec![fr(1)])
        );
        assert_eq!(ev.len(), 2);
        let again = t.import(a.clone(), 2_000_000).expect("again");
        assert!(snail_import_events(&t, &a, &again, false).is_empty());
        // A heavier fork of two blocks: side chain, then reorg with FruitsIncluded for each
        // enacted block that carries fruits.
        let b1 = child(&t, &g, 2, 1_000, vec![fr(1), fr(2)]);
        let o1 = t.import(b1.clone(), 2_000_000).expect("b1");
        let e1 = snail_import_events(&t, &b1, &o1, false);
        if matches!(o1, ImportOutcome::SideChain { .. }) {
            assert_eq!(e1.len(), 1);
            let b2 = child(&t, &b1.header.hash(), 2, 1_000, vec![]);
            let o2 = t.import(b2.clone(), 2_000_000).expect("b2");
            let e2 = snail_import_events(&t, &b2, &o2, false);
            assert!(matches!(
                e2[0],
                NodeEvent::SnailBlockImported { number: 2, .. }
            ));
            assert!(matches!(e2[1], NodeEvent::SnailReorg { depth: 1, .. }));
            assert!(matches!(
                e2[2],
                NodeEvent::FruitsIncluded {
                    snail_number: 1,
                    ..
                }
            ));
            assert_eq!(e2.len(), 3);
        } else {
            // The tie went to the fork's lower hash: an immediate reorg of depth 1.
            assert!(matches!(e1[1], NodeEvent::SnailReorg { depth: 1, .. }));
        }
        let c = Committee {
            epoch: 1,
            start_height: 40,
            members: vec![],
            seed: B256::ZERO,
        };
        let ev = election_events(&c);
        assert!(matches!(
            ev[1],
            NodeEvent::RotationScheduled {
                epoch: 1,
                at_height: 40
            }
        ));
        assert!(matches!(
            rotation_started(39, &c),
            NodeEvent::RotationStarted {
                epoch: 1,
                last_height: 39,
                ..
            }
        ));
        assert!(matches!(
            rotation_done(&c),
            NodeEvent::RotationDone {
                epoch: 1,
                first_height: 40
            }
        ));
    }
}
