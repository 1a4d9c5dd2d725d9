//! The shell's side of "malformed bytes on every protocol and topic": it decodes with tc-wire,
//! and on a decode error penalises the peer (request) or rejects the message (gossip). The node
//! logs the reason, emits `Penalised`, and keeps serving well-formed traffic.

mod common;

use common::{DEADLINE, cluster, init_tracing, wait_full_mesh};
use tc_consensus::pbft::{Payload, SignedMessage};
use tc_net::{NetEvent, Protocol, Topic, Validation};
use tc_types::{B256, B512};

fn prepare() -> SignedMessage {
    SignedMessage {
        epoch: 1,
        from: 2,
        payload: Payload::Prepare {
            view: 0,
            seq: 5,
            digest: B256::repeat_byte(5),
        },
        signature: B512::repeat_byte(9),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_consensus_and_gossip_bytes_are_penalised_good_ones_still_flow() {
    init_tracing();
    let mut nodes = cluster(2, |_, cfg| cfg.ban_after_strikes = 10).await;
    wait_full_mesh(&nodes).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (p0, p1) = (nodes[0].peer, nodes[1].peer);

    // Garbage, then a valid message, on /tc/consensus/1.
    for bytes in [
        vec![0xff, 0x01, 0x02],
        tc_wire::encode_consensus(&prepare()),
    ] {
        nodes[1]
            .handle
            .send_request(p0, Protocol::Consensus, bytes)
            .await
            .expect("acked");
    }
    // Garbage on tc/snail/1.
    nodes[1]
        .handle
        .publish(Topic::SnailBlock, vec![0x0a, 0xff, 0xff])
        .await
        .expect("publish");

    // Node 0's "shell".
    let (mut good, mut penalties) = (0, 0);
    let n0 = &mut nodes[0];
    let h0 = n0.handle.clone();
    tokio::time::timeout(DEADLINE, async {
        while good < 1 || penalties < 2 {
            let ev = n0.events.recv().await.expect("events");
            match ev {
                NetEvent::Request {
                    peer,
                    protocol: Protocol::Consensus,
                    bytes,
                    ..
                } => match tc_wire::decode_consensus(&bytes) {
                    Ok(m) => {
                        assert_eq!(m, prepare());
                        good += 1;
                    }
                    Err(e) => h0
                        .penalise(peer, format!("/tc/consensus/1: {e}"))
                        .await
                        .expect("penalise"),
                },
                NetEvent::Gossip {
                    topic: Topic::SnailBlock,
                    bytes,
                    source,
                    id,
                    ..
                } => {
                    let e = tc_wire::decode_snail_block(&bytes).expect_err("garbage");
                    h0.report_validation(id, source, Validation::Reject(e.to_string()))
                        .await
                        .expect("report");
                }
                NetEvent::Penalised { peer, reason, .. } => {
                    assert_eq!(peer, p1);
                    assert!(
                        reason.starts_with("/tc/consensus/1: malformed ConsensusMessage")
                            || reason.starts_with("invalid gossip: malformed SnailBlockMsg"),
                        "{reason}"
                    );
                    penalties += 1;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("both penalties and the good message within the deadline");
    assert!(
        nodes[0]
            .handle
            .peers()
            .await
            .expect("peers")
            .iter()
            .any(|p| p.id == p1),
        "below the strike limit the peer stays connected"
    );
    for n in &nodes {
        n.handle.shutdown().await.expect("shutdown");
    }
}
