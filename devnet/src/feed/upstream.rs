//! One WebSocket client per node: connect to its `/events`, turn frames into [`Input`]s for
//! the hub, and reconnect with capped exponential backoff when the stream fails.
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tc_types::{NodeFrame, Stamped};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::FeedConfig;
use super::state::Input;

/// Run the client of one node until the hub goes away.
pub(super) async fn run(node: String, url: String, hub: mpsc::Sender<Input>, cfg: FeedConfig) {
    let mut backoff = cfg.backoff_min;
    loop {
        let (synced, reason) = stream_once(&node, &url, &hub, &cfg).await;
        if hub.is_closed() {
            return;
        }
        if synced {
            backoff = cfg.backoff_min;
        }
        tracing::debug!(%node, %reason, ?backoff, "node stream down; reconnecting");
        if hub
            .send(Input::Down {
                node: node.clone(),
                reason,
            })
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = next_backoff(backoff, cfg.backoff_max);
    }
}

/// The wait after the next failure: doubled, capped.
fn next_backoff(current: Duration, max: Duration) -> Duration {
    (current * 2).min(max)
}

/// One connection: returns whether it got as far as a snapshot, and why it ended.
async fn stream_once(
    node: &str,
    url: &str,
    hub: &mpsc::Sender<Input>,
    cfg: &FeedConfig,
) -> (bool, String) {
    let mut ws =
        match tokio::time::timeout(cfg.handshake_timeout, tokio_tungstenite::connect_async(url))
            .await
        {
            Err(_) => {
                return (
                    false,
                    format!("no WebSocket handshake within {:?}", cfg.handshake_timeout),
                );
            }
            Ok(Err(e)) => return (false, format!("cannot connect to {url}: {e}")),
            Ok(Ok((ws, _))) => ws,
        };
    let mut synced = false;
    let mut hello_seen = false;
    loop {
        // Until the hello arrived the node gets the handshake deadline; afterwards it may be
        // silent as long as it likes (no blocks, or paused by the launcher).
        let next = if hello_seen {
            ws.next().await
        } else {
            match tokio::time::timeout(cfg.handshake_timeout, ws.next()).await {
                Ok(m) => m,
                Err(_) => {
                    return (
                        false,
                        format!("no hello within {:?}", cfg.handshake_timeout),
                    );
                }
            }
        };
        let text = match next {
            None => return (synced, "stream closed".into()),
            Some(Err(e)) => return (synced, format!("stream error: {e}")),
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                return (synced, format!("closed by node: {c:?}"));
            }
            Some(Ok(_)) => continue,
        };
        let input = match parse_frame(text.as_str()) {
            Ok(NodeFrame::Hello {
                schema_version,
                chain_id,
                ..
            }) => {
                hello_seen = true;
                Input::Hello {
                    node: node.to_owned(),
                    schema_version,
                    chain_id,
                }
            }
            Ok(NodeFrame::Snapshot(snapshot)) => {
                synced = true;
                Input::Snapshot {
                    node: node.to_owned(),
                    snapshot,
                }
            }
            Ok(NodeFrame::Events { events }) => Input::Events {
                node: node.to_owned(),
                events,
            },
            Err(e) => {
                tracing::warn!(%node, error = %e, "unreadable frame from node; skipped");
                continue;
            }
        };
        let incompatible = matches!(&input, Input::Hello { schema_version, .. } if *schema_version != tc_types::SCHEMA_VERSION);
        if hub.send(input).await.is_err() {
            return (synced, "merger stopped".into());
        }
        if incompatible {
            // The hub marked it unreachable with the reason; try again later (it may be
            // upgraded) but do not read events we cannot trust.
            tokio::time::sleep(cfg.backoff_max).await;
            return (false, "incompatible event schema".into());
        }
    }
}

/// Parse a node frame. An `events` frame with event types this build does not know keeps the
/// events it does know (a newer node may add variants).
pub(super) fn parse_frame(text: &str) -> Result<NodeFrame, String> {
    match serde_json::from_str::<NodeFrame>(text) {
        Ok(f) => Ok(f),
        Err(e) => {
            let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            if v.get("type").and_then(Value::as_str) != Some("events") {
                return Err(e.to_string());
            }
            let all = v
                .get("events")
                .and_then(Value::as_array)
                .ok_or_else(|| e.to_string())?;
            let known: Vec<Stamped> = all
                .iter()
                .filter_map(|x| serde_json::from_value(x.clone()).ok())
                .collect();
            tracing::debug!(
                skipped = all.len() - known.len(),
                "events of unknown types skipped"
            );
            Ok(NodeFrame::Events { events: known })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_types_are_skipped_not_fatal() {
        let text = r#"{"type":"events","events":[
            {"seq":1,"time_ms":2,"event":{"type":"tx_rejected","hash":null,"reason":"nonce too low"}},
            {"seq":2,"time_ms":3,"event":{"type":"from_the_future","x":1}}
        ]}"#;
        match parse_frame(text) {
            Ok(NodeFrame::Events { events }) => {
                assert_eq!(events.len(), 1);
                assert_eq!(events[0].seq, 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_frame(r#"{"type":"weird"}"#).is_err());
        assert!(parse_frame("not json").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_millis(1000);
        let mut b = Duration::from_millis(100);
        let mut got = vec![b.as_millis()];
        for _ in 0..5 {
            b = next_backoff(b, max);
            got.push(b.as_millis());
        }
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
    }
}
