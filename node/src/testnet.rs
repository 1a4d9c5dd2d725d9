//! Generate the files of an N-node local network: one consensus key, config and copy of a
//! shared genesis per node. The first `committee_size` nodes form the genesis committee; nodes
//! 0 and 1 are the bootnodes of everyone else. Used by `tc-node testnet`, the devnet launcher
//! and the multi-process tests.
use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use tc_types::{Member, PubKey};

use crate::config::NodeConfig;
use crate::genesis::{Genesis, HybridParams, bank_alloc};
use crate::keys::{ConsensusKey, dev_signers};

/// What to generate.
#[derive(Clone, Debug)]
pub struct TestnetSpec {
    /// Number of nodes (≥ 1).
    pub nodes: usize,
    /// Genesis committee size (1..=nodes); also the elected committee size.
    pub committee_size: usize,
    /// HTTP port of node i = `http_port + i`.
    pub http_port: u16,
    /// libp2p TCP port of node i = `p2p_port + i`.
    pub p2p_port: u16,
    /// Election and rotation rules (`committee_size` is overridden by the field above).
    pub hybrid: HybridParams,
    /// Template for every node's config (name, ports, paths and bootnodes are filled in).
    pub base: NodeConfig,
    /// Dev-mnemonic accounts funded at genesis (indices 0..n).
    pub dev_accounts: u32,
    /// Initial snail difficulty; 0 = what the nodes' combined hash-rate cap finds once per
    /// `snail.target_interval_ms`.
    pub snail_difficulty: u64,
}

impl Default for TestnetSpec {
    fn default() -> Self {
        Self {
            nodes: 4,
            committee_size: 4,
            http_port: 8545,
            p2p_port: 30333,
            hybrid: HybridParams::default(),
            base: NodeConfig::default(),
            dev_accounts: 10,
            snail_difficulty: 0,
        }
    }
}

/// One generated node.
#[derive(Clone, Debug)]
pub struct GeneratedNode {
    /// Name (`node-i`).
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its node.toml.
    pub config: PathBuf,
    /// JSON-RPC address.
    pub http: std::net::SocketAddr,
    /// libp2p listen address.
    pub p2p: String,
    /// Consensus key (also its libp2p identity).
    pub key: PubKey,
    /// Member of the genesis committee.
    pub genesis_member: bool,
}

pub use crate::keys::coinbase_of;

/// Write `dir/node-i/{node.key, genesis.json, node.toml}` for every node.
pub fn generate(dir: &Path, spec: &TestnetSpec) -> anyhow::Result<Vec<GeneratedNode>> {
    anyhow::ensure!(spec.nodes >= 1, "--nodes must be at least 1");
    anyhow::ensure!(
        (1..=spec.nodes).contains(&spec.committee_size),
        "--committee must be between 1 and the number of nodes ({}), got {}",
        spec.nodes,
        spec.committee_size
    );
    let port = |base: u16, i: usize| -> anyhow::Result<u16> {
        u16::try_from(usize::from(base) + i)
            .map_err(|_| anyhow::anyhow!("port {base} + {i} is above 65535"))
    };
    let keys: Vec<ConsensusKey> = (0..spec.nodes).map(|_| ConsensusKey::generate()).collect();
    let mut members: Vec<Member> = keys
        .iter()
        .take(spec.committee_size)
        .map(|k| Member {
            key: k.public(),
            coinbase: coinbase_of(&k.public()),
            weight: 1,
        })
        .collect();
    members.sort_by_key(|m| m.key);
    let accounts: Vec<Address> = dev_signers(spec.dev_accounts)?
        .iter()
        .map(|s| s.address())
        .collect();
    let (bank_addr, bank) = bank_alloc()?;
    let mut genesis = Genesis::dev(&accounts, [(bank_addr, bank)].into(), members);
    genesis.snail_difficulty = if spec.snail_difficulty == 0 {
        let total = spec
            .base
            .snail
            .hashrate_cap
            .saturating_mul(spec.nodes as u64);
        (total.saturating_mul(spec.base.snail.target_interval_ms) / 1000).max(1)
    } else {
        spec.snail_difficulty
    };
    genesis.hybrid = HybridParams {
        committee_size: spec.committee_size,
        ..spec.hybrid.clone()
    };
    genesis.validate()?;
    let boot: Vec<String> = keys
        .iter()
        .enumerate()
        .take(2)
        .map(|(i, k)| -> anyhow::Result<String> {
            let peer = tc_net::peer_id_of_ed25519(&k.public().0)
                .ok_or_else(|| anyhow::anyhow!("generated key is not a valid ed25519 key"))?;
            Ok(format!(
                "/ip4/127.0.0.1/tcp/{}/p2p/{peer}",
                port(spec.p2p_port, i)?
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut out = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let name = format!("node-{i}");
        let ndir = dir.join(&name);
        std::fs::create_dir_all(&ndir)?;
        key.save(&ndir.join("node.key"))?;
        genesis.save(&ndir.join("genesis.json"))?;
        let mut cfg = spec.base.clone();
        cfg.node.name = name.clone();
        cfg.node.genesis = "genesis.json".into();
        cfg.node.key_file = "node.key".into();
        cfg.storage.path = "db".into();
        let http = std::net::SocketAddr::from(([127, 0, 0, 1], port(spec.http_port, i)?));
        cfg.api.http = http;
        let p2p = format!("/ip4/127.0.0.1/tcp/{}", port(spec.p2p_port, i)?);
        cfg.network.listen = vec![p2p.clone()];
        cfg.network.bootnodes = boot
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, b)| b.clone())
            .collect();
        cfg.validate()?;
        let config = ndir.join("node.toml");
        std::fs::write(&config, cfg.to_toml()?)?;
        out.push(GeneratedNode {
            name,
            dir: ndir,
            config,
            http,
            p2p,
            key: key.public(),
            genesis_member: i < spec.committee_size,
        });
    }
    Ok(out)
}
