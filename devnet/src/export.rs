//! `devnet export`: the same network (genesis, keys, node configs) as docker-compose or
//! Kubernetes manifests, for running it on other machines.
//!
//! The network comes from a devnet data dir (`--dir`, generated there first exactly as `devnet
//! up` would when it is not generated yet) or, without `--dir`, from a fresh generation in a
//! temporary directory. Every node's `node.toml` is rewritten for a container
//! ([`container_config`]): it listens on `0.0.0.0` (HTTP [`HTTP_PORT`], libp2p [`P2P_PORT`]),
//! reads its files from [`CONFIG_DIR`], keeps its database under [`DATA_DIR`], names its
//! bootnodes by host name (`/dns4/<host>/tcp/30303/p2p/<peer id>`: the compose service or the
//! StatefulSet pod) and has the fault API off (no launcher runs there).
//!
//! - [`compose`]: `docker-compose.yml` + one directory of files per node (bind-mounted)
//! - [`k8s`]: `trueconsensus.yaml`: ConfigMap, Secret, headless Service, RPC Service, StatefulSet
pub mod compose;
pub mod k8s;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use tc_node::config::NodeConfig;

use crate::datadir::{self, NodeInfo};
use crate::spec::DevnetSpec;

/// The node's HTTP port (JSON-RPC, GraphQL, events) inside its container.
pub const HTTP_PORT: u16 = 8545;
/// The node's libp2p port inside its container.
pub const P2P_PORT: u16 = 30303;
/// Where a container finds `node.toml`, `node.key` and `genesis.json`.
pub const CONFIG_DIR: &str = "/etc/trueconsensus";
/// Where a container keeps its database (a volume).
pub const DATA_DIR: &str = "/var/lib/trueconsensus";
/// Default image name (build it with `docker build -f devnet/docker/Dockerfile -t … .`).
pub const DEFAULT_IMAGE: &str = "trueconsensus/tc-node:latest";

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// docker-compose.yml + per-node directories.
    Compose,
    /// Kubernetes manifests.
    K8s,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "compose" => Ok(Self::Compose),
            "k8s" | "kubernetes" => Ok(Self::K8s),
            other => Err(format!(
                "unknown export format {other:?}: expected compose or k8s"
            )),
        }
    }
}

/// What `devnet export` was asked to do.
#[derive(Clone, Debug)]
pub struct Export {
    /// compose or k8s.
    pub format: Format,
    /// Output directory (created; files a previous export wrote are replaced).
    pub out: PathBuf,
    /// Container image of the node.
    pub image: String,
    /// The devnet data dir to export; `None` = generate a new network in a temp dir.
    pub dir: Option<PathBuf>,
    /// The spec used to generate (when the data dir is not generated yet, or without `dir`).
    pub spec: DevnetSpec,
}

/// One node of the network as the export sees it.
#[derive(Clone, Debug)]
pub struct Member {
    /// `node-i`.
    pub name: String,
    /// Its config for a container (paths, addresses and bootnodes rewritten).
    pub config: NodeConfig,
    /// `node.toml` text of `config`.
    pub config_toml: String,
    /// The node's consensus key file (hex).
    pub key: String,
    /// libp2p peer id.
    pub peer_id: String,
    /// The HTTP and p2p addresses it has in the local devnet (host ports of the compose file).
    pub local_http: SocketAddr,
    /// Its local p2p port.
    pub local_p2p: u16,
}

/// The network to export: nodes and the shared genesis.
#[derive(Clone, Debug)]
pub struct Network {
    /// Nodes in index order.
    pub nodes: Vec<Member>,
    /// `genesis.json` bytes (identical for every node).
    pub genesis: String,
}

impl Network {
    /// SHA-256 of the genesis file, hex.
    pub fn genesis_sha256(&self) -> String {
        hex::encode(Sha256::digest(self.genesis.as_bytes()))
    }
}

/// A bootnode multiaddr's peer id (the last `/p2p/<id>` component).
fn peer_of(addr: &str) -> Option<&str> {
    let (_, id) = addr.rsplit_once("/p2p/")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// `cfg` for a container: files under [`CONFIG_DIR`], database under [`DATA_DIR`], listening on
/// all interfaces, bootnodes by `host(i)` of the node with their peer id, fault API off.
pub fn container_config(
    cfg: &NodeConfig,
    peers: &BTreeMap<String, usize>,
    host: &dyn Fn(usize) -> String,
) -> anyhow::Result<NodeConfig> {
    let mut c = cfg.clone();
    c.node.genesis = Path::new(CONFIG_DIR).join("genesis.json");
    c.node.key_file = Path::new(CONFIG_DIR).join("node.key");
    c.storage.path = Path::new(DATA_DIR).join("db");
    c.api.http = SocketAddr::from(([0, 0, 0, 0], HTTP_PORT));
    c.api.admin_token = String::new();
    c.network.listen = vec![format!("/ip4/0.0.0.0/tcp/{P2P_PORT}")];
    c.network.bootnodes = cfg
        .network
        .bootnodes
        .iter()
        .map(|b| {
            let peer = peer_of(b).with_context(|| {
                format!("{}: bootnode {b:?} has no /p2p/<peer id>", c.node.name)
            })?;
            let index = peers.get(peer).with_context(|| {
                format!(
                    "{}: bootnode {b:?} is not a node of this devnet (no node has peer id {peer})",
                    c.node.name
                )
            })?;
            Ok(format!("/dns4/{}/tcp/{P2P_PORT}/p2p/{peer}", host(*index)))
        })
        .collect::<anyhow::Result<_>>()?;
    c.validate()
        .with_context(|| format!("exported config of {}", c.node.name))?;
    Ok(c)
}

/// Read the nodes of a generated data dir, with configs rewritten by [`container_config`].
pub fn network(dir: &Path, host: &dyn Fn(usize) -> String) -> anyhow::Result<Network> {
    let infos: Vec<NodeInfo> = datadir::load(dir)?;
    let first = infos
        .first()
        .with_context(|| format!("{}: no node-0/node.toml", dir.display()))?;
    let genesis_path = first.dir.join("genesis.json");
    let genesis = std::fs::read_to_string(&genesis_path)
        .with_context(|| format!("read {}", genesis_path.display()))?;
    let peers: BTreeMap<String, usize> = infos
        .iter()
        .enumerate()
        .map(|(i, n)| (n.peer_id.clone(), i))
        .collect();
    let mut nodes = Vec::with_capacity(infos.len());
    for n in &infos {
        let own = n.dir.join("genesis.json");
        let g = std::fs::read_to_string(&own).with_context(|| format!("read {}", own.display()))?;
        if g != genesis {
            bail!(
                "{} differs from {}: the nodes of one network share one genesis",
                own.display(),
                genesis_path.display()
            );
        }
        // Parse the text (not `NodeConfig::load`): relative paths stay relative.
        let text = std::fs::read_to_string(&n.config)
            .with_context(|| format!("read {}", n.config.display()))?;
        let cfg = NodeConfig::parse(&text).with_context(|| format!("{}", n.config.display()))?;
        let key_path = n.dir.join(&cfg.node.key_file);
        let key = std::fs::read_to_string(&key_path)
            .with_context(|| format!("read {}", key_path.display()))?;
        let config = container_config(&cfg, &peers, host)?;
        let local_p2p = crate::up::tcp_port(&n.p2p)
            .with_context(|| format!("{}: listen address {:?} has no TCP port", n.name, n.p2p))?;
        nodes.push(Member {
            name: n.name.clone(),
            config_toml: config.to_toml()?,
            config,
            key: key.trim().to_string(),
            peer_id: n.peer_id.clone(),
            local_http: n.http,
            local_p2p,
        });
    }
    Ok(Network { nodes, genesis })
}

/// Write `text` to `path` (0644, or 0600 for secrets).
pub(crate) fn write_file(path: &Path, text: &str, private: bool) -> anyhow::Result<()> {
    if private {
        datadir::write_private(path, text)
    } else {
        std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
    }
}

/// What [`run`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The data dir the network came from (a temp dir is gone by now).
    pub source: Option<PathBuf>,
    /// Whether the network was generated now (else an existing devnet was read as it is).
    pub generated: bool,
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Nodes exported.
    pub nodes: usize,
    /// SHA-256 of genesis.json.
    pub genesis_sha256: String,
}

/// Generate (or read) the network and write the manifests.
pub fn run(e: &Export) -> anyhow::Result<Written> {
    if e.image.trim().is_empty() || e.image.contains(char::is_whitespace) {
        bail!(
            "--image must be an image reference such as {DEFAULT_IMAGE} (got {:?})",
            e.image
        );
    }
    let tmp;
    let mut generated = true;
    let (dir, source) = match &e.dir {
        Some(d) => {
            if datadir::is_generated(d) {
                generated = false;
            } else {
                datadir::generate(d, &e.spec)?;
            }
            (d.clone(), Some(d.clone()))
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("devnet-export-")
                .tempdir()
                .context("create a temporary directory")?;
            datadir::generate(tmp.path(), &e.spec)?;
            (tmp.path().to_path_buf(), None)
        }
    };
    std::fs::create_dir_all(&e.out).with_context(|| format!("create {}", e.out.display()))?;
    let (net, files) = match e.format {
        Format::Compose => {
            let net = network(&dir, &compose::host)?;
            let files = compose::write(&net, &e.image, &e.out)?;
            (net, files)
        }
        Format::K8s => {
            let net = network(&dir, &k8s::host)?;
            let files = k8s::write(&net, &e.image, &e.out)?;
            (net, files)
        }
    };
    Ok(Written {
        source,
        generated,
        files,
        nodes: net.nodes.len(),
        genesis_sha256: net.genesis_sha256(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiaddr_parts() {
        assert_eq!(peer_of("/ip4/1.2.3.4/tcp/1/p2p/12D3Koo"), Some("12D3Koo"));
        assert_eq!(peer_of("/ip4/1.2.3.4/tcp/1"), None);
        assert!("yaml".parse::<Format>().is_err());
        assert_eq!("k8s".parse::<Format>(), Ok(Format::K8s));
    }

    #[test]
    fn foreign_bootnode_is_refused() {
        let mut cfg = NodeConfig::default();
        cfg.network.bootnodes = vec![
            "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo".into(),
        ];
        let err = container_config(&cfg, &BTreeMap::new(), &|i| format!("node-{i}"))
            .expect_err("unknown peer");
        assert!(
            err.to_string().contains("is not a node of this devnet"),
            "{err}"
        );
    }
}
