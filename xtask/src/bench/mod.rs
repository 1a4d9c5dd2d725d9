//! `cargo xtask bench [--quick] [--only SECTION,...] [--out DIR]`: issue #9's benchmark in one
//! command. Runs each section, prints ONE table (metric, value, unit, target, met/missed, note)
//! and writes `<out>/summary.json` (default `<target dir>/bench/`); the component benches and
//! load runs leave their own JSON and logs next to it.
//!
//! Sections (`--only` takes the letters or the names):
//! * `a` / `limit` — `cargo bench -p tc-node --bench limit`: one thread, sender recovery,
//!   execution and commit of value and Bank transfers over RocksDB state;
//! * `b` / `devnet` — release `devnet up` (4 nodes, committee 4, 2 ms block interval) in a
//!   temp dir on free ports; `devnet load` transfers and Bank at 1,000 tx/s and at max rate;
//! * `c` / `others` — the same loads against anvil, Hardhat's node and ganache (npm packages in
//!   `e2e/bench`, started offline with their default dev accounts);
//! * `d` / `rotation` — a devnet with short epochs; fast-block intervals at node-0 vs the gap at
//!   each committee rotation (rotation heights from GraphQL `epochs`);
//! * `e`, `f` / `launcher` — `cargo bench -p tc-devnet --bench launcher` when that bench exists
//!   (start-up to first commit for 4/16 nodes, feed fan-out to 100 clients);
//! * `api` — `cargo bench -p tc-node --bench api` (GraphQL q/s, JSON-RPC p99).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Result, cargo, root, say, target_dir};

mod others;
mod procs;
pub(crate) mod report;
mod rotation;

use procs::{Proc, free_port, free_range};
use report::{Row, Target};

/// Sections in run order.
const SECTIONS: [(&str, &str); 6] = [
    ("a", "limit"),
    ("b", "devnet"),
    ("c", "others"),
    ("d", "rotation"),
    ("e", "launcher"),
    ("api", "api"),
];

/// What one run does.
#[derive(Debug)]
pub(crate) struct Ctx {
    quick: bool,
    out: PathBuf,
    target: PathBuf,
    /// Settings reported in summary.json.
    settings: BTreeMap<String, Value>,
}

impl Ctx {
    fn bin(&self, name: &str) -> PathBuf {
        self.target.join("release").join(name)
    }

    fn log(&self, name: &str) -> PathBuf {
        self.out.join("logs").join(format!("{name}.log"))
    }
}

fn parse(args: &[String]) -> Result<(bool, Vec<&'static str>, Option<PathBuf>)> {
    let mut quick = false;
    let mut only: Option<Vec<&'static str>> = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "--only" => {
                let list = it.next().ok_or("--only needs SECTION,...")?;
                let mut picked = Vec::new();
                for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let s = if s == "f" { "e" } else { s };
                    let name = SECTIONS
                        .iter()
                        .find(|(l, n)| *l == s || *n == s)
                        .map(|(_, n)| *n)
                        .ok_or_else(|| {
                            format!(
                                "--only {s:?}: unknown section (accepted: a|limit, b|devnet, \
                                 c|others, d|rotation, e|f|launcher, api)"
                            )
                        })?;
                    if !picked.contains(&name) {
                        picked.push(name);
                    }
                }
                only = Some(picked);
            }
            other => {
                return Err(format!(
                    "unknown option {other:?} (accepted: --quick, --only SECTION,..., --out DIR)"
                ));
            }
        }
    }
    let only = only.unwrap_or_else(|| SECTIONS.iter().map(|(_, n)| *n).collect());
    // Keep the run order whatever order --only named them in.
    let ordered = SECTIONS
        .iter()
        .map(|(_, n)| *n)
        .filter(|n| only.contains(n))
        .collect();
    Ok((quick, ordered, out))
}

/// `cargo xtask bench …`.
pub(crate) fn bench(args: &[String]) -> Result<()> {
    let (quick, sections, out) = parse(args)?;
    let target = target_dir()?;
    let out = out.unwrap_or_else(|| target.join("bench"));
    std::fs::create_dir_all(out.join("logs"))
        .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut ctx = Ctx {
        quick,
        out,
        target,
        settings: BTreeMap::new(),
    };
    ctx.settings.insert("quick".into(), quick.into());
    ctx.settings.insert("sections".into(), json!(sections));
    ctx.settings.insert("machine".into(), machine());
    let started = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = Vec::new();

    if sections
        .iter()
        .any(|s| matches!(*s, "devnet" | "others" | "rotation"))
    {
        say("building tc-node and devnet (release)");
        if let Err(e) = crate::run(Command::new(cargo()).current_dir(root()).args([
            "build",
            "--release",
            "--locked",
            "-p",
            "tc-node",
            "-p",
            "tc-devnet",
        ])) {
            return Err(format!("release build failed: {e}"));
        }
    }
    for s in &sections {
        let t = Instant::now();
        say(&format!("section {s}"));
        let result = match *s {
            "limit" => limit(&ctx),
            "devnet" => devnet(&mut ctx),
            "others" => others::run(&mut ctx),
            "rotation" => rotation::run(&mut ctx),
            "launcher" => launcher(&ctx),
            _ => api(&ctx),
        };
        match result {
            Ok(r) => rows.extend(r),
            Err(e) => {
                say(&format!("section {s} failed: {e}"));
                let letter = SECTIONS
                    .iter()
                    .find(|(_, n)| n == s)
                    .map_or("", |(l, _)| *l);
                let first = e.lines().next().unwrap_or_default().to_string();
                rows.push(Row::missing(
                    letter,
                    format!("{s}_section"),
                    format!("failed: {first}"),
                ));
                failed.push(*s);
            }
        }
        say(&format!(
            "section {s} took {:.0} s",
            t.elapsed().as_secs_f64()
        ));
    }
    rows.extend(report::derived(&rows).into_iter().filter(|r| {
        // Only comparisons whose inputs this run was asked to measure.
        r.value.is_some() || sections.len() == SECTIONS.len()
    }));
    ctx.settings
        .insert("elapsed_s".into(), json!(started.elapsed().as_secs()));
    let settings = Value::Object(ctx.settings.clone().into_iter().collect());
    let summary = report::summary(&rows, settings);
    let path = ctx.out.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!();
    println!(
        "trueconsensus bench{} — {:.0} s; shared 2-core machine: absolute figures are low and noisy",
        if quick { " --quick" } else { "" },
        started.elapsed().as_secs_f64()
    );
    print!("{}", report::render(&rows));
    println!("wrote {}", path.display());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "sections failed: {} (see the table and {}/logs)",
            failed.join(", "),
            ctx.out.display()
        ))
    }
}

/// Cores and load average, for reading the figures.
fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    json!({"cores": cores, "loadavg_1m_at_start": load})
}

/// Build bench target NAME of PACKAGE with the release profile (`cargo bench` would use the
/// `bench` profile: same settings, but a second build of every workspace crate), run it from the
/// package's directory as `cargo bench` does, with `TC_BENCH_OUT` and its output in the log;
/// then read its `<name>.json`.
fn component(ctx: &Ctx, package: &str, name: &str, env: &[(&str, &str)]) -> Result<Value> {
    let log = ctx.log(name);
    let path = ctx.out.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&path);
    say(&format!(
        "cargo bench -p {package} --bench {name} (release profile; log: {})",
        log.display()
    ));
    let built = std::process::Command::new(cargo())
        .current_dir(root())
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            package,
            "--bench",
            name,
        ])
        .args(["--message-format", "json-render-diagnostics"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !built.status.success() {
        return Err(format!(
            "building bench {name} of {package} failed ({})",
            built.status
        ));
    }
    let (exe, dir) = String::from_utf8_lossy(&built.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| {
            let exe = PathBuf::from(m["executable"].as_str()?);
            let dir = Path::new(m["manifest_path"].as_str()?)
                .parent()?
                .to_path_buf();
            Some((exe, dir))
        })
        .ok_or_else(|| format!("cargo build named no executable for bench {name}"))?;
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let status = Command::new(&exe)
        .current_dir(dir)
        .arg("--bench")
        .env("TC_BENCH_OUT", &ctx.out)
        .envs(env.iter().copied())
        .stdout(file)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !status.success() {
        return Err(format!(
            "bench {name} of {package} failed ({status}):\n{}",
            procs::tail(&log, 15)
        ));
    }
    read_json(&path)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn limit(ctx: &Ctx) -> Result<Vec<Row>> {
    let env: &[(&str, &str)] = if ctx.quick {
        &[("TC_BENCH_QUICK", "1")]
    } else {
        &[]
    };
    let v = component(ctx, "tc-node", "limit", env)?;
    report::import("a", "limit_", &v, |_| None)
}

fn api(ctx: &Ctx) -> Result<Vec<Row>> {
    let env: &[(&str, &str)] = if ctx.quick {
        &[("TC_BENCH_SECS", "2"), ("TC_BENCH_BLOCKS", "50")]
    } else {
        &[]
    };
    let v = component(ctx, "tc-node", "api", env)?;
    report::import("api", "api_", &v, |_| None)
}

/// Whether `package` has a bench target `name` (cargo metadata).
fn has_bench(package: &str, name: &str) -> Result<bool> {
    let meta = crate::output(Command::new(cargo()).current_dir(root()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))
    .ok_or("cargo metadata failed")?;
    let v: Value = serde_json::from_str(&meta).map_err(|e| format!("cargo metadata: {e}"))?;
    Ok(v["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == package)
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .any(|t| {
            t["name"] == name
                && t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bench"))
        }))
}

fn launcher(ctx: &Ctx) -> Result<Vec<Row>> {
    if !has_bench("tc-devnet", "launcher")? {
        return Ok(vec![Row::missing(
            "e",
            "launcher_rows",
            "missing: no `launcher` bench in tc-devnet yet (cargo bench -p tc-devnet --bench launcher), so (e) start-up and (f) feed fan-out are not measured",
        )]);
    }
    let env: &[(&str, &str)] = if ctx.quick {
        &[("TC_BENCH_UP_RUNS", "1"), ("TC_BENCH_FEED_SECS", "5")]
    } else {
        &[]
    };
    let v = component(ctx, "tc-devnet", "launcher", env)?;
    let rows = report::import("e", "", &v, |m| {
        (m == "up_to_first_commit_4_nodes").then_some(Target::AtMost(1.0))
    })?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            if r.metric.starts_with("feed_") {
                r.section = "f".into();
            }
            r
        })
        .collect())
}

/// One `devnet load` run's settings.
#[derive(Clone, Debug)]
pub(crate) struct Load {
    /// `transfer` or `bank`.
    pub(crate) kind: &'static str,
    /// `Some(rate)` or max rate (`None`).
    pub(crate) rate: Option<u32>,
    pub(crate) txs: usize,
    pub(crate) max_fee_gwei: f64,
    /// Transactions per JSON-RPC batch at max rate (1 = one request per transaction).
    pub(crate) batch: usize,
}

/// Run `devnet load` against `url`; rows `<system>_<kind>_<1000|max>_…`.
/// `commit_timeout_s`: how long to wait for the last commit after the last submission.
pub(crate) fn load(
    ctx: &Ctx,
    section: &str,
    system: &str,
    url: &str,
    l: &Load,
    commit_timeout_s: u64,
) -> Vec<Row> {
    let pace = l.rate.map_or("max".to_string(), |r| r.to_string());
    let name = format!("{system}_{}_{pace}", l.kind);
    let json_path = ctx.out.join("load").join(format!("{name}.json"));
    let _ = std::fs::create_dir_all(ctx.out.join("load"));
    let _ = std::fs::remove_file(&json_path);
    let log = ctx.log(&format!("load_{name}"));
    let senders = "100";
    let mut cmd = Command::new(ctx.bin("devnet"));
    cmd.env("RUST_BACKTRACE", "0");
    cmd.args(["load", "--rpc", url, "--kind", l.kind, "--txs"])
        .arg(l.txs.to_string())
        .args(["--senders", senders, "--commit-timeout-s"])
        .arg(commit_timeout_s.to_string())
        .args(["--max-fee-gwei", &l.max_fee_gwei.to_string()])
        .arg("--json")
        .arg(&json_path);
    match l.rate {
        Some(r) => cmd.args(["--rate", &r.to_string(), "--workers", "8"]),
        None => cmd
            .args(["--max", "--batch", &l.batch.to_string(), "--workers"])
            .arg(if l.batch == 1 { "8" } else { "4" }),
    };
    say(&format!("{name}: devnet load {} txs", l.txs));
    let status = std::fs::File::create(&log)
        .and_then(|f| Ok((f.try_clone()?, f)))
        .and_then(|(a, b)| cmd.stdout(a).stderr(b).status());
    let pace_note = match l.rate {
        Some(r) => format!("{} txs at {r} tx/s, 100 senders", l.txs),
        None if l.batch == 1 => format!(
            "{} txs, one request each from 8 threads (batches are not kept in nonce order), 100 senders",
            l.txs
        ),
        None => format!(
            "{} txs in JSON-RPC batches of {}, 100 senders",
            l.txs, l.batch
        ),
    };
    let failed = |why: String| {
        let metric = match l.rate {
            Some(_) => format!("{name}_p50_ms"),
            None => format!("{name}_committed_per_s"),
        };
        vec![Row::missing(section, metric, why)]
    };
    let r = match (status, read_json(&json_path)) {
        (Ok(_), Ok(v)) => v,
        (Ok(s), Err(e)) => {
            let why = std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .rfind(|l| l.starts_with("Error:"))
                .map_or_else(|| e.clone(), str::to_owned);
            return failed(format!("devnet load failed ({s}): {why}"));
        }
        (Err(e), _) => return failed(format!("cannot run devnet load: {e}")),
    };
    let f = |p: &str| r.pointer(p).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let lost = r["lost"].as_array().map_or(0, Vec::len);
    let rejected = f("/rejected");
    let mut note = format!(
        "{pace_note}; submitted {:.0}/s; committed {}/{}",
        f("/submitted_per_sec"),
        f("/committed"),
        f("/submitted")
    );
    if rejected > 0.0 {
        note.push_str(&format!("; {rejected} rejected: {}", r["rejections"][0]));
    }
    if lost > 0 {
        note.push_str(&format!("; {lost} lost"));
    }
    let mut rows = Vec::new();
    if l.rate.is_some() {
        let transfer = l.kind == "transfer" && system == "devnet";
        let mut p50 = Row::new(
            section,
            format!("{name}_p50_ms"),
            f("/latency_ms/p50"),
            "ms",
        )
        .note(note.clone());
        let mut p99 = Row::new(
            section,
            format!("{name}_p99_ms"),
            f("/latency_ms/p99"),
            "ms",
        )
        .note("submit→commit, seen by a 1 ms poller");
        if transfer {
            p50 = p50.target(Target::AtMost(10.0));
            p99 = p99.target(Target::AtMost(50.0));
        }
        rows.push(p50);
        rows.push(p99);
    } else {
        let mut row = Row::new(
            section,
            format!("{system}_{}_max_committed_per_s", l.kind),
            f("/committed_per_sec"),
            "tx/s",
        )
        .note(format!(
            "{note}; p50 {:.0} ms under saturation",
            f("/latency_ms/p50")
        ));
        if system == "devnet" && l.kind == "transfer" {
            row = row.target(Target::AtLeast(20_000.0));
        }
        rows.push(row);
    }
    if lost > 0 {
        // A throughput or latency of only the committed part would flatter the endpoint.
        for row in &mut rows {
            if let Some(v) = row.value.take() {
                row.note.push_str(&format!(
                    " — {} withheld: not every transaction committed",
                    report::num(v)
                ));
            }
        }
    }
    rows
}

/// The four load runs of sections (b) and (c) against one endpoint.
pub(crate) fn workloads(rate_secs: usize, max_txs: usize, fee: f64, batch: usize) -> Vec<Load> {
    let mut v = Vec::new();
    for kind in ["transfer", "bank"] {
        v.push(Load {
            kind,
            rate: Some(1_000),
            txs: 1_000 * rate_secs,
            max_fee_gwei: fee,
            batch,
        });
        v.push(Load {
            kind,
            rate: None,
            txs: max_txs,
            max_fee_gwei: fee,
            batch,
        });
    }
    v
}

/// A devnet in a temp dir on free ports: `devnet up --fresh` with `spec` (devnet.toml text,
/// without ports/dir), waiting for the first commit.
pub(crate) struct Devnet {
    pub(crate) url: String,
    pub(crate) node_urls: Vec<String>,
    pub(crate) proc: Proc,
    _dir: TempDir,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devnet").field("url", &self.url).finish()
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Result<Self> {
        let p = std::env::temp_dir().join(format!("tc-bench-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        Ok(Self(p))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn start_devnet(ctx: &Ctx, name: &str, nodes: u16, spec: &str) -> Result<Devnet> {
    let dir = TempDir::new(name)?;
    let http = free_port()?;
    let node_http = free_range(nodes, &[(http, 1)])?;
    let node_p2p = free_range(nodes, &[(http, 1), (node_http, nodes)])?;
    let spec_path = dir.path().join("devnet.toml");
    let text = format!(
        "data_dir = \"{}\"\n{spec}\n[ports]\nhttp = \"127.0.0.1:{http}\"\nnode_http = {node_http}\nnode_p2p = {node_p2p}\n",
        dir.path().join("data").display()
    );
    std::fs::write(&spec_path, text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let mut cmd = Command::new(ctx.bin("devnet"));
    cmd.args(["up", "--fresh", "--spec"]).arg(&spec_path);
    cmd.env("RUST_LOG", "warn,tc_devnet=info");
    let mut proc = Proc::spawn(
        &format!("devnet up ({name})"),
        cmd,
        &ctx.log(&format!("devnet_{name}")),
    )?;
    let url = format!("http://127.0.0.1:{http}");
    let agent = procs::agent();
    let started = Instant::now();
    proc.wait_until("first committed block", Duration::from_secs(180), || {
        procs::block_number(&agent, &url).is_some_and(|n| n > 0)
    })?;
    say(&format!(
        "devnet {name} up ({nodes} nodes) in {:.1} s at {url}",
        started.elapsed().as_secs_f64()
    ));
    Ok(Devnet {
        url,
        node_urls: (0..nodes)
            .map(|i| format!("http://127.0.0.1:{}", node_http + i))
            .collect(),
        proc,
        _dir: dir,
    })
}

/// Section (b) settings: a 4-member committee answering fast.
const DEVNET_SPEC: &str = "nodes = 4\ncommittee = 4\n\n[chain]\n# One long epoch: steady state (rotations are section d). A wide switch margin: the fast\n# chain may run that far ahead of the snail chain's last checkpoint (with the default 24 a\n# 2 ms block interval exhausts it in a blink and then waits for snail blocks).\nepoch_length = 1000\nswitch_margin = 100000\n\n[consensus]\nblock_interval_ms = 2\nempty_block_interval_ms = 20\n\n[launcher]\nnode_log_level = \"warn\"\n";

fn devnet(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let (rate_secs, max_txs) = if ctx.quick { (3, 5_000) } else { (10, 30_000) };
    ctx.settings.insert(
        "devnet".into(),
        json!({"spec": DEVNET_SPEC, "endpoint": "the launcher's address (proxy to the nodes)",
               "rate_secs": rate_secs, "max_txs": max_txs}),
    );
    let mut d = start_devnet(ctx, "b", 4, DEVNET_SPEC)?;
    let mut rows = Vec::new();
    for l in workloads(rate_secs, max_txs, 3.0, 500) {
        d.proc.check_alive()?;
        let mut r = load(ctx, "b", "devnet", &d.url, &l, 120);
        if let Some(first) = r.first_mut() {
            first.note = format!(
                "4 nodes, committee 4, block interval 2 ms, via the launcher; {}",
                first.note
            );
        }
        rows.extend(r);
    }
    Ok(rows)
}
