//! Glue between the merged feed and the `devnet up` launcher: [`integrations`] builds the
//! launcher's [`Integrations`] — `GET /feed` over every supervised node, kept current from the
//! launcher's action log (statuses, added nodes, the fault-injection log), and the dashboard's
//! files from a built dist directory.
//!
//! Wiring (in `devnet up`): `plugins: tc_devnet::feed::launcher::integrations(Some(dist))`.
use std::path::PathBuf;

use tc_types::{Action, ActionResult, B256, NodeStatus};
use tokio::sync::broadcast::error::RecvError;

use super::server::{router, static_files};
use super::{FeedConfig, FeedHandle, FeedHub, NodeSource};
use crate::actions;
use crate::server::{Context, Integrations, Plugin};
use crate::supervisor::{NodeView, Supervisor};

/// The feed (always) and the dashboard (when `dist` names a built dashboard) as launcher
/// plugins.
pub fn integrations(dist: Option<PathBuf>) -> Integrations {
    let feed: Plugin = Box::new(|ctx: &Context| {
        let sources = ctx.sup.views().iter().map(source_of).collect();
        match FeedHub::start(sources, FeedConfig::default()) {
            Ok(hub) => {
                // The launcher's runtime owns it from here on.
                let handle = hub.detach();
                tokio::spawn(follow_actions(ctx.sup.clone(), handle.clone()));
                router(handle, None)
            }
            Err(e) => {
                tracing::error!(error = %e, "merged feed not started");
                axum::Router::new()
            }
        }
    });
    let dashboard = dist.map(|dir| -> Plugin {
        Box::new(move |ctx: &Context| static_files(dir, Some(ctx.admin_session.clone())))
    });
    Integrations {
        feed: Some(feed),
        dashboard,
    }
}

/// A supervised node as a feed source (its own `/events`).
pub fn source_of(v: &NodeView) -> NodeSource {
    NodeSource {
        key: v.key.parse::<B256>().ok(),
        ..NodeSource::at(&v.name, v.http)
    }
}

/// Keep the feed current from the launcher's action log until either side stops.
async fn follow_actions(sup: Supervisor, feed: FeedHandle) {
    let mut rx = sup.actions().subscribe();
    loop {
        let a = match rx.recv().await {
            Ok(a) => a,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "merged feed fell behind the action log");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let added = (a.action == "add" && a.ok)
            .then(|| sup.views().iter().find(|v| v.name == a.node).map(source_of))
            .flatten();
        if let Some(source) = added {
            let _ = feed.add_node(source).await;
        }
        if let Some((status, reason)) = status_after(&a) {
            let _ = feed.set_status(&a.node, status, reason).await;
        }
        if feed.action(feed_action(&a)).await.is_err() {
            return;
        }
    }
}

/// The node status an action implies, if any.
pub fn status_after(a: &actions::Action) -> Option<(NodeStatus, Option<String>)> {
    let reason = Some(a.detail.clone()).filter(|d| !d.is_empty());
    match (a.action.as_str(), a.ok) {
        ("exit", _) => Some((NodeStatus::Unreachable, reason)),
        (_, false) => None,
        ("kill", true) => Some((NodeStatus::Killed, reason)),
        ("stop", true) => Some((NodeStatus::Stopped, reason)),
        ("pause", true) => Some((NodeStatus::Paused, reason)),
        // SIGCONT: the stream never dropped, so no new snapshot will say so.
        ("resume", true) => Some((NodeStatus::Running, None)),
        // A new process: running once the merger synced with it.
        ("start" | "restart", true) => Some((NodeStatus::Starting, None)),
        _ => None,
    }
}

/// An action-log entry as a feed [`Action`].
pub fn feed_action(a: &actions::Action) -> Action {
    Action {
        id: a.seq,
        time_ms: a.at_ms,
        // A failure's detail is its error; do not say it twice.
        what: if a.detail.is_empty() || !a.ok {
            a.action.clone()
        } else {
            format!("{}: {}", a.action, a.detail)
        },
        nodes: vec![a.node.clone()],
        result: if a.ok {
            ActionResult::Ok
        } else {
            ActionResult::Failed {
                error: a.detail.clone(),
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(action: &str, ok: bool, detail: &str) -> actions::Action {
        actions::Action {
            seq: 7,
            at_ms: 1_000,
            action: action.into(),
            node: "node-2".into(),
            ok,
            detail: detail.into(),
        }
    }

    #[test]
    fn actions_map_to_statuses() {
        let cases = [
            ("kill", true, Some(NodeStatus::Killed)),
            ("stop", true, Some(NodeStatus::Stopped)),
            ("pause", true, Some(NodeStatus::Paused)),
            ("resume", true, Some(NodeStatus::Running)),
            ("start", true, Some(NodeStatus::Starting)),
            ("restart", true, Some(NodeStatus::Starting)),
            ("exit", false, Some(NodeStatus::Unreachable)),
            ("kill", false, None),
            ("add", true, None),
            ("partition", true, None),
        ];
        for (action, ok, want) in cases {
            let got = status_after(&act(action, ok, "pid 42")).map(|(s, _)| s);
            assert_eq!(got, want, "{action} ok={ok}");
        }
        assert_eq!(
            status_after(&act("kill", true, "pid 42 SIGKILL")).and_then(|(_, r)| r),
            Some("pid 42 SIGKILL".into())
        );
    }

    #[test]
    fn actions_become_feed_actions() {
        let a = feed_action(&act("kill", true, "pid 42"));
        assert_eq!(
            (a.id, a.time_ms, a.what.as_str(), a.nodes.clone()),
            (7, 1_000, "kill: pid 42", vec!["node-2".to_string()])
        );
        assert_eq!(a.result, ActionResult::Ok);
        let f = feed_action(&act("pause", false, "node-2 is stopped"));
        assert_eq!(f.what, "pause");
        assert_eq!(
            f.result,
            ActionResult::Failed {
                error: "node-2 is stopped".into()
            }
        );
    }
}
