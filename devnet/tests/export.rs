//! `devnet export` through the real binary: the YAML it writes is parsed back and checked —
//! every service/pod has its key and config, bootnodes name hosts present in the file with the
//! right peer ids, ports are unique, the genesis is the devnet's (same SHA-256). `docker
//! compose config` validates the compose file when the compose plugin is installed (skipped
//! with a printed reason otherwise). The Kubernetes manifests are checked structurally only:
//! `kubectl` validates against a cluster's API and there is none offline.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use tc_devnet::export::{CONFIG_DIR, DATA_DIR, HTTP_PORT, P2P_PORT, compose, k8s};
use tc_devnet::spec::DevnetSpec;
use tc_node::config::NodeConfig;
use tc_node::keys::ConsensusKey;

const DEVNET: &str = env!("CARGO_BIN_EXE_devnet");

fn devnet(args: &[&str]) -> Output {
    Command::new(DEVNET)
        .args(args)
        .output()
        .expect("run devnet")
}

fn ok(args: &[&str]) -> String {
    let out = devnet(args);
    assert!(
        out.status.success(),
        "devnet {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn peer_id(key_hex: &str) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("k");
    std::fs::write(&p, key_hex).expect("write key");
    let key = ConsensusKey::load(&p).expect("a valid consensus key");
    tc_net::peer_id_of_ed25519(&key.public().0)
        .expect("ed25519")
        .to_string()
}

/// A bootnode `/dns4/<host>/tcp/30303/p2p/<peer>` split into (host, peer).
fn dns_bootnode(b: &str) -> (String, String) {
    let rest = b
        .strip_prefix("/dns4/")
        .unwrap_or_else(|| panic!("bootnode by name: {b}"));
    let (host, rest) = rest.split_once('/').expect("host");
    let peer = rest
        .strip_prefix(&format!("tcp/{P2P_PORT}/p2p/"))
        .unwrap_or_else(|| panic!("bootnode on port {P2P_PORT}: {b}"));
    (host.to_string(), peer.to_string())
}

/// What every exported node config must say, whatever the format.
fn check_container_config(cfg: &NodeConfig, name: &str) {
    assert_eq!(cfg.node.name, name);
    assert_eq!(
        cfg.node.key_file,
        Path::new(CONFIG_DIR).join("node.key"),
        "{name}"
    );
    assert_eq!(cfg.node.genesis, Path::new(CONFIG_DIR).join("genesis.json"));
    assert_eq!(cfg.storage.path, Path::new(DATA_DIR).join("db"));
    assert_eq!(cfg.api.http.to_string(), format!("0.0.0.0:{HTTP_PORT}"));
    assert_eq!(
        cfg.network.listen,
        vec![format!("/ip4/0.0.0.0/tcp/{P2P_PORT}")]
    );
    assert!(cfg.api.admin_token.is_empty(), "fault API off: {name}");
    assert!(!cfg.network.bootnodes.is_empty(), "{name} has bootnodes");
}

/// Run `tool args` when `probe` succeeds; otherwise print why it was skipped.
fn validate_with(tool: &str, probe: &[&str], args: &[&str], dir: &Path) {
    let available = Command::new(tool)
        .args(probe)
        .output()
        .map(|o| o.status.success());
    match available {
        Ok(true) => {
            let out = Command::new(tool)
                .args(args)
                .current_dir(dir)
                .output()
                .expect("run validator");
            assert!(
                out.status.success(),
                "{tool} {args:?} rejected the export:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!("{tool} {args:?}: ok");
        }
        Ok(false) => eprintln!(
            "SKIPPED: `{tool} {}` failed: not available here",
            probe.join(" ")
        ),
        Err(e) => eprintln!("SKIPPED: {tool} not installed ({e})"),
    }
}

#[test]
fn compose_export_of_a_new_network() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let stdout = ok(&[
        "export",
        "--format",
        "compose",
        "--out",
        &out.display().to_string(),
        "--nodes",
        "5",
        "--committee",
        "4",
        "--image",
        "example/tc-node:test",
    ]);
    assert!(stdout.contains("5 nodes of a new network"), "{stdout}");
    assert!(stdout.contains("docker compose up"), "{stdout}");

    let text = std::fs::read_to_string(out.join(compose::FILE)).expect("compose file");
    let file: compose::ComposeFile = serde_yaml_ng::from_str(&text).expect("typed compose");
    let raw: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("yaml");
    assert!(raw["services"]["node-0"]["image"].is_string(), "{text}");
    assert_eq!(
        raw["services"]["node-0"]["user"].as_str(),
        Some("0"),
        "a string, not a number"
    );
    assert_eq!(file.services.len(), 5);

    let mut host_ports = BTreeSet::new();
    let mut peers: BTreeMap<String, String> = BTreeMap::new();
    let mut genesis = BTreeSet::new();
    for (svc, s) in &file.services {
        assert_eq!(s.image, "example/tc-node:test");
        assert_eq!(
            s.command,
            ["run", "--config", "/etc/trueconsensus/node.toml"]
        );
        // Its own files, mounted read-only, and its own database volume.
        let mount = |kind: &str, source: &str, target: &str, read_only: bool| compose::Mount {
            kind: kind.into(),
            source: source.into(),
            target: target.into(),
            read_only,
        };
        assert!(
            s.volumes
                .contains(&mount("bind", &format!("./{svc}"), CONFIG_DIR, true)),
            "{svc}: {:?}",
            s.volumes
        );
        let db = format!("{svc}-db");
        assert!(
            s.volumes.contains(&mount("volume", &db, DATA_DIR, false)),
            "{svc}"
        );
        assert!(file.volumes.contains_key(&db), "volume {db} declared");
        let dir = out.join(svc);
        let key = std::fs::read_to_string(dir.join("node.key")).expect("node.key");
        let pid = peer_id(key.trim());
        assert_eq!(s.labels["org.trueconsensus.peer-id"], pid, "{svc}");
        peers.insert(svc.clone(), pid);
        genesis.insert(sha256(
            &std::fs::read(dir.join("genesis.json")).expect("genesis"),
        ));
        let cfg =
            NodeConfig::parse(&std::fs::read_to_string(dir.join("node.toml")).expect("node.toml"))
                .expect("valid node.toml");
        check_container_config(&cfg, svc);
        let targets: BTreeSet<u16> = s.ports.iter().map(|p| p.target).collect();
        assert_eq!(targets, BTreeSet::from([HTTP_PORT, P2P_PORT]), "{svc}");
        for p in &s.ports {
            assert!(
                host_ports.insert(p.published),
                "host port {} twice",
                p.published
            );
        }
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("node.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "node.key is private");
    }
    assert_eq!(genesis.len(), 1, "one genesis for every node");
    // Every bootnode names a service of this file, with that service's peer id.
    for svc in file.services.keys() {
        let cfg = NodeConfig::parse(
            &std::fs::read_to_string(out.join(svc).join("node.toml")).expect("node.toml"),
        )
        .expect("config");
        for b in &cfg.network.bootnodes {
            let (host, peer) = dns_bootnode(b);
            assert_ne!(&host, svc, "{svc} is not its own bootnode");
            assert_eq!(peers.get(&host), Some(&peer), "{svc}: {b}");
        }
    }
    validate_with(
        "docker",
        &["compose", "version"],
        &["compose", "-f", compose::FILE, "config", "--quiet"],
        &out,
    );
}

fn docs(text: &str) -> Vec<serde_yaml_ng::Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| serde_yaml_ng::Value::deserialize(d).expect("a YAML document"))
        .collect()
}

#[test]
fn k8s_export_of_an_existing_devnet() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("devnet");
    let spec = DevnetSpec {
        nodes: 4,
        committee: 3,
        ..DevnetSpec::default()
    };
    let nodes = tc_devnet::datadir::generate(&dir, &spec).expect("generate a devnet");
    let out = tmp.path().join("k8s");
    let stdout = ok(&[
        "export",
        "--format",
        "k8s",
        "--dir",
        &dir.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert!(
        stdout.contains("4 nodes of the existing devnet"),
        "{stdout}"
    );
    let devnet_genesis =
        sha256(&std::fs::read(dir.join("node-0/genesis.json")).expect("devnet genesis"));
    assert!(
        stdout.contains(&format!("sha256 {devnet_genesis}")),
        "{stdout}"
    );

    let text = std::fs::read_to_string(out.join(k8s::FILE)).expect("manifests");
    let docs = docs(&text);
    let kinds: Vec<&str> = docs
        .iter()
        .map(|d| d["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        ["ConfigMap", "Secret", "Service", "Service", "StatefulSet"]
    );
    let cm: k8s::ConfigMap = serde_yaml_ng::from_value(docs[0].clone()).expect("ConfigMap");
    let secret: k8s::Secret = serde_yaml_ng::from_value(docs[1].clone()).expect("Secret");
    let headless: k8s::Service = serde_yaml_ng::from_value(docs[2].clone()).expect("Service");
    let rpc: k8s::Service = serde_yaml_ng::from_value(docs[3].clone()).expect("Service");
    let set: k8s::StatefulSet = serde_yaml_ng::from_value(docs[4].clone()).expect("StatefulSet");

    // The genesis is the devnet's, byte for byte, and the annotation says so.
    assert_eq!(sha256(cm.data["genesis.json"].as_bytes()), devnet_genesis);
    assert_eq!(
        cm.metadata.annotations[k8s::GENESIS_ANNOTATION],
        devnet_genesis
    );
    // Every ordinal has its config and key; the keys are the devnet's.
    assert_eq!(set.spec.replicas, nodes.len());
    let mut pod_peers = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let cfg = NodeConfig::parse(&cm.data[&format!("node-{i}.toml")]).expect("config");
        check_container_config(&cfg, &n.name);
        let key = &secret.string_data[&format!("node-{i}.key")];
        let devnet_key = std::fs::read_to_string(n.dir.join("node.key")).expect("key");
        assert_eq!(key.trim(), devnet_key.trim(), "node-{i}'s key");
        assert_eq!(peer_id(key.trim()), n.peer_id);
        pod_peers.insert(k8s::host(i), n.peer_id.clone());
    }
    assert_eq!(cm.data.len(), nodes.len() + 1, "configs + genesis only");
    assert_eq!(secret.string_data.len(), nodes.len());
    for i in 0..nodes.len() {
        let cfg = NodeConfig::parse(&cm.data[&format!("node-{i}.toml")]).expect("config");
        for b in &cfg.network.bootnodes {
            let (host, peer) = dns_bootnode(b);
            // `<pod>.<headless service>` of this StatefulSet.
            let (pod, svc) = host.split_once('.').expect("pod.service");
            assert_eq!(svc, set.spec.service_name);
            assert!(pod.starts_with(&format!("{}-", set.metadata.name.as_deref().expect("name"))));
            assert_eq!(pod_peers.get(&host), Some(&peer), "node-{i}: {b}");
        }
    }
    // The headless Service is the StatefulSet's, publishes unready pods, and selects them.
    assert_eq!(
        headless.metadata.name.as_deref(),
        Some(set.spec.service_name.as_str())
    );
    assert_eq!(headless.spec.cluster_ip.as_deref(), Some("None"));
    assert!(headless.spec.publish_not_ready_addresses);
    let pod = &set.spec.template;
    for (k, v) in &set.spec.selector.match_labels {
        assert_eq!(
            pod.metadata.labels.get(k),
            Some(v),
            "template has selector label {k}"
        );
    }
    for s in [&headless, &rpc] {
        assert_eq!(s.spec.selector, set.spec.selector.match_labels);
    }
    // Ports: unique per container, and every Service targets a named container port.
    let node = &pod.spec.containers[0];
    let names: BTreeSet<&str> = node.ports.iter().map(|p| p.name.as_str()).collect();
    let numbers: BTreeSet<u16> = node.ports.iter().map(|p| p.container_port).collect();
    assert_eq!(names.len(), node.ports.len());
    assert_eq!(numbers, BTreeSet::from([HTTP_PORT, P2P_PORT]));
    for s in [&headless, &rpc] {
        for p in &s.spec.ports {
            assert!(names.contains(p.target_port.as_str()), "{}", p.target_port);
        }
    }
    // Mounts refer to declared volumes or claims; the init container reads both sources.
    let mut volumes: BTreeSet<String> = pod.spec.volumes.iter().map(|v| v.name.clone()).collect();
    for c in &set.spec.volume_claim_templates {
        volumes.insert(c.metadata.name.clone().expect("claim name"));
    }
    for c in pod.spec.containers.iter().chain(&pod.spec.init_containers) {
        for m in &c.volume_mounts {
            assert!(volumes.contains(&m.name), "{}: volume {}", c.name, m.name);
        }
    }
    let sources: Vec<(Option<&str>, Option<&str>)> = pod
        .spec
        .volumes
        .iter()
        .map(|v| {
            (
                v.config_map.as_ref().map(|c| c.name.as_str()),
                v.secret.as_ref().map(|s| s.secret_name.as_str()),
            )
        })
        .collect();
    assert!(sources.contains(&(cm.metadata.name.as_deref(), None)));
    assert!(sources.contains(&(None, secret.metadata.name.as_deref())));
    let script = pod.spec.init_containers[0].command.join(" ");
    assert!(
        script.contains("node-$i.toml") && script.contains("node-$i.key"),
        "{script}"
    );
    assert!(node.args.contains(&format!("{CONFIG_DIR}/node.toml")));

    // The file holds the keys: private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(out.join(k8s::FILE))
        .expect("file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn bad_export_requests_are_refused_clearly() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("o").display().to_string();
    let err = |args: &[&str]| {
        let o = devnet(args);
        assert!(!o.status.success(), "{args:?} accepted");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    for (args, expected) in [
        (["--format", "helm"].as_slice(), "expected compose or k8s"),
        (&["--format", "k8s", "--committee", "9"], "committee"),
        (
            &["--format", "k8s", "--http", "127.0.0.1:1"],
            "--http is a flag of devnet up",
        ),
        (&["--format", "compose", "--image", "a b"], "--image"),
        (&["--format", "compose", "--fresh"], "--fresh needs --dir"),
    ] {
        let mut all = vec!["export", "--out", &out];
        all.extend_from_slice(args);
        let e = err(&all);
        assert!(e.contains(expected), "{args:?}: {e}");
    }
}

/// The exported compose network run as processes on this machine, changed only where one host
/// differs from many containers: paths, ports (every container has 8545/30303) and the host
/// names (`/dns4/node-j/tcp/30303` → `/dns4/localhost/tcp/<node-j's port>`, still resolved by
/// the nodes' DNS transport). The exported keys, genesis and configs form a network that
/// commits on every node.
#[test]
fn exported_network_commits_with_dns_bootnodes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let spec = tmp.path().join("devnet.toml");
    std::fs::write(&spec, common::SPEC).expect("spec");
    let out = tmp.path().join("out");
    ok(&[
        "export",
        "--format",
        "compose",
        "--out",
        &out.display().to_string(),
        "--spec",
        &spec.display().to_string(),
        "--nodes",
        "4",
        "--committee",
        "4",
    ]);
    let http = common::free_ports(4, &[]);
    let p2p = common::free_ports(4, &[(http, 4)]);
    let mut procs = Vec::new();
    for i in 0..4u16 {
        let dir = out.join(format!("node-{i}"));
        let mut cfg =
            NodeConfig::parse(&std::fs::read_to_string(dir.join("node.toml")).expect("node.toml"))
                .expect("config");
        cfg.node.key_file = dir.join("node.key");
        cfg.node.genesis = dir.join("genesis.json");
        cfg.storage.path = tmp.path().join(format!("db-{i}"));
        cfg.api.http = std::net::SocketAddr::from(([127, 0, 0, 1], http + i));
        cfg.network.listen = vec![format!("/ip4/127.0.0.1/tcp/{}", p2p + i)];
        for b in &mut cfg.network.bootnodes {
            let (host, peer) = dns_bootnode(b);
            let j: u16 = host
                .strip_prefix("node-")
                .and_then(|j| j.parse().ok())
                .expect("service node-j");
            *b = format!("/dns4/localhost/tcp/{}/p2p/{peer}", p2p + j);
        }
        let path = tmp.path().join(format!("run-{i}.toml"));
        std::fs::write(&path, cfg.to_toml().expect("toml")).expect("write");
        let log = std::fs::File::create(tmp.path().join(format!("node-{i}.log"))).expect("log");
        let child = Command::new(common::node_bin())
            .args(["run", "--config"])
            .arg(&path)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tc-node");
        procs.push(common::nodes::Proc(child));
    }
    let logs = || {
        (0..4)
            .map(|i| {
                let t = std::fs::read_to_string(tmp.path().join(format!("node-{i}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = t.lines().rev().take(8).collect();
                format!(
                    "--- node-{i}\n{}",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let heads: Vec<u64> = (0..4)
            .map(|i| {
                common::block_number(&format!("http://127.0.0.1:{}", http + i))
                    .map_or(0, |(_, n)| n)
            })
            .collect();
        if heads.iter().all(|h| *h >= 3) {
            eprintln!("every exported node committed: heads {heads:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the exported network did not commit 3 blocks on every node in 90 s (heads {heads:?}):\n{}",
            logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    drop(procs);
}
