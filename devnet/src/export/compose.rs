//! docker-compose export: `docker-compose.yml` with one service per node and `node-i/` beside
//! it holding that node's `node.toml`, `node.key` (mode 0600) and `genesis.json`, bind-mounted
//! read-only at [`CONFIG_DIR`]; each node's database lives in a named volume `node-i-db`.
//! Services reach each other by service name on the project's default network.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CONFIG_DIR, DATA_DIR, HTTP_PORT, Network, P2P_PORT, write_file};

/// The compose file's name in the output directory.
pub const FILE: &str = "docker-compose.yml";
/// The compose project name.
pub const PROJECT: &str = "trueconsensus";

/// Host name of node `i` on the compose network: its service name.
pub fn host(i: usize) -> String {
    format!("node-{i}")
}

/// The part of the Compose Specification the export writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComposeFile {
    /// Project name.
    pub name: String,
    /// One service per node, by service name.
    pub services: BTreeMap<String, Service>,
    /// Named volumes (the databases).
    pub volumes: BTreeMap<String, Volume>,
}

/// One node's service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The node image (entrypoint `tc-node`).
    pub image: String,
    /// Arguments of `tc-node`.
    pub command: Vec<String>,
    /// uid 0: run as root in the container, so it can read the bind-mounted `node.key`
    /// whatever its owner on the host (mode 0600).
    pub user: String,
    /// Mounts (long syntax).
    pub volumes: Vec<Mount>,
    /// Published ports (long syntax: no `HOST:CONTAINER` strings that YAML 1.1 parsers read
    /// as base-60 numbers); the node's ports of the local devnet on the host.
    pub ports: Vec<Port>,
    /// Restart policy.
    pub restart: String,
    /// SIGTERM → SIGKILL grace period.
    pub stop_grace_period: String,
    /// Peer id and role, for people reading `docker inspect`.
    pub labels: BTreeMap<String, String>,
}

/// A service's mount.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    /// `bind` (a host path) or `volume` (a named volume).
    #[serde(rename = "type")]
    pub kind: String,
    /// Host path relative to the compose file, or the volume's name.
    pub source: String,
    /// Path in the container.
    pub target: String,
    /// Mounted read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// A published port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Port {
    /// Container port.
    pub target: u16,
    /// Host port.
    pub published: u16,
    /// `tcp`
    pub protocol: String,
}

/// A named volume with default settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Volume {}

/// The compose file for `net` (files of node `i` under `./node-i`).
pub fn compose_file(net: &Network, image: &str) -> ComposeFile {
    let mut services = BTreeMap::new();
    let mut volumes = BTreeMap::new();
    for (i, n) in net.nodes.iter().enumerate() {
        let db = format!("{}-db", n.name);
        let mut labels = BTreeMap::new();
        labels.insert("org.trueconsensus.node".into(), n.name.clone());
        labels.insert("org.trueconsensus.peer-id".into(), n.peer_id.clone());
        services.insert(
            host(i),
            Service {
                image: image.into(),
                command: vec![
                    "run".into(),
                    "--config".into(),
                    format!("{CONFIG_DIR}/node.toml"),
                ],
                user: "0".into(),
                volumes: vec![
                    Mount {
                        kind: "bind".into(),
                        source: format!("./{}", n.name),
                        target: CONFIG_DIR.into(),
                        read_only: true,
                    },
                    Mount {
                        kind: "volume".into(),
                        source: db.clone(),
                        target: DATA_DIR.into(),
                        read_only: false,
                    },
                ],
                ports: vec![
                    Port {
                        target: HTTP_PORT,
                        published: n.local_http.port(),
                        protocol: "tcp".into(),
                    },
                    Port {
                        target: P2P_PORT,
                        published: n.local_p2p,
                        protocol: "tcp".into(),
                    },
                ],
                restart: "unless-stopped".into(),
                stop_grace_period: "30s".into(),
                labels,
            },
        );
        volumes.insert(db, Volume {});
    }
    ComposeFile {
        name: PROJECT.into(),
        services,
        volumes,
    }
}

/// Write `docker-compose.yml` and every `node-i/` under `out`.
pub fn write(net: &Network, image: &str, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for n in &net.nodes {
        let d = out.join(&n.name);
        std::fs::create_dir_all(&d).map_err(|e| anyhow::anyhow!("create {}: {e}", d.display()))?;
        for (name, text, private) in [
            ("node.toml", n.config_toml.clone(), false),
            ("node.key", format!("{}\n", n.key), true),
            ("genesis.json", net.genesis.clone(), false),
        ] {
            let p = d.join(name);
            write_file(&p, &text, private)?;
            files.push(p);
        }
    }
    let path = out.join(FILE);
    write_file(
        &path,
        &serde_yaml_ng::to_string(&compose_file(net, image))?,
        false,
    )?;
    files.push(path);
    Ok(files)
}
