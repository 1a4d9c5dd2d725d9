//! `devnet up`: prepare the data dir (generate on first start, resume afterwards, wipe with
//! `--fresh`), serve the launcher's address, start the nodes, wait until the chain commits,
//! print the endpoints and dev accounts, and on Ctrl-C / SIGTERM / SIGHUP stop every node (SIGTERM,
//! SIGKILL after the grace period; a second Ctrl-C SIGKILLs at once).
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::json;
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::actions::ActionLog;
use crate::admin::AdminState;
use crate::datadir::{self, NodeInfo};
use crate::proxy;
use crate::server::{self, Context, Integrations};
use crate::spec::DevnetSpec;
use crate::supervisor::{Launch, Status, Supervisor};

/// The launcher's pid, in the data dir.
pub const PID_FILE: &str = "devnet.pid";
/// The admin API's bearer token, in the data dir.
pub const TOKEN_FILE: &str = "admin.token";

/// How `up` was asked to run.
#[derive(Debug)]
pub struct Up {
    /// The validated spec (file + flags).
    pub spec: DevnetSpec,
    /// Wipe the data dir first.
    pub fresh: bool,
    /// Routers plugged into the launcher's address.
    pub plugins: Integrations,
}

/// Progress on stdout (a closed stdout is not a reason to leave nodes behind: errors ignored).
pub(crate) fn say(msg: impl std::fmt::Display) {
    out(&format!("devnet: {msg}"));
}

pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{text}");
    let _ = o.flush();
}

/// `--node-bin`, or `tc-node` next to the running `devnet` binary.
pub fn node_bin(spec: &DevnetSpec) -> anyhow::Result<PathBuf> {
    let bin = if spec.launcher.node_bin.as_os_str().is_empty() {
        let me = std::env::current_exe().context("locate the devnet binary")?;
        me.parent()
            .map(|d| d.join("tc-node"))
            .context("the devnet binary has no directory")?
    } else {
        spec.launcher.node_bin.clone()
    };
    if !bin.is_file() {
        bail!(
            "tc-node binary not found at {} — build it in the same profile (`cargo build --release -p tc-node`) or pass --node-bin PATH",
            bin.display()
        );
    }
    Ok(bin)
}

/// The pid of a launcher running on `dir` (its `devnet.pid` names a live `devnet` process
/// other than this one).
pub fn running_launcher(dir: &Path) -> Option<i32> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    let pid = text.trim().parse::<i32>().ok()?;
    let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    let ours =
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "devnet");
    (alive && ours && u32::try_from(pid).ok() != Some(std::process::id())).then_some(pid)
}

/// Refuse to run two launchers on one data dir.
fn check_not_running(dir: &Path) -> anyhow::Result<()> {
    if let Some(pid) = running_launcher(dir) {
        bail!(
            "a launcher (pid {pid}) is already running on {}; stop it first (`devnet down --dir {}`, Ctrl-C in its terminal or `kill {pid}`) or pick another --dir",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The TCP port of a `/ip4/…/tcp/PORT` multiaddr.
pub(crate) fn tcp_port(multiaddr: &str) -> Option<u16> {
    let mut it = multiaddr.split('/');
    it.by_ref().find(|p| *p == "tcp")?;
    it.next()?.parse().ok()
}

/// Ctrl-C, SIGTERM, and SIGHUP (the terminal went away).
#[derive(Debug)]
pub struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    /// Install the handlers.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            int: signal(SignalKind::interrupt()).context("install SIGINT handler")?,
            term: signal(SignalKind::terminate()).context("install SIGTERM handler")?,
            hup: signal(SignalKind::hangup()).context("install SIGHUP handler")?,
        })
    }

    /// The next of them to arrive.
    pub async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(lines).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Poll the nodes until one commits a fast block above what the chain had when they came up.
pub async fn wait_for_commit(sup: &Supervisor, timeout: Duration) -> anyhow::Result<u64> {
    let started = Instant::now();
    let mut baseline: Option<u64> = None;
    let mut last_line = String::new();
    let mut last_print = Instant::now();
    loop {
        for v in sup.views() {
            if v.status == Status::Exited {
                bail!(
                    "{} {} during start-up; last lines of {}:\n{}",
                    v.name,
                    v.last_exit.unwrap_or_default(),
                    v.log.display(),
                    log_tail(&v.log, 20)
                );
            }
        }
        let live = sup.live();
        let mut heads = Vec::new();
        for (_, addr) in &live {
            let call = proxy::rpc(*addr, "eth_blockNumber", json!([]));
            if let Ok(Ok(v)) = tokio::time::timeout(Duration::from_secs(2), call).await
                && let Some(n) = proxy::quantity(&v)
            {
                heads.push(n);
            }
        }
        let top = heads.iter().copied().max();
        if let (None, Some(t)) = (baseline, top) {
            baseline = Some(t);
        }
        if let (Some(b), Some(t)) = (baseline, top)
            && t > b
        {
            return Ok(t);
        }
        let line = format!(
            "{}/{} nodes answer JSON-RPC, fast head {}; waiting for a committed block",
            heads.len(),
            live.len(),
            top.map_or("-".into(), |t| t.to_string())
        );
        if line != last_line || last_print.elapsed() > Duration::from_secs(10) {
            say(format!(
                "[{:>5.1}s] {line}",
                started.elapsed().as_secs_f64()
            ));
            last_line = line;
            last_print = Instant::now();
        }
        if started.elapsed() > timeout {
            let tails: Vec<String> = sup
                .views()
                .iter()
                .map(|v| {
                    format!(
                        "--- {} ({})\n{}",
                        v.name,
                        v.log.display(),
                        log_tail(&v.log, 8)
                    )
                })
                .collect();
            bail!(
                "no fast block committed within {}s (launcher.startup_timeout_s); node logs:\n{}",
                timeout.as_secs(),
                tails.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn banner(
    spec: &DevnetSpec,
    http: SocketAddr,
    sup: &Supervisor,
    head: u64,
    chain_id: &str,
    feed: bool,
    dashboard: bool,
) -> anyhow::Result<String> {
    use std::fmt::Write;
    let dir = spec.data_dir.display();
    let mut s = String::new();
    let views = sup.views();
    writeln!(
        s,
        "\n  trueconsensus devnet: {} nodes, fast head #{head}, chain id {chain_id}, data in {dir}\n",
        views.len()
    )?;
    if dashboard {
        writeln!(
            s,
            "  dashboard  http://{http}/          (open it in a browser: live consensus, committees, chains)"
        )?;
    } else {
        writeln!(
            s,
            "  dashboard  http://{http}/          (not built: run `cargo xtask dashboard --release`, then restart)"
        )?;
    }
    writeln!(
        s,
        "  GraphiQL   http://{http}/graphql/ui  (offline; subscriptions over /graphql/ws)"
    )?;
    writeln!(
        s,
        "  JSON-RPC   http://{http}           (forwarded to a running node; fails over when it stops)"
    )?;
    writeln!(s, "  GraphQL    http://{http}/graphql")?;
    if feed {
        writeln!(
            s,
            "  feed       ws://{http}/feed         (every node's events merged)"
        )?;
    } else {
        writeln!(
            s,
            "  feed       ws://{http}/feed         (not implemented yet: 501; per node: ws://<node>/events)"
        )?;
    }
    writeln!(
        s,
        "  admin      curl -H \"Authorization: Bearer $(cat {dir}/{TOKEN_FILE})\" http://{http}/admin/nodes\n"
    )?;
    for v in &views {
        writeln!(
            s,
            "  {:<8} pid {:<8} http://{:<21} {}  log {}",
            v.name,
            v.pid.map_or("-".into(), |p| p.to_string()),
            v.http,
            v.p2p,
            v.log.display()
        )?;
    }
    writeln!(
        s,
        "\n  dev accounts (10,000 ETH each; mnemonic \"test test test test test test test test test test test junk\"):"
    )?;
    for (i, signer) in tc_node::keys::dev_signers(10)?.iter().enumerate() {
        writeln!(
            s,
            "  {i}  {}  0x{}",
            signer.address(),
            hex::encode(signer.to_bytes())
        )?;
    }
    writeln!(
        s,
        "\n  Ctrl-C stops every node; `devnet up` again resumes this chain, `devnet up --fresh` starts over.\n"
    )?;
    Ok(s)
}

/// Generate the data dir (first start, or after wiping it with `fresh`) or resume it, and
/// give every node the fault-API token.
pub fn prepare(spec: &DevnetSpec, fresh: bool) -> anyhow::Result<Vec<NodeInfo>> {
    let dir = &spec.data_dir;
    check_not_running(dir)?;
    if fresh && dir.exists() {
        say(format!("--fresh: removing {}", dir.display()));
        datadir::wipe(dir)?;
    }
    let nodes: Vec<NodeInfo> = if datadir::is_generated(dir) {
        let nodes = datadir::load(dir)?;
        say(format!(
            "resuming the devnet in {} ({} nodes; keys, genesis and node.toml files are kept — `--fresh` starts over)",
            dir.display(),
            nodes.len()
        ));
        if nodes.len() != spec.nodes {
            say(format!(
                "note: the data dir has {} nodes; the requested {} only applies with --fresh",
                nodes.len(),
                spec.nodes
            ));
        }
        nodes
    } else {
        say(format!(
            "generating {} nodes (committee {}) in {}",
            spec.nodes,
            spec.committee,
            dir.display()
        ));
        datadir::generate(dir, spec)?
    };
    let (nodes, rewritten) = datadir::ensure_node_token(dir, nodes)?;
    if !rewritten.is_empty() {
        say(format!(
            "set api.admin_token (from {}) in the node.toml of {} for the fault API",
            dir.join(datadir::NODE_TOKEN_FILE).display(),
            rewritten.join(", ")
        ));
    }
    Ok(nodes)
}

/// A launcher serving its address (proxy, admin API, plugins) over its supervisor; the nodes
/// are not started by [`serve`].
#[derive(Debug)]
pub struct Served {
    /// The node processes.
    pub sup: Supervisor,
    /// The launcher's address.
    pub http: SocketAddr,
    /// The merged feed is served.
    pub has_feed: bool,
    /// The dashboard is served.
    pub has_dashboard: bool,
    dir: PathBuf,
    token_file: PathBuf,
    quit_tx: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Bind `ports.http`, write the pid and admin-token files, and serve the launcher's router
/// over a supervisor of `nodes`.
pub async fn serve(
    spec: &DevnetSpec,
    nodes: Vec<NodeInfo>,
    plugins: Integrations,
) -> anyhow::Result<Served> {
    let dir = spec.data_dir.clone();
    let first = nodes.first().context("the devnet has no nodes")?;
    let launch = Launch {
        node_bin: node_bin(spec)?,
        shim: std::env::current_exe().ok(),
        grace: Duration::from_millis(spec.launcher.stop_grace_ms),
        data_dir: dir.clone(),
        node_http: first.http.port(),
        node_p2p: tcp_port(&first.p2p).unwrap_or(spec.ports.node_p2p),
    };

    let listener = tokio::net::TcpListener::bind(spec.ports.http)
        .await
        .with_context(|| {
            format!(
                "bind ports.http {} (is another devnet or node using it? pass --http)",
                spec.ports.http
            )
        })?;
    let http = listener.local_addr()?;
    datadir::write_private(&dir.join(PID_FILE), &format!("{}\n", std::process::id()))?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let token_file = dir.join(TOKEN_FILE);
    datadir::write_private(&token_file, &format!("{token}\n"))?;

    // The dashboard's token: in memory only, handed to the page served at `/` (docs/devnet.md).
    let session: Arc<str> = Arc::from(hex::encode(rand::random::<[u8; 32]>()));

    let sup = Supervisor::new(launch, nodes, ActionLog::new());
    let ctx = Context {
        sup: sup.clone(),
        data_dir: dir.clone(),
        admin_session: session.clone(),
    };
    let admin = AdminState {
        sup: sup.clone(),
        token: Arc::from(token.as_str()),
        token_file: Arc::from(token_file.display().to_string()),
        session: Some(session),
    };
    let has_feed = plugins.feed.is_some();
    let has_dashboard = plugins.dashboard.is_some();
    let app = server::app(&ctx, admin, plugins);
    let (quit_tx, mut quit_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(async move {
        let quit = async move {
            let _ = quit_rx.wait_for(|q| *q).await;
        };
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(quit)
        .await
    });
    say(format!("launcher listening on http://{http}"));
    Ok(Served {
        sup,
        http,
        has_feed,
        has_dashboard,
        dir,
        token_file,
        quit_tx,
        server,
    })
}

impl Served {
    /// Stop every node (SIGTERM in parallel, SIGKILL after the grace period; a signal in the
    /// meantime SIGKILLs at once), then the server; remove the pid and token files. Returns
    /// the pids of processes not reaped.
    pub async fn close(self, signals: &mut Signals) -> Vec<u32> {
        let sup = &self.sup;
        tokio::select! {
            () = sup.shutdown() => {}
            s = signals.next() => {
                say(format!("{s} again: SIGKILL every node"));
                sup.kill_all_now();
                let deadline = Instant::now() + Duration::from_secs(5);
                while !sup.pids().is_empty() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        let _ = self.quit_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(3), self.server).await {
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "launcher server"),
            Ok(_) => {}
            Err(_) => tracing::warn!("launcher server did not stop within 3 s (open WebSockets)"),
        }
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
        let _ = std::fs::remove_file(&self.token_file);
        let left = sup.pids();
        if left.is_empty() {
            say("all nodes stopped");
        } else {
            say(format!("processes not reaped: {left:?}"));
        }
        left
    }
}

/// Run `devnet up` until Ctrl-C / SIGTERM.
pub async fn run(up: Up) -> anyhow::Result<()> {
    let Up {
        spec,
        fresh,
        plugins,
    } = up;
    let mut signals = Signals::new()?;
    let nodes = prepare(&spec, fresh)?;
    let served = serve(&spec, nodes, plugins).await?;
    let sup = served.sup.clone();
    let http = served.http;

    let result = async {
        say(format!(
            "starting {} nodes (logs in {}/node-i/node.log)",
            sup.views().len(),
            spec.data_dir.display()
        ));
        sup.start_all().await?;
        let timeout = Duration::from_secs(spec.launcher.startup_timeout_s);
        let head = tokio::select! {
            r = wait_for_commit(&sup, timeout) => r?,
            s = signals.next() => {
                say(format!("{s} during start-up"));
                return Ok(());
            }
        };
        let chain_id = match sup.live().first() {
            Some((_, addr)) => proxy::rpc(*addr, "eth_chainId", json!([]))
                .await
                .ok()
                .and_then(|v| proxy::quantity(&v))
                .map_or("?".into(), |c| c.to_string()),
            None => "?".into(),
        };
        out(&banner(
            &spec,
            http,
            &sup,
            head,
            &chain_id,
            served.has_feed,
            served.has_dashboard,
        )?);
        say("ready");
        if served.has_dashboard {
            open_browser(&format!("http://{http}/"));
        }
        let s = signals.next().await;
        say(format!("{s}: stopping the nodes"));
        anyhow::Ok(())
    }
    .await;

    // Stop every node (also after a start-up error), then the server.
    served.close(&mut signals).await;
    result
}

/// Open `url` in the desktop's browser when there is a desktop (`xdg-open`, with `DISPLAY` or
/// `WAYLAND_DISPLAY` set); otherwise, or when it fails, the printed URL is all there is.
fn open_browser(url: &str) {
    let desktop =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !desktop {
        return;
    }
    match std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => say(format!("opened {url} in the browser")),
        Err(e) => say(format!(
            "could not open a browser ({e}); open {url} yourself"
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tcp_port_of_multiaddr() {
        assert_eq!(super::tcp_port("/ip4/127.0.0.1/tcp/30333"), Some(30333));
        assert_eq!(super::tcp_port("/ip4/127.0.0.1/udp/1"), None);
    }
}
