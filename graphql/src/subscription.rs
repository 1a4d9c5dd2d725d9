//! `Subscription` root, fed by the node's event stream ([`crate::NodeApi::events`]).
//!
//! Every stream starts at the moment of subscription. The bus is bounded: a subscriber that
//! falls behind is told how many events it missed (an error item; the stream goes on), except
//! `newBlocks`, which fills any gap from the store so it never skips a height.
use async_graphql::futures_util::stream::{self, Stream, StreamExt};
use async_graphql::{Context, Error, Json, Result, SimpleObject, Subscription, Union};
use tc_types::{Committee as TCommittee, NodeEvent};

use crate::hybrid::{Committee, SnailBlock};
use crate::objects::{Block, Transaction, api};
use crate::scalars::{Bytes32, Long};
use crate::{Api, BusItem, EventStream};

fn err(e: impl std::fmt::Display) -> Error {
    Error::new(e.to_string())
}

fn missed(n: u64) -> Error {
    err(format!(
        "subscriber fell behind: {n} events were dropped for it (the node never waits for observers)"
    ))
}

/// Every `NodeEvent` kind, as in the event JSON's `"type"` field (`events(kinds:)` accepts these).
pub const EVENT_KINDS: &[&str] = &[
    "node_started",
    "fast_block_committed",
    "tx_admitted",
    "tx_rejected",
    "pbft",
    "snail_block_mined",
    "snail_block_imported",
    "snail_reorg",
    "fruits_included",
    "committee_elected",
    "rotation_scheduled",
    "rotation_started",
    "rotation_done",
    "peer_connected",
    "peer_disconnected",
    "peer_rtt",
    "peer_penalized",
    "storage_stats",
];

/// The JSON `"type"` of an event (exhaustive: a new variant must be named here).
pub fn event_kind(e: &NodeEvent) -> &'static str {
    match e {
        NodeEvent::NodeStarted { .. } => "node_started",
        NodeEvent::FastBlockCommitted { .. } => "fast_block_committed",
        NodeEvent::TxAdmitted { .. } => "tx_admitted",
        NodeEvent::TxRejected { .. } => "tx_rejected",
        NodeEvent::Pbft(_) => "pbft",
        NodeEvent::SnailBlockMined { .. } => "snail_block_mined",
        NodeEvent::SnailBlockImported { .. } => "snail_block_imported",
        NodeEvent::SnailReorg { .. } => "snail_reorg",
        NodeEvent::FruitsIncluded { .. } => "fruits_included",
        NodeEvent::CommitteeElected { .. } => "committee_elected",
        NodeEvent::RotationScheduled { .. } => "rotation_scheduled",
        NodeEvent::RotationStarted { .. } => "rotation_started",
        NodeEvent::RotationDone { .. } => "rotation_done",
        NodeEvent::PeerConnected { .. } => "peer_connected",
        NodeEvent::PeerDisconnected { .. } => "peer_disconnected",
        NodeEvent::PeerRtt { .. } => "peer_rtt",
        NodeEvent::PeerPenalized { .. } => "peer_penalized",
        NodeEvent::StorageStats { .. } => "storage_stats",
    }
}

/// A committee was elected for an epoch.
#[derive(Clone, Debug, SimpleObject)]
pub struct CommitteeElected {
    /// The elected committee (epoch, start height, members with weights, seed).
    pub committee: Committee,
}

/// The outgoing committee committed its last block, naming the next committee.
#[derive(Clone, Debug, SimpleObject)]
pub struct RotationStarted {
    /// Incoming epoch.
    pub epoch: Long,
    /// Last fast height of the outgoing epoch.
    pub last_height: Long,
    /// Hash of the incoming committee.
    pub next_committee: Bytes32,
}

/// The incoming committee took over.
#[derive(Clone, Debug, SimpleObject)]
pub struct RotationDone {
    /// New epoch.
    pub epoch: Long,
    /// First fast height it decided.
    pub first_height: Long,
    /// The committee now deciding (from the store; null if it is not stored).
    pub committee: Option<Committee>,
}

/// One step of a committee rotation.
#[derive(Clone, Debug, Union)]
pub enum RotationEvent {
    /// `CommitteeElected`.
    Elected(CommitteeElected),
    /// `RotationStarted`.
    Started(RotationStarted),
    /// `RotationDone`.
    Done(RotationDone),
}

/// Subscription root.
#[derive(Debug, Default)]
pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Every committed fast block from the next one on, in height order and without gaps.
    async fn new_blocks(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Result<Block>>> {
        let api = api(ctx)?.clone();
        // Subscribe before reading the head: nothing committed in between is lost.
        let events = api.events();
        let next = api.chain().fast_head().map_err(err)?.map_or(0, |(n, _)| n) + 1;
        Ok(new_blocks(api, events, next))
    }

    /// Snail blocks this node mined or imported, as they arrive.
    async fn new_snail_blocks(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<SnailBlock>>> {
        let api = api(ctx)?.clone();
        Ok(api.events().filter_map(move |item| {
            let api = api.clone();
            async move {
                let hash = match item {
                    BusItem::Missed(n) => return Some(Err(missed(n))),
                    BusItem::Event(e) => match &e.event {
                        NodeEvent::SnailBlockMined { hash, .. }
                        | NodeEvent::SnailBlockImported { hash, .. } => *hash,
                        _ => return None,
                    },
                };
                match api.chain().snail_block(&hash) {
                    Ok(Some(b)) => Some(Ok(SnailBlock(b))),
                    Ok(None) => Some(Err(err(format!("snail block {hash} is not stored")))),
                    Err(e) => Some(Err(err(e))),
                }
            }
        }))
    }

    /// Committee elections and rotations (`CommitteeElected`, `RotationStarted`, `RotationDone`).
    async fn committee_rotations(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<RotationEvent>>> {
        let api = api(ctx)?.clone();
        Ok(api.events().filter_map(move |item| {
            let api = api.clone();
            async move {
                let e = match item {
                    BusItem::Missed(n) => return Some(Err(missed(n))),
                    BusItem::Event(e) => e,
                };
                Some(Ok(match &e.event {
                    NodeEvent::CommitteeElected {
                        epoch,
                        members,
                        seed,
                        start_height,
                    } => RotationEvent::Elected(CommitteeElected {
                        committee: Committee(TCommittee {
                            epoch: *epoch,
                            start_height: *start_height,
                            members: members.clone(),
                            seed: *seed,
                        }),
                    }),
                    NodeEvent::RotationStarted {
                        epoch,
                        last_height,
                        next_committee,
                    } => RotationEvent::Started(RotationStarted {
                        epoch: Long(*epoch),
                        last_height: Long(*last_height),
                        next_committee: Bytes32(*next_committee),
                    }),
                    NodeEvent::RotationDone {
                        epoch,
                        first_height,
                    } => RotationEvent::Done(RotationDone {
                        epoch: Long(*epoch),
                        first_height: Long(*first_height),
                        committee: match api.chain().committee(*epoch) {
                            Ok(c) => c.map(Committee),
                            Err(e) => return Some(Err(err(e))),
                        },
                    }),
                    _ => return None,
                }))
            }
        }))
    }

    /// Transactions as the pool admits them (pending; a transaction already committed by the
    /// time it is looked up comes with its block, one replaced or evicted meanwhile is skipped).
    async fn pending_transactions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Transaction>>> {
        let api = api(ctx)?.clone();
        Ok(api.events().filter_map(move |item| {
            let api = api.clone();
            async move {
                let hash = match item {
                    BusItem::Missed(n) => return Some(Err(missed(n))),
                    BusItem::Event(e) => match &e.event {
                        NodeEvent::TxAdmitted { hash, .. } => *hash,
                        _ => return None,
                    },
                };
                if let Some(tx) = api.pooled_transaction(hash).await {
                    return Some(Ok(Transaction {
                        tx,
                        loc: None,
                        receipt: None,
                        base_fee: 0,
                    }));
                }
                Transaction::load(&api, &hash).transpose()
            }
        }))
    }

    /// The node's events as JSON (`{"seq", "time_ms", "event": {"type", …}}`), optionally only
    /// the given kinds (see the event schema: `fast_block_committed`, `tx_admitted`, …).
    async fn events(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = Result<Json<serde_json::Value>>>> {
        let api = api(ctx)?.clone();
        if let Some(unknown) = kinds
            .iter()
            .flatten()
            .find(|k| !EVENT_KINDS.contains(&k.as_str()))
        {
            return Err(err(format!(
                "unknown event kind {unknown:?}; known kinds: {}",
                EVENT_KINDS.join(", ")
            )));
        }
        Ok(api.events().filter_map(move |item| {
            let wanted = match (&item, &kinds) {
                (BusItem::Event(e), Some(k)) => k.iter().any(|k| k == event_kind(&e.event)),
                _ => true,
            };
            std::future::ready(match item {
                _ if !wanted => None,
                BusItem::Missed(n) => Some(Err(missed(n))),
                BusItem::Event(e) => Some(serde_json::to_value(e.as_ref()).map(Json).map_err(err)),
            })
        }))
    }
}

/// Blocks `next..` as `FastBlockCommitted` events announce them; heights skipped by a lagging
/// subscriber are read from the store.
fn new_blocks(api: Api, events: EventStream, next: u64) -> impl Stream<Item = Result<Block>> {
    struct State {
        api: Api,
        events: EventStream,
        /// Next height to deliver.
        next: u64,
        /// Highest height known to be committed.
        committed: u64,
    }
    let state = State {
        api,
        events,
        next,
        committed: next.saturating_sub(1),
    };
    stream::unfold(state, |mut s| async move {
        loop {
            if s.next <= s.committed {
                let n = s.next;
                s.next += 1;
                let item = match Block::by_number(&s.api, n) {
                    Ok(Some(b)) => Ok(b),
                    Ok(None) => Err(err(format!("block {n} is not stored"))),
                    Err(e) => Err(e),
                };
                return Some((item, s));
            }
            match s.events.next().await? {
                BusItem::Event(e) => {
                    if let NodeEvent::FastBlockCommitted { number, .. } = e.event {
                        s.committed = s.committed.max(number);
                    }
                }
                // The next commit event fills the gap from the store.
                BusItem::Missed(_) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context as TaskContext, Poll, Wake};

    use alloy_primitives::{B256, Bytes};
    use async_graphql::futures_util::StreamExt as _;
    use tc_storage::ChainStore;
    use tc_types::{Member, RecoveredTx, Stamped};

    use super::*;
    use crate::{BoxFuture, NodeApi, PoolSnapshot};

    /// A node whose event stream is a fixed list.
    struct Scripted {
        chain: ChainStore,
        items: Vec<BusItem>,
    }

    impl NodeApi for Scripted {
        fn chain(&self) -> &ChainStore {
            &self.chain
        }
        fn chain_id(&self) -> u64 {
            1337
        }
        fn send_raw_transaction(&self, _: Bytes) -> BoxFuture<'_, Result<B256, String>> {
            Box::pin(async { Err("read-only".to_string()) })
        }
        fn pending_transactions(&self) -> BoxFuture<'_, Vec<RecoveredTx>> {
            Box::pin(async { Vec::new() })
        }
        fn pooled_transaction(&self, _: B256) -> BoxFuture<'_, Option<RecoveredTx>> {
            Box::pin(async { None })
        }
        fn pool(&self) -> BoxFuture<'_, PoolSnapshot> {
            Box::pin(async { PoolSnapshot::default() })
        }
        fn consensus(&self) -> BoxFuture<'_, Option<crate::node::ConsensusStatus>> {
            Box::pin(async { None })
        }
        fn peers(&self) -> BoxFuture<'_, Vec<crate::node::Peer>> {
            Box::pin(async { Vec::new() })
        }
        fn events(&self) -> EventStream {
            Box::pin(stream::iter(self.items.clone()))
        }
    }

    /// Poll a future to completion on this thread (the scripted streams never wait on I/O).
    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(Unpark(std::thread::current())).into();
        let mut cx = TaskContext::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    fn stamped(seq: u64, event: NodeEvent) -> BusItem {
        BusItem::Event(Arc::new(Stamped {
            seq,
            time_ms: 0,
            event,
        }))
    }

    fn run(items: Vec<BusItem>, chain: ChainStore, query: &str) -> Vec<serde_json::Value> {
        let schema = crate::schema(Arc::new(Scripted { chain, items }));
        block_on(
            schema
                .execute_stream(query)
                .map(|r| serde_json::to_value(&r).expect("json"))
                .collect::<Vec<_>>(),
        )
    }

    fn member(weight: u64) -> Member {
        Member {
            key: B256::repeat_byte(1),
            coinbase: Default::default(),
            weight,
        }
    }

    #[test]
    fn committee_rotations_stream_elections_and_handovers() {
        let chain = ChainStore::memory(16);
        let next = TCommittee {
            epoch: 1,
            start_height: 100,
            members: vec![member(3), member(4)],
            seed: B256::repeat_byte(9),
        };
        chain.put_committee(&next).expect("store committee");
        let items = vec![
            stamped(
                0,
                NodeEvent::CommitteeElected {
                    epoch: 1,
                    members: next.members.clone(),
                    seed: next.seed,
                    start_height: 100,
                },
            ),
            stamped(
                1,
                NodeEvent::TxAdmitted {
                    hash: B256::ZERO,
                    sender: Default::default(),
                    nonce: 0,
                },
            ),
            stamped(
                2,
                NodeEvent::RotationStarted {
                    epoch: 1,
                    last_height: 99,
                    next_committee: next.hash(),
                },
            ),
            BusItem::Missed(7),
            stamped(
                3,
                NodeEvent::RotationDone {
                    epoch: 1,
                    first_height: 100,
                },
            ),
        ];
        let out = run(
            items,
            chain,
            "subscription { committeeRotations { __typename \
               ... on CommitteeElected { committee { epoch startHeight seed members { weight } } } \
               ... on RotationStarted { epoch lastHeight nextCommittee } \
               ... on RotationDone { epoch firstHeight committee { hash } } } }",
        );
        assert_eq!(out.len(), 4, "{out:?}");
        let r = |i: usize| &out[i]["data"]["committeeRotations"];
        assert_eq!(r(0)["__typename"], "CommitteeElected");
        assert_eq!(r(0)["committee"]["startHeight"], "0x64");
        assert_eq!(
            r(0)["committee"]["members"],
            serde_json::json!([{"weight": "0x3"}, {"weight": "0x4"}])
        );
        assert_eq!(r(1)["__typename"], "RotationStarted");
        assert_eq!(r(1)["lastHeight"], "0x63");
        assert!(
            out[2]["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("7 events were dropped")),
            "{out:?}"
        );
        assert_eq!(r(3)["__typename"], "RotationDone");
        assert_eq!(r(3)["committee"]["hash"], r(1)["nextCommittee"]);
    }

    #[test]
    fn events_filter_by_kind_and_reject_unknown_kinds() {
        let items = vec![
            stamped(
                0,
                NodeEvent::TxAdmitted {
                    hash: B256::ZERO,
                    sender: Default::default(),
                    nonce: 4,
                },
            ),
            stamped(1, NodeEvent::StorageStats { tables: vec![] }),
            stamped(
                2,
                NodeEvent::TxRejected {
                    hash: None,
                    reason: "bad".into(),
                },
            ),
        ];
        let out = run(
            items.clone(),
            ChainStore::memory(16),
            r#"subscription { events(kinds: ["tx_admitted", "tx_rejected"]) }"#,
        );
        let kinds: Vec<_> = out
            .iter()
            .map(|r| r["data"]["events"]["event"]["type"].clone())
            .collect();
        assert_eq!(kinds, ["tx_admitted", "tx_rejected"]);
        assert_eq!(out[0]["data"]["events"]["seq"], 0);
        assert_eq!(out[0]["data"]["events"]["event"]["nonce"], 4);
        let all = run(
            items.clone(),
            ChainStore::memory(16),
            "subscription { events }",
        );
        assert_eq!(all.len(), 3);
        let bad = run(
            items,
            ChainStore::memory(16),
            r#"subscription { events(kinds: ["nope"]) }"#,
        );
        assert!(
            bad[0]["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("unknown event kind \"nope\""))
        );
    }

    #[test]
    fn kinds_match_the_serde_tags() {
        let samples = [
            NodeEvent::TxAdmitted {
                hash: Default::default(),
                sender: Default::default(),
                nonce: 0,
            },
            NodeEvent::RotationDone {
                epoch: 1,
                first_height: 2,
            },
            NodeEvent::StorageStats { tables: vec![] },
            NodeEvent::PeerRtt {
                peer: "p".into(),
                rtt_us: 1,
            },
        ];
        for e in samples {
            let v = serde_json::to_value(&e).expect("json");
            assert_eq!(v["type"], event_kind(&e));
            assert!(EVENT_KINDS.contains(&event_kind(&e)));
        }
        assert_eq!(EVENT_KINDS.len(), 18);
    }
}
