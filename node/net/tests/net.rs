//! Real sockets on 127.0.0.1: discovery from one bootnode, gossip with validation before relay,
//! request-response, ping RTT, limits and penalties, blocking. Every wait has a deadline.

mod common;

use std::time::{Duration, Instant};

use common::{DEADLINE, TestNode, cluster, init_tracing, key, test_config, wait_full_mesh};
use tc_net::{NetError, NetEvent, Protocol, Topic, Validation};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_discover_each_other_from_one_bootnode() {
    init_tracing();
    let t0 = Instant::now();
    let nodes = cluster(5, |_, _| {}).await;
    wait_full_mesh(&nodes).await;
    eprintln!("5 nodes fully connected after {:?}", t0.elapsed());
    for n in &nodes {
        let addrs = n.handle.listen_addrs().await.expect("listen addrs");
        assert!(!addrs.is_empty());
        n.handle.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossip_reaches_all_after_acceptance() {
    init_tracing();
    let mut nodes = cluster(4, |_, _| {}).await;
    wait_full_mesh(&nodes).await;
    // Let subscriptions propagate and meshes form (a few heartbeats).
    tokio::time::sleep(Duration::from_millis(800)).await;
    for n in nodes.iter_mut() {
        n.drain();
    }
    let payload = b"tx bytes".to_vec();
    nodes[2]
        .handle
        .publish(Topic::Tx, payload.clone())
        .await
        .expect("publish");
    let publisher = nodes[2].peer;
    let mut accepted = Vec::new();
    for (i, n) in nodes.iter_mut().enumerate() {
        if i == 2 {
            continue;
        }
        let (id, source) = n
            .wait_for("gossip", DEADLINE, |ev| match ev {
                NetEvent::Gossip {
                    topic: Topic::Tx,
                    bytes,
                    source,
                    id,
                } if *bytes == payload => Some((id.clone(), *source)),
                _ => None,
            })
            .await;
        // Straight from the publisher (flood publish), or relayed by a node that already
        // accepted it: never by one that has not validated it yet.
        assert!(
            source == publisher || accepted.contains(&source),
            "message relayed by {source} before it accepted"
        );
        accepted.push(n.peer);
        n.handle
            .report_validation(id, source, Validation::Accept)
            .await
            .expect("report");
    }
    // Publishing the same bytes again is a duplicate.
    let again = nodes[2].handle.publish(Topic::Tx, payload).await;
    assert!(matches!(again, Err(NetError::Publish { .. })), "{again:?}");
    for n in &nodes {
        n.handle.shutdown().await.expect("shutdown");
    }
}

/// A - B - C (A and C block each other): B relays only what it accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_gossip_is_not_relayed_accepted_is() {
    init_tracing();
    let mut b = TestNode::start(test_config(Vec::new()), key(10)).await;
    let boot = vec![b.p2p_addr()];
    let a = TestNode::start(test_config(boot.clone()), key(11)).await;
    let mut c = TestNode::start(test_config(boot), key(12)).await;
    a.handle.block_peer(c.peer).await.expect("block");
    c.handle.block_peer(a.peer).await.expect("block");
    let (ap, bp, cp) = (a.peer, b.peer, c.peer);
    b.wait_for("A connects", DEADLINE, |ev| match ev {
        NetEvent::PeerConnected { peer, .. } if *peer == ap => Some(()),
        _ => None,
    })
    .await;
    c.wait_for("C connects to B", DEADLINE, |ev| match ev {
        NetEvent::PeerConnected { peer, .. } if *peer == bp => Some(()),
        _ => None,
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        !a.handle
            .peers()
            .await
            .expect("peers")
            .iter()
            .any(|p| p.id == cp),
        "A and C must not be connected"
    );

    let bad = b"bad block".to_vec();
    a.handle
        .publish(Topic::FastBlock, bad.clone())
        .await
        .expect("publish");
    let (id, src) = b
        .wait_for("bad gossip at B", DEADLINE, |ev| match ev {
            NetEvent::Gossip {
                bytes, id, source, ..
            } if *bytes == bad => Some((id.clone(), *source)),
            _ => None,
        })
        .await;
    b.handle
        .report_validation(id, src, Validation::Reject("bad signature".into()))
        .await
        .expect("report");
    let reason = b
        .wait_for("penalty for rejected gossip", DEADLINE, |ev| match ev {
            NetEvent::Penalised { peer, reason, .. } if *peer == ap => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(reason, "invalid gossip: bad signature");
    let leaked = c
        .collect_for(Duration::from_secs(2), |ev| match ev {
            NetEvent::Gossip { bytes, .. } if *bytes == bad => Some(()),
            _ => None,
        })
        .await;
    assert!(leaked.is_empty(), "rejected message was relayed to C");

    let good = b"good block".to_vec();
    a.handle
        .publish(Topic::FastBlock, good.clone())
        .await
        .expect("publish");
    let (id, src) = b
        .wait_for("good gossip at B", DEADLINE, |ev| match ev {
            NetEvent::Gossip {
                bytes, id, source, ..
            } if *bytes == good => Some((id.clone(), *source)),
            _ => None,
        })
        .await;
    b.handle
        .report_validation(id, src, Validation::Accept)
        .await
        .expect("report");
    let relayed_by = c
        .wait_for("accepted gossip relayed to C", DEADLINE, |ev| match ev {
            NetEvent::Gossip { bytes, source, .. } if *bytes == good => Some(*source),
            _ => None,
        })
        .await;
    assert_eq!(relayed_by, bp);
    for n in [&a, &b, &c] {
        n.handle.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_round_trip_consensus_ack_and_ping_rtt() {
    init_tracing();
    let mut nodes = cluster(2, |_, _| {}).await;
    wait_full_mesh(&nodes).await;
    let (p0, p1) = (nodes[0].peer, nodes[1].peer);

    // Ping RTT events and peers() RTT.
    let rtt = nodes[1]
        .wait_for("ping rtt", DEADLINE, |ev| match ev {
            NetEvent::PeerRtt { peer, rtt } if *peer == p0 => Some(*rtt),
            _ => None,
        })
        .await;
    assert!(rtt < Duration::from_secs(1), "loopback rtt {rtt:?}");
    let peers = nodes[1].handle.peers().await.expect("peers");
    assert!(
        peers
            .iter()
            .any(|p| p.id == p0 && p.rtt.is_some() && !p.addrs.is_empty())
    );

    // Sync: node 1 asks node 0; node 0's "shell" answers.
    let h1 = nodes[1].handle.clone();
    let req = tokio::spawn(async move {
        h1.send_request(p0, Protocol::Sync, b"range 1..9".to_vec())
            .await
    });
    let ch = nodes[0]
        .wait_for("sync request", DEADLINE, |ev| match ev {
            NetEvent::Request {
                peer,
                protocol: Protocol::Sync,
                bytes,
                channel: Some(ch),
            } if *peer == p1 && bytes == b"range 1..9" => Some(*ch),
            _ => None,
        })
        .await;
    nodes[0]
        .handle
        .respond(ch, b"blocks 1..9".to_vec())
        .await
        .expect("respond");
    let resp = tokio::time::timeout(DEADLINE, req)
        .await
        .expect("response in time")
        .expect("task")
        .expect("request succeeds");
    assert_eq!(resp, b"blocks 1..9");
    // Channel is single-use.
    assert_eq!(
        nodes[0].handle.respond(ch, Vec::new()).await,
        Err(NetError::UnknownChannel(ch.0))
    );

    // Consensus: fire-and-ack.
    let ack = tokio::time::timeout(
        DEADLINE,
        nodes[0]
            .handle
            .send_request(p1, Protocol::Consensus, b"prepare".to_vec()),
    )
    .await
    .expect("ack in time")
    .expect("acked");
    assert!(ack.is_empty());
    nodes[1]
        .wait_for("consensus request", DEADLINE, |ev| match ev {
            NetEvent::Request {
                peer,
                protocol: Protocol::Consensus,
                bytes,
                channel: None,
            } if *peer == p0 && bytes == b"prepare" => Some(()),
            _ => None,
        })
        .await;
    for n in &nodes {
        n.handle.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frames_are_penalised_and_node_keeps_working() {
    init_tracing();
    // Node 1 allows itself big messages; node 0 (the receiver) has small limits.
    let mut nodes = cluster(2, |i, cfg| {
        if i == 0 {
            cfg.limits.sync_request = 4096;
            cfg.limits.tx = 4096;
            cfg.ban_after_strikes = 10;
        }
    })
    .await;
    wait_full_mesh(&nodes).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (p0, p1) = (nodes[0].peer, nodes[1].peer);

    // Oversized request frame: refused before reading the payload.
    let r = nodes[1]
        .handle
        .send_request(p0, Protocol::Sync, vec![7u8; 10_000])
        .await;
    assert!(r.is_err(), "oversized request must fail: {r:?}");
    let reason = nodes[0]
        .wait_for("penalty for oversized request", DEADLINE, |ev| match ev {
            NetEvent::Penalised { peer, reason, .. } if *peer == p1 => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        reason,
        "/tc/sync/1: oversized frame: 10000 bytes announced, limit 4096"
    );

    // Oversized gossip on tc/txs/2.
    nodes[1]
        .handle
        .publish(Topic::Tx, vec![9u8; 10_000])
        .await
        .expect("publish");
    let reason = nodes[0]
        .wait_for("penalty for oversized gossip", DEADLINE, |ev| match ev {
            NetEvent::Penalised { peer, reason, .. } if *peer == p1 => Some(reason.clone()),
            NetEvent::Gossip { .. } => panic!("oversized gossip delivered"),
            _ => None,
        })
        .await;
    assert_eq!(
        reason,
        "oversized gossip on tc/txs/2: 10000 bytes, limit 4096"
    );

    // Still works: a small request round-trips.
    let h1 = nodes[1].handle.clone();
    let req =
        tokio::spawn(async move { h1.send_request(p0, Protocol::Sync, b"ok?".to_vec()).await });
    let ch = nodes[0]
        .wait_for("small request", DEADLINE, |ev| match ev {
            NetEvent::Request {
                channel: Some(ch), ..
            } => Some(*ch),
            _ => None,
        })
        .await;
    nodes[0]
        .handle
        .respond(ch, b"ok".to_vec())
        .await
        .expect("respond");
    let resp = tokio::time::timeout(DEADLINE, req)
        .await
        .expect("in time")
        .expect("task")
        .expect("ok");
    assert_eq!(resp, b"ok");

    // The sender's own limit is checked before anything is sent.
    let too_big = nodes[0]
        .handle
        .send_request(p1, Protocol::Sync, vec![0u8; 5000])
        .await;
    assert_eq!(
        too_big,
        Err(NetError::TooLarge {
            what: "/tc/sync/1".into(),
            got: 5000,
            max: 4096
        })
    );
    for n in &nodes {
        n.handle.shutdown().await.expect("shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strikes_ban_then_blocked_peer_cannot_connect() {
    init_tracing();
    let mut nodes = cluster(2, |i, cfg| {
        if i == 0 {
            cfg.ban_after_strikes = 2;
        }
    })
    .await;
    wait_full_mesh(&nodes).await;
    let p1 = nodes[1].peer;
    nodes[0].drain();
    nodes[0]
        .handle
        .penalise(p1, "malformed block")
        .await
        .expect("penalise");
    nodes[0]
        .handle
        .penalise(p1, "malformed block")
        .await
        .expect("penalise");
    let mut seen = Vec::new();
    nodes[0]
        .wait_for("ban and disconnect", DEADLINE, |ev| {
            match ev {
                NetEvent::Penalised {
                    peer,
                    strikes,
                    banned,
                    reason,
                } if *peer == p1 => {
                    assert_eq!(reason, "malformed block");
                    seen.push((*strikes, *banned));
                }
                NetEvent::PeerDisconnected { peer } if *peer == p1 => seen.push((0, true)),
                _ => {}
            }
            (seen.len() == 3).then_some(())
        })
        .await;
    assert_eq!(seen, vec![(1, false), (2, true), (0, true)]);

    // The banned peer redials: refused, no PeerConnected on node 0.
    let addr = nodes[0].addr.clone();
    nodes[1].handle.dial(addr).await.expect("dial starts");
    let reconnects = nodes[0]
        .collect_for(Duration::from_secs(2), |ev| match ev {
            NetEvent::PeerConnected { peer, .. } if *peer == p1 => Some(()),
            _ => None,
        })
        .await;
    assert!(reconnects.is_empty(), "banned peer reconnected");
    assert!(nodes[0].handle.peers().await.expect("peers").is_empty());

    // Unblocking lifts the ban: the peer can connect again.
    nodes[0].handle.unblock_peer(p1).await.expect("unblock");
    let addr = nodes[0].addr.clone();
    nodes[1].handle.dial(addr).await.expect("dial starts");
    nodes[0]
        .wait_for("reconnect after unblock", DEADLINE, |ev| match ev {
            NetEvent::PeerConnected { peer, .. } if *peer == p1 => Some(()),
            _ => None,
        })
        .await;
    for n in &nodes {
        n.handle.shutdown().await.expect("shutdown");
    }
}

/// A peer signing its gossipsub messages (our topics are anonymous: payloads authenticate
/// themselves): gossipsub drops its messages on its own; the score drop becomes a strike and a
/// `Penalised` event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_gossip_from_a_rogue_peer_is_penalised() {
    use futures::StreamExt;
    use libp2p::{gossipsub, noise, swarm::SwarmEvent, tcp, yamux};
    init_tracing();
    let mut node = TestNode::start(test_config(Vec::new()), key(20)).await;
    let cfg = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        .heartbeat_interval(Duration::from_millis(100))
        .build()
        .expect("config");
    let mut rogue = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp")
        .with_behaviour(|k| {
            gossipsub::Behaviour::<
                gossipsub::IdentityTransform,
                gossipsub::AllowAllSubscriptionFilter,
            >::new(gossipsub::MessageAuthenticity::Signed(k.clone()), cfg)
            .expect("gossipsub")
        })
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    let rogue_id = *rogue.local_peer_id();
    let topic = gossipsub::IdentTopic::new(Topic::Tx.name());
    rogue.behaviour_mut().subscribe(&topic).expect("subscribe");
    rogue.dial(node.addr.clone()).expect("dial");
    // Drive the rogue until the node's subscription is known, then publish signed junk.
    tokio::time::timeout(DEADLINE, async {
        loop {
            if let SwarmEvent::Behaviour(gossipsub::Event::Subscribed { .. }) =
                rogue.select_next_some().await
            {
                break;
            }
        }
    })
    .await
    .expect("node's subscription seen");
    rogue
        .behaviour_mut()
        .publish(topic, b"signed".to_vec())
        .expect("publish");
    let driver = tokio::spawn(async move {
        loop {
            rogue.select_next_some().await;
        }
    });
    let reason = node
        .wait_for("penalty for signed gossip", DEADLINE, |ev| match ev {
            NetEvent::Penalised { peer, reason, .. } if *peer == rogue_id => Some(reason.clone()),
            NetEvent::Gossip { .. } => panic!("signed gossip delivered"),
            _ => None,
        })
        .await;
    assert!(
        reason.starts_with("gossipsub dropped invalid messages"),
        "{reason}"
    );
    driver.abort();
    node.handle.shutdown().await.expect("shutdown");
}

/// A bootnode named by host (`/dns4/localhost/…`, as `devnet export` writes with service names):
/// the DNS transport resolves it (hickory reads /etc/hosts) and the nodes connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootnode_by_dns_name_is_dialed() {
    init_tracing();
    let boot = TestNode::start(test_config(Vec::new()), key(0)).await;
    let tcp = boot
        .addr
        .to_string()
        .rsplit_once("/tcp/")
        .map(|(_, p)| p.to_string())
        .expect("tcp port in the listen address");
    let by_name = format!("/dns4/localhost/tcp/{tcp}/p2p/{}", boot.peer);
    let mut node = TestNode::start(test_config(vec![by_name.clone()]), key(1)).await;
    let peer = boot.peer;
    node.wait_for(
        &format!("connection to {by_name}"),
        DEADLINE,
        |ev| match ev {
            NetEvent::PeerConnected { peer: p, .. } if *p == peer => Some(()),
            _ => None,
        },
    )
    .await;
}
