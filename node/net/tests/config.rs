//! `NetConfig`: TOML shape, defaults, validation messages naming the field, node key files.

use tc_net::{ConfigError, KeyError, NetConfig, load_or_generate_key};

fn err(cfg: &NetConfig) -> String {
    cfg.validate().expect_err("must be invalid").to_string()
}

#[test]
fn defaults_are_valid_and_toml_round_trips() {
    let cfg = NetConfig::default();
    let v = cfg.validate().expect("defaults valid");
    assert_eq!(v.listen.len(), 1);
    let text = toml::to_string(&cfg).expect("serialise");
    let back: NetConfig = toml::from_str(&text).expect("parse");
    assert_eq!(back, cfg);
}

#[test]
fn partial_toml_fills_defaults_and_unknown_fields_are_rejected() {
    let cfg: NetConfig = toml::from_str(
        r#"
        listen = ["/ip4/127.0.0.1/tcp/4001"]
        bootnodes = ["/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"]
        max_peers = 20
        [limits]
        tx = 65536
        "#,
    )
    .expect("parse");
    assert_eq!(cfg.max_peers, 20);
    assert_eq!(cfg.limits.tx, 65536);
    assert_eq!(cfg.limits.sync_response, 16 * 1024 * 1024);
    let v = cfg.validate().expect("valid");
    assert_eq!(v.bootnodes.len(), 1);
    assert_eq!(
        v.bootnodes[0].peer.to_string(),
        "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
    );

    let e = toml::from_str::<NetConfig>("max_peer = 3").expect_err("unknown field");
    assert!(e.to_string().contains("unknown field `max_peer`"), "{e}");
}

#[test]
fn validation_errors_name_the_field() {
    type Tweak = Box<dyn Fn(&mut NetConfig)>;
    let cases: Vec<(Tweak, &str)> = vec![
        (
            Box::new(|c| c.max_peers = 0),
            "network.max_peers: must be between 1 and 1000 (got 0)",
        ),
        (
            Box::new(|c| c.max_connections_per_peer = 9),
            "network.max_connections_per_peer: must be between 1 and 8 (got 9)",
        ),
        (
            Box::new(|c| c.gossip_heartbeat_ms = 10),
            "network.gossip_heartbeat_ms: must be between 50 and 60000 (got 10)",
        ),
        (
            Box::new(|c| c.request_timeout_ms = 0),
            "network.request_timeout_ms: must be between 100 and 300000 (got 0)",
        ),
        (
            Box::new(|c| c.ping_interval_ms = 700_000),
            "network.ping_interval_ms: must be between 100 and 600000 (got 700000)",
        ),
        (
            Box::new(|c| c.limits.sync_response = 17 * 1024 * 1024),
            "network.limits.sync_response: must be between 1024 and 16777216 (got 17825792)",
        ),
        (
            Box::new(|c| c.limits.tx = 10),
            "network.limits.tx: must be between 1024 and 16777216 (got 10)",
        ),
        (
            Box::new(|c| c.ban_after_strikes = 0),
            "network.ban_after_strikes: must be between 1 and 100 (got 0)",
        ),
        (
            Box::new(|c| c.event_buffer = 1),
            "network.event_buffer: must be between 16 and 1000000 (got 1)",
        ),
        (
            Box::new(|c| c.listen.clear()),
            "network.listen: must list between 1 and 16 addresses (got 0)",
        ),
        (
            Box::new(|c| c.listen = vec!["nonsense".into()]),
            "network.listen[0]: invalid multiaddr \"nonsense\": invalid multiaddr",
        ),
        (
            Box::new(|c| c.listen = vec!["/ip4/127.0.0.1/udp/4001".into()]),
            "network.listen[0]: must be a TCP address like /ip4/0.0.0.0/tcp/30333 (got \"/ip4/127.0.0.1/udp/4001\")",
        ),
        (
            Box::new(|c| c.bootnodes = vec!["/ip4/10.0.0.1/tcp/4001".into()]),
            "network.bootnodes[0]: must end with /p2p/<peer id> (got \"/ip4/10.0.0.1/tcp/4001\")",
        ),
    ];
    for (tweak, want) in cases {
        let mut cfg = NetConfig::default();
        tweak(&mut cfg);
        assert_eq!(err(&cfg), want);
    }
    let cfg = NetConfig {
        max_peers: 0,
        ..NetConfig::default()
    };
    let e: ConfigError = cfg.validate().expect_err("invalid");
    assert_eq!(e.field, "network.max_peers");
}

#[test]
fn node_key_is_generated_once_then_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("keys/node.key");
    let k1 = load_or_generate_key(&path).expect("generate");
    let k2 = load_or_generate_key(&path).expect("load");
    assert_eq!(k1.public().to_peer_id(), k2.public().to_peer_id());
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(text.len(), 64);

    std::fs::write(&path, "zz").expect("write");
    match load_or_generate_key(&path) {
        Err(KeyError::File { reason, .. }) => assert!(reason.starts_with("not hex"), "{reason}"),
        other => panic!("expected a file error, got {other:?}"),
    }
    std::fs::write(&path, "abcd").expect("write");
    match load_or_generate_key(&path) {
        Err(KeyError::File { reason, .. }) => {
            assert_eq!(reason, "expected 32 bytes (64 hex chars), got 2")
        }
        other => panic!("expected a file error, got {other:?}"),
    }
}
