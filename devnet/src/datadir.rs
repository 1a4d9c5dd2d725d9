//! The data dir: generated once (`tc_node::testnet::generate`), then reused so that `up` after
//! `down` resumes the same chain. Layout:
//!
//! ```text
//! <dir>/devnet.toml      the spec the chain was generated from (for reference)
//! <dir>/devnet.pid       pid of the running launcher (removed when it exits)
//! <dir>/admin.token      bearer token of the admin API (new on every start, mode 0600)
//! <dir>/node-admin.token bearer token of every node's fault API (`api.admin_token` in each
//!                        node.toml; made once, kept, mode 0600)
//! <dir>/node-i/          node.key genesis.json node.toml db/ node.log
//! ```
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tc_node::config::NodeConfig;
use tc_node::keys::ConsensusKey;

use crate::spec::DevnetSpec;

/// The nodes' fault-API token, in the data dir.
pub const NODE_TOKEN_FILE: &str = "node-admin.token";

/// Static facts about one node of the devnet.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// `node-i`.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its node.toml.
    pub config: PathBuf,
    /// JSON-RPC / GraphQL / events address.
    pub http: SocketAddr,
    /// libp2p listen multiaddr.
    pub p2p: String,
    /// Consensus public key (hex).
    pub key: String,
    /// libp2p peer id (derived from the consensus key).
    pub peer_id: String,
    /// Bearer token of its fault API (`api.admin_token`; empty = off).
    pub admin_token: String,
}

impl NodeInfo {
    /// Where the launcher writes the node's stdout and stderr.
    pub fn log(&self) -> PathBuf {
        self.dir.join("node.log")
    }
}

/// Is `dir` a generated devnet (node-0 has a config)?
pub fn is_generated(dir: &Path) -> bool {
    dir.join("node-0").join("node.toml").is_file()
}

/// Remove a data dir for `--fresh`, refusing anything that does not look like one.
pub fn wipe(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let looks_like_devnet = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(Result::ok)
        .all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("node-")
                || matches!(
                    name.as_str(),
                    "devnet.toml" | "devnet.pid" | "admin.token" | NODE_TOKEN_FILE
                )
        });
    if !looks_like_devnet {
        bail!(
            "--fresh: {} holds files a devnet does not write; refusing to delete it (remove it yourself or pick another --dir)",
            dir.display()
        );
    }
    std::fs::remove_dir_all(dir).with_context(|| format!("remove {}", dir.display()))
}

/// Write `text` to `path`, readable by the owner only (0600).
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("write {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("write {}", path.display()))
}

/// A token that can stand in a TOML basic string as is.
fn plain_token(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

/// The nodes' fault-API token from `<dir>/node-admin.token`; when that file is missing, `seed`
/// (a token already in the node configs) or a new random one, written there.
fn node_token(dir: &Path, seed: Option<&str>) -> anyhow::Result<String> {
    let path = dir.join(NODE_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let t = text.trim();
            if !plain_token(t) {
                bail!(
                    "{}: expected one token of printable characters without quotes or backslashes; delete the file to get a new one",
                    path.display()
                );
            }
            Ok(t.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let t = seed
                .filter(|s| plain_token(s))
                .map_or_else(|| hex::encode(rand::random::<[u8; 32]>()), str::to_string);
            write_private(&path, &format!("{t}\n"))?;
            Ok(t)
        }
        Err(e) => Err(e).with_context(|| format!("read {}", path.display())),
    }
}

/// `node.toml` text with `[api] admin_token` set to `token` (the line replaced, or added under
/// `[api]`, or an `[api]` table appended); other lines are kept as they are.
pub fn with_admin_token(text: &str, token: &str) -> String {
    let line = format!("admin_token = \"{token}\"");
    let mut out: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut api_header: Option<usize> = None;
    let mut done = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with('[') {
            section = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            if section == "api" {
                api_header = Some(out.len());
            }
        } else if section == "api"
            && !done
            && t.strip_prefix("admin_token")
                .is_some_and(|r| r.trim_start().starts_with('='))
        {
            out.push(line.clone());
            done = true;
            continue;
        }
        out.push(l.to_string());
    }
    if !done {
        match api_header {
            Some(i) => out.insert(i + 1, line),
            None => {
                out.push(String::new());
                out.push("[api]".into());
                out.push(line);
            }
        }
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// Give every node of a generated devnet the fault-API token of `<dir>/node-admin.token`
/// (created on first use): a node.toml with another (e.g. an empty) `admin_token` gets that
/// line rewritten. Returns the nodes as now configured and the names of those rewritten.
pub fn ensure_node_token(
    dir: &Path,
    nodes: Vec<NodeInfo>,
) -> anyhow::Result<(Vec<NodeInfo>, Vec<String>)> {
    let seed = nodes
        .first()
        .map(|n| n.admin_token.clone())
        .filter(|t| !t.is_empty());
    let token = node_token(dir, seed.as_deref())?;
    let mut rewritten = Vec::new();
    let mut out = Vec::with_capacity(nodes.len());
    for n in nodes {
        if n.admin_token == token {
            out.push(n);
            continue;
        }
        let text = std::fs::read_to_string(&n.config)
            .with_context(|| format!("read {}", n.config.display()))?;
        let mut new = with_admin_token(&text, &token);
        // Backstop for layouts the line edit does not understand (dotted keys, inline tables):
        // re-serialise the whole config.
        if NodeConfig::parse(&new)
            .map(|c| c.api.admin_token)
            .ok()
            .as_deref()
            != Some(&token)
        {
            let mut cfg = NodeConfig::parse(&text)
                .with_context(|| format!("parse {}", n.config.display()))?;
            cfg.api.admin_token = token.clone();
            new = cfg.to_toml()?;
        }
        std::fs::write(&n.config, new).with_context(|| format!("write {}", n.config.display()))?;
        rewritten.push(n.name.clone());
        out.push(node_info(&n.dir)?);
    }
    Ok((out, rewritten))
}

/// Generate keys, genesis and configs for a new devnet (every node with the fault-API token
/// of `<dir>/node-admin.token`).
pub fn generate(dir: &Path, spec: &DevnetSpec) -> anyhow::Result<Vec<NodeInfo>> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let mut testnet = spec.testnet();
    testnet.base.api.admin_token = node_token(dir, None)?;
    tc_node::testnet::generate(dir, &testnet)?;
    std::fs::write(dir.join("devnet.toml"), spec.to_toml()?)
        .with_context(|| format!("write {}", dir.join("devnet.toml").display()))?;
    load(dir)
}

fn node_index(name: &str) -> Option<usize> {
    name.strip_prefix("node-")?.parse().ok()
}

/// The nodes of a generated devnet, by index.
pub fn load(dir: &Path) -> anyhow::Result<Vec<NodeInfo>> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|e| Some((node_index(&e.file_name().to_string_lossy())?, e.path())))
        .filter(|(_, p)| p.join("node.toml").is_file())
        .collect();
    found.sort();
    for (want, (got, path)) in found.iter().enumerate() {
        if *got != want {
            bail!(
                "{}: node directories must be node-0, node-1, … without gaps; found {} where node-{want} was expected (start over with --fresh)",
                dir.display(),
                path.display()
            );
        }
    }
    found.into_iter().map(|(_, p)| node_info(&p)).collect()
}

/// Read one node's directory.
pub fn node_info(dir: &Path) -> anyhow::Result<NodeInfo> {
    let config = dir.join("node.toml");
    let cfg = NodeConfig::load(&config)?;
    let key = ConsensusKey::load(&cfg.node.key_file)
        .with_context(|| format!("key of {}", dir.display()))?;
    let peer_id = tc_net::peer_id_of_ed25519(&key.public().0)
        .with_context(|| format!("key of {} is not a valid ed25519 key", dir.display()))?
        .to_string();
    Ok(NodeInfo {
        name: cfg.node.name.clone(),
        dir: dir.into(),
        config,
        http: cfg.api.http,
        p2p: cfg.network.listen.first().cloned().unwrap_or_default(),
        key: key.public().to_string(),
        peer_id,
        admin_token: cfg.api.admin_token.clone(),
    })
}

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Write the files of one more node (index `existing.len()`): a new key, node-0's genesis,
/// node-0's config with its own name, ports and the devnet's bootnodes. It starts outside the
/// committee, syncs, follows, mines, and may be elected later.
pub fn add_node(
    dir: &Path,
    existing: &[NodeInfo],
    node_http: u16,
    node_p2p: u16,
) -> anyhow::Result<NodeInfo> {
    let first = existing
        .first()
        .context("the devnet has no node to copy the genesis and config from")?;
    let index = existing.len();
    let name = format!("node-{index}");
    let ndir = dir.join(&name);
    if ndir.exists() {
        bail!("{} already exists", ndir.display());
    }
    let port = |base: u16| -> anyhow::Result<u16> {
        u16::try_from(usize::from(base) + index)
            .map_err(|_| anyhow::anyhow!("port {base} + {index} is above 65535"))
    };
    let (http_port, p2p_port) = (port(node_http)?, port(node_p2p)?);
    for (what, p) in [("HTTP", http_port), ("p2p", p2p_port)] {
        if !port_free(p) {
            bail!("{what} port {p} for {name} is in use");
        }
    }
    let text = std::fs::read_to_string(&first.config)
        .with_context(|| format!("read {}", first.config.display()))?;
    let mut cfg = NodeConfig::parse(&text)?;
    let mut boot: Vec<String> = Vec::new();
    for n in existing {
        let t = std::fs::read_to_string(&n.config)
            .with_context(|| format!("read {}", n.config.display()))?;
        for b in NodeConfig::parse(&t)?.network.bootnodes {
            if !boot.contains(&b) {
                boot.push(b);
            }
        }
    }
    cfg.node.name = name.clone();
    cfg.api.http = SocketAddr::from(([127, 0, 0, 1], http_port));
    cfg.network.listen = vec![format!("/ip4/127.0.0.1/tcp/{p2p_port}")];
    cfg.network.bootnodes = boot;
    cfg.validate()?;
    std::fs::create_dir_all(&ndir).with_context(|| format!("create {}", ndir.display()))?;
    let written = (|| -> anyhow::Result<()> {
        ConsensusKey::generate().save(&ndir.join("node.key"))?;
        std::fs::copy(first.dir.join("genesis.json"), ndir.join("genesis.json"))
            .context("copy genesis.json")?;
        std::fs::write(ndir.join("node.toml"), cfg.to_toml()?).context("write node.toml")?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&ndir);
        return Err(e);
    }
    node_info(&ndir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_load_and_add() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("net");
        let spec = DevnetSpec {
            nodes: 3,
            committee: 2,
            ..DevnetSpec::default()
        };
        let nodes = generate(&dir, &spec).expect("generate");
        assert!(is_generated(&dir));
        assert_eq!(nodes.len(), 3);
        // Every node has the fault-API token of node-admin.token.
        let token = std::fs::read_to_string(dir.join(NODE_TOKEN_FILE)).expect("token");
        assert_eq!(token.trim().len(), 64);
        assert!(nodes.iter().all(|n| n.admin_token == token.trim()));
        assert_eq!(
            nodes[0].peer_id,
            tc_net::peer_id_of_ed25519(
                &ConsensusKey::load(&nodes[0].dir.join("node.key"))
                    .expect("key")
                    .public()
                    .0
            )
            .expect("peer id")
            .to_string()
        );
        assert_eq!(nodes[2].name, "node-2");
        assert_eq!(nodes[2].http.port(), 8548);
        let again = load(&dir).expect("load");
        assert_eq!(again[1].key, nodes[1].key);
        // The 4th node gets base + 3: bases three below two free ports.
        let (a, b) = (
            std::net::TcpListener::bind("127.0.0.1:0").expect("port"),
            std::net::TcpListener::bind("127.0.0.1:0").expect("port"),
        );
        let port = |l: &std::net::TcpListener| l.local_addr().expect("addr").port() - 3;
        let (http_base, p2p_base) = (port(&a), port(&b));
        drop((a, b));
        let added = add_node(&dir, &nodes, http_base, p2p_base).expect("add");
        assert_eq!(added.name, "node-3");
        assert_eq!(load(&dir).expect("load").len(), 4);
        let cfg = NodeConfig::load(&added.config).expect("config");
        assert_eq!(
            cfg.network.bootnodes.len(),
            2,
            "{:?}",
            cfg.network.bootnodes
        );
        assert_eq!(
            std::fs::read(added.dir.join("genesis.json")).expect("genesis"),
            std::fs::read(nodes[0].dir.join("genesis.json")).expect("genesis")
        );
        assert_eq!(added.admin_token, token.trim());
        // An older devnet without tokens: `up` writes the file's token into each node.toml.
        for n in &nodes {
            let text = std::fs::read_to_string(&n.config).expect("read");
            let cleared =
                with_admin_token(&text, "x").replace("admin_token = \"x\"", "admin_token = \"\"");
            std::fs::write(&n.config, cleared).expect("write");
        }
        let loaded = load(&dir).expect("load");
        assert_eq!(loaded[1].admin_token, "");
        let (fixed, rewritten) = ensure_node_token(&dir, loaded).expect("ensure");
        assert_eq!(rewritten, ["node-0", "node-1", "node-2"]);
        assert!(fixed.iter().all(|n| n.admin_token == token.trim()));
        let (_, rewritten) = ensure_node_token(&dir, fixed).expect("again");
        assert!(rewritten.is_empty());
        // --fresh refuses a directory with foreign files.
        std::fs::write(dir.join("notes.txt"), "mine").expect("write");
        assert!(wipe(&dir).is_err());
        std::fs::remove_file(dir.join("notes.txt")).expect("rm");
        wipe(&dir).expect("wipe");
        assert!(!dir.exists());
    }

    #[test]
    fn admin_token_line_is_replaced_or_added() {
        let t = "[node]\nname = \"n\"\n\n[api]\nhttp = \"127.0.0.1:1\"\nadmin_token = \"\"\n\n[x]\nadmin_token = 1\n";
        assert_eq!(
            with_admin_token(t, "ab"),
            "[node]\nname = \"n\"\n\n[api]\nhttp = \"127.0.0.1:1\"\nadmin_token = \"ab\"\n\n[x]\nadmin_token = 1\n"
        );
        assert_eq!(
            with_admin_token("[api]\nenabled = true\n", "ab"),
            "[api]\nadmin_token = \"ab\"\nenabled = true\n"
        );
        assert_eq!(
            with_admin_token("[node]\nname = \"n\"", "ab"),
            "[node]\nname = \"n\"\n\n[api]\nadmin_token = \"ab\"\n"
        );
        assert!(plain_token("0a1b") && !plain_token("") && !plain_token("a\"b"));
    }
}
