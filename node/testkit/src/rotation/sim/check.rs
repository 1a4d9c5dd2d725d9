//! Faults (pausing a member across a handover, block sync on resume) and the end-of-run checks.
use std::collections::BTreeMap;

use tc_types::{B256, CommitCertificate, Committee, SnailBlock};

use super::{Ev, HybridSim};
use crate::rotation::RotationReport;

impl HybridSim {
    pub(super) fn pause(&mut self) {
        let Some((_, duration)) = self.p.pause else {
            return;
        };
        let n0 = &self.nodes[0];
        let current = n0
            .schedule
            .epoch_of(n0.fast.len() as u64 + 1, &n0.tree)
            .unwrap_or(0);
        // The committee that takes over next (or the latest known one).
        let latest = (current + 1).min(n0.schedule.latest_epoch());
        let primary = n0
            .schedule
            .committee(latest)
            .and_then(|c| c.members.first())
            .map(|m| m.key);
        let want_primary = self.p.pause_primary;
        let in_both = |i: &usize| {
            let key = self.nodes[*i].key;
            (Some(key) == primary) == want_primary
                && [current, latest].iter().all(|e| {
                    n0.schedule
                        .committee(*e)
                        .is_some_and(|c| c.index_of(&key).is_some())
                })
        };
        let node = (0..self.nodes.len()).find(in_both).unwrap_or(0);
        self.dbg(|| format!("n{node} PAUSED (epochs {current}, {latest})"));
        self.paused = Some((node, self.now + duration));
        self.paused_node = Some(node);
        self.push(self.now + duration, Ev::Resume { node });
    }

    /// Resume: fetch the missed snail blocks and certificates from the next node (block sync).
    pub(super) fn resume(&mut self, node: usize) {
        self.paused = None;
        let peer = (node + 1) % self.nodes.len();
        let pt = &self.nodes[peer].tree;
        let missing: Vec<SnailBlock> = (1..=tc_consensus::snail::ChainView::head_number(pt))
            .filter_map(|n| tc_consensus::snail::ChainView::canonical_hash(pt, n))
            .filter(|h| !self.nodes[node].tree.contains(h))
            .filter_map(|h| pt.block(&h).cloned())
            .collect();
        let certs: Vec<CommitCertificate> = self.nodes[peer]
            .fast
            .iter()
            .skip(self.nodes[node].fast.len())
            .map(|f| f.1.clone())
            .collect();
        self.dbg(|| {
            format!(
                "n{node} RESUMED: {} snail blocks, {} certificates",
                missing.len(),
                certs.len()
            )
        });
        for c in certs {
            self.nodes[node].pending.insert(c.seq, c);
        }
        for b in missing {
            self.import_snail(node, b);
        }
        self.advance(node);
    }

    pub(super) fn report(mut self, seed: u64) -> RotationReport {
        let mut r = RotationReport {
            seed,
            end_ms: self.now,
            paused_node: self.paused_node,
            ..RotationReport::default()
        };
        if !self.done() {
            let heads: Vec<usize> = self.nodes.iter().map(|n| n.fast.len()).collect();
            let epochs: Vec<u64> = self
                .nodes
                .iter()
                .map(|n| n.schedule.latest_epoch())
                .collect();
            self.violations.push(format!(
                "liveness: not all nodes entered epoch {} by {} ms (fast heads {heads:?}, epochs {epochs:?})",
                self.p.epochs, self.now
            ));
        }
        // Agreement on the fast chain.
        let common = self.nodes.iter().map(|n| n.fast.len()).min().unwrap_or(0);
        r.fast_height = common as u64;
        for s in 0..common {
            let d = self.nodes[0].fast[s].0;
            if let Some(j) = self.nodes.iter().position(|n| n.fast[s].0 != d) {
                self.violations
                    .push(format!("agreement: seq {} differs at node {j}", s + 1));
            }
        }
        // Committees: identical on every node for every epoch they all determined.
        let last = self
            .nodes
            .iter()
            .map(|n| n.schedule.latest_epoch())
            .min()
            .unwrap_or(0);
        for e in 0..=last {
            let h0 = self.nodes[0].schedule.committee(e).map(Committee::hash);
            if let Some(j) = self
                .nodes
                .iter()
                .position(|n| n.schedule.committee(e).map(Committee::hash) != h0)
            {
                self.violations
                    .push(format!("committee of epoch {e} differs at node {j}"));
            }
            if let Some(c) = self.nodes[0].schedule.committee(e) {
                r.committee_sizes.push(c.size());
            }
        }
        // Byzantine members: at most f per committee; count the handovers with one on each side.
        if let Some((_, count)) = self.p.byzantine {
            let byz_keys: Vec<_> = self.nodes.iter().take(count).map(|n| n.key).collect();
            for e in 0..=last {
                let Some(c) = self.nodes[0].schedule.committee(e) else {
                    continue;
                };
                let k = byz_keys.iter().filter(|k| c.index_of(k).is_some()).count();
                if k > c.max_faulty() {
                    self.violations.push(format!(
                        "epoch {e}: {k} byzantine members in a committee of {} (f = {})",
                        c.size(),
                        c.max_faulty()
                    ));
                }
                r.byzantine_per_committee.push(k);
            }
            r.byzantine_altered = self.byz_altered;
            r.byzantine_handovers = r
                .byzantine_per_committee
                .windows(2)
                .filter(|w| w[0] > 0 && w[1] > 0)
                .count();
        }
        // next_committee markers and rotation gaps.
        let n0 = &self.nodes[0];
        let switches: BTreeMap<u64, B256> = (1..=last)
            .filter_map(|e| n0.schedule.committee(e).map(|c| (c.start_height, c.hash())))
            .collect();
        for s in 1..=common as u64 {
            let digest = n0.fast[s as usize - 1].0;
            let Some(&(_, seq, nc)) = self.proposals.get(&digest) else {
                self.violations
                    .push(format!("validity: seq {s} decided an unproposed block"));
                continue;
            };
            let want = switches.get(&(s + 1)).copied().unwrap_or(B256::ZERO);
            if seq != s || nc != want {
                self.violations.push(format!(
                    "seq {s}: next_committee {nc} (proposed for seq {seq}), expected {want}"
                ));
            }
        }
        let mut intervals = Vec::new();
        for s in 2..=common as u64 {
            if let (Some(a), Some(b)) = (self.first_commit.get(&(s - 1)), self.first_commit.get(&s))
            {
                if switches.contains_key(&s) {
                    r.rotation_gaps_ms.push(b - a);
                    r.switch_heights.push(s);
                } else {
                    intervals.push(b - a);
                }
            }
        }
        intervals.sort_unstable();
        r.max_interval_ms = intervals.last().copied().unwrap_or(0);
        r.median_interval_ms = intervals.get(intervals.len() / 2).copied().unwrap_or(0);
        for (h, g) in r.switch_heights.iter().zip(&r.rotation_gaps_ms) {
            if self.p.check_gap && *g > 2 * r.median_interval_ms.max(1) {
                self.violations.push(format!(
                    "rotation gap at height {h}: {g} ms > 2 × median {} ms",
                    r.median_interval_ms
                ));
            }
        }
        r.snail_height = tc_consensus::snail::ChainView::head_number(&self.nodes[0].tree);
        r.violations = self.violations;
        r
    }
}
