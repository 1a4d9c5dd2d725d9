//! The network task: owns the swarm, executes [`Command`]s, turns swarm events into
//! [`NetEvent`]s, discovers peers (Kademlia bootstrap + random walks, identify addresses) and
//! keeps the strike/ban book.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol as AddrProto;
use libp2p::request_response::{InboundRequestId, OutboundRequestId, ResponseChannel};
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, kad, noise, ping, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, info, warn};

mod inbound;
mod shape;

use crate::behaviour::{self, Behaviour, BehaviourEvent};
use crate::codec::Frame;
use crate::config::{NetConfig, ValidConfig};
use crate::error::{NetError, StartError};
use crate::handle::{Command, NetworkHandle};
use crate::types::{ChannelId, MessageId, NetEvent, PeerInfo, Protocol, Validation};

/// Inbound sync requests awaiting an answer at most; more are refused (the remote sees the
/// stream closed) rather than growing without bound.
const MAX_PENDING_INBOUND: usize = 1024;
/// Capacity of the command channel from handles.
const COMMAND_BUFFER: usize = 1024;
/// A gossipsub score drop larger than this between checks counts as a strike.
const SCORE_DROP: f64 = 1.0;

/// The swarm: TCP + noise + yamux, with DNS resolution of `/dns`, `/dns4` and `/dns6`
/// addresses (bootnodes by host name, e.g. a container's service name) when `dns` is set.
fn build_swarm(
    key: Keypair,
    cfg: &ValidConfig,
    idle: Duration,
    dns: bool,
) -> Result<Swarm<Behaviour>, StartError> {
    let tcp = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| StartError::Build(format!("tcp/noise/yamux: {e}")))?;
    let behaviour = |key: &Keypair| {
        behaviour::build(key, cfg).map_err(Box::<dyn std::error::Error + Send + Sync>::from)
    };
    let config = |c: libp2p::swarm::Config| c.with_idle_connection_timeout(idle);
    Ok(if dns {
        tcp.with_dns()
            .map_err(|e| StartError::Dns(e.to_string()))?
            .with_behaviour(behaviour)
            .map_err(|e| StartError::Build(e.to_string()))?
            .with_swarm_config(config)
            .build()
    } else {
        tcp.with_behaviour(behaviour)
            .map_err(|e| StartError::Build(e.to_string()))?
            .with_swarm_config(config)
            .build()
    })
}

/// Entry point: builds and spawns the network task.
#[derive(Debug)]
pub struct Network;

impl Network {
    /// Validate `config`, build the swarm (TCP + noise + yamux), listen, dial the bootnodes and
    /// spawn the task on the current tokio runtime (an error outside one). Returns the handle
    /// and the event stream. `config.node_key_file` is not read here: load the key with
    /// [`crate::load_or_generate_key`] and pass it in.
    pub fn start(
        config: &NetConfig,
        key: Keypair,
    ) -> Result<(NetworkHandle, mpsc::Receiver<NetEvent>), StartError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(StartError::Build(
                "Network::start must be called inside a tokio runtime".into(),
            ));
        }
        let cfg = config.validate()?;
        let local = key.public().to_peer_id();
        let idle = Duration::from_secs(cfg.raw.idle_timeout_secs);
        let mut swarm = match build_swarm(key.clone(), &cfg, idle, true) {
            Ok(s) => s,
            Err(StartError::Dns(e)) => {
                // Without a resolver only /ip4 and /ip6 addresses can be dialed (all a local
                // devnet uses); /dns4 bootnodes (containers, Kubernetes) need one.
                warn!(error = %e, "no system DNS configuration: /dns addresses cannot be dialed");
                build_swarm(key, &cfg, idle, false)?
            }
            Err(e) => return Err(e),
        };
        for addr in &cfg.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| StartError::Listen {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                })?;
        }
        for b in &cfg.bootnodes {
            if b.peer == local {
                continue;
            }
            if let Err(e) = swarm.dial(b.addr.clone()) {
                warn!(addr = %b.addr, error = %e, "cannot dial bootnode");
            }
        }
        if !cfg.bootnodes.is_empty() {
            // Fails only without known peers; periodic walks retry.
            let _ = swarm.behaviour_mut().kad.bootstrap();
        }
        let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_BUFFER);
        let (ev_tx, ev_rx) = mpsc::channel(cfg.raw.event_buffer);
        let handle = NetworkHandle {
            tx: cmd_tx,
            local,
            limits: cfg.raw.limits.clone(),
        };
        let task = Task {
            swarm,
            events: ev_tx,
            cfg,
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            inbound_ids: HashMap::new(),
            next_channel: 0,
            peers: HashMap::new(),
            strikes: HashMap::new(),
            bans: HashMap::new(),
            manual_blocks: HashSet::new(),
            listen: Vec::new(),
            dropped_events: 0,
            scores: HashMap::new(),
            shaper: shape::Shaper::new(&local),
        };
        tokio::spawn(task.run(cmd_rx));
        Ok((handle, ev_rx))
    }
}

#[derive(Debug, Default)]
struct PeerState {
    addrs: Vec<Multiaddr>,
    rtt: Option<Duration>,
}

type ResponseReply = oneshot::Sender<Result<Vec<u8>, NetError>>;

struct Task {
    swarm: Swarm<Behaviour>,
    events: mpsc::Sender<NetEvent>,
    cfg: ValidConfig,
    outbound: HashMap<(Protocol, OutboundRequestId), (PeerId, ResponseReply)>,
    inbound: HashMap<ChannelId, (InboundRequestId, ResponseChannel<Vec<u8>>)>,
    inbound_ids: HashMap<InboundRequestId, ChannelId>,
    next_channel: u64,
    peers: HashMap<PeerId, PeerState>,
    /// Strike count and the time of the first strike in the current window.
    strikes: HashMap<PeerId, (u32, Instant)>,
    bans: HashMap<PeerId, Instant>,
    manual_blocks: HashSet<PeerId>,
    listen: Vec<Multiaddr>,
    dropped_events: u64,
    /// Last seen gossipsub score per connected peer.
    scores: HashMap<PeerId, f64>,
    /// Userspace inbound loss/delay per peer (devnet fault injection).
    shaper: shape::Shaper,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut walk =
            tokio::time::interval(Duration::from_millis(self.cfg.raw.discovery_interval_ms));
        walk.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut housekeeping = tokio::time::interval(Duration::from_millis(500));
        loop {
            let due = self.shaper.next_due();
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm(ev),
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    for ev in self.shaper.due() {
                        self.emit(ev);
                    }
                }
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown { reply }) => {
                        let _ = reply.send(());
                        break;
                    }
                    Some(cmd) => self.on_command(cmd),
                },
                _ = walk.tick() => self.random_walk(),
                _ = housekeeping.tick() => {
                    self.expire_bans();
                    self.check_scores();
                }
            }
        }
        info!(peer = %self.swarm.local_peer_id(), "network task stopped");
    }

    fn emit(&mut self, ev: NetEvent) {
        match self.events.try_send(ev) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(ev)) => {
                self.dropped_events += 1;
                warn!(dropped = self.dropped_events, event = ?std::mem::discriminant(&ev),
                    "event channel full: dropping event");
                if let NetEvent::Gossip { id, source, .. } = ev {
                    self.report_gossip(
                        &gossipsub::MessageId(id.0),
                        &source,
                        gossipsub::MessageAcceptance::Ignore,
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Record a strike; ban (block + disconnect) at `ban_after_strikes`.
    fn strike(&mut self, peer: PeerId, reason: String) {
        // Strikes older than the ban window are forgotten.
        let now = Instant::now();
        let window = Duration::from_secs(self.cfg.raw.ban_duration_secs);
        let entry = self.strikes.entry(peer).or_insert((0, now));
        if now.duration_since(entry.1) > window {
            *entry = (0, now);
        }
        entry.0 += 1;
        let strikes = entry.0;
        let banned = strikes >= self.cfg.raw.ban_after_strikes;
        warn!(%peer, %reason, strikes, banned, "penalising peer");
        if banned {
            self.strikes.remove(&peer);
            let until = Instant::now() + Duration::from_secs(self.cfg.raw.ban_duration_secs);
            self.bans.insert(peer, until);
            let b = self.swarm.behaviour_mut();
            b.blocked.block_peer(peer);
            b.gossipsub.blacklist_peer(&peer);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        self.emit(NetEvent::Penalised {
            peer,
            reason,
            strikes,
            banned,
        });
    }

    /// Tell gossipsub whether to relay (and how to score) a message it handed us.
    fn report_gossip(
        &mut self,
        id: &gossipsub::MessageId,
        source: &PeerId,
        acceptance: gossipsub::MessageAcceptance,
    ) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, acceptance);
    }

    /// Remember `peer`'s current gossipsub score so the next check only sees new drops.
    fn note_score(&mut self, peer: PeerId) {
        if let Some(score) = self.swarm.behaviour().gossipsub.peer_score(&peer) {
            self.scores.insert(peer, score);
        }
    }

    /// Strike peers whose gossipsub score fell since the last check: gossipsub dropped invalid
    /// messages from them (bad signature, malformed, our own rejects are noted separately).
    fn check_scores(&mut self) {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            let Some(score) = self.swarm.behaviour().gossipsub.peer_score(&peer) else {
                continue;
            };
            let last = self.scores.insert(peer, score).unwrap_or(0.0);
            if score < 0.0 && score < last - SCORE_DROP {
                self.strike(
                    peer,
                    format!("gossipsub dropped invalid messages (score {last:.1} -> {score:.1})"),
                );
            }
        }
        self.scores.retain(|p, _| self.peers.contains_key(p));
    }

    fn expire_bans(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(p, _)| *p)
            .collect();
        for peer in expired {
            self.bans.remove(&peer);
            if !self.manual_blocks.contains(&peer) {
                info!(%peer, "ban expired");
                let b = self.swarm.behaviour_mut();
                b.blocked.unblock_peer(peer);
                b.gossipsub.remove_blacklisted_peer(&peer);
            }
        }
    }

    fn random_walk(&mut self) {
        let kad = &mut self.swarm.behaviour_mut().kad;
        kad.get_closest_peers(PeerId::random());
        // Re-dial bootnodes we lost (e.g. all peers dropped us).
        if self.peers.is_empty() {
            for b in self.cfg.bootnodes.clone() {
                if b.peer != *self.swarm.local_peer_id() && !self.is_blocked(&b.peer) {
                    let _ = self.swarm.dial(b.addr);
                }
            }
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
    }

    fn is_blocked(&self, peer: &PeerId) -> bool {
        self.manual_blocks.contains(peer) || self.bans.contains_key(peer)
    }

    fn maybe_dial(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if peer == *self.swarm.local_peer_id()
            || self.swarm.is_connected(&peer)
            || self.is_blocked(&peer)
            || self.peers.len() >= self.cfg.raw.max_peers as usize
            || addrs.is_empty()
        {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(e) = self.swarm.dial(opts) {
            debug!(%peer, error = %e, "dial of discovered peer not started");
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Publish {
                topic,
                bytes,
                reply,
            } => {
                let r = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(gossipsub::IdentTopic::new(topic.name()), bytes)
                    .map(|id| MessageId(id.0))
                    .map_err(|e| NetError::Publish {
                        topic: topic.name().into(),
                        reason: e.to_string(),
                    });
                let _ = reply.send(r);
            }
            Command::Request {
                peer,
                protocol,
                bytes,
                reply,
            } => {
                let b = self.swarm.behaviour_mut();
                let id = match protocol {
                    Protocol::Sync => b.sync.send_request(&peer, Frame::Data(bytes)),
                    Protocol::Consensus => b.consensus.send_request(&peer, Frame::Data(bytes)),
                };
                self.outbound.insert((protocol, id), (peer, reply));
            }
            Command::Respond {
                channel,
                bytes,
                reply,
            } => {
                let r = match self.inbound.remove(&channel) {
                    None => Err(NetError::UnknownChannel(channel.0)),
                    Some((rid, ch)) => {
                        self.inbound_ids.remove(&rid);
                        self.swarm
                            .behaviour_mut()
                            .sync
                            .send_response(ch, bytes)
                            .map_err(|_| NetError::UnknownChannel(channel.0))
                    }
                };
                let _ = reply.send(r);
            }
            Command::Validation {
                id,
                source,
                verdict,
            } => {
                let acceptance = match &verdict {
                    Validation::Accept => gossipsub::MessageAcceptance::Accept,
                    Validation::Reject(_) => gossipsub::MessageAcceptance::Reject,
                    Validation::Ignore => gossipsub::MessageAcceptance::Ignore,
                };
                self.report_gossip(&gossipsub::MessageId(id.0), &source, acceptance);
                if let Validation::Reject(reason) = verdict {
                    self.strike(source, format!("invalid gossip: {reason}"));
                    // The reject also lowered the gossipsub score: already counted.
                    self.note_score(source);
                }
            }
            Command::Penalise { peer, reason } => self.strike(peer, reason),
            Command::Peers { reply } => {
                let list = self
                    .peers
                    .iter()
                    .map(|(id, s)| PeerInfo {
                        id: *id,
                        addrs: s.addrs.clone(),
                        rtt: s.rtt,
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.listen.clone());
            }
            Command::Dial { addr, reply } => {
                let r = self.swarm.dial(addr.clone()).map_err(|e| NetError::Dial {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                });
                let _ = reply.send(r);
            }
            Command::Block { peer, blocked } => {
                let b = self.swarm.behaviour_mut();
                if blocked {
                    // Connections only: messages authored by `peer` still arrive through others
                    // (a partition, not a ban).
                    self.manual_blocks.insert(peer);
                    b.blocked.block_peer(peer);
                } else {
                    self.manual_blocks.remove(&peer);
                    self.bans.remove(&peer);
                    self.strikes.remove(&peer);
                    b.blocked.unblock_peer(peer);
                    b.gossipsub.remove_blacklisted_peer(&peer);
                }
            }
            Command::Shape { peer, shape } => {
                info!(peer = ?peer, loss = shape.loss, delay_ms = shape.delay_ms, "inbound link shaped");
                self.shaper.set(peer, shape);
            }
            // Handled in `run`.
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
        }
    }

    fn on_swarm(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::Behaviour(ev) => self.on_behaviour(ev),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                let state = self.peers.entry(peer_id).or_default();
                if !state.addrs.contains(&addr) {
                    state.addrs.push(addr.clone());
                }
                if num_established.get() == 1 {
                    debug!(peer = %peer_id, %addr, "peer connected");
                    self.emit(NetEvent::PeerConnected {
                        peer: peer_id,
                        addr,
                    });
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.peers.remove(&peer_id);
                debug!(peer = %peer_id, "peer disconnected");
                self.emit(NetEvent::PeerDisconnected { peer: peer_id });
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(%address, "listening");
                self.listen.push(address.clone());
                self.emit(NetEvent::ListenAddr { addr: address });
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen.retain(|a| a != &address);
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                debug!(peer = ?peer_id, %error, "outgoing connection failed");
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                debug!(%error, "incoming connection failed");
            }
            _ => {}
        }
    }

    fn on_behaviour(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                if let Some(s) = self.peers.get_mut(&peer) {
                    s.rtt = Some(rtt);
                }
                self.emit(NetEvent::PeerRtt { peer, rtt });
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let state = self.peers.entry(peer_id).or_default();
                // Loopback addresses are only useful if we reach this peer over loopback;
                // unspecified ones (0.0.0.0) never are.
                let via_loopback = state.addrs.iter().any(is_loopback);
                for addr in info.listen_addrs {
                    if is_unspecified(&addr) || (is_loopback(&addr) && !via_loopback) {
                        continue;
                    }
                    if !state.addrs.contains(&addr) {
                        state.addrs.push(addr.clone());
                    }
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            BehaviourEvent::Kad(ev) => self.on_kad(ev),
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Sync(ev) => self.on_request_response(Protocol::Sync, ev),
            BehaviourEvent::Consensus(ev) => self.on_request_response(Protocol::Consensus, ev),
            _ => {}
        }
    }

    fn on_kad(&mut self, ev: kad::Event) {
        match ev {
            kad::Event::RoutingUpdated {
                peer, addresses, ..
            } => self.maybe_dial(peer, addresses.into_vec()),
            kad::Event::OutboundQueryProgressed {
                result: kad::QueryResult::GetClosestPeers(Ok(ok)),
                ..
            } => {
                for p in ok.peers {
                    self.maybe_dial(p.peer_id, p.addrs);
                }
            }
            _ => {}
        }
    }
}

fn first_ip(addr: &Multiaddr) -> Option<std::net::IpAddr> {
    addr.iter().find_map(|p| match p {
        AddrProto::Ip4(ip) => Some(ip.into()),
        AddrProto::Ip6(ip) => Some(ip.into()),
        _ => None,
    })
}

fn is_loopback(addr: &Multiaddr) -> bool {
    first_ip(addr).is_some_and(|ip| ip.is_loopback())
}

fn is_unspecified(addr: &Multiaddr) -> bool {
    first_ip(addr).is_some_and(|ip| ip.is_unspecified())
}
