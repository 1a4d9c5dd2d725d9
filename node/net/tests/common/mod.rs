//! Test helpers: nodes on 127.0.0.1 with fast timers, event waits with deadlines.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::time::Duration;

use tc_net::{Keypair, Multiaddr, NetConfig, NetEvent, Network, NetworkHandle, PeerId};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// Default deadline for waits.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tc_net=info".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Deterministic key from a seed byte.
pub fn key(seed: u8) -> Keypair {
    let mut secret = [seed; 32];
    secret[0] = 0x42;
    tc_net::keypair_from_secret(secret).expect("valid secret")
}

/// Config with fast timers, listening on a free loopback port.
pub fn test_config(bootnodes: Vec<String>) -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        bootnodes,
        gossip_heartbeat_ms: 100,
        request_timeout_ms: 5_000,
        ping_interval_ms: 200,
        discovery_interval_ms: 300,
        ..NetConfig::default()
    }
}

pub struct TestNode {
    pub handle: NetworkHandle,
    pub events: mpsc::Receiver<NetEvent>,
    /// Events received before the helper returned them.
    pub backlog: VecDeque<NetEvent>,
    pub peer: PeerId,
    pub addr: Multiaddr,
}

impl TestNode {
    pub async fn start(config: NetConfig, key: Keypair) -> TestNode {
        let (handle, mut events) = Network::start(&config, key).expect("network starts");
        let peer = handle.local_peer_id();
        let mut backlog = VecDeque::new();
        let addr = timeout(DEADLINE, async {
            loop {
                match events.recv().await {
                    Some(NetEvent::ListenAddr { addr }) => break addr,
                    // Events that raced ahead (e.g. a fast PeerConnected) are kept for waits.
                    Some(ev) => backlog.push_back(ev),
                    None => panic!("event stream closed before listening"),
                }
            }
        })
        .await
        .expect("listen address within deadline");
        TestNode {
            handle,
            events,
            backlog,
            peer,
            addr,
        }
    }

    /// `addr/p2p/peer`, for use as a bootnode.
    pub fn p2p_addr(&self) -> String {
        format!("{}/p2p/{}", self.addr, self.peer)
    }

    /// Consume events until `pred` returns `Some`, or panic at `deadline`.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        deadline: Duration,
        mut pred: impl FnMut(&NetEvent) -> Option<T>,
    ) -> T {
        let end = Instant::now() + deadline;
        while let Some(ev) = self.backlog.pop_front() {
            if let Some(t) = pred(&ev) {
                return t;
            }
        }
        loop {
            let ev = tokio::time::timeout_at(end, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: not seen within {deadline:?}"))
                .unwrap_or_else(|| panic!("{what}: event stream closed"));
            if let Some(t) = pred(&ev) {
                return t;
            }
        }
    }

    /// Consume events for `window`; return those matching `pred`.
    pub async fn collect_for<T>(
        &mut self,
        window: Duration,
        mut pred: impl FnMut(&NetEvent) -> Option<T>,
    ) -> Vec<T> {
        let end = Instant::now() + window;
        let mut out: Vec<T> = self.backlog.drain(..).filter_map(|ev| pred(&ev)).collect();
        while let Ok(Some(ev)) = tokio::time::timeout_at(end, self.events.recv()).await {
            if let Some(t) = pred(&ev) {
                out.push(t);
            }
        }
        out
    }

    /// Drop buffered events.
    pub fn drain(&mut self) {
        self.backlog.clear();
        while self.events.try_recv().is_ok() {}
    }
}

/// Start node 0 as the bootnode and `n - 1` nodes knowing only node 0.
pub async fn cluster(n: u8, tweak: impl Fn(u8, &mut NetConfig)) -> Vec<TestNode> {
    let mut cfg0 = test_config(Vec::new());
    tweak(0, &mut cfg0);
    let boot = TestNode::start(cfg0, key(0)).await;
    let boot_addr = boot.p2p_addr();
    let mut nodes = vec![boot];
    for i in 1..n {
        let mut cfg = test_config(vec![boot_addr.clone()]);
        tweak(i, &mut cfg);
        nodes.push(TestNode::start(cfg, key(i)).await);
    }
    nodes
}

/// Poll `peers()` until every node is connected to all others.
pub async fn wait_full_mesh(nodes: &[TestNode]) {
    let n = nodes.len();
    timeout(DEADLINE, async {
        loop {
            let mut done = true;
            for node in nodes {
                let peers = node.handle.peers().await.expect("peers");
                let others = nodes.iter().filter(|o| o.peer != node.peer);
                if others
                    .clone()
                    .any(|o| !peers.iter().any(|p| p.id == o.peer))
                    || peers.len() < n - 1
                {
                    done = false;
                }
            }
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("all nodes discover each other within the deadline");
}
