//! The node's PBFT driver: one [`Engine`] per epoch this node is a member of, its timers, its
//! durable vote log, and the routing of received consensus messages.
//!
//! It owns no I/O besides the consensus log in RocksDB: [`Pbft::step`] runs the engine,
//! persists its `Persist` records *before* returning (so they are durable before the caller
//! sends anything the same step produced — the engine's contract), keeps decisions until the
//! caller commits the blocks, and returns what must go on the wire as [`Effect`]s.
//!
//! Log layout (table `consensus_log`): key = epoch (8 bytes BE) ‖ record counter (8 bytes BE),
//! value = JSON [`LogRecord`]. A restarted member rebuilds its engine with [`Engine::recover`]
//! from its epoch's records, so it never votes for two digests at one (view, seq). The records
//! of an epoch are deleted when the node leaves that epoch.
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tc_consensus::pbft::{
    Config, Ed25519Signer, Ed25519Verifier, Engine, Input, Output, Payload, PersistRecord,
    SignedMessage, TimeoutKind,
};
use tc_storage::ChainStore;
use tc_types::{B256, CommitCertificate, Committee, NodeEvent, PubKey};

/// Most messages buffered for an epoch whose engine has not started yet.
pub const FUTURE_EPOCH_BUFFER: usize = 4_096;

/// What the caller must carry out after a step, in order.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Send to one member (by consensus key).
    Send {
        /// Recipient.
        to: PubKey,
        /// Message.
        msg: SignedMessage,
    },
    /// Send to every other member of the epoch.
    Broadcast(SignedMessage),
    /// Publish to observers.
    Event(NodeEvent),
}

/// A persisted engine record (the JSON value of a log entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "r", rename_all = "snake_case")]
pub enum LogRecord {
    /// Entered a view.
    View {
        /// View.
        view: u64,
    },
    /// Voted.
    Vote {
        /// "pre-prepare", "prepare" or "commit".
        kind: String,
        /// View.
        view: u64,
        /// Seq.
        seq: u64,
        /// Digest.
        digest: B256,
    },
    /// Stable checkpoint.
    Stable {
        /// Seq.
        seq: u64,
        /// State digest.
        state: B256,
    },
}

impl LogRecord {
    fn from_record(r: &PersistRecord) -> Self {
        match r {
            PersistRecord::View { view } => Self::View { view: *view },
            PersistRecord::Vote {
                kind,
                view,
                seq,
                digest,
            } => Self::Vote {
                kind: (*kind).to_string(),
                view: *view,
                seq: *seq,
                digest: *digest,
            },
            PersistRecord::StableCheckpoint { seq, state } => Self::Stable {
                seq: *seq,
                state: *state,
            },
        }
    }

    fn to_record(&self) -> Option<PersistRecord> {
        Some(match self {
            Self::View { view } => PersistRecord::View { view: *view },
            Self::Vote {
                kind,
                view,
                seq,
                digest,
            } => PersistRecord::Vote {
                kind: match kind.as_str() {
                    "pre-prepare" => "pre-prepare",
                    "prepare" => "prepare",
                    "commit" => "commit",
                    _ => return None,
                },
                view: *view,
                seq: *seq,
                digest: *digest,
            },
            Self::Stable { seq, state } => PersistRecord::StableCheckpoint {
                seq: *seq,
                state: *state,
            },
        })
    }
}

fn log_key(epoch: u64, counter: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&epoch.to_be_bytes());
    k[8..].copy_from_slice(&counter.to_be_bytes());
    k
}

/// Read an epoch's persisted records (in order) and the next free counter.
pub fn read_log(chain: &ChainStore, epoch: u64) -> anyhow::Result<(Vec<PersistRecord>, u64)> {
    let from = log_key(epoch, 0);
    let to = log_key(epoch.saturating_add(1), 0);
    let mut out = Vec::new();
    let mut next = 0;
    let mut cursor = from.to_vec();
    loop {
        let page = chain.consensus_range(&cursor, Some(&to), 1_024)?;
        let Some((last, _)) = page.last() else { break };
        let mut after = last.clone();
        after.push(0);
        for (k, v) in &page {
            let counter = k
                .get(8..16)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            next = next.max(counter + 1);
            let rec: LogRecord = serde_json::from_slice(v).map_err(|e| {
                anyhow::anyhow!("consensus log entry of epoch {epoch} is corrupt: {e}")
            })?;
            let rec = rec.to_record().ok_or_else(|| {
                anyhow::anyhow!("consensus log entry of epoch {epoch} has an unknown vote kind")
            })?;
            out.push(rec);
        }
        if page.len() < 1_024 {
            break;
        }
        cursor = after;
    }
    Ok((out, next))
}

/// Where a received message goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// The epoch's engine runs: step it.
    Engine,
    /// Buffered until the engine of this (future) epoch starts.
    Buffered,
    /// Dropped (a retired epoch, or the buffer is full).
    Dropped(&'static str),
}

/// Engines, timers, log and buffers of this node's committee memberships.
pub struct Pbft {
    key: tc_consensus::pbft::Ed25519Signer,
    cfg: Config,
    engines: BTreeMap<u64, Engine<Ed25519Signer, Ed25519Verifier>>,
    /// Epochs this node has left (their messages are dropped).
    retired: BTreeSet<u64>,
    buffered: BTreeMap<u64, VecDeque<SignedMessage>>,
    timers: BinaryHeap<Reverse<(Instant, u64, TimeoutKind)>>,
    counters: BTreeMap<u64, u64>,
    /// Decisions whose block is not committed yet.
    pub decided: BTreeMap<u64, CommitCertificate>,
}

impl std::fmt::Debug for Pbft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbft")
            .field("engines", &self.engines.keys().collect::<Vec<_>>())
            .field("retired", &self.retired)
            .field("decided", &self.decided.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A snapshot of the running engine for APIs and events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineStatus {
    /// Epoch.
    pub epoch: u64,
    /// Our member index.
    pub me: u32,
    /// Current view.
    pub view: u64,
    /// Changing view.
    pub view_changing: bool,
    /// Last decided seq.
    pub last_decided: u64,
    /// Stable checkpoint.
    pub stable_checkpoint: u64,
}

impl Pbft {
    /// No engine yet.
    pub fn new(key: Ed25519Signer, cfg: Config) -> Self {
        Self {
            key,
            cfg,
            engines: BTreeMap::new(),
            retired: BTreeSet::new(),
            buffered: BTreeMap::new(),
            timers: BinaryHeap::new(),
            counters: BTreeMap::new(),
            decided: BTreeMap::new(),
        }
    }

    /// Whether an engine runs for `epoch`.
    pub fn has_engine(&self, epoch: u64) -> bool {
        self.engines.contains_key(&epoch)
    }

    /// Whether `epoch` was left.
    pub fn is_retired(&self, epoch: u64) -> bool {
        self.retired.contains(&epoch)
    }

    /// Status of the newest engine.
    pub fn status(&self) -> Option<EngineStatus> {
        self.engines
            .iter()
            .next_back()
            .map(|(epoch, e)| EngineStatus {
                epoch: *epoch,
                me: e.me(),
                view: e.view(),
                view_changing: e.is_view_changing(),
                last_decided: e.last_decided(),
                stable_checkpoint: e.stable_checkpoint(),
            })
    }

    /// `Some(seq)` when our engine of `epoch` is the primary and may propose `seq` now.
    pub fn next_proposal(&self, epoch: u64) -> Option<(u64, u64)> {
        let e = self.engines.get(&epoch)?;
        e.next_proposal_seq().map(|s| (s, e.view()))
    }

    /// Start the engine of `committee` (recovering from the log), feed `Start` and the stored
    /// certificates of the epoch up to our head. Returns the effects and the messages buffered
    /// for this epoch, which the caller routes like fresh ones (PRE-PREPAREs must be checked).
    pub fn start(
        &mut self,
        chain: &ChainStore,
        committee: Committee,
        stored: Vec<CommitCertificate>,
    ) -> anyhow::Result<(Vec<Effect>, Vec<SignedMessage>)> {
        let epoch = committee.epoch;
        let (records, next) = read_log(chain, epoch)?;
        let engine = if records.is_empty() {
            Engine::new(
                committee,
                self.key.clone(),
                Ed25519Verifier,
                self.cfg.clone(),
            )?
        } else {
            tracing::info!(
                epoch,
                records = records.len(),
                "recovering the PBFT engine from the consensus log"
            );
            Engine::recover(
                committee,
                self.key.clone(),
                Ed25519Verifier,
                self.cfg.clone(),
                &records,
            )?
        };
        self.counters.insert(epoch, next);
        self.engines.insert(epoch, engine);
        let mut fx = self.step(chain, epoch, Input::Start)?;
        for cert in stored {
            fx.extend(self.step(chain, epoch, Input::Certificate(cert))?);
        }
        let buffered = self.buffered.remove(&epoch).unwrap_or_default().into();
        Ok((fx, buffered))
    }

    /// Stop every engine below `epoch`, forget their buffers and delete their log.
    pub fn retire_below(&mut self, chain: &ChainStore, epoch: u64) -> anyhow::Result<Vec<u64>> {
        let old: Vec<u64> = self.engines.range(..epoch).map(|(e, _)| *e).collect();
        for e in &old {
            self.engines.remove(e);
            self.counters.remove(e);
            chain.consensus_delete_range(&log_key(*e, 0), &log_key(e + 1, 0))?;
        }
        self.retired.extend(old.iter().copied());
        // Anything buffered for an epoch we will never run is dropped too.
        self.buffered.retain(|e, _| *e >= epoch);
        Ok(old)
    }

    /// Mark `epoch` as one this node will not run (not a member when it started).
    pub fn skip(&mut self, epoch: u64) {
        self.retired.insert(epoch);
        self.buffered.remove(&epoch);
    }

    /// Decide where a received message goes (buffering it if its epoch has not started).
    pub fn route(&mut self, msg: &SignedMessage) -> Route {
        if self.engines.contains_key(&msg.epoch) {
            return Route::Engine;
        }
        if self.retired.contains(&msg.epoch)
            || self
                .engines
                .keys()
                .next_back()
                .is_some_and(|newest| msg.epoch < *newest)
        {
            return Route::Dropped("epoch already over here");
        }
        let total: usize = self.buffered.values().map(VecDeque::len).sum();
        if total >= FUTURE_EPOCH_BUFFER {
            return Route::Dropped("future-epoch buffer full");
        }
        self.buffered
            .entry(msg.epoch)
            .or_default()
            .push_back(msg.clone());
        Route::Buffered
    }

    /// Run one input through the engine of `epoch`; persist its records, keep its decisions,
    /// arm its timers; return the sends and events.
    pub fn step(
        &mut self,
        chain: &ChainStore,
        epoch: u64,
        input: Input,
    ) -> anyhow::Result<Vec<Effect>> {
        let Some(engine) = self.engines.get_mut(&epoch) else {
            return Ok(Vec::new());
        };
        let outputs = engine.step(input);
        // Persist first (durable before any send of this step leaves the node).
        let mut entries: Vec<([u8; 16], Vec<u8>)> = Vec::new();
        let counter = self.counters.entry(epoch).or_insert(0);
        for o in &outputs {
            if let Output::Persist(r) = o {
                let v = serde_json::to_vec(&LogRecord::from_record(r))?;
                entries.push((log_key(epoch, *counter), v));
                *counter += 1;
            }
        }
        if !entries.is_empty() {
            let refs: Vec<(&[u8], Option<&[u8]>)> = entries
                .iter()
                .map(|(k, v)| (k.as_slice(), Some(v.as_slice())))
                .collect();
            chain.consensus_write(&refs)?;
        }
        let mut fx = Vec::new();
        for o in outputs {
            match o {
                Output::Persist(_) => {}
                Output::Send { to, msg } => {
                    let key = self
                        .engines
                        .get(&epoch)
                        .and_then(|e| e.committee().member(to))
                        .map(|m| m.key);
                    if let Some(to) = key {
                        fx.push(Effect::Send { to, msg });
                    }
                }
                Output::Broadcast(msg) => fx.push(Effect::Broadcast(msg)),
                Output::Decide {
                    seq, certificate, ..
                } => {
                    self.decided.insert(seq, certificate);
                }
                Output::ScheduleTimeout { kind, after_ms } => {
                    self.timers.push(Reverse((
                        Instant::now() + Duration::from_millis(after_ms),
                        epoch,
                        kind,
                    )));
                }
                Output::Event(e) => fx.push(Effect::Event(NodeEvent::Pbft(e))),
            }
        }
        Ok(fx)
    }

    /// When the earliest timer fires.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Fire every due timer. `hold_progress` = `Some(t)` while the next fast height cannot be
    /// proposed by anyone because its epoch (or whether it ends one) is not determined yet
    /// (the fast chain ran `switch_margin` blocks ahead of what the snail chain checkpointed): progress timeouts
    /// are then postponed by `t` instead of starting a view change that no primary could end.
    pub fn fire_due(
        &mut self,
        chain: &ChainStore,
        now: Instant,
        hold_progress: Option<Duration>,
    ) -> anyhow::Result<Vec<Effect>> {
        let mut fx = Vec::new();
        let mut postponed = Vec::new();
        while let Some(Reverse((at, epoch, kind))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if let (Some(t), TimeoutKind::Progress { .. }) = (hold_progress, kind) {
                postponed.push(Reverse((now + t, epoch, kind)));
                continue;
            }
            if self.engines.contains_key(&epoch) {
                fx.extend(self.step(chain, epoch, Input::Timeout(kind))?);
            }
        }
        self.timers.extend(postponed);
        // Timers of stopped engines are dropped lazily above; keep the heap small.
        if self.timers.len() > 10_000 {
            let engines = &self.engines;
            self.timers
                .retain(|Reverse((_, epoch, _))| engines.contains_key(epoch));
        }
        Ok(fx)
    }
}

/// The block a PRE-PREPARE carries: `(epoch, view, seq, digest, block bytes)`.
pub fn pre_prepare(msg: &SignedMessage) -> Option<(u64, u64, u64, B256, &[u8])> {
    match &msg.payload {
        Payload::PrePrepare {
            view,
            seq,
            digest,
            block,
        } => Some((msg.epoch, *view, *seq, *digest, block.as_slice())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_records_round_trip_and_survive_restart() {
        let chain = ChainStore::memory(16);
        let recs = [
            PersistRecord::View { view: 2 },
            PersistRecord::Vote {
                kind: "prepare",
                view: 2,
                seq: 7,
                digest: B256::repeat_byte(1),
            },
            PersistRecord::StableCheckpoint {
                seq: 16,
                state: B256::repeat_byte(2),
            },
        ];
        for (i, r) in recs.iter().enumerate() {
            let v = serde_json::to_vec(&LogRecord::from_record(r)).expect("json");
            chain.consensus_put(&log_key(3, i as u64), &v).expect("put");
        }
        chain
            .consensus_put(&log_key(4, 0), b"{\"r\":\"view\",\"view\":9}")
            .expect("put");
        let (read, next) = read_log(&chain, 3).expect("read");
        assert_eq!(read, recs.to_vec());
        assert_eq!(next, 3);
        let (read4, next4) = read_log(&chain, 4).expect("read");
        assert_eq!(read4, vec![PersistRecord::View { view: 9 }]);
        assert_eq!(next4, 1);
        assert_eq!(read_log(&chain, 5).expect("read"), (vec![], 0));
        chain
            .consensus_put(&log_key(5, 0), b"not json")
            .expect("put");
        let err = read_log(&chain, 5).expect_err("corrupt");
        assert!(err.to_string().contains("epoch 5 is corrupt"), "{err}");
    }
}
