//! `devnet`: start a local trueconsensus network of N node processes behind one address.
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tc_devnet::spec::{DevnetSpec, Overrides};

#[derive(Parser, Debug)]
#[command(name = "devnet", version, about = "trueconsensus devnet launcher")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Generate (first start) or resume a devnet, start its nodes, serve JSON-RPC, GraphQL and
    /// the admin API on one address, and stop every node on Ctrl-C.
    Up(Box<UpArgs>),
    /// Stop the launcher running on a data dir (SIGTERM; it stops every node) and wait for it.
    Down {
        /// Data dir [default .devnet/default].
        #[arg(long, default_value = ".devnet/default")]
        dir: PathBuf,
        /// Seconds to wait for the launcher to exit.
        #[arg(long, default_value_t = 60)]
        timeout_s: u64,
    },
    /// Game scenarios: a devnet, a timeline of faults, a load and assertions (docs/scenarios.md).
    #[command(subcommand)]
    Scenario(ScenarioCmd),
    /// Submit a transfer or Bank workload over JSON-RPC (to this devnet, anvil, Hardhat, …)
    /// and print committed tx/s and submit→commit latency.
    Load(LoadArgs),
    /// Write docker-compose or Kubernetes manifests (and the node files they mount) for a
    /// devnet network, to run it on other machines (docs/devnet.md, "Multi-host export").
    Export(Box<ExportArgs>),
    /// (internal) Become the node process: die with the launcher, then exec PROGRAM.
    #[command(hide = true)]
    ExecNode {
        /// The launcher's pid.
        #[arg(long)]
        parent: u32,
        /// Program and its arguments.
        #[arg(last = true, required = true)]
        argv: Vec<OsString>,
    },
}

#[derive(Subcommand, Debug)]
enum ScenarioCmd {
    /// Run a scenario file (or a library scenario by name); exit 1 when an assertion fails.
    Run {
        /// Scenario file, or the name of a shipped one (`devnet scenario list`).
        file: String,
        /// Seed of every random choice [default: the file's `seed`, else random (printed)].
        #[arg(long)]
        seed: Option<u64>,
        /// Data dir [default: a new dir under the temp dir, removed after a passing run].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Keep the data dir after a passing run.
        #[arg(long)]
        keep: bool,
        /// The tc-node binary [default: next to devnet].
        #[arg(long)]
        node_bin: Option<PathBuf>,
    },
    /// List the shipped scenarios.
    List,
}

#[derive(Args, Debug)]
struct UpArgs {
    /// Delete the data dir first and generate a new chain.
    #[arg(long)]
    fresh: bool,
    /// Spec file (devnet.toml, see docs/devnet.md); flags override it.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Data dir [spec: data_dir, default .devnet/default].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Number of nodes [spec: nodes, default 7].
    #[arg(long)]
    nodes: Option<usize>,
    /// Committee size [spec: committee, default 4].
    #[arg(long)]
    committee: Option<usize>,
    /// Snail blocks per epoch [spec: chain.epoch_length].
    #[arg(long)]
    epoch_length: Option<u64>,
    /// Target time between snail blocks, ms [spec: chain.snail_interval_ms].
    #[arg(long)]
    snail_interval_ms: Option<u64>,
    /// PoW hashes per second per node [spec: chain.hashrate_cap].
    #[arg(long)]
    hashrate_cap: Option<u64>,
    /// Time between fast blocks with transactions, ms [spec: consensus.block_interval_ms].
    #[arg(long)]
    block_interval_ms: Option<u64>,
    /// Time between empty fast blocks, ms [spec: consensus.empty_block_interval_ms].
    #[arg(long)]
    empty_block_interval_ms: Option<u64>,
    /// PBFT view-change timeout, ms [spec: consensus.view_timeout_ms].
    #[arg(long)]
    view_timeout_ms: Option<u64>,
    /// The launcher's address [spec: ports.http, default 127.0.0.1:8545].
    #[arg(long)]
    http: Option<SocketAddr>,
    /// HTTP port of node 0; node i gets PORT + i [spec: ports.node_http, default 8546].
    #[arg(long)]
    node_http_port: Option<u16>,
    /// libp2p port of node 0; node i gets PORT + i [spec: ports.node_p2p, default 30333].
    #[arg(long)]
    node_p2p_port: Option<u16>,
    /// The tc-node binary [spec: launcher.node_bin, default: next to devnet].
    #[arg(long)]
    node_bin: Option<PathBuf>,
    /// Seconds to wait for the first committed block [spec: launcher.startup_timeout_s].
    #[arg(long)]
    startup_timeout_s: Option<u64>,
    /// Built dashboard (`cargo xtask dashboard --release` prints it) served at `GET /`
    /// [default: <target dir>/dashboard-dist next to this binary, when it exists].
    #[arg(long)]
    dashboard: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// JSON-RPC endpoint; repeat to spread senders over several nodes (the first is polled).
    #[arg(long = "rpc", default_value = "http://127.0.0.1:8545")]
    rpc: Vec<String>,
    /// `transfer` (1 wei value transfers) or `bank` (Bank.transfer between senders).
    #[arg(long, default_value = "transfer")]
    kind: String,
    /// Submit at this many tx/s, one per request (default 100); conflicts with --max.
    #[arg(long, conflicts_with = "max")]
    rate: Option<f64>,
    /// Submit as fast as possible in JSON-RPC batches of --batch.
    #[arg(long)]
    max: bool,
    /// Transactions per batch with --max.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Number of measured transactions.
    #[arg(long, default_value_t = 1_000)]
    txs: usize,
    /// Sending dev accounts (funded from account 0 when they hold less than 1 ETH).
    #[arg(long, default_value_t = 10)]
    senders: u32,
    /// Submitting threads.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Seconds to wait for commits after the last submission.
    #[arg(long, default_value_t = 60)]
    commit_timeout_s: u64,
    /// Seed for Bank transfer recipients.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// EIP-1559 max fee per gas, gwei (raise it when the endpoint's base fee is higher).
    #[arg(long, default_value_t = 3.0)]
    max_fee_gwei: f64,
    /// EIP-1559 priority fee per gas, gwei (at most --max-fee-gwei).
    #[arg(long, default_value_t = 1.0)]
    tip_gwei: f64,
    /// Also write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// `gwei` (finite, ≥ 0, flag named in the error) in wei.
fn gwei_to_wei(flag: &str, gwei: f64) -> anyhow::Result<u128> {
    anyhow::ensure!(
        gwei.is_finite() && (0.0..=1e12).contains(&gwei),
        "{flag} {gwei}: expected a number of gwei between 0 and 1e12"
    );
    Ok((gwei * 1e9).round() as u128)
}

fn load(a: LoadArgs) -> anyhow::Result<()> {
    use tc_devnet::load::{LoadKind, LoadSpec, Pace};
    let kind = match a.kind.as_str() {
        "transfer" => LoadKind::Transfer,
        "bank" => LoadKind::Bank,
        k => anyhow::bail!("--kind {k}: expected `transfer` or `bank`"),
    };
    let spec = LoadSpec {
        kind,
        pace: if a.max {
            Pace::Max { batch: a.batch }
        } else {
            Pace::Rate(a.rate.unwrap_or(100.0))
        },
        txs: a.txs,
        senders: a.senders,
        workers: a.workers,
        commit_timeout: std::time::Duration::from_secs(a.commit_timeout_s),
        seed: a.seed,
        max_fee_per_gas: gwei_to_wei("--max-fee-gwei", a.max_fee_gwei)?,
        max_priority_fee_per_gas: gwei_to_wei("--tip-gwei", a.tip_gwei)?,
    };
    let r = tc_devnet::load::run(&a.rpc, &spec)?;
    println!(
        "chain {}: submitted {} ({:.0}/s), accepted {}, rejected {}, committed {} in {:.2} s = {:.0} tx/s over {} blocks",
        r.chain_id,
        r.submitted,
        r.submitted_per_sec,
        r.accepted,
        r.rejected,
        r.committed,
        r.total_secs,
        r.committed_per_sec,
        r.blocks
    );
    println!(
        "submit→commit latency ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}",
        r.latency_ms.p50, r.latency_ms.p90, r.latency_ms.p99, r.latency_ms.max
    );
    for e in &r.rejections {
        println!("rejected: {e}");
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_vec_pretty(&r)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    anyhow::ensure!(
        r.lost.is_empty(),
        "{} accepted transactions were not committed within {} s (first: {})",
        r.lost.len(),
        a.commit_timeout_s,
        r.lost[0]
    );
    Ok(())
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// compose (docker-compose.yml + node-i/ directories) or k8s (trueconsensus.yaml).
    #[arg(long)]
    format: tc_devnet::export::Format,
    /// Output directory.
    #[arg(long, default_value = "devnet-export")]
    out: PathBuf,
    /// Node image (build: docker build -f devnet/docker/Dockerfile -t IMAGE .).
    #[arg(long, default_value = tc_devnet::export::DEFAULT_IMAGE)]
    image: String,
    /// The network: --dir exports that data dir (generated there first when it is not a
    /// devnet yet; --fresh regenerates it); without --dir a new network is generated from
    /// the spec and flags.
    #[command(flatten, next_help_heading = "Network (as for devnet up)")]
    net: UpArgs,
}

impl ExportArgs {
    fn run(&self) -> anyhow::Result<()> {
        let n = &self.net;
        for (set, flag) in [
            (n.http.is_some(), "--http"),
            (n.node_bin.is_some(), "--node-bin"),
            (n.startup_timeout_s.is_some(), "--startup-timeout-s"),
            (n.dashboard.is_some(), "--dashboard"),
        ] {
            anyhow::ensure!(
                !set,
                "{flag} is a flag of devnet up; devnet export does not use it"
            );
        }
        anyhow::ensure!(
            !n.fresh || n.dir.is_some(),
            "--fresh needs --dir (without it export always generates a new network)"
        );
        let spec = n.spec()?;
        if n.fresh
            && let Some(dir) = &n.dir
        {
            tc_devnet::datadir::wipe(dir)?;
        }
        let w = tc_devnet::export::run(&tc_devnet::export::Export {
            format: self.format,
            out: self.out.clone(),
            image: self.image.clone(),
            dir: n.dir.clone(),
            spec,
        })?;
        match &w.source {
            Some(d) if w.generated => println!(
                "devnet export: {} nodes of a new network, generated in {}",
                w.nodes,
                d.display()
            ),
            Some(d) => println!(
                "devnet export: {} nodes of the existing devnet {} (as on disk: chain flags apply only when generating)",
                w.nodes,
                d.display()
            ),
            None => println!("devnet export: {} nodes of a new network", w.nodes),
        }
        println!("genesis.json sha256 {}", w.genesis_sha256);
        for f in &w.files {
            println!("  wrote {}", f.display());
        }
        let out = self.out.display();
        println!(
            "build the image (repo root): docker build -f devnet/docker/Dockerfile -t {} .",
            self.image
        );
        match self.format {
            tc_devnet::export::Format::Compose => {
                println!("run: cd {out} && docker compose up -d")
            }
            tc_devnet::export::Format::K8s => println!(
                "run: kubectl apply -f {out}/{}",
                tc_devnet::export::k8s::FILE
            ),
        }
        Ok(())
    }
}

/// The dashboard to serve: `--dashboard`, else `<target>/dashboard-dist` when this binary lives
/// in `<target>/{debug,release}/`.
fn dashboard_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    if flag.is_some() {
        return flag;
    }
    let exe = std::env::current_exe().ok()?;
    let dist = exe.parent()?.parent()?.join("dashboard-dist");
    dist.join("index.html").is_file().then_some(dist)
}

impl UpArgs {
    fn spec(&self) -> anyhow::Result<DevnetSpec> {
        let mut spec = match &self.spec {
            Some(p) => DevnetSpec::load(p)?,
            None => DevnetSpec::default(),
        };
        spec.apply(&Overrides {
            nodes: self.nodes,
            committee: self.committee,
            data_dir: self.dir.clone(),
            epoch_length: self.epoch_length,
            snail_interval_ms: self.snail_interval_ms,
            hashrate_cap: self.hashrate_cap,
            block_interval_ms: self.block_interval_ms,
            empty_block_interval_ms: self.empty_block_interval_ms,
            view_timeout_ms: self.view_timeout_ms,
            http: self.http,
            node_http: self.node_http_port,
            node_p2p: self.node_p2p_port,
            node_bin: self.node_bin.clone(),
            startup_timeout_s: self.startup_timeout_s,
        });
        spec.validate().map_err(|e| match &self.spec {
            Some(p) => anyhow::anyhow!("{}: {e}", p.display()),
            None => anyhow::anyhow!("{e}"),
        })?;
        Ok(spec)
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::ExecNode { parent, argv } => {
            let (program, args) = argv.split_first().context("exec-node: no program")?;
            Err(tc_devnet::exec_node(parent, program, args))
        }
        Cmd::Load(args) => load(args),
        Cmd::Export(args) => args.run(),
        Cmd::Up(args) => {
            let spec = args.spec()?;
            init_tracing("info");
            let rt = runtime()?;
            let dashboard = dashboard_dir(args.dashboard.clone());
            if dashboard.is_none() {
                tracing::warn!(
                    "no built dashboard found (cargo xtask dashboard --release); GET / shows a placeholder"
                );
            }
            rt.block_on(tc_devnet::up::run(tc_devnet::up::Up {
                spec,
                fresh: args.fresh,
                plugins: tc_devnet::feed::launcher::integrations(dashboard),
            }))
        }
        Cmd::Down { dir, timeout_s } => {
            let rt = runtime()?;
            match rt.block_on(tc_devnet::down::run(
                &dir,
                std::time::Duration::from_secs(timeout_s),
            ))? {
                tc_devnet::down::Down::NotRunning => {
                    println!("devnet: no launcher is running on {}", dir.display());
                }
                tc_devnet::down::Down::Stopped(pid) => println!(
                    "devnet: the launcher (pid {pid}) on {} stopped its nodes and exited",
                    dir.display()
                ),
            }
            Ok(())
        }
        Cmd::Scenario(ScenarioCmd::List) => {
            for (name, text) in tc_devnet::scenario::LIBRARY {
                let about = tc_devnet::scenario::Scenario::parse(text)
                    .map(|s| s.description)
                    .unwrap_or_else(|e| format!("(invalid: {e})"));
                println!(
                    "{name:<22} {}",
                    about.split_whitespace().collect::<Vec<_>>().join(" ")
                );
            }
            Ok(())
        }
        Cmd::Scenario(ScenarioCmd::Run {
            file,
            seed,
            dir,
            keep,
            node_bin,
        }) => {
            // Exit 1: a check failed (the report says which); 2: the scenario could not run.
            let run = || -> anyhow::Result<tc_devnet::scenario::run::Outcome> {
                // The error's text says it all (its source is part of it).
                let scenario =
                    tc_devnet::scenario::load(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
                // Node operations are in the report and the timeline lines; keep the rest quiet.
                init_tracing("warn");
                runtime()?.block_on(tc_devnet::scenario::run::run(
                    tc_devnet::scenario::run::Options {
                        scenario,
                        seed,
                        dir,
                        keep,
                        node_bin,
                    },
                ))
            };
            match run() {
                Ok(out) => {
                    println!("{}", out.report);
                    std::process::exit(if out.passed { 0 } else { 1 })
                }
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    std::process::exit(2)
                }
            }
        }
    }
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
