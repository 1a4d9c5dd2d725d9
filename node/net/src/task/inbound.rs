//! Inbound gossip and request-response events: size checks, unknown topics, oversized frames,
//! response routing, fire-and-ack for direct consensus messages.

use libp2p::request_response;
use libp2p::{PeerId, gossipsub};
use tracing::{debug, warn};

use super::shape::Fate;
use super::{MAX_PENDING_INBOUND, Task};
use crate::codec::{Frame, OVERSIZED};
use crate::error::NetError;
use crate::types::{ChannelId, MessageId, NetEvent, Protocol, Topic};

impl Task {
    /// Emit an inbound event from `peer` through the link shaper: now, later, or (dropped)
    /// never. Returns false if it was dropped.
    fn emit_shaped(&mut self, peer: PeerId, ev: NetEvent) -> bool {
        match self.shaper.fate(&peer) {
            Fate::Deliver => self.emit(ev),
            Fate::At(at) => self.shaper.delay(peer, at, ev),
            Fate::Drop => return false,
        }
        true
    }

    pub(super) fn on_gossip(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        msg: gossipsub::Message,
    ) {
        let limits = &self.cfg.raw.limits;
        let verdict = match Topic::from_name(msg.topic.as_str()) {
            None => Err(format!("gossip on unknown topic {:?}", msg.topic.as_str())),
            Some(topic) if msg.data.len() > topic.limit(limits) => Err(format!(
                "oversized gossip on {topic}: {} bytes, limit {}",
                msg.data.len(),
                topic.limit(limits)
            )),
            Some(topic) => Ok(topic),
        };
        match verdict {
            Ok(topic) => {
                let ev = NetEvent::Gossip {
                    topic,
                    bytes: msg.data,
                    source,
                    id: MessageId(id.0.clone()),
                };
                if !self.emit_shaped(source, ev) {
                    // Lost on a shaped link: not the sender's fault, so no penalty.
                    self.report_gossip(&id, &source, gossipsub::MessageAcceptance::Ignore);
                }
            }
            Err(reason) => {
                self.report_gossip(&id, &source, gossipsub::MessageAcceptance::Reject);
                self.strike(source, reason);
                self.note_score(source);
            }
        }
    }

    pub(super) fn on_request_response(
        &mut self,
        protocol: Protocol,
        ev: request_response::Event<Frame, Vec<u8>>,
    ) {
        use request_response::{Event, Message, OutboundFailure};
        match ev {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request: Frame::Oversized { len, max },
                        channel,
                        ..
                    },
                ..
            } => {
                // Dropping the channel closes the stream without an answer.
                drop(channel);
                self.strike(
                    peer,
                    format!("{protocol}: {OVERSIZED}: {len} bytes announced, limit {max}"),
                );
            }
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request_id,
                        request: Frame::Data(request),
                        channel,
                    },
                ..
            } => match protocol {
                Protocol::Consensus => {
                    let ev = NetEvent::Request {
                        peer,
                        protocol,
                        bytes: request,
                        channel: None,
                    };
                    // Fire-and-ack: acknowledge on receipt (delivery to the engine follows,
                    // maybe delayed by link shaping). A message lost to shaping is not acked:
                    // dropping the channel closes the stream, the sender logs it undelivered
                    // and PBFT's own retransmission (timers, view change) recovers.
                    if self.emit_shaped(peer, ev) {
                        let _ = self
                            .swarm
                            .behaviour_mut()
                            .consensus
                            .send_response(channel, Vec::new());
                    } else {
                        drop(channel);
                    }
                }
                Protocol::Sync => {
                    if self.inbound.len() >= MAX_PENDING_INBOUND {
                        warn!(%peer, "too many unanswered sync requests: dropping one");
                        return;
                    }
                    let ch = ChannelId(self.next_channel);
                    let ev = NetEvent::Request {
                        peer,
                        protocol,
                        bytes: request,
                        channel: Some(ch),
                    };
                    // Lost to shaping: the channel is dropped, the requester sees the stream
                    // closed and its sync client retries.
                    if self.emit_shaped(peer, ev) {
                        self.next_channel += 1;
                        self.inbound.insert(ch, (request_id, channel));
                        self.inbound_ids.insert(request_id, ch);
                    }
                }
            },
            Event::Message {
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some((_, reply)) = self.outbound.remove(&(protocol, request_id)) {
                    let _ = reply.send(Ok(response));
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let OutboundFailure::Io(e) = &error
                    && e.kind() == std::io::ErrorKind::InvalidData
                {
                    self.strike(peer, format!("{protocol} response: {e}"));
                }
                if let Some((_, reply)) = self.outbound.remove(&(protocol, request_id)) {
                    let _ = reply.send(Err(NetError::Request {
                        peer: peer.to_string(),
                        protocol: protocol.name().into(),
                        reason: error.to_string(),
                    }));
                }
            }
            Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(ch) = self.inbound_ids.remove(&request_id) {
                    self.inbound.remove(&ch);
                }
                debug!(%peer, %protocol, %error, "inbound request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }
}
