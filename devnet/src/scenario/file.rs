//! The scenario file (TOML, documented in docs/scenarios.md): `[devnet]` settings (the fields
//! of `devnet.toml`), a timeline of `[[step]]`s, an optional `[load]` and `[assert]`ions.
//! Parsed with serde (unknown keys and wrong types are refused with the key and line), then
//! validated with errors naming the field (`step[2].node: …`), like [`crate::spec`].
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

pub use crate::load::LoadKind;
use crate::spec::{DevnetSpec, SpecError};
use tc_node::config::range;

/// Longest scenario (s after the first commit).
pub const MAX_DURATION_S: f64 = 3_600.0;

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (default: the file stem).
    #[serde(default)]
    pub name: String,
    /// What it plays, one paragraph.
    #[serde(default)]
    pub description: String,
    /// Seed of every random choice (`--seed` overrides; random and printed when absent).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Seconds from the first commit to the end checks (the timeline must fit in it).
    pub duration_s: f64,
    /// The devnet (same fields as `devnet.toml`; `data_dir` is replaced by `--dir`, and the
    /// ports are picked free when `[devnet.ports]` is absent).
    #[serde(default)]
    pub devnet: DevnetSpec,
    /// The timeline, run in file order: each step waits for its trigger, then acts.
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// Transactions sent while the scenario runs.
    #[serde(default)]
    pub load: Option<LoadSection>,
    /// What must hold.
    #[serde(default, rename = "assert")]
    pub asserts: Asserts,
    /// Set by [`Scenario::parse`]: whether the file has `[devnet.ports]`.
    #[serde(skip)]
    pub fixed_ports: bool,
}

/// One timeline step.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds after the first commit.
    #[serde(default)]
    pub at: Option<f64>,
    /// When the highest fast head reaches this height.
    #[serde(default)]
    pub at_height: Option<u64>,
    /// When the head block belongs to this epoch (the new committee decides).
    #[serde(default)]
    pub at_epoch: Option<u64>,
    /// When the committee of this epoch is elected (known, not yet deciding: the handover).
    #[serde(default)]
    pub at_election: Option<u64>,
    /// Up to this many seconds of (seeded) random delay added to the trigger.
    #[serde(default)]
    pub jitter_s: f64,
    /// What to do.
    #[serde(rename = "do")]
    pub action: StepAction,
    /// The node it acts on.
    #[serde(default)]
    pub node: Option<NodeRef>,
    /// Several nodes (each acted on in turn); alternative to `node`.
    #[serde(default)]
    pub nodes: Vec<NodeRef>,
    /// `byzantine`: `honest`, `silent`, `withhold` or `equivocate`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `partition`: groups of nodes (unlisted nodes form one more group).
    #[serde(default)]
    pub groups: Vec<Vec<NodeRef>>,
    /// A name for the report and for `[[assert.caught_up]] step = …`.
    #[serde(default)]
    pub label: Option<String>,
}

/// What a step does (the admin API's operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    /// SIGKILL.
    Kill,
    /// SIGTERM (SIGKILL after the grace period).
    Stop,
    /// SIGSTOP.
    Pause,
    /// SIGCONT.
    Resume,
    /// Stop and start again.
    Restart,
    /// Start a node that has no process.
    Start,
    /// Add a node (new key, same genesis) and start it.
    Add,
    /// Cut the network into groups.
    Partition,
    /// End the partition.
    Heal,
    /// Set a consensus behaviour.
    Byzantine,
}

impl StepAction {
    /// As written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kill => "kill",
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Restart => "restart",
            Self::Start => "start",
            Self::Add => "add",
            Self::Partition => "partition",
            Self::Heal => "heal",
            Self::Byzantine => "byzantine",
        }
    }

    fn needs_node(self) -> bool {
        !matches!(self, Self::Add | Self::Partition | Self::Heal)
    }
}

/// Which of several candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The k-th (0-based) in node order.
    Nth(usize),
    /// One chosen with the scenario's seed.
    Random,
}

/// How a step names a node; roles are resolved when the step triggers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeRef {
    /// `node-i` by index (`2` or `"node-2"`).
    Index(usize),
    /// The proposer of the highest committed block.
    Primary,
    /// A member of the committee deciding the head block (`member:k`, `member:random`).
    Member(Pick),
    /// A member other than the primary (`backup:k`, `backup:random`).
    Backup(Pick),
    /// A member of the next committee once elected (`incoming:k`, `incoming:random`).
    Incoming(Pick),
    /// A running node outside the deciding committee (`follower:k`, `follower:random`).
    Follower(Pick),
    /// The node added by the latest `add` step.
    Added,
    /// The (first) node an earlier step with this label acted on (`step:crash`).
    Step(String),
}

/// What the parser accepts as a role.
pub const ROLES: &str = "a node index (2), a name (\"node-2\"), \"primary\", \"added\", \"step:LABEL\" (the node of an earlier step), or \"member:K\", \"backup:K\", \"incoming:K\", \"follower:K\" with K a number or \"random\"";

impl NodeRef {
    /// Parse `"primary"`, `"member:1"`, `"node-3"`, ….
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "primary" {
            return Ok(Self::Primary);
        }
        if s == "added" {
            return Ok(Self::Added);
        }
        if let Some(l) = s.strip_prefix("step:").filter(|l| !l.is_empty()) {
            return Ok(Self::Step(l.to_string()));
        }
        if let Some(i) = s.strip_prefix("node-").and_then(|i| i.parse().ok()) {
            return Ok(Self::Index(i));
        }
        if let Some((role, k)) = s.split_once(':') {
            let pick = match k {
                "random" => Some(Pick::Random),
                k => k.parse().ok().map(Pick::Nth),
            };
            let make: Option<fn(Pick) -> Self> = match role {
                "member" => Some(Self::Member),
                "backup" => Some(Self::Backup),
                "incoming" => Some(Self::Incoming),
                "follower" => Some(Self::Follower),
                _ => None,
            };
            if let (Some(make), Some(pick)) = (make, pick) {
                return Ok(make(pick));
            }
        }
        Err(format!("unknown node {s:?}: use {ROLES}"))
    }
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pick = |p: &Pick| match p {
            Pick::Nth(k) => k.to_string(),
            Pick::Random => "random".into(),
        };
        match self {
            Self::Index(i) => write!(f, "node-{i}"),
            Self::Primary => write!(f, "primary"),
            Self::Added => write!(f, "added"),
            Self::Step(l) => write!(f, "step:{l}"),
            Self::Member(p) => write!(f, "member:{}", pick(p)),
            Self::Backup(p) => write!(f, "backup:{}", pick(p)),
            Self::Incoming(p) => write!(f, "incoming:{}", pick(p)),
            Self::Follower(p) => write!(f, "follower:{}", pick(p)),
        }
    }
}

impl<'de> Deserialize<'de> for NodeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NodeRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(ROLES)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeRef, E> {
                usize::try_from(v)
                    .map(NodeRef::Index)
                    .map_err(|_| E::custom(format!("node index {v} is negative")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeRef, E> {
                usize::try_from(v)
                    .map(NodeRef::Index)
                    .map_err(|_| E::custom(format!("node index {v} is too large")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeRef, E> {
                NodeRef::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[load]`: transactions sent through the launcher's address while the scenario runs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSection {
    /// Transactions per second.
    pub rate: f64,
    /// How long to send (s).
    pub duration_s: f64,
    /// Seconds after the first commit to start.
    #[serde(default)]
    pub start_s: f64,
    /// Dev accounts sending (1..=10).
    #[serde(default = "default_accounts")]
    pub accounts: usize,
    /// `transfer` (1 wei value transfers) or `bank` (`Bank.transfer` between the senders).
    #[serde(default = "default_kind")]
    pub kind: LoadKind,
}

fn default_accounts() -> usize {
    4
}

fn default_kind() -> LoadKind {
    LoadKind::Transfer
}

/// `[assert]`: every assertion present is checked; absent ones are not.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asserts {
    /// All live nodes have the same block hash at every common height.
    #[serde(default)]
    pub agreement: Option<Agreement>,
    /// Commits continue.
    #[serde(default)]
    pub liveness: Option<Liveness>,
    /// The committee rotated at least `min` times.
    #[serde(default)]
    pub rotations: Option<Rotations>,
    /// Every transaction the load got accepted is committed by the end.
    #[serde(default)]
    pub no_tx_lost: Option<NoTxLost>,
    /// Nodes that reach the others' head in time after being (re)started or added.
    #[serde(default)]
    pub caught_up: Vec<CaughtUp>,
    /// Every live node reports the same committee for every epoch.
    #[serde(default)]
    pub committees_agree: Option<CommitteesAgree>,
}

/// `[assert.agreement]`
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Also compare the hash at the lowest live head every this many seconds (0 = only at
    /// the end).
    #[serde(default)]
    pub every_s: f64,
}

/// `[assert.liveness]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Liveness {
    /// Longest time without a new committed block (s), not counting time while more than f
    /// members of the deciding committee are down, paused, byzantine or cut off from the
    /// largest group of members.
    pub max_gap_s: f64,
    /// After such a time ends, this long is not counted either (recovery: view changes, sync).
    #[serde(default = "default_grace")]
    pub grace_s: f64,
}

fn default_grace() -> f64 {
    10.0
}

/// `[assert.rotations]`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotations {
    /// At least this many epoch changes of the head block during the run.
    pub min: u64,
}

/// `[assert.no_tx_lost]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoTxLost {
    /// After the run, wait up to this long for the last transactions to commit (s).
    #[serde(default = "default_drain")]
    pub drain_s: f64,
}

fn default_drain() -> f64 {
    20.0
}

/// `[[assert.caught_up]]`: a node reaches the others' head in time.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaughtUp {
    /// The node: an index, a name or `step:LABEL` (default: the node of `step`).
    #[serde(default)]
    pub node: Option<NodeRef>,
    /// The label of the step the time counts from (default: the last start, restart, resume
    /// or add of the node, else the first commit).
    #[serde(default)]
    pub step: Option<String>,
    /// Within this many seconds of that step.
    pub within_s: f64,
    /// Caught up = at most this many blocks behind the highest other node.
    #[serde(default = "default_lag")]
    pub lag: u64,
}

fn default_lag() -> u64 {
    2
}

/// `[assert.committees_agree]`
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitteesAgree {}

fn err(field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::Range {
        field: field.into(),
        message: message.into(),
    }
}

fn seconds(field: &str, v: f64, max: f64) -> Result<(), SpecError> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(())
    } else {
        Err(err(
            field,
            format!("must be between 0 and {max} s (got {v})"),
        ))
    }
}

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.into(),
            source,
        })?;
        let mut s = Self::parse_at(&text, path)?;
        if s.name.is_empty() {
            s.name = path
                .file_stem()
                .map_or("scenario".into(), |n| n.to_string_lossy().into_owned());
        }
        Ok(s)
    }

    /// Parse and validate TOML text (errors name `scenario.toml`).
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        Self::parse_at(text, Path::new("scenario.toml"))
    }

    fn parse_at(text: &str, path: &Path) -> Result<Self, SpecError> {
        let parse_err = |e: toml::de::Error| SpecError::Parse {
            path: PathBuf::from(path),
            message: e.to_string().trim_end().to_string(),
        };
        let mut s: Self = toml::from_str(text).map_err(parse_err)?;
        let raw: toml::Table = toml::from_str(text).map_err(parse_err)?;
        s.fixed_ports = raw.get("devnet").and_then(|d| d.get("ports")).is_some();
        s.validate()?;
        Ok(s)
    }

    /// Nodes the devnet has once every `add` step ran.
    pub fn max_nodes(&self) -> usize {
        self.devnet.nodes
            + self
                .steps
                .iter()
                .filter(|s| s.action == StepAction::Add)
                .count()
    }

    /// Check every field; errors name it (`step[1].mode: …`).
    pub fn validate(&self) -> Result<(), SpecError> {
        self.devnet.validate().map_err(|e| match e {
            SpecError::Range { field, message } => err(format!("devnet.{field}"), message),
            other => other,
        })?;
        seconds("duration_s", self.duration_s, MAX_DURATION_S)?;
        if self.duration_s < 1.0 {
            return Err(err("duration_s", "must be at least 1 s"));
        }
        let max_nodes = self.max_nodes();
        let check_ref = |field: &str, r: &NodeRef, labels: &[&str]| -> Result<(), SpecError> {
            match r {
                NodeRef::Step(l) if !labels.contains(&l.as_str()) => Err(err(
                    field,
                    format!("step:{l}: no earlier step is labelled {l:?}"),
                )),
                NodeRef::Index(i) if *i >= max_nodes => Err(err(
                    field,
                    format!(
                        "node-{i} does not exist (the devnet has {} nodes{})",
                        self.devnet.nodes,
                        if max_nodes > self.devnet.nodes {
                            format!(", {max_nodes} after the add steps")
                        } else {
                            String::new()
                        }
                    ),
                )),
                _ => Ok(()),
            }
        };
        let mut labels: Vec<&str> = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let f = |name: &str| format!("step[{i}].{name}");
            let triggers = [
                s.at.is_some(),
                s.at_height.is_some(),
                s.at_epoch.is_some(),
                s.at_election.is_some(),
            ]
            .iter()
            .filter(|t| **t)
            .count();
            if triggers != 1 {
                return Err(err(
                    format!("step[{i}]"),
                    format!(
                        "give exactly one of at, at_height, at_epoch, at_election (got {triggers})"
                    ),
                ));
            }
            if let Some(at) = s.at {
                seconds(&f("at"), at, self.duration_s)?;
            }
            seconds(&f("jitter_s"), s.jitter_s, self.duration_s)?;
            let act = s.action.as_str();
            if s.action.needs_node() {
                match (&s.node, s.nodes.is_empty()) {
                    (Some(_), false) => {
                        return Err(err(f("nodes"), "give node or nodes, not both"));
                    }
                    (None, true) => {
                        return Err(err(
                            f("node"),
                            format!("`{act}` needs a node (or nodes = [...]): {ROLES}"),
                        ));
                    }
                    _ => {}
                }
            } else if s.node.is_some() || !s.nodes.is_empty() {
                return Err(err(
                    f("node"),
                    format!("`{act}` acts on no single node; remove node/nodes"),
                ));
            }
            if let Some(r) = &s.node {
                check_ref(&f("node"), r, &labels)?;
            }
            for (k, r) in s.nodes.iter().enumerate() {
                check_ref(&f(&format!("nodes[{k}]")), r, &labels)?;
            }
            match (s.action, &s.mode) {
                (StepAction::Byzantine, None) => {
                    return Err(err(
                        f("mode"),
                        "`byzantine` needs mode = honest, silent, withhold or equivocate",
                    ));
                }
                (StepAction::Byzantine, Some(m)) => {
                    crate::supervisor::faults::parse_mode(m).map_err(|e| err(f("mode"), e))?;
                }
                (_, Some(_)) => {
                    return Err(err(
                        f("mode"),
                        format!("only `byzantine` takes a mode, not `{act}`"),
                    ));
                }
                _ => {}
            }
            match (s.action, s.groups.is_empty()) {
                (StepAction::Partition, true) => {
                    return Err(err(
                        f("groups"),
                        "`partition` needs groups, e.g. groups = [[\"primary\"], [\"member:1\", 2]]",
                    ));
                }
                (StepAction::Partition, false) => {
                    for (g, group) in s.groups.iter().enumerate() {
                        if group.is_empty() {
                            return Err(err(f(&format!("groups[{g}]")), "is empty"));
                        }
                        for (k, r) in group.iter().enumerate() {
                            check_ref(&f(&format!("groups[{g}][{k}]")), r, &labels)?;
                        }
                    }
                }
                (_, false) => {
                    return Err(err(
                        f("groups"),
                        format!("only `partition` takes groups, not `{act}`"),
                    ));
                }
                _ => {}
            }
            if let Some(l) = &s.label {
                if l.is_empty() {
                    return Err(err(f("label"), "must not be empty"));
                }
                if labels.contains(&l.as_str()) {
                    return Err(err(f("label"), format!("{l:?} is used by an earlier step")));
                }
                labels.push(l);
            }
        }
        if let Some(l) = &self.load {
            if !(l.rate.is_finite() && l.rate > 0.0 && l.rate <= 10_000.0) {
                return Err(err(
                    "load.rate",
                    format!("must be above 0 and at most 10000 tx/s (got {})", l.rate),
                ));
            }
            seconds("load.start_s", l.start_s, self.duration_s)?;
            seconds("load.duration_s", l.duration_s, self.duration_s - l.start_s)?;
            range("load.accounts", l.accounts, 1, 10)?;
        }
        let a = &self.asserts;
        if let Some(g) = &a.agreement {
            seconds("assert.agreement.every_s", g.every_s, self.duration_s)?;
        }
        if let Some(l) = &a.liveness {
            seconds("assert.liveness.max_gap_s", l.max_gap_s, self.duration_s)?;
            if l.max_gap_s <= 0.0 {
                return Err(err("assert.liveness.max_gap_s", "must be above 0"));
            }
            seconds("assert.liveness.grace_s", l.grace_s, MAX_DURATION_S)?;
        }
        if let Some(t) = &a.no_tx_lost {
            if self.load.is_none() {
                return Err(err("assert.no_tx_lost", "needs a [load] section"));
            }
            seconds("assert.no_tx_lost.drain_s", t.drain_s, MAX_DURATION_S)?;
        }
        for (i, c) in a.caught_up.iter().enumerate() {
            let f = |name: &str| format!("assert.caught_up[{i}].{name}");
            let all: Vec<&str> = labels.clone();
            match &c.node {
                None if c.step.is_none() => {
                    return Err(err(
                        format!("assert.caught_up[{i}]"),
                        "give node (an index, a name or \"step:LABEL\") or step (a step label), or both",
                    ));
                }
                None | Some(NodeRef::Index(_) | NodeRef::Step(_)) => {
                    if let Some(r) = &c.node {
                        check_ref(&f("node"), r, &all)?;
                    }
                }
                Some(r) => {
                    return Err(err(
                        f("node"),
                        format!("{r} is a role; name a node (index, \"node-i\" or \"step:LABEL\")"),
                    ));
                }
            }
            if let Some(l) = &c.step {
                let step = self.steps.iter().find(|s| s.label.as_deref() == Some(l));
                match step {
                    None => return Err(err(f("step"), format!("no step is labelled {l:?}"))),
                    Some(s)
                        if c.node.is_none()
                            && !s.action.needs_node()
                            && s.action != StepAction::Add =>
                    {
                        return Err(err(
                            f("node"),
                            format!(
                                "step {l:?} does `{}` on no single node: give node too",
                                s.action.as_str()
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            seconds(&f("within_s"), c.within_s, MAX_DURATION_S)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
duration_s = 30
[devnet]
nodes = 5
[[step]]
at = 5
do = "kill"
node = "primary"
label = "crash"
[[step]]
at = 10
do = "restart"
node = "node-1"
label = "back"
[[step]]
at_epoch = 1
do = "partition"
groups = [["member:0"], [3, "follower:random"]]
[[step]]
at = 20
do = "heal"
[assert]
agreement = {}
liveness = { max_gap_s = 8 }
rotations = { min = 1 }
committees_agree = {}
[[assert.caught_up]]
step = "back"
within_s = 20
"#;

    fn err(text: &str) -> String {
        match Scenario::parse(text) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_full_file_parses() {
        let s = Scenario::parse(OK).expect("valid");
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[0].node, Some(NodeRef::Primary));
        assert_eq!(s.steps[1].node, Some(NodeRef::Index(1)));
        assert_eq!(
            s.steps[2].groups,
            vec![
                vec![NodeRef::Member(Pick::Nth(0))],
                vec![NodeRef::Index(3), NodeRef::Follower(Pick::Random)]
            ]
        );
        assert_eq!(s.devnet.nodes, 5);
        assert!(!s.fixed_ports);
        assert_eq!(s.asserts.liveness.as_ref().map(|l| l.grace_s), Some(10.0));
        assert_eq!(s.asserts.caught_up[0].lag, 2);
        assert!(
            Scenario::parse("duration_s = 5\n[devnet.ports]\nnode_http = 9000")
                .expect("ok")
                .fixed_ports
        );
    }

    #[test]
    fn mistakes_name_the_field() {
        for (text, want) in [
            ("", "missing field `duration_s`"),
            ("duration_s = 0.5", "duration_s: must be at least 1 s"),
            (
                "duration_s = 5\n[devnet]\nnodes = 0",
                "devnet.nodes: must be between 1 and 64",
            ),
            (
                "duration_s = 5\n[devnet]\nnodez = 3",
                "unknown field `nodez`",
            ),
            (
                "duration_s = 5\n[[step]]\ndo = \"kill\"\nnode = 1",
                "step[0]: give exactly one of at",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 9\ndo = \"kill\"\nnode = 1",
                "step[0].at: must be between 0 and 5 s",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"kill\"",
                "step[0].node: `kill` needs a node",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"kill\"\nnode = 9",
                "step[0].node: node-9 does not exist (the devnet has 7 nodes)",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"kill\"\nnode = \"leader\"",
                "unknown node \"leader\"",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"explode\"\nnode = 1",
                "unknown variant `explode`",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"byzantine\"\nnode = 1",
                "step[0].mode: `byzantine` needs mode",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"byzantine\"\nnode = 1\nmode = \"sleepy\"",
                "step[0].mode: unknown byzantine mode \"sleepy\"",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"heal\"\nnode = 1",
                "step[0].node: `heal` acts on no single node",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"partition\"",
                "step[0].groups: `partition` needs groups",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"partition\"\ngroups = [[1], []]",
                "step[0].groups[1]: is empty",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"start\"\nnode = \"step:x\"",
                "step[0].node: step:x: no earlier step is labelled \"x\"",
            ),
            (
                "duration_s = 5\n[assert]\nno_tx_lost = {}",
                "assert.no_tx_lost: needs a [load] section",
            ),
            (
                "duration_s = 5\n[assert]\nliveness = { max_gap_s = 0 }",
                "assert.liveness.max_gap_s: must be above 0",
            ),
            (
                "duration_s = 5\n[assert]\nrotation = { min = 1 }",
                "unknown field `rotation`",
            ),
            (
                "duration_s = 5\n[[assert.caught_up]]\nstep = \"x\"\nwithin_s = 5",
                "assert.caught_up[0].step: no step is labelled \"x\"",
            ),
            (
                "duration_s = 5\n[[assert.caught_up]]\nnode = \"primary\"\nwithin_s = 5",
                "assert.caught_up[0].node: primary is a role",
            ),
            (
                "duration_s = 5\n[[assert.caught_up]]\nwithin_s = 5",
                "assert.caught_up[0]: give node",
            ),
            (
                "duration_s = 5\n[[step]]\nat = 1\ndo = \"heal\"\nlabel = \"h\"\n[[assert.caught_up]]\nstep = \"h\"\nwithin_s = 5",
                "assert.caught_up[0].node: step \"h\" does `heal` on no single node",
            ),
            (
                "duration_s = 5\n[load]\nrate = 0\nduration_s = 2",
                "load.rate: must be above 0",
            ),
            (
                "duration_s = 5\n[load]\nrate = 5\nduration_s = 9",
                "load.duration_s: must be between 0 and 5 s",
            ),
        ] {
            let e = err(text);
            assert!(e.contains(want), "{text:?}\n -> {e}\n wanted {want}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for s in [
            "primary",
            "added",
            "step:crash",
            "member:0",
            "backup:random",
            "incoming:2",
            "follower:1",
            "node-3",
        ] {
            assert_eq!(NodeRef::parse(s).expect(s).to_string(), s);
        }
        assert!(NodeRef::parse("member:x").is_err());
    }
}
