//! The composed libp2p behaviour and its construction from a validated config.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify, kad, ping,
    request_response,
};
use sha2::{Digest, Sha256};

use crate::codec::BytesCodec;
use crate::config::ValidConfig;
use crate::types::{Protocol, Topic};

/// Identify protocol version string.
pub(crate) const IDENTIFY_PROTOCOL: &str = "/tc/id/1";
/// Kademlia protocol name (private DHT, not the public IPFS one).
pub(crate) const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/tc/kad/1");
/// Gossipsub framing overhead allowed above the largest payload (signature, key, topic, ids).
const GOSSIP_OVERHEAD: usize = 4096;

/// Everything the swarm runs. Field order matters: the block list and connection limits deny
/// connections before the protocols see them.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) sync: request_response::Behaviour<BytesCodec>,
    pub(crate) consensus: request_response::Behaviour<BytesCodec>,
}

/// Content-addressed message ids: the same payload published twice (by anyone) is one message.
fn message_id(msg: &gossipsub::Message) -> gossipsub::MessageId {
    let mut h = Sha256::new();
    h.update(msg.topic.as_str().as_bytes());
    h.update([0u8]);
    h.update(&msg.data);
    gossipsub::MessageId::new(&h.finalize()[..20])
}

/// Gossipsub scoring used only to notice invalid messages gossipsub drops on its own (a
/// signature or sequence number where none belongs, malformed protobuf): P4 per topic. Everything that would penalise quiet or
/// co-located honest peers (mesh delivery rates, IP colocation on a loopback devnet) is off.
/// The swarm task turns score drops into strikes.
fn score_params() -> gossipsub::PeerScoreParams {
    let topic = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.0,
        first_message_deliveries_weight: 0.0,
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -10.0,
        invalid_message_deliveries_decay: 0.5,
        ..gossipsub::TopicScoreParams::default()
    };
    let mut params = gossipsub::PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        // Broken IWANT promises and similar protocol-behaviour penalties also hit honest
        // peers whose queues are full under load: off (they would turn into strikes and bans).
        behaviour_penalty_weight: 0.0,
        ..gossipsub::PeerScoreParams::default()
    };
    for t in Topic::ALL {
        params
            .topics
            .insert(gossipsub::IdentTopic::new(t.name()).hash(), topic.clone());
    }
    params
}

pub(crate) fn build(key: &Keypair, cfg: &ValidConfig) -> Result<Behaviour, String> {
    let raw = &cfg.raw;
    let peer_id = key.public().to_peer_id();

    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established(Some(raw.max_peers))
        .with_max_pending_incoming(Some(raw.max_pending))
        .with_max_pending_outgoing(Some(raw.max_pending))
        .with_max_established_per_peer(Some(raw.max_connections_per_peer));

    let gossip_cfg = gossipsub::ConfigBuilder::default()
        .heartbeat_interval(raw.gossip_heartbeat())
        .validation_mode(gossipsub::ValidationMode::Anonymous)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(raw.limits.max_gossip() + GOSSIP_OVERHEAD)
        .flood_publish(true)
        // Small committees: keep the mesh reachable with few peers.
        .mesh_n_low(2)
        .mesh_n(4)
        .mesh_n_high(8)
        .mesh_outbound_min(1)
        .build()
        .map_err(|e| format!("gossipsub config: {e}"))?;
    let mut gossipsub = gossipsub::Behaviour::new(
        // No per-message signatures: every payload authenticates itself (transactions carry
        // secp256k1 signatures, fast blocks a committee certificate, snail blocks their proof
        // of work, consensus messages ed25519 signatures), and the forwarding peer is known from
        // the noise session. Signing and verifying an ed25519 envelope per gossip message was a
        // fifth of a node's CPU under load; `Anonymous` also drops messages that carry one.
        gossipsub::MessageAuthenticity::Anonymous,
        gossip_cfg,
    )
    .map_err(|e| format!("gossipsub: {e}"))?;
    gossipsub
        .with_peer_score(score_params(), gossipsub::PeerScoreThresholds::default())
        .map_err(|e| format!("gossipsub peer score: {e}"))?;
    for t in Topic::ALL {
        gossipsub
            .subscribe(&gossipsub::IdentTopic::new(t.name()))
            .map_err(|e| format!("subscribe {t}: {e}"))?;
    }

    let mut kad_cfg = kad::Config::new(KAD_PROTOCOL);
    kad_cfg.set_query_timeout(Duration::from_secs(30));
    let mut kad =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_cfg);
    // Loopback/private addresses never get "confirmed external"; serve the DHT regardless.
    kad.set_mode(Some(kad::Mode::Server));
    for b in &cfg.bootnodes {
        kad.add_address(&b.peer, b.addr.clone());
    }

    let rr_cfg = request_response::Config::default().with_request_timeout(raw.request_timeout());
    let sync = request_response::Behaviour::with_codec(
        BytesCodec {
            max_request: raw.limits.sync_request,
            max_response: raw.limits.sync_response,
        },
        [(
            StreamProtocol::new(Protocol::Sync.name()),
            request_response::ProtocolSupport::Full,
        )],
        rr_cfg.clone(),
    );
    let consensus = request_response::Behaviour::with_codec(
        BytesCodec {
            max_request: raw.limits.consensus_request,
            max_response: 64,
        },
        [(
            StreamProtocol::new(Protocol::Consensus.name()),
            request_response::ProtocolSupport::Full,
        )],
        rr_cfg,
    );

    Ok(Behaviour {
        blocked: allow_block_list::Behaviour::default(),
        limits: connection_limits::Behaviour::new(limits),
        identify: identify::Behaviour::new(
            identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                .with_agent_version(format!("tc-net/{}", env!("CARGO_PKG_VERSION"))),
        ),
        ping: ping::Behaviour::new(ping::Config::new().with_interval(raw.ping_interval())),
        kad,
        gossipsub,
        sync,
        consensus,
    })
}
