//! Kubernetes export: one multi-document `trueconsensus.yaml` for `kubectl apply -f`.
//!
//! - ConfigMap `tc-node-config`: `genesis.json` and every node's `node-i.toml` (no secrets: the
//!   exported configs have the fault API off); annotated with the genesis SHA-256.
//! - Secret `tc-node-keys`: every node's consensus key `node-i.key`.
//! - Service `tc-node` (headless, `publishNotReadyAddresses`): stable DNS names
//!   `tc-node-i.tc-node` for the bootnodes, published before the pods are ready so the nodes
//!   can find each other while they start.
//! - Service `tc-node-rpc`: JSON-RPC / GraphQL on port 8545, balanced over the nodes.
//! - StatefulSet `tc-node` (`podManagementPolicy: Parallel`: the genesis committee needs its
//!   members up together): one StatefulSet for all nodes although every node has its own key
//!   and config — an init container picks `node-<ordinal>.toml` and `node-<ordinal>.key` by
//!   the pod's ordinal (the suffix of its host name `tc-node-<i>`) into an `emptyDir` mounted
//!   at [`CONFIG_DIR`]; each pod gets a `data` volume claim for its database. Scaling beyond
//!   the exported node count is not supported (no files for those ordinals: the init container
//!   fails naming the missing file).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CONFIG_DIR, DATA_DIR, HTTP_PORT, Network, P2P_PORT, write_file};

/// The manifest file's name in the output directory.
pub const FILE: &str = "trueconsensus.yaml";
/// StatefulSet, pod prefix and headless Service name.
pub const APP: &str = "tc-node";
/// ConfigMap name.
pub const CONFIG_MAP: &str = "tc-node-config";
/// Secret name.
pub const SECRET: &str = "tc-node-keys";
/// The RPC Service name.
pub const RPC_SERVICE: &str = "tc-node-rpc";
/// The annotation carrying genesis.json's SHA-256.
pub const GENESIS_ANNOTATION: &str = "trueconsensus.org/genesis-sha256";
/// The image's non-root user (devnet/docker/Dockerfile).
pub const NODE_UID: u32 = 10001;

/// Host name of node `i`: its pod under the headless Service (resolved through the pod's DNS
/// search path in the namespace it runs in).
pub fn host(i: usize) -> String {
    format!("{APP}-{i}.{APP}")
}

/// `metadata`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// Object name (absent in a pod template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `v1/ConfigMap`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    /// `v1`
    pub api_version: String,
    /// `ConfigMap`
    pub kind: String,
    /// Name, labels, genesis hash.
    pub metadata: ObjectMeta,
    /// File name → content.
    pub data: BTreeMap<String, String>,
}

/// `v1/Secret`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// `v1`
    pub api_version: String,
    /// `Secret`
    pub kind: String,
    /// Name, labels.
    pub metadata: ObjectMeta,
    /// `Opaque`
    #[serde(rename = "type")]
    pub type_: String,
    /// File name → content (the API server stores it base64-encoded).
    pub string_data: BTreeMap<String, String>,
}

/// `v1/Service`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `v1`
    pub api_version: String,
    /// `Service`
    pub kind: String,
    /// Name, labels.
    pub metadata: ObjectMeta,
    /// Selector and ports.
    pub spec: ServiceSpec,
}

/// `Service.spec`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// `None` for a headless Service.
    #[serde(rename = "clusterIP", default, skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    /// Publish DNS records of pods that are not ready yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish_not_ready_addresses: bool,
    /// Pods served.
    pub selector: BTreeMap<String, String>,
    /// Ports.
    pub ports: Vec<ServicePort>,
}

/// `Service.spec.ports[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    /// Port name.
    pub name: String,
    /// Service port.
    pub port: u16,
    /// The container port's name.
    pub target_port: String,
}

/// `apps/v1/StatefulSet`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSet {
    /// `apps/v1`
    pub api_version: String,
    /// `StatefulSet`
    pub kind: String,
    /// Name, labels.
    pub metadata: ObjectMeta,
    /// Pods and their claims.
    pub spec: StatefulSetSpec,
}

/// `StatefulSet.spec`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpec {
    /// The headless Service giving pods their DNS names.
    pub service_name: String,
    /// Number of nodes.
    pub replicas: usize,
    /// `Parallel`
    pub pod_management_policy: String,
    /// Which pods belong to it.
    pub selector: LabelSelector,
    /// The pod.
    pub template: PodTemplate,
    /// Per-pod volume claims (the database).
    pub volume_claim_templates: Vec<VolumeClaim>,
}

/// `selector`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels a pod must have.
    pub match_labels: BTreeMap<String, String>,
}

/// `template`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PodTemplate {
    /// Labels.
    pub metadata: ObjectMeta,
    /// The pod.
    pub spec: PodSpec,
}

/// `PodSpec`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// Non-root user; `fsGroup` makes the secret's files readable by it.
    pub security_context: PodSecurityContext,
    /// Picks this pod's config and key.
    pub init_containers: Vec<Container>,
    /// The node.
    pub containers: Vec<Container>,
    /// ConfigMap, Secret and the per-pod config dir.
    pub volumes: Vec<Volume>,
    /// SIGTERM → SIGKILL grace period.
    pub termination_grace_period_seconds: u32,
}

/// `PodSecurityContext`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSecurityContext {
    /// uid.
    pub run_as_user: u32,
    /// gid.
    pub run_as_group: u32,
    /// Refuse to run as root.
    pub run_as_non_root: bool,
    /// Group owning mounted volumes.
    pub fs_group: u32,
}

/// `Container`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// Entrypoint override.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    /// Mounts.
    pub volume_mounts: Vec<VolumeMount>,
    /// When the pod receives RPC traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
}

/// `ContainerPort`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Name (Services target it).
    pub name: String,
    /// Port.
    pub container_port: u16,
}

/// `VolumeMount`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Volume name.
    pub name: String,
    /// Path in the container.
    pub mount_path: String,
    /// Read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// `Volume` (one of the sources set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Name.
    pub name: String,
    /// From a ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map: Option<ConfigMapSource>,
    /// From a Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretSource>,
    /// Scratch space of the pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
}

/// `configMap` volume source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigMapSource {
    /// ConfigMap name.
    pub name: String,
}

/// `secret` volume source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretSource {
    /// Secret name.
    pub secret_name: String,
    /// File mode (decimal in YAML): 0440, readable through `fsGroup`.
    pub default_mode: u32,
}

/// `emptyDir` volume source.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyDir {}

/// A TCP readiness probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// The port to connect to.
    pub tcp_socket: TcpSocket,
    /// Seconds between probes.
    pub period_seconds: u32,
}

/// `tcpSocket`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcpSocket {
    /// Port name.
    pub port: String,
}

/// `volumeClaimTemplates[]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VolumeClaim {
    /// Claim name (the volume's name in the pod).
    pub metadata: ObjectMeta,
    /// Access and size.
    pub spec: VolumeClaimSpec,
}

/// `PersistentVolumeClaimSpec`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeClaimSpec {
    /// `ReadWriteOnce`
    pub access_modes: Vec<String>,
    /// `requests.storage`
    pub resources: Resources,
}

/// `resources`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// Requested amounts.
    pub requests: BTreeMap<String, String>,
}

/// Every object of the export, in apply order.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifests {
    /// Genesis and configs.
    pub config: ConfigMap,
    /// Keys.
    pub keys: Secret,
    /// Peer discovery.
    pub headless: Service,
    /// RPC.
    pub rpc: Service,
    /// The nodes.
    pub nodes: StatefulSet,
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), "trueconsensus".into()),
        ("app.kubernetes.io/component".into(), "node".into()),
    ])
}

fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        labels: labels(),
        annotations: BTreeMap::new(),
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only,
    }
}

/// The init container's script: copy this ordinal's files into the config dir.
fn select_script() -> String {
    [
        "set -eu",
        "i=\"${HOSTNAME##*-}\"",
        "cp \"/config/node-$i.toml\" /node/node.toml",
        "cp /config/genesis.json /node/genesis.json",
        "cp \"/keys/node-$i.key\" /node/node.key",
        "chmod 0600 /node/node.key",
    ]
    .join("\n")
}

/// The manifests for `net`.
pub fn manifests(net: &Network, image: &str) -> Manifests {
    let mut data = BTreeMap::from([("genesis.json".to_string(), net.genesis.clone())]);
    let mut keys = BTreeMap::new();
    for n in &net.nodes {
        data.insert(format!("{}.toml", n.name), n.config_toml.clone());
        keys.insert(format!("{}.key", n.name), format!("{}\n", n.key));
    }
    let mut config_meta = meta(CONFIG_MAP);
    config_meta
        .annotations
        .insert(GENESIS_ANNOTATION.into(), net.genesis_sha256());
    let port = |name: &str, port: u16| ServicePort {
        name: name.into(),
        port,
        target_port: name.into(),
    };
    let headless = Service {
        api_version: "v1".into(),
        kind: "Service".into(),
        metadata: meta(APP),
        spec: ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: true,
            selector: labels(),
            ports: vec![port("p2p", P2P_PORT), port("http", HTTP_PORT)],
        },
    };
    let rpc = Service {
        api_version: "v1".into(),
        kind: "Service".into(),
        metadata: meta(RPC_SERVICE),
        spec: ServiceSpec {
            cluster_ip: None,
            publish_not_ready_addresses: false,
            selector: labels(),
            ports: vec![port("http", HTTP_PORT)],
        },
    };
    let init = Container {
        name: "select-node".into(),
        image: image.into(),
        command: vec!["sh".into(), "-c".into(), select_script()],
        args: Vec::new(),
        ports: Vec::new(),
        volume_mounts: vec![
            mount("config", "/config", true),
            mount("keys", "/keys", true),
            mount("node", "/node", false),
        ],
        readiness_probe: None,
    };
    let node = Container {
        name: "node".into(),
        image: image.into(),
        command: Vec::new(),
        args: vec![
            "run".into(),
            "--config".into(),
            format!("{CONFIG_DIR}/node.toml"),
        ],
        ports: vec![
            ContainerPort {
                name: "p2p".into(),
                container_port: P2P_PORT,
            },
            ContainerPort {
                name: "http".into(),
                container_port: HTTP_PORT,
            },
        ],
        volume_mounts: vec![
            mount("node", CONFIG_DIR, true),
            mount("data", DATA_DIR, false),
        ],
        readiness_probe: Some(Probe {
            tcp_socket: TcpSocket {
                port: "http".into(),
            },
            period_seconds: 5,
        }),
    };
    let nodes = StatefulSet {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        metadata: meta(APP),
        spec: StatefulSetSpec {
            service_name: APP.into(),
            replicas: net.nodes.len(),
            pod_management_policy: "Parallel".into(),
            selector: LabelSelector {
                match_labels: labels(),
            },
            template: PodTemplate {
                metadata: ObjectMeta {
                    name: None,
                    labels: labels(),
                    annotations: BTreeMap::from([(
                        GENESIS_ANNOTATION.to_string(),
                        net.genesis_sha256(),
                    )]),
                },
                spec: PodSpec {
                    security_context: PodSecurityContext {
                        run_as_user: NODE_UID,
                        run_as_group: NODE_UID,
                        run_as_non_root: true,
                        fs_group: NODE_UID,
                    },
                    init_containers: vec![init],
                    containers: vec![node],
                    volumes: vec![
                        Volume {
                            name: "config".into(),
                            config_map: Some(ConfigMapSource {
                                name: CONFIG_MAP.into(),
                            }),
                            secret: None,
                            empty_dir: None,
                        },
                        Volume {
                            name: "keys".into(),
                            config_map: None,
                            secret: Some(SecretSource {
                                secret_name: SECRET.into(),
                                default_mode: 0o440,
                            }),
                            empty_dir: None,
                        },
                        Volume {
                            name: "node".into(),
                            config_map: None,
                            secret: None,
                            empty_dir: Some(EmptyDir {}),
                        },
                    ],
                    termination_grace_period_seconds: 30,
                },
            },
            volume_claim_templates: vec![VolumeClaim {
                metadata: ObjectMeta {
                    name: Some("data".into()),
                    labels: BTreeMap::new(),
                    annotations: BTreeMap::new(),
                },
                spec: VolumeClaimSpec {
                    access_modes: vec!["ReadWriteOnce".into()],
                    resources: Resources {
                        requests: BTreeMap::from([("storage".into(), "1Gi".into())]),
                    },
                },
            }],
        },
    };
    Manifests {
        config: ConfigMap {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            metadata: config_meta,
            data,
        },
        keys: Secret {
            api_version: "v1".into(),
            kind: "Secret".into(),
            metadata: meta(SECRET),
            type_: "Opaque".into(),
            string_data: keys,
        },
        headless,
        rpc,
        nodes,
    }
}

impl Manifests {
    /// The multi-document YAML (`---` between objects).
    pub fn to_yaml(&self) -> Result<String, serde_yaml_ng::Error> {
        let docs = [
            serde_yaml_ng::to_string(&self.config)?,
            serde_yaml_ng::to_string(&self.keys)?,
            serde_yaml_ng::to_string(&self.headless)?,
            serde_yaml_ng::to_string(&self.rpc)?,
            serde_yaml_ng::to_string(&self.nodes)?,
        ];
        Ok(docs.join("---\n"))
    }
}

/// Write `trueconsensus.yaml` under `out` (mode 0600: it holds the Secret's keys).
pub fn write(net: &Network, image: &str, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let path = out.join(FILE);
    write_file(&path, &manifests(net, image).to_yaml()?, true)?;
    Ok(vec![path])
}
