//! The launcher's action log: every start, stop, kill, pause, resume, restart, added node and
//! unexpected exit, numbered, kept in memory (the last [`KEEP`]) for `GET /admin/actions`, and
//! broadcast to subscribers (the merged feed publishes them).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::broadcast;

/// How many actions the log keeps.
pub const KEEP: usize = 1_000;

/// One thing the launcher did (or saw happen) to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action {
    /// 1, 2, 3, … in the order they happened.
    pub seq: u64,
    /// Wall clock (ms since the Unix epoch).
    pub at_ms: u64,
    /// `start`, `stop`, `kill`, `pause`, `resume`, `restart`, `add`, `exit`.
    pub action: String,
    /// The node it concerns.
    pub node: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Human-readable details (pid, signal, exit status, error).
    pub detail: String,
}

/// Shared, cloneable action log.
#[derive(Clone, Debug)]
pub struct ActionLog {
    inner: Arc<Mutex<(u64, VecDeque<Action>)>>,
    tx: broadcast::Sender<Action>,
}

impl Default for ActionLog {
    fn default() -> Self {
        Self::new()
    }
}

impl ActionLog {
    /// An empty log.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new((0, VecDeque::new()))),
            tx: broadcast::channel(256).0,
        }
    }

    /// Record an action (also written to the launcher's log output).
    pub fn record(&self, action: &str, node: &str, ok: bool, detail: impl Into<String>) -> Action {
        let detail = detail.into();
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let a = {
            let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            g.0 += 1;
            let a = Action {
                seq: g.0,
                at_ms,
                action: action.into(),
                node: node.into(),
                ok,
                detail,
            };
            if g.1.len() == KEEP {
                g.1.pop_front();
            }
            g.1.push_back(a.clone());
            a
        };
        if ok {
            tracing::info!(action = %a.action, node = %a.node, "{}", a.detail);
        } else {
            tracing::warn!(action = %a.action, node = %a.node, "{}", a.detail);
        }
        let _ = self.tx.send(a.clone());
        a
    }

    /// Actions with `seq > since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<Action> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.1.iter().filter(|a| a.seq > since).cloned().collect()
    }

    /// Every future action (for the merged feed).
    pub fn subscribe(&self) -> broadcast::Receiver<Action> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_bounded_and_broadcast() {
        let log = ActionLog::new();
        let mut rx = log.subscribe();
        log.record("start", "node-0", true, "pid 1");
        assert_eq!(rx.try_recv().map(|a| a.seq).ok(), Some(1));
        for i in 1..(KEEP + 5) {
            log.record("kill", "node-1", true, format!("#{i}"));
        }
        let all = log.since(0);
        assert_eq!(all.len(), KEEP);
        assert_eq!(all[0].seq, 6);
        assert_eq!(log.since(KEEP as u64 + 3).len(), 2);
    }
}
