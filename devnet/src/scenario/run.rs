//! `devnet scenario run`: start the scenario's devnet in-process (the same [`Supervisor`] the
//! admin API drives), wait for the first commit, then run three things side by side until
//! `duration_s`: a poller of every node (heads, epochs, committees → [`Sample`]s and
//! agreement probes), the timeline (each step waits for its trigger, resolves its roles from
//! fresh node state and acts through the supervisor), and the load. Then the end checks, the
//! report, and every node stopped.
use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use super::check::{self, LoadOutcome, Probe, Record, Sample, StepOutcome};
use super::file::{NodeRef, Pick, Scenario, Step, StepAction};
use super::observe::{self, CommitteeInfo, Head};
use crate::supervisor::{Byzantine, NodeView, OpError, Status, Supervisor};
use crate::up::{self, Signals, say};

/// Between two polls of every node.
const TICK: Duration = Duration::from_millis(500);
/// Between two checks of a step's trigger.
const TRIGGER_POLL: Duration = Duration::from_millis(100);

/// How to run a scenario.
#[derive(Debug)]
pub struct Options {
    /// The parsed scenario.
    pub scenario: Scenario,
    /// Overrides the file's seed.
    pub seed: Option<u64>,
    /// Data dir (default: a new dir under the system temp dir).
    pub dir: Option<PathBuf>,
    /// Keep the data dir after a passing run (a failing run always keeps it).
    pub keep: bool,
    /// The `tc-node` binary (default: next to `devnet`).
    pub node_bin: Option<PathBuf>,
}

/// The result of a run.
#[derive(Debug)]
pub struct Outcome {
    /// Every assertion held and every step ran.
    pub passed: bool,
    /// The readable report.
    pub report: String,
    /// The data dir (logs), if kept.
    pub kept: Option<PathBuf>,
}

/// The kernel's ephemeral port range (outgoing connections take their source ports there).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| {
            let mut it = t.split_whitespace().map(|p| p.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((32_768, 60_999))
}

/// `n` consecutive free loopback ports not overlapping `avoid` (base, count), below the
/// ephemeral range when there is room: the nodes bind them later (an added node much later),
/// and a port there could meanwhile become the source port of some outgoing connection.
fn free_range(n: usize, avoid: &[(u16, usize)]) -> anyhow::Result<u16> {
    let (low, _) = ephemeral_range();
    let span = usize::from(low).saturating_sub(10_000 + n);
    for attempt in 0..400 {
        let base = if span > 1_000 && attempt < 300 {
            u16::try_from(10_000 + rand::random::<usize>() % span).unwrap_or(10_000)
        } else {
            TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()
        };
        if usize::from(base) + n > 65_000 {
            continue;
        }
        let clash = avoid.iter().any(|(b, k)| {
            usize::from(base) < usize::from(*b) + k && usize::from(*b) < usize::from(base) + n
        });
        let free = (0..n).all(|i| {
            u16::try_from(usize::from(base) + i)
                .is_ok_and(|p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if !clash && free {
            return Ok(base);
        }
    }
    anyhow::bail!("no {n} consecutive free ports on 127.0.0.1")
}

/// What the poller last saw, shared with the timeline.
#[derive(Debug, Default)]
struct Now {
    top: u64,
    epoch: u64,
    /// Epoch of the latest committee known (elected, maybe not deciding yet).
    elected: u64,
}

struct Shared {
    sup: Supervisor,
    t0: Instant,
    now: Mutex<Now>,
    record: Mutex<Record>,
    committees: Mutex<HashMap<u64, CommitteeInfo>>,
}

impl Shared {
    fn t(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }
    fn now(&self) -> std::sync::MutexGuard<'_, Now> {
        self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn running(sup: &Supervisor) -> Vec<NodeView> {
    sup.views()
        .into_iter()
        .filter(|v| v.status == Status::Running)
        .collect()
}

/// Heads of every running node that answers.
async fn heads(views: &[NodeView]) -> Vec<(NodeView, Head)> {
    let mut set = tokio::task::JoinSet::new();
    for v in views.iter().cloned() {
        set.spawn(async move { (observe::head(v.http).await, v) });
    }
    let mut out = Vec::new();
    while let Some(j) = set.join_next().await {
        if let Ok((Ok(h), v)) = j {
            out.push((v, h));
        }
    }
    out.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    out
}

/// The committee deciding `epoch` (cached: committees do not change).
async fn committee_at(sh: &Shared, addr: SocketAddr, epoch: u64) -> Option<CommitteeInfo> {
    if let Some(c) = sh
        .committees
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&epoch)
    {
        return Some(c.clone());
    }
    let c = observe::committee(addr, Some(epoch)).await.ok().flatten()?;
    sh.committees
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(epoch, c.clone());
    Some(c)
}

/// More than f members of `c` are down, paused, byzantine or outside the largest group of
/// members under the current partition.
fn quorum_down(sup: &Supervisor, c: &CommitteeInfo) -> bool {
    let views = sup.views();
    let by_key: HashMap<String, &NodeView> = views
        .iter()
        .map(|v| (observe::norm_key(&v.key), v))
        .collect();
    let members: Vec<&NodeView> = c
        .members
        .iter()
        .filter_map(|k| by_key.get(k).copied())
        .collect();
    let groups = sup.partition_groups();
    let group_of = |name: &str| {
        groups
            .as_ref()
            .and_then(|g| g.iter().position(|g| g.iter().any(|n| n == name)))
    };
    let mut per_group: HashMap<Option<usize>, usize> = HashMap::new();
    for m in &members {
        *per_group.entry(group_of(&m.name)).or_default() += 1;
    }
    let main = per_group
        .iter()
        .max_by_key(|(g, n)| (**n, std::cmp::Reverse(**g)))
        .map(|(g, _)| *g);
    let impaired = members
        .iter()
        .filter(|m| {
            m.status != Status::Running
                || m.byzantine != Byzantine::Honest
                || Some(group_of(&m.name)) != main
        })
        .count();
    impaired > c.max_faulty()
}

/// Poll every node until `stop`; periodic agreement probes every `probe_s` (0: none).
async fn poll(sh: Arc<Shared>, probe_s: f64, mut stop: watch::Receiver<bool>) {
    let mut last_probe = 0.0;
    loop {
        let views = running(&sh.sup);
        let hs = heads(&views).await;
        let t = sh.t();
        let leader = hs.iter().max_by_key(|(_, h)| h.number);
        let mut down = false;
        if let Some((v, h)) = leader {
            if let Some(c) = committee_at(&sh, v.http, h.epoch).await {
                down = quorum_down(&sh.sup, &c);
            }
            let elected = observe::committee(v.http, None)
                .await
                .ok()
                .flatten()
                .map_or(h.epoch, |c| c.epoch);
            let mut now = sh.now();
            now.top = now.top.max(h.number);
            now.epoch = now.epoch.max(h.epoch);
            now.elected = now.elected.max(elected).max(h.epoch);
        }
        sh.record().samples.push(Sample {
            t,
            heads: hs
                .iter()
                .map(|(v, h)| (v.name.clone(), h.number, h.epoch))
                .collect(),
            quorum_down: down,
        });
        if probe_s > 0.0 && t - last_probe >= probe_s && hs.len() >= 2 {
            last_probe = t;
            if let Some(height) = hs.iter().map(|(_, h)| h.number).min() {
                let mut hashes = Vec::new();
                for (v, _) in &hs {
                    if let Ok(found) = observe::hashes(v.http, height, height).await
                        && let Some((_, hash)) = found.into_iter().next()
                    {
                        hashes.push((v.name.clone(), hash));
                    }
                }
                sh.record().probes.push(Probe { t, height, hashes });
            }
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Roles as they stand now (fresh from the nodes).
struct Roles {
    views: Vec<NodeView>,
    primary: Option<String>,
    deciding: Option<CommitteeInfo>,
    incoming: Option<CommitteeInfo>,
}

async fn roles(sh: &Shared) -> Roles {
    let views = sh.sup.views();
    let hs = heads(&running(&sh.sup)).await;
    let leader = hs.iter().max_by_key(|(_, h)| h.number);
    let (mut primary, mut deciding, mut incoming) = (None, None, None);
    if let Some((v, h)) = leader {
        primary = views
            .iter()
            .find(|n| observe::norm_key(&n.key) == h.proposer)
            .map(|n| n.name.clone());
        deciding = committee_at(sh, v.http, h.epoch).await;
        incoming = observe::committee(v.http, None)
            .await
            .ok()
            .flatten()
            .filter(|c| c.epoch > h.epoch);
    }
    Roles {
        views,
        primary,
        deciding,
        incoming,
    }
}

impl Roles {
    fn name_of(&self, key: &str) -> Option<String> {
        self.views
            .iter()
            .find(|v| observe::norm_key(&v.key) == key)
            .map(|v| v.name.clone())
    }

    fn members(&self, c: Option<&CommitteeInfo>) -> Vec<String> {
        c.map(|c| c.members.iter().filter_map(|k| self.name_of(k)).collect())
            .unwrap_or_default()
    }

    /// Resolve one reference, avoiding names already `taken` in this step.
    fn resolve(
        &self,
        r: &NodeRef,
        added: Option<&String>,
        labelled: &HashMap<String, Vec<String>>,
        taken: &[String],
        rng: &mut StdRng,
    ) -> Result<Vec<String>, String> {
        if let NodeRef::Step(l) = r {
            return labelled
                .get(l)
                .filter(|n| !n.is_empty())
                .cloned()
                .ok_or_else(|| format!("step:{l}: that step acted on no node"));
        }
        self.resolve_one(r, added, taken, rng).map(|n| vec![n])
    }

    fn resolve_one(
        &self,
        r: &NodeRef,
        added: Option<&String>,
        taken: &[String],
        rng: &mut StdRng,
    ) -> Result<String, String> {
        // In node order (keys, and so the committee's canonical order, are new in every
        // devnet; node names are not), so a seed picks the same nodes every run.
        let pick = |what: &str, mut cands: Vec<String>, p: Pick, rng: &mut StdRng| {
            cands.sort_by_key(|n| {
                n.strip_prefix("node-")
                    .and_then(|i| i.parse::<usize>().ok())
                    .unwrap_or(usize::MAX)
            });
            match p {
                // K counts over all candidates; a node picked twice in one step is an error.
                Pick::Nth(k) => match cands.get(k) {
                    Some(n) if taken.contains(n) => {
                        Err(format!("{what}:{k} is {n}, already picked in this step"))
                    }
                    Some(n) => Ok(n.clone()),
                    None if cands.is_empty() => Err(format!("{what}:{k}: there is no {what} now")),
                    None => Err(format!(
                        "{what}:{k}: there are only {} ({})",
                        cands.len(),
                        cands.join(" ")
                    )),
                },
                // Random picks skip the nodes already picked in this step.
                Pick::Random => {
                    cands.retain(|c| !taken.contains(c));
                    if cands.is_empty() {
                        Err(format!("{what}:random: there is no {what} left to pick"))
                    } else {
                        Ok(cands[rng.gen_range(0..cands.len())].clone())
                    }
                }
            }
        };
        let deciding = self.members(self.deciding.as_ref());
        match r {
            NodeRef::Index(i) => Ok(format!("node-{i}")),
            NodeRef::Primary => self
                .primary
                .clone()
                .ok_or_else(|| "primary: no node answered with its head block".into()),
            NodeRef::Added => added
                .cloned()
                .ok_or_else(|| "added: no add step ran before".into()),
            NodeRef::Step(l) => Err(format!("step:{l} names several nodes")),
            NodeRef::Member(p) => pick("member", deciding, *p, rng),
            NodeRef::Backup(p) => {
                let mut c = deciding;
                c.retain(|n| Some(n) != self.primary.as_ref());
                pick("backup", c, *p, rng)
            }
            NodeRef::Incoming(p) => {
                if self.incoming.is_none() {
                    return Err("incoming: the next committee is not elected yet".into());
                }
                pick("incoming", self.members(self.incoming.as_ref()), *p, rng)
            }
            NodeRef::Follower(p) => {
                let c = self
                    .views
                    .iter()
                    .filter(|v| v.status == Status::Running && !deciding.contains(&v.name))
                    .map(|v| v.name.clone())
                    .collect();
                pick("follower", c, *p, rng)
            }
        }
    }
}

fn trigger_text(s: &Step) -> String {
    let base = match (s.at, s.at_height, s.at_epoch, s.at_election) {
        (Some(t), ..) => format!("at {t}s"),
        (_, Some(h), ..) => format!("at_height {h}"),
        (_, _, Some(e), _) => format!("at_epoch {e}"),
        (.., Some(e)) => format!("at_election {e}"),
        _ => "?".into(),
    };
    if s.jitter_s > 0.0 {
        format!("{base} + ≤{}s jitter", s.jitter_s)
    } else {
        base
    }
}

/// Wait for a step's trigger (plus its jitter); `false` if the run ended first.
async fn triggered(sh: &Shared, s: &Step, jitter: f64, end: Instant) -> bool {
    let cond = || {
        let now = sh.now();
        match (s.at, s.at_height, s.at_epoch, s.at_election) {
            (Some(t), ..) => sh.t() >= t,
            (_, Some(h), ..) => now.top >= h,
            (_, _, Some(e), _) => now.epoch >= e,
            (.., Some(e)) => now.elected >= e,
            _ => false,
        }
    };
    while !cond() {
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(TRIGGER_POLL).await;
    }
    let at = Instant::now() + Duration::from_secs_f64(jitter);
    if at > end {
        return false;
    }
    tokio::time::sleep_until(at.into()).await;
    true
}

fn done(r: Result<NodeView, OpError>) -> Result<String, String> {
    r.map(|v| {
        format!(
            "{}{}",
            serde_json::to_value(v.status)
                .ok()
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default(),
            v.pid.map_or(String::new(), |p| format!(" (pid {p})"))
        )
    })
    .map_err(|e| e.to_string())
}

/// Act on one node.
async fn act(sup: &Supervisor, s: &Step, node: &str) -> Result<String, String> {
    match s.action {
        StepAction::Kill => done(sup.kill(node).await),
        StepAction::Stop => done(sup.stop(node).await),
        StepAction::Pause => done(sup.pause(node).await),
        StepAction::Resume => done(sup.resume(node).await),
        StepAction::Restart => done(sup.restart(node).await),
        StepAction::Start => done(sup.start(node).await),
        StepAction::Byzantine => {
            let mode = crate::supervisor::faults::parse_mode(s.mode.as_deref().unwrap_or(""))?;
            done(sup.byzantine(node, mode).await)
                .map(|_| crate::supervisor::faults::mode_name(mode))
        }
        StepAction::Add | StepAction::Partition | StepAction::Heal => {
            Err(format!("{} does not act on one node", s.action.as_str()))
        }
    }
}

/// Run the timeline until every step ran or `end`.
async fn timeline(sh: Arc<Shared>, steps: Vec<Step>, mut rng: StdRng, end: Instant) {
    let mut added: Option<String> = None;
    let mut labelled: HashMap<String, Vec<String>> = HashMap::new();
    for (index, s) in steps.iter().enumerate() {
        let jitter = if s.jitter_s > 0.0 {
            rng.gen_range(0.0..s.jitter_s)
        } else {
            0.0
        };
        let mut out = StepOutcome {
            index,
            label: s.label.clone(),
            action: s.action.as_str().into(),
            trigger: trigger_text(s),
            t: None,
            nodes: Vec::new(),
            ok: false,
            detail: String::new(),
        };
        if !triggered(&sh, s, jitter, end).await {
            out.detail = "did not trigger before duration_s ran out".into();
            sh.record().steps.push(out);
            continue;
        }
        out.t = Some(sh.t());
        let result: Result<String, String> = async {
            let needs_roles = s.node.is_some() || !s.nodes.is_empty() || !s.groups.is_empty();
            let r = if needs_roles {
                Some(roles(&sh).await)
            } else {
                None
            };
            let resolve_all = |refs: &[NodeRef], rng: &mut StdRng| -> Result<Vec<String>, String> {
                let mut names: Vec<String> = Vec::new();
                for x in refs {
                    let r = r.as_ref().ok_or("no roles")?;
                    let n = r.resolve(x, added.as_ref(), &labelled, &names, rng)?;
                    names.extend(n);
                }
                Ok(names)
            };
            match s.action {
                StepAction::Add => {
                    let v = sh.sup.add().await.map_err(|e| e.to_string())?;
                    out.nodes.push(v.name.clone());
                    added = Some(v.name.clone());
                    Ok(format!("added, pid {}", v.pid.unwrap_or_default()))
                }
                StepAction::Heal => {
                    let rep = sh.sup.heal().await;
                    if rep.ok {
                        Ok("healed".into())
                    } else {
                        Err(format!(
                            "heal failed on some nodes: {}",
                            serde_json::to_string(&rep.nodes).unwrap_or_default()
                        ))
                    }
                }
                StepAction::Partition => {
                    let mut groups = Vec::new();
                    let mut taken: Vec<String> = Vec::new();
                    for g in &s.groups {
                        let mut names = Vec::new();
                        for x in g {
                            let rr = r.as_ref().ok_or("no roles")?;
                            let n = rr.resolve(x, added.as_ref(), &labelled, &taken, &mut rng)?;
                            taken.extend(n.iter().cloned());
                            names.extend(n);
                        }
                        groups.push(names);
                    }
                    out.nodes = taken.clone();
                    let rep = sh.sup.partition(groups).await.map_err(|e| e.to_string())?;
                    let text = rep
                        .groups
                        .as_ref()
                        .map(|g| {
                            g.iter()
                                .map(|g| format!("[{}]", g.join(" ")))
                                .collect::<Vec<_>>()
                                .join(" | ")
                        })
                        .unwrap_or_default();
                    if rep.ok {
                        Ok(text)
                    } else {
                        Err(format!("{text}: not applied on every node"))
                    }
                }
                _ => {
                    let refs: Vec<NodeRef> = s
                        .node
                        .iter()
                        .cloned()
                        .chain(s.nodes.iter().cloned())
                        .collect();
                    let names = resolve_all(&refs, &mut rng)?;
                    out.nodes = names.clone();
                    let mut parts = Vec::new();
                    for n in &names {
                        parts.push(format!(
                            "{n} {}",
                            act(&sh.sup, s, n).await.map_err(|e| format!("{n}: {e}"))?
                        ));
                    }
                    Ok(parts.join(", "))
                }
            }
        }
        .await;
        if let Some(l) = &s.label {
            labelled.insert(l.clone(), out.nodes.clone());
        }
        match result {
            Ok(d) => {
                out.ok = true;
                out.detail = d;
            }
            Err(e) => out.detail = e,
        }
        say(format!(
            "[{:>5.1}s] {}",
            out.t.unwrap_or_default(),
            out.line()
        ));
        sh.record().steps.push(out);
    }
}

/// Where each caught_up assertion starts measuring: (assertion, node, time).
fn caught_up_starts(sc: &Scenario, steps: &[StepOutcome]) -> Vec<(usize, String, f64)> {
    let labelled = |l: &str| {
        steps
            .iter()
            .find(|s| s.label.as_deref() == Some(l) && s.ok && s.t.is_some())
    };
    let mut out = Vec::new();
    for (i, c) in sc.asserts.caught_up.iter().enumerate() {
        let node = match &c.node {
            Some(NodeRef::Index(k)) => Some(format!("node-{k}")),
            Some(NodeRef::Step(l)) => labelled(l).and_then(|s| s.nodes.first().cloned()),
            Some(_) => None,
            None => c
                .step
                .as_deref()
                .and_then(labelled)
                .and_then(|s| s.nodes.first().cloned()),
        };
        let Some(node) = node else { continue };
        let from = match &c.step {
            Some(l) => labelled(l).and_then(|s| s.t),
            None => Some(
                steps
                    .iter()
                    .filter(|s| {
                        s.ok && matches!(s.action.as_str(), "start" | "restart" | "resume" | "add")
                            && s.nodes.contains(&node)
                    })
                    .filter_map(|s| s.t)
                    .next_back()
                    .unwrap_or(0.0),
            ),
        };
        if let Some(from) = from {
            out.push((i, node, from));
        }
    }
    out
}

/// End checks that ask the nodes: every running node's hashes and committees.
async fn end_checks(sh: &Shared, sc: &Scenario) {
    let views = running(&sh.sup);
    if sc.asserts.agreement.is_some() {
        let hs = heads(&views).await;
        let mut out = Vec::new();
        for v in &views {
            let r = match hs.iter().find(|(n, _)| n.name == v.name) {
                Some((_, h)) => observe::hashes(v.http, 0, h.number).await,
                None => Err("no head block".into()),
            };
            out.push((v.name.clone(), r));
        }
        sh.record().end_hashes = out;
    }
    if sc.asserts.committees_agree.is_some() {
        let mut out = Vec::new();
        for v in &views {
            out.push((v.name.clone(), observe::committees(v.http).await));
        }
        sh.record().end_committees = out;
    }
}

/// Run a scenario to its report.
pub async fn run(opts: Options) -> anyhow::Result<Outcome> {
    let Options {
        scenario: sc,
        seed,
        dir,
        keep,
        node_bin,
    } = opts;
    let seed = seed.or(sc.seed).unwrap_or_else(rand::random);
    let mut spec = sc.devnet.clone();
    let own_dir = dir.is_none();
    spec.data_dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("tc-scenario-{}-{}", sc.name, std::process::id()))
    });
    if let Some(b) = node_bin {
        spec.launcher.node_bin = b;
    }
    if !sc.fixed_ports {
        let n = sc.max_nodes();
        let http = free_range(1, &[])?;
        let node_http = free_range(n, &[(http, 1)])?;
        let node_p2p = free_range(n, &[(http, 1), (node_http, n)])?;
        spec.ports.http = SocketAddr::from(([127, 0, 0, 1], http));
        spec.ports.node_http = node_http;
        spec.ports.node_p2p = node_p2p;
    }
    spec.validate().context("the scenario's [devnet]")?;
    say(format!(
        "scenario {} (seed {seed}): {} nodes, committee {}, {} steps, {}s after the first commit",
        sc.name,
        spec.nodes,
        spec.committee,
        sc.steps.len(),
        sc.duration_s
    ));
    let mut signals = Signals::new()?;
    let nodes = up::prepare(&spec, true)?;
    let served = up::serve(&spec, nodes, crate::feed::launcher::integrations(None)).await?;
    let sup = served.sup.clone();
    say(format!(
        "watch it: merged feed ws://{}/feed, admin token in {}/{}",
        served.http,
        spec.data_dir.display(),
        up::TOKEN_FILE
    ));

    let body = async {
        sup.start_all().await?;
        let timeout = Duration::from_secs(spec.launcher.startup_timeout_s);
        let head = up::wait_for_commit(&sup, timeout).await?;
        say(format!("first commit (#{head}); the scenario starts"));
        let t0 = Instant::now();
        let end = t0 + Duration::from_secs_f64(sc.duration_s);
        let sh = Arc::new(Shared {
            sup: sup.clone(),
            t0,
            now: Mutex::default(),
            record: Mutex::default(),
            committees: Mutex::default(),
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let probe_s = sc.asserts.agreement.as_ref().map_or(0.0, |a| a.every_s);
        let poller = tokio::spawn(poll(sh.clone(), probe_s, stop_rx));
        let rng = StdRng::seed_from_u64(seed);
        let tl = tokio::spawn(timeline(sh.clone(), sc.steps.clone(), rng, end));
        let drain = sc.asserts.no_tx_lost.as_ref().map_or(20.0, |d| d.drain_s);
        let load = sc.load.clone().map(|l| {
            let url = format!("http://{}", served.http);
            tokio::spawn(async move {
                tokio::time::sleep_until((t0 + Duration::from_secs_f64(l.start_s)).into()).await;
                super::load::run(&l, &url, seed, drain).await
            })
        });
        tokio::time::sleep_until(end.into()).await;
        // The timeline has given up on steps that did not trigger by now; a step still acting
        // gets a little longer.
        if tokio::time::timeout(Duration::from_secs(30), tl)
            .await
            .is_err()
        {
            sh.record().steps.push(StepOutcome {
                index: sc.steps.len(),
                label: None,
                action: "timeline".into(),
                trigger: "-".into(),
                t: None,
                nodes: Vec::new(),
                ok: false,
                detail: "a step was still acting 30 s after duration_s".into(),
            });
        }
        let mut load_out = None;
        if let Some(task) = load {
            let wait = Duration::from_secs_f64(60.0 + drain);
            let mut out = match tokio::time::timeout(wait, task).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => LoadOutcome {
                    error: Some(format!("load task: {e}")),
                    ..LoadOutcome::default()
                },
                Err(_) => LoadOutcome {
                    error: Some(format!(
                        "the load did not finish within {}s of the end",
                        wait.as_secs()
                    )),
                    ..LoadOutcome::default()
                },
            };
            out.missing = wait_committed(&sup, &out.accepted, drain).await;
            load_out = Some(out);
        }
        let _ = stop_tx.send(true);
        let _ = poller.await;
        end_checks(&sh, &sc).await;
        let mut record = std::mem::take(&mut *sh.record());
        record.load = load_out;
        record.caught_up_from = caught_up_starts(&sc, &record.steps);
        anyhow::Ok(record)
    };
    let record = tokio::select! {
        r = body => r,
        s = signals.next() => Err(anyhow::anyhow!("{s}: scenario interrupted")),
    };
    served.close(&mut signals).await;
    let record = match record {
        Ok(r) => r,
        Err(e) => {
            return Err(e.context(format!(
                "scenario {} (node logs in {})",
                sc.name,
                spec.data_dir.display()
            )));
        }
    };
    let rows = check::evaluate(&sc.asserts, &record);
    let passed = rows.iter().all(|r| r.pass);
    let mut report = check::render(&sc.name, seed, &record, &rows);
    let kept = if passed && !keep && own_dir {
        let _ = crate::datadir::wipe(&spec.data_dir);
        None
    } else {
        report.push_str(&format!(
            "\nnode logs: {}/node-*/node.log\n",
            spec.data_dir.display()
        ));
        Some(spec.data_dir.clone())
    };
    Ok(Outcome {
        passed,
        report,
        kept,
    })
}

/// Wait up to `drain_s` until every tx in `txs` has a receipt on some running node; the
/// hashes still without one.
async fn wait_committed(sup: &Supervisor, txs: &[String], drain_s: f64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs_f64(drain_s);
    let mut missing: Vec<String> = txs.to_vec();
    loop {
        for v in running(sup) {
            if missing.is_empty() {
                break;
            }
            if let Ok(found) = observe::committed(v.http, &missing).await {
                missing = missing
                    .into_iter()
                    .zip(found)
                    .filter(|(_, f)| !f)
                    .map(|(h, _)| h)
                    .collect();
            }
        }
        if missing.is_empty() || Instant::now() >= deadline {
            return missing;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
