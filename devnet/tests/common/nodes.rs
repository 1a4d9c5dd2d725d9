//! Nodes without the launcher, for the merged-feed and dashboard tests: `tc-node init` solo
//! nodes ([`TestNode`]) and `tc-node testnet` networks ([`Testnet`]), started as real processes
//! (`tc-node` from [`node_bin`]).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::{free_ports, node_bin, wait_for};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("devnet/ has a parent")
        .to_path_buf()
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Set `key = value` on the line that assigns `key` in a generated node.toml (whatever its
/// default), failing when there is no such line.
pub fn set_config_value(config: &Path, key: &str, value: impl std::fmt::Display) {
    let text = std::fs::read_to_string(config).expect("read node.toml");
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.split('=').next().map(str::trim) == Some(key) {
                found = true;
                format!("{key} = {value}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(found, "no `{key} =` line in {}:\n{text}", config.display());
    std::fs::write(config, out.join("\n") + "\n").expect("write node.toml");
}

/// A node directory made by `tc-node init` (solo: its own one-member committee and chain).
pub struct TestNode {
    pub name: String,
    pub dir: tempfile::TempDir,
    pub addr: String,
}

impl TestNode {
    /// `tc-node init` with a short empty-block interval (≥ 500 ms, the config minimum) so blocks
    /// keep coming without load.
    pub fn init(name: &str, empty_block_interval_ms: u64) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let addr = format!("127.0.0.1:{}", free_ports(1, &[]));
        let out = Command::new(node_bin())
            .args(["init", "--name", name, "--http", &addr, "--dir"])
            .arg(dir.path())
            .output()
            .expect("tc-node init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let config = dir.path().join("node.toml");
        set_config_value(&config, "empty_block_interval_ms", empty_block_interval_ms);
        Self {
            name: name.to_owned(),
            dir,
            addr,
        }
    }

    /// The node's consensus public key (from its key file).
    pub fn public_key(&self) -> tc_types::PubKey {
        key_of(&self.dir.path().join("node.key"))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    /// `tc-node run`, waiting until its HTTP port answers (fails with its log if it exits).
    pub fn start(&self) -> Proc {
        start(
            &self.dir.path().join("node.toml"),
            &self.addr,
            &self.log_path(),
        )
    }
}

/// One node of a generated testnet.
pub struct NetNode {
    pub name: String,
    pub dir: PathBuf,
    pub addr: String,
}

impl NetNode {
    /// Its consensus public key.
    pub fn public_key(&self) -> tc_types::PubKey {
        key_of(&self.dir.join("node.key"))
    }

    /// `tc-node run`, waiting until JSON-RPC answers.
    pub fn start(&self) -> Proc {
        start(
            &self.dir.join("node.toml"),
            &self.addr,
            &self.dir.join("node.log"),
        )
    }
}

/// An N-node network with one shared genesis (`tc-node testnet`): the first `committee` nodes
/// are the genesis committee running PBFT over libp2p.
pub struct Testnet {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<NetNode>,
}

impl Testnet {
    pub fn generate(nodes: u16, committee: u16) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let http = free_ports(nodes, &[]);
        let p2p = free_ports(nodes, &[(http, nodes)]);
        let out = Command::new(node_bin())
            .arg("testnet")
            .arg("--dir")
            .arg(dir.path())
            .args(["--nodes", &nodes.to_string()])
            .args(["--committee", &committee.to_string()])
            .args(["--http-port", &http.to_string()])
            .args(["--p2p-port", &p2p.to_string()])
            .output()
            .expect("tc-node testnet");
        assert!(
            out.status.success(),
            "testnet failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let nodes = (0..nodes)
            .map(|i| NetNode {
                name: format!("node-{i}"),
                dir: dir.path().join(format!("node-{i}")),
                addr: format!("127.0.0.1:{}", http + i),
            })
            .collect();
        Self { dir, nodes }
    }
}

fn key_of(path: &Path) -> tc_types::PubKey {
    let text = std::fs::read_to_string(path).expect("node.key");
    let bytes = hex::decode(text.trim().trim_start_matches("0x")).expect("hex key");
    let seed: [u8; 32] = bytes.try_into().expect("32-byte key");
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    tc_types::PubKey::from(key.verifying_key().to_bytes())
}

/// `tc-node run --config config`, waiting until its JSON-RPC at `addr` answers (fails with its
/// log if it exits).
pub fn start(config: &Path, addr: &str, log_path: &Path) -> Proc {
    let log = std::fs::File::create(log_path).expect("log file");
    let child = Command::new(node_bin())
        .args(["run", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn tc-node");
    let mut p = Proc(child);
    let url = format!("http://{addr}");
    wait_for("JSON-RPC to answer", 30, || {
        if let Ok(Some(status)) = p.0.try_wait() {
            panic!(
                "tc-node exited with {status}:\n{}",
                std::fs::read_to_string(log_path).unwrap_or_default()
            );
        }
        ureq::post(&url)
            .send_json(
                serde_json::json!({"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}),
            )
            .ok()
    });
    p
}
