//! The node's event bus: every published [`NodeEvent`] is stamped with a per-node sequence
//! number and wall time, logged, and broadcast to observers over a bounded channel (a slow
//! observer misses events and is told how many; it never slows the node).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tc_types::{NodeEvent, Stamped};
use tokio::sync::broadcast;

/// Capacity of the broadcast ring.
pub const EVENT_BUFFER: usize = 4_096;

/// Cheap to clone; all clones publish into the same stream.
#[derive(Clone, Debug)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Stamped>>,
    seq: Arc<AtomicU64>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A new bus.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(EVENT_BUFFER);
        Self {
            tx,
            seq: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Publish (after the change it describes is persisted).
    pub fn emit(&self, event: NodeEvent) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(target: "tc_node::events", seq, ?event, "event");
        // No receivers is fine: events are for observers.
        let _ = self.tx.send(Arc::new(Stamped {
            seq,
            time_ms: now_ms(),
            event,
        }));
    }

    /// Subscribe from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Stamped>> {
        self.tx.subscribe()
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
