//! Issue #5's lossy-network item in userspace form (this kernel has no `sch_netem`): four
//! `tc-node` processes whose every inbound libp2p link drops 10% of the messages and delays
//! the rest by 50 ms. In its own test binary so it does not share the CPUs with cluster.rs.
mod common;

use common::cluster::{assert_same_blocks, cluster, fault, wait_cluster};

/// Issue #5's lossy-network item in userspace form: every node drops 10% of the inbound
/// libp2p messages from every peer and delays the rest by 50 ms (`{"fault":"link"}`: shaping
/// inside the node, not kernel netem). The network still commits, rotates committees and
/// agrees on every block.
#[test]
fn lossy_delayed_links_still_commit_rotate_and_agree() {
    let mut c = cluster(4, 4, 12);
    for i in 0..4 {
        c.start(i);
    }
    let token = "devnet-token";
    // Bad link faults are refused with the problem named.
    for (body, needle) in [
        (
            r#"{"fault":"link","peers":["all"],"loss":1.5,"delay_ms":0}"#,
            "loss must be",
        ),
        (
            r#"{"fault":"link","peers":[],"loss":0.1,"delay_ms":0}"#,
            "no peers given",
        ),
        (
            r#"{"fault":"link","peers":["all","x"],"loss":0.1,"delay_ms":0}"#,
            "cannot be combined",
        ),
        (
            r#"{"fault":"link","peers":["nope"],"loss":0.1,"delay_ms":0}"#,
            "is not a peer id",
        ),
        (
            r#"{"fault":"link","peers":["all"],"loss":0.1,"delay_ms":999999}"#,
            "delay_ms must be",
        ),
        (r#"{"fault":"link","peers":["all"],"loss":0.1}"#, "delay_ms"),
    ] {
        let (status, v) = fault(&c, 0, token, body);
        assert_eq!(status, 400, "{body}: {v}");
        assert!(
            v["error"].as_str().unwrap_or("").contains(needle),
            "{body}: {v}"
        );
    }
    for i in 0..4 {
        let (status, v) = fault(
            &c,
            i,
            token,
            r#"{"fault":"link","peers":["all"],"loss":0.1,"delay_ms":50}"#,
        );
        assert_eq!(status, 200, "node-{i}: {v}");
        assert_eq!(
            v["ok"],
            "inbound links from all peers: loss 0.1, delay 50 ms"
        );
    }
    // Each node's network task took the shape (tc-net logs it at info).
    wait_cluster(&c, "every network task to shape its links", 30, || {
        (0..4)
            .all(|i| {
                std::fs::read_to_string(c.log(i)).is_ok_and(|t| t.contains("inbound link shaped"))
            })
            .then_some(())
    });
    let (_, e0) = c.head(0).unwrap_or((0, 0));
    wait_cluster(
        &c,
        "every node two epochs further under loss and delay",
        300,
        || {
            (0..4)
                .all(|i| c.head(i).is_some_and(|(n, e)| n >= 3 && e >= e0 + 2))
                .then_some(())
        },
    );
    assert_same_blocks(&c);
    // Clearing is accepted.
    let (status, v) = fault(
        &c,
        0,
        token,
        r#"{"fault":"link","peers":["all"],"loss":0,"delay_ms":0}"#,
    );
    assert_eq!(
        (status, v["ok"].as_str()),
        (200, Some("inbound links from all peers cleared"))
    );
}
