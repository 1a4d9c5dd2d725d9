//! Faults injected through each node's own fault API (`POST <node http>/admin/fault` with
//! `Authorization: Bearer <api.admin_token>`):
//!
//! - a node's consensus behaviour ([`Byzantine`]: `honest`, `silent`, `withhold`,
//!   `equivocate`), which a new process starts without (`honest`);
//! - network partitions made of peer blocks: every node refuses connections with every node
//!   outside its group and lets in those of its own group; heal lets everyone in again.
//!
//! - link shaping (userspace loss and delay of inbound libp2p traffic inside each node, not
//!   kernel netem): every link of the chosen nodes, both directions — the node shapes what
//!   arrives from all its peers, each peer shapes what arrives from it.
//!
//! The launcher keeps the current partition and link shaping. A node that was down, starting or paused when it
//! changed gets it once its API answers again (after start, restart, add or resume); the
//! others already refuse it in the meantime, so the cut holds from their side.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header;
use serde::Serialize;
use serde_json::{Value, json};
use tc_node::runtime::{Byzantine, Fault};

use super::{NodeView, OpError, Status, Supervisor};
use crate::proxy;

/// How long a started node's API may take to answer before the launcher stops waiting to
/// bring its peer blocks in line with the partition.
const START_DEADLINE: Duration = Duration::from_secs(120);
/// Between two probes of a starting node.
const POLL: Duration = Duration::from_millis(500);
/// The `node` of network-wide entries in the action log.
pub const NETWORK: &str = "network";

/// A validated partition: groups of node names. Nodes not listed (also nodes added later)
/// form one more group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Partition {
    groups: Vec<Vec<String>>,
}

impl Partition {
    /// Check `groups` against the devnet's node `names`: no empty group, every name known
    /// and listed once, and at least two groups once the unlisted nodes are counted.
    pub fn new(groups: Vec<Vec<String>>, names: &[String]) -> Result<Self, String> {
        if groups.is_empty() {
            return Err(
                "groups is empty: give the groups of node names, e.g. {\"groups\":[[\"node-0\"],[\"node-1\",\"node-2\"]]}"
                    .into(),
            );
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (gi, g) in groups.iter().enumerate() {
            if g.is_empty() {
                return Err(format!("groups[{gi}] is empty"));
            }
            for n in g {
                if !names.contains(n) {
                    return Err(format!(
                        "groups[{gi}]: no node named {n:?} (the nodes are {})",
                        names.join(", ")
                    ));
                }
                if let Some(prev) = seen.insert(n, gi) {
                    return Err(format!(
                        "{n} is listed twice (groups[{prev}] and groups[{gi}])"
                    ));
                }
            }
        }
        let unlisted = names.iter().any(|n| !seen.contains_key(n.as_str()));
        if groups.len() + usize::from(unlisted) < 2 {
            return Err(
                "a partition needs at least two groups; this one puts every node in one group (POST /admin/network/heal reconnects everyone)"
                    .into(),
            );
        }
        Ok(Self { groups })
    }

    /// Index of the group of `name` (`groups.len()` for the unlisted nodes).
    fn group_of(&self, name: &str) -> usize {
        self.groups
            .iter()
            .position(|g| g.iter().any(|n| n == name))
            .unwrap_or(self.groups.len())
    }

    /// The groups, with the nodes not listed as a last group (if there are any).
    pub fn effective(&self, names: &[String]) -> Vec<Vec<String>> {
        let mut out = self.groups.clone();
        let rest: Vec<String> = names
            .iter()
            .filter(|n| self.group_of(n) == self.groups.len())
            .cloned()
            .collect();
        if !rest.is_empty() {
            out.push(rest);
        }
        out
    }
}

/// Validated link shaping: which nodes' links, and how.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkPlan {
    /// Node names; `None`: every node (also nodes added later).
    pub nodes: Option<Vec<String>>,
    /// Drop probability, 0..=1.
    pub loss: f64,
    /// Added delay in milliseconds.
    pub delay_ms: u64,
}

impl LinkPlan {
    /// Check the shape's ranges and resolve `nodes` (indices or names; `None`: all) against
    /// the devnet's node `names`.
    pub fn new(
        nodes: Option<Vec<Value>>,
        loss: f64,
        delay_ms: u64,
        names: &[String],
    ) -> Result<Self, String> {
        tc_net::LinkShape { loss, delay_ms }.validate()?;
        let nodes = match nodes {
            None => None,
            Some(list) if list.is_empty() => {
                return Err("nodes is empty: give node indices or names, or \"all\"".into());
            }
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for (k, v) in list.iter().enumerate() {
                    let name = match v {
                        Value::Number(n) => n
                            .as_u64()
                            .and_then(|i| names.get(usize::try_from(i).ok()?))
                            .cloned()
                            .ok_or_else(|| {
                                format!(
                                    "nodes[{k}]: no node with index {n} (there are {})",
                                    names.len()
                                )
                            })?,
                        Value::String(s) if names.contains(s) => s.clone(),
                        other => {
                            return Err(format!(
                                "nodes[{k}]: no node {other} (the nodes are {})",
                                names.join(", ")
                            ));
                        }
                    };
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                Some(out)
            }
        };
        Ok(Self {
            nodes,
            loss,
            delay_ms,
        })
    }

    /// Whether this shapes nothing.
    pub fn is_clear(&self) -> bool {
        self.loss == 0.0 && self.delay_ms == 0
    }

    /// No plan, or a clear one: a new process (which shapes nothing) is in step.
    pub fn none(plan: Option<&Self>) -> bool {
        plan.is_none_or(Self::is_clear)
    }

    fn includes(&self, name: &str) -> bool {
        self.nodes
            .as_ref()
            .is_none_or(|n| n.iter().any(|x| x == name))
    }

    /// `loss 0.1, delay 50 ms on every link of all nodes`
    fn describe(&self) -> String {
        let which = match &self.nodes {
            None => "all nodes".to_string(),
            Some(n) => n.join(" "),
        };
        if self.is_clear() {
            "link shaping cleared on every node".to_string()
        } else {
            format!(
                "loss {}, delay {} ms on every link of {which} (userspace, inbound, both directions)",
                self.loss, self.delay_ms
            )
        }
    }

    fn fault(&self, peers: Vec<String>, clear: bool) -> Fault {
        let (loss, delay_ms) = if clear {
            (0.0, 0)
        } else {
            (self.loss, self.delay_ms)
        };
        Fault::Link {
            peers,
            loss,
            delay_ms,
        }
    }
}

/// What one node should shape: every peer (`None`), or these (name, peer id) pairs.
#[derive(Clone, Debug)]
struct LinkTarget {
    plan: LinkPlan,
    peers: Option<Vec<(String, String)>>,
}

/// `[node-0] | [node-1 node-2]`
fn describe_groups(groups: &[Vec<String>]) -> String {
    groups
        .iter()
        .map(|g| format!("[{}]", g.join(" ")))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// What happened to one node's peer blocks.
#[derive(Clone, Debug, Serialize)]
pub struct NodeResult {
    /// The node.
    pub node: String,
    /// `applied`; `failed` (a running node whose fault API refused or did not answer); or
    /// `deferred` (down, starting or paused: applied once its API answers again).
    pub result: &'static str,
    /// Which peers it now blocks and lets in, or why not.
    pub detail: String,
}

/// The answer to partition and heal.
#[derive(Clone, Debug, Serialize)]
pub struct NetworkReport {
    /// The groups now in force, the unlisted nodes as the last one (`null`: no partition).
    pub groups: Option<Vec<Vec<String>>>,
    /// No node `failed` (`deferred` ones do not count).
    pub ok: bool,
    /// Every node, in index order.
    pub nodes: Vec<NodeResult>,
}

/// One node as the partition logic needs it.
#[derive(Clone, Debug)]
struct Target {
    index: usize,
    name: String,
    http: SocketAddr,
    token: String,
    status: Status,
    starting: bool,
    generation: Option<u64>,
    /// (name, peer id) of the peers to block and to let in.
    block: Vec<(String, String)>,
    unblock: Vec<(String, String)>,
    /// Link shaping to apply (`None`: never asked for).
    link: Option<LinkTarget>,
}

fn lower(d: impl std::fmt::Debug) -> String {
    format!("{d:?}").to_lowercase()
}

/// A behaviour as the API spells it (`withhold`).
pub fn mode_name(mode: Byzantine) -> String {
    lower(mode)
}

/// Parse `honest`, `silent`, `withhold` or `equivocate`.
pub fn parse_mode(s: &str) -> Result<Byzantine, String> {
    serde_json::from_value(json!(s)).map_err(|_| {
        format!("unknown byzantine mode {s:?}: use honest, silent, withhold or equivocate")
    })
}

/// Send one fault to a node's fault API: its answer, or why there is none.
pub async fn send_fault(addr: SocketAddr, token: &str, fault: &Fault) -> Result<String, String> {
    if token.is_empty() {
        return Err(
            "its api.admin_token is empty, so its fault API is off (`devnet up` sets one)".into(),
        );
    }
    let body = serde_json::to_vec(fault).map_err(|e| e.to_string())?;
    let req = hyper::Request::post("/admin/fault")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .map_err(|e| e.to_string())?;
    let resp = proxy::send(addr, req, false)
        .await
        .map_err(|e| format!("its API at {addr} did not answer ({e})"))?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(Body::new(resp.into_body()), 64 * 1024)
        .await
        .map_err(|e| format!("reading its answer: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_success() {
        Ok(v["ok"].as_str().unwrap_or("done").to_string())
    } else {
        let why = v["error"].as_str().map_or_else(
            || String::from_utf8_lossy(&bytes).into_owned(),
            str::to_string,
        );
        Err(format!("its fault API answered {status}: {why}"))
    }
}

/// Bring one node's peer blocks in line with its plan.
async fn sync_one(t: &Target) -> Result<String, String> {
    let names = |v: &[(String, String)]| {
        v.iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ids = |v: &[(String, String)]| v.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>();
    let mut done = Vec::new();
    if !t.unblock.is_empty() {
        send_fault(
            t.http,
            &t.token,
            &Fault::Unblock {
                peers: ids(&t.unblock),
            },
        )
        .await?;
        done.push(format!("lets in {}", names(&t.unblock)));
    }
    if !t.block.is_empty() {
        send_fault(
            t.http,
            &t.token,
            &Fault::Block {
                peers: ids(&t.block),
            },
        )
        .await?;
        done.push(format!("blocks {}", names(&t.block)));
    }
    if let Some(l) = &t.link {
        let all = vec!["all".to_string()];
        match &l.peers {
            None => {
                send_fault(t.http, &t.token, &l.plan.fault(all, false)).await?;
            }
            Some(peers) => {
                // Reset the all-peers shape first, then shape the links to the chosen nodes.
                send_fault(t.http, &t.token, &l.plan.fault(all, true)).await?;
                if !peers.is_empty() && !l.plan.is_clear() {
                    send_fault(t.http, &t.token, &l.plan.fault(ids(peers), false)).await?;
                }
            }
        }
        done.push(match (&l.peers, l.plan.is_clear()) {
            (_, true) => "shapes no link".to_string(),
            (None, false) => "shapes links from all peers".to_string(),
            (Some(p), false) if p.is_empty() => "shapes no link".to_string(),
            (Some(p), false) => format!("shapes links from {}", names(p)),
        });
    }
    if done.is_empty() {
        done.push("no other node".into());
    }
    Ok(done.join(", "))
}

impl Supervisor {
    /// Set a running node's consensus behaviour through its fault API.
    pub async fn byzantine(&self, name: &str, mode: Byzantine) -> Result<NodeView, OpError> {
        let (i, op) = self.index(name)?;
        let _g = op.lock().await;
        let r = async {
            let (http, token, status) = {
                let st = self.state();
                let s = st
                    .slots
                    .get(i)
                    .ok_or_else(|| OpError::NotFound(name.into()))?;
                (s.info.http, s.info.admin_token.clone(), s.status)
            };
            if status != Status::Running {
                return Err(OpError::Conflict(format!(
                    "{name} is {}; byzantine needs it running",
                    lower(status)
                )));
            }
            let done = send_fault(http, &token, &Fault::Byzantine { mode })
                .await
                .map_err(|e| OpError::Node(format!("{name}: {e}")))?;
            if let Some(s) = self.state().slots.get_mut(i) {
                s.byzantine = mode;
            }
            Ok(format!("{}: {done}", mode_name(mode)))
        }
        .await;
        self.log("byzantine", name, &r);
        r?;
        self.view(name)
    }

    fn names(&self) -> Vec<String> {
        self.state()
            .slots
            .iter()
            .map(|s| s.info.name.clone())
            .collect()
    }

    /// Cut the network into `groups` of node names (the nodes not listed form one more
    /// group), replacing the current partition.
    pub async fn partition(&self, groups: Vec<Vec<String>>) -> Result<NetworkReport, OpError> {
        let _t = self.inner.topology.lock().await;
        let names = self.names();
        let p = Partition::new(groups, &names).map_err(OpError::Invalid)?;
        let what = format!("groups {}", describe_groups(&p.effective(&names)));
        self.state().partition = Some(p);
        let report = self.apply_all().await;
        self.record_network("partition", &what, &report);
        Ok(report)
    }

    /// End the partition: every node lets every other node in again.
    pub async fn heal(&self) -> NetworkReport {
        let _t = self.inner.topology.lock().await;
        self.state().partition = None;
        let report = self.apply_all().await;
        self.record_network("heal", "every node may connect to every other", &report);
        report
    }

    /// Shape every link of the plan's nodes in both directions (userspace loss and delay of
    /// inbound libp2p traffic inside the nodes), replacing the current shaping; a plan with
    /// `loss 0, delay_ms 0` clears it.
    pub async fn link(
        &self,
        nodes: Option<Vec<Value>>,
        loss: f64,
        delay_ms: u64,
    ) -> Result<NetworkReport, OpError> {
        let _t = self.inner.topology.lock().await;
        let names = self.names();
        let plan = LinkPlan::new(nodes, loss, delay_ms, &names).map_err(OpError::Invalid)?;
        let what = plan.describe();
        self.state().link = Some(plan);
        let report = self.apply_all().await;
        self.record_network("link", &what, &report);
        Ok(report)
    }

    /// The current link shaping, if any (a clear counts as none).
    pub fn link_plan(&self) -> Option<LinkPlan> {
        self.state().link.clone().filter(|l| !l.is_clear())
    }

    /// The current partition's groups (the unlisted nodes as the last one), if any.
    pub fn partition_groups(&self) -> Option<Vec<Vec<String>>> {
        let names = self.names();
        self.state().partition.as_ref().map(|p| p.effective(&names))
    }

    /// Every node with what it should block and let in under the current partition.
    fn targets(&self) -> (Vec<Target>, Option<Vec<Vec<String>>>) {
        let st = self.state();
        let names: Vec<String> = st.slots.iter().map(|s| s.info.name.clone()).collect();
        let p = st.partition.as_ref();
        let targets = st
            .slots
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let mine = p.map(|p| p.group_of(&s.info.name));
                let (mut block, mut unblock) = (Vec::new(), Vec::new());
                for o in st.slots.iter().filter(|o| o.info.name != s.info.name) {
                    let entry = (o.info.name.clone(), o.info.peer_id.clone());
                    match (p, mine) {
                        (Some(p), Some(g)) if p.group_of(&o.info.name) != g => block.push(entry),
                        _ => unblock.push(entry),
                    }
                }
                let link = st.link.as_ref().map(|plan| LinkTarget {
                    plan: plan.clone(),
                    peers: (!plan.includes(&s.info.name)).then(|| {
                        st.slots
                            .iter()
                            .filter(|o| o.info.name != s.info.name && plan.includes(&o.info.name))
                            .map(|o| (o.info.name.clone(), o.info.peer_id.clone()))
                            .collect()
                    }),
                });
                Target {
                    index,
                    name: s.info.name.clone(),
                    http: s.info.http,
                    token: s.info.admin_token.clone(),
                    status: s.status,
                    starting: s.starting,
                    generation: s.proc.as_ref().map(|p| p.generation),
                    block,
                    unblock,
                    link,
                }
            })
            .collect();
        (targets, p.map(|p| p.effective(&names)))
    }

    fn mark_synced(&self, t: &Target, synced: bool) {
        let mut st = self.state();
        if let Some(s) = st.slots.get_mut(t.index)
            && s.proc.as_ref().map(|p| p.generation) == t.generation
        {
            s.synced = synced;
        }
    }

    /// Apply the current partition (or its absence) to every node; the caller holds the
    /// topology lock.
    pub(super) async fn apply_all(&self) -> NetworkReport {
        let (targets, groups) = self.targets();
        let mut results: Vec<Option<NodeResult>> = vec![None; targets.len()];
        let mut set = tokio::task::JoinSet::new();
        for t in targets {
            let deferred = match t.status {
                Status::Running if t.starting => Some("starting: applied once its API answers"),
                Status::Running => None,
                Status::Paused => Some("paused: applied when it is resumed"),
                _ => Some("not running: applied when it is started again"),
            };
            if let Some(why) = deferred {
                self.mark_synced(&t, false);
                let slot = results.get_mut(t.index);
                if let Some(slot) = slot {
                    *slot = Some(NodeResult {
                        node: t.name.clone(),
                        result: "deferred",
                        detail: why.into(),
                    });
                }
                continue;
            }
            set.spawn(async move {
                let r = sync_one(&t).await;
                (t, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let Ok((t, r)) = joined else { continue };
            self.mark_synced(&t, r.is_ok());
            if let Some(slot) = results.get_mut(t.index) {
                *slot = Some(match r {
                    Ok(d) => NodeResult {
                        node: t.name.clone(),
                        result: "applied",
                        detail: d,
                    },
                    Err(e) => NodeResult {
                        node: t.name.clone(),
                        result: "failed",
                        detail: e,
                    },
                });
            }
        }
        let nodes: Vec<NodeResult> = results.into_iter().flatten().collect();
        NetworkReport {
            ok: nodes.iter().all(|n| n.result != "failed"),
            groups,
            nodes,
        }
    }

    pub(super) fn record_network(&self, action: &str, what: &str, report: &NetworkReport) {
        let parts: Vec<String> = report
            .nodes
            .iter()
            .map(|n| format!("{} {}: {}", n.node, n.result, n.detail))
            .collect();
        self.inner.actions.record(
            action,
            NETWORK,
            report.ok,
            format!("{what}; {}", parts.join("; ")),
        );
    }

    /// Bring a node that missed a partition change (or started under one) in line.
    pub(super) async fn resync(&self, name: &str, why: &str) {
        let _t = self.inner.topology.lock().await;
        let (targets, groups) = self.targets();
        let Some(t) = targets.into_iter().find(|t| t.name == name) else {
            return;
        };
        let synced = self.state().slots.get(t.index).is_none_or(|s| s.synced);
        if synced || t.status != Status::Running {
            return;
        }
        let r = sync_one(&t).await;
        self.mark_synced(&t, r.is_ok());
        let action = if groups.is_some() {
            "partition"
        } else if !LinkPlan::none(self.state().link.as_ref()) {
            "link"
        } else {
            "heal"
        };
        let (ok, detail) = match r {
            Ok(d) => (true, format!("{why}: {d}")),
            Err(e) => (false, format!("{why}: {e}")),
        };
        self.inner.actions.record(action, name, ok, detail);
    }

    /// Once a started process's API answers, apply the current partition to it.
    pub(super) fn after_start(&self, i: usize, generation: u64) {
        let me = self.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + START_DEADLINE;
            let same = |me: &Self| -> Option<(String, SocketAddr)> {
                let st = me.state();
                let s = st.slots.get(i)?;
                (s.proc.as_ref().map(|p| p.generation) == Some(generation))
                    .then(|| (s.info.name.clone(), s.info.http))
            };
            let name = loop {
                let Some((name, http)) = same(&me) else {
                    return;
                };
                let probe = proxy::rpc(http, "eth_blockNumber", json!([]));
                if tokio::time::timeout(Duration::from_secs(5), probe)
                    .await
                    .is_ok_and(|r| r.is_ok())
                {
                    break name;
                }
                if Instant::now() > deadline {
                    // Try anyway: a failure is recorded if it had something to apply.
                    break name;
                }
                tokio::time::sleep(POLL).await;
            };
            if same(&me).is_none() {
                return;
            }
            if let Some(s) = me.state().slots.get_mut(i) {
                s.starting = false;
            }
            me.resync(&name, "after start").await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("node-{i}")).collect()
    }

    fn groups(g: &[&[&str]]) -> Vec<Vec<String>> {
        g.iter()
            .map(|g| g.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn partitions_are_validated() {
        let all = names(5);
        let err = |g: &[&[&str]]| Partition::new(groups(g), &all).err().unwrap_or_default();
        assert!(err(&[]).starts_with("groups is empty"));
        assert_eq!(err(&[&["node-0"], &[]]), "groups[1] is empty");
        assert!(
            err(&[&["node-0"], &["node-9"]])
                .starts_with("groups[1]: no node named \"node-9\" (the nodes are node-0,"),
            "{}",
            err(&[&["node-0"], &["node-9"]])
        );
        assert_eq!(
            err(&[&["node-0", "node-1"], &["node-1"]]),
            "node-1 is listed twice (groups[0] and groups[1])"
        );
        assert!(
            err(&[&["node-0", "node-1", "node-2", "node-3", "node-4"]])
                .starts_with("a partition needs at least two groups")
        );
        // One group plus the unlisted nodes is a partition.
        let p = Partition::new(groups(&[&["node-3"]]), &all).expect("valid");
        assert_eq!(
            p.effective(&all),
            groups(&[&["node-3"], &["node-0", "node-1", "node-2", "node-4"]])
        );
        let p = Partition::new(groups(&[&["node-0", "node-1"], &["node-2"]]), &all).expect("ok");
        assert_eq!(p.group_of("node-1"), 0);
        assert_eq!(p.group_of("node-4"), 2);
        assert_eq!(
            describe_groups(&p.effective(&all)),
            "[node-0 node-1] | [node-2] | [node-3 node-4]"
        );
    }

    #[test]
    fn modes_parse_and_print() {
        for m in ["honest", "silent", "withhold", "equivocate"] {
            assert_eq!(mode_name(parse_mode(m).expect("mode")), m);
        }
        assert_eq!(
            parse_mode("sleepy").err().unwrap_or_default(),
            "unknown byzantine mode \"sleepy\": use honest, silent, withhold or equivocate"
        );
    }
}
