//! Section (c): the same JSON-RPC workloads against the devnets people use instead — Foundry's
//! anvil, Hardhat's node and ganache — from the npm packages pinned in `e2e/bench`
//! (`npm ci --prefix e2e/bench`). Each is started offline (no fork URL, no downloads) on a free
//! loopback port with the default `test test … junk` dev accounts and stopped afterwards.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::procs::{self, Proc, free_port};
use super::report::Row;
use super::{Ctx, load, workloads};
use crate::{Result, root, say};

const MNEMONIC: &str = "test test test test test test test test test test test junk";

fn package_dir() -> PathBuf {
    root().join("e2e").join("bench")
}

/// `npm ci` in e2e/bench when node_modules is missing; `Err` says what is missing.
fn ensure_installed() -> Result<()> {
    let dir = package_dir();
    if dir
        .join("node_modules")
        .join(".bin")
        .join("hardhat")
        .exists()
    {
        return Ok(());
    }
    if crate::output(Command::new("npm").arg("--version")).is_none() {
        return Err(
            "npm not found: install Node.js ≥ 18 and npm, then `npm ci --prefix e2e/bench`".into(),
        );
    }
    say("installing anvil, Hardhat and ganache (npm ci in e2e/bench)");
    crate::run(
        Command::new("npm")
            .args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&dir),
    )
    .map_err(|e| {
        format!("{e}; the npm registry must be reachable once for `npm ci --prefix e2e/bench`")
    })
}

/// The anvil binary of the platform package (started directly so stopping it stops anvil).
fn anvil_bin(dir: &Path) -> Option<PathBuf> {
    let scope = dir.join("node_modules").join("@foundry-rs");
    std::fs::read_dir(&scope)
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin").join("anvil"))
        .find(|p| p.is_file())
}

struct Tool {
    name: &'static str,
    cmd: Command,
}

fn tools(dir: &Path, port: u16) -> Vec<Result<Tool>> {
    let bin = dir.join("node_modules").join(".bin");
    let port_s = port.to_string();
    let anvil = anvil_bin(dir)
        .ok_or_else(|| "anvil: no @foundry-rs/anvil-<platform> binary in e2e/bench/node_modules (unsupported platform?)".to_string())
        .map(|b| {
            let mut c = Command::new(b);
            // Stock automine. Under concurrent submissions it can leave ready transactions
            // pending for good (foundry-rs/foundry#10122; here also with --mixed-mining and
            // --order fifo): those count as lost, and the note says so.
            c.args(["--host", "127.0.0.1", "--port", &port_s, "--silent"]);
            Tool { name: "anvil", cmd: c }
        });
    let mut hardhat = Command::new(bin.join("hardhat"));
    hardhat
        .current_dir(dir)
        .args([
            "--config",
            "hardhat.config.cjs",
            "node",
            "--hostname",
            "127.0.0.1",
            "--port",
            &port_s,
        ])
        .env("HARDHAT_DISABLE_TELEMETRY_PROMPT", "true");
    let mut ganache = Command::new(bin.join("ganache"));
    ganache.args([
        "--server.host",
        "127.0.0.1",
        "--server.port",
        &port_s,
        "--wallet.mnemonic",
        MNEMONIC,
        "--logging.quiet",
    ]);
    vec![
        anvil,
        Ok(Tool {
            name: "hardhat",
            cmd: hardhat,
        }),
        Ok(Tool {
            name: "ganache",
            cmd: ganache,
        }),
    ]
}

pub(super) fn run(ctx: &mut Ctx) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    if let Err(e) = ensure_installed() {
        for name in ["anvil", "hardhat", "ganache"] {
            rows.push(Row::missing(
                "c",
                format!("{name}_transfer_max_committed_per_s"),
                e.clone(),
            ));
        }
        return Ok(rows);
    }
    let dir = package_dir();
    let mut settings = serde_json::Map::new();
    for name in ["anvil", "hardhat", "ganache"] {
        match one(ctx, &dir, name) {
            Ok((r, s)) => {
                rows.extend(r);
                settings.insert(name.into(), s);
            }
            Err(e) => {
                say(&format!("{name}: {e}"));
                let first = e.lines().next().unwrap_or_default().to_string();
                rows.push(Row::missing(
                    "c",
                    format!("{name}_transfer_max_committed_per_s"),
                    first,
                ));
            }
        }
    }
    ctx.settings
        .insert("others".into(), Value::Object(settings));
    Ok(rows)
}

/// A started tool: the process (stopped when dropped), its URL, chain id and base fee.
struct Running {
    proc: Proc,
    url: String,
    chain_id: u64,
    base_fee: u64,
}

/// Start tool `name` on a free port and wait for its JSON-RPC.
fn start(ctx: &Ctx, dir: &Path, name: &str, run: &str) -> Result<Running> {
    let port = free_port()?;
    let tool = tools(dir, port)
        .into_iter()
        .find(|t| t.as_ref().map_or(name == "anvil", |t| t.name == name))
        .ok_or_else(|| format!("{name}: not available (see e2e/bench)"))??;
    let url = format!("http://127.0.0.1:{port}");
    let mut proc = Proc::spawn(name, tool.cmd, &ctx.log(&format!("{name}_{run}")))?;
    let agent = procs::agent();
    proc.wait_until("JSON-RPC answer", Duration::from_secs(90), || {
        procs::rpc(&agent, &url, "eth_chainId", json!([])).is_ok()
    })?;
    let chain_id = procs::rpc(&agent, &url, "eth_chainId", json!([]))
        .ok()
        .as_ref()
        .and_then(procs::quantity)
        .ok_or_else(|| format!("{name}: eth_chainId is not a quantity"))?;
    let base_fee = procs::rpc(
        &agent,
        &url,
        "eth_getBlockByNumber",
        json!(["latest", false]),
    )
    .ok()
    .and_then(|b| procs::quantity(&b["baseFeePerGas"]))
    .unwrap_or(0);
    Ok(Running {
        proc,
        url,
        chain_id,
        base_fee,
    })
}

/// Run the workloads against tool `name`, each on a freshly started instance (a run that
/// wedges the tool does not spoil the next one), stopped afterwards.
fn one(ctx: &Ctx, dir: &Path, name: &str) -> Result<(Vec<Row>, Value)> {
    let version = version(dir, name);
    let (rate_secs, max_txs) = match (name, ctx.quick) {
        ("anvil", true) => (3, 5_000),
        ("anvil", false) => (10, 30_000),
        (_, true) => (2, 1_000),
        (_, false) => (5, 5_000),
    };
    // Hardhat handles a batch's requests concurrently and refuses a nonce ahead of the next
    // one while automining, so it gets one request per transaction.
    let batch = if name == "hardhat" { 1 } else { 500 };
    let mut rows = Vec::new();
    let mut seen = (0, 0, 0.0);
    for l in workloads(rate_secs, max_txs, 3.0, batch) {
        let run = format!(
            "{}_{}",
            l.kind,
            l.rate.map_or("max".into(), |r| r.to_string())
        );
        let t = match start(ctx, dir, name, &run) {
            Ok(t) => t,
            Err(e) => {
                let first = e.lines().next().unwrap_or_default().to_string();
                rows.push(Row::missing("c", format!("{name}_{run}"), first));
                continue;
            }
        };
        // The load's default 3 gwei max fee, or more when this tool's base fee needs it.
        let fee = (3.0f64)
            .max((2 * t.base_fee + 1_000_000_000) as f64 / 1e9)
            .ceil();
        say(&format!(
            "{name} {version} at {}: chain id {}, base fee {} wei, max fee {fee} gwei",
            t.url, t.chain_id, t.base_fee
        ));
        seen = (t.chain_id, t.base_fee, fee);
        let l = super::Load {
            max_fee_gwei: fee,
            ..l
        };
        let mut r = load(ctx, "c", name, &t.url, &l, 20);
        if name == "anvil" && r.iter().any(|r| r.note.contains(" lost")) {
            for row in &mut r {
                row.note
                    .push_str(" (anvil automine left them pending: foundry-rs/foundry#10122)");
            }
        }
        if let Some(first) = r.first_mut() {
            let how = if name == "ganache" {
                "instamine"
            } else {
                "automine"
            };
            first.note = format!(
                "{name} {version} fresh, {how}, chain {}, max fee {fee} gwei; {}",
                t.chain_id, first.note
            );
        }
        rows.extend(r);
        drop(t.proc);
    }
    Ok((
        rows,
        json!({"version": version, "chain_id": seen.0, "base_fee_wei": seen.1,
               "max_fee_gwei": seen.2, "rate_secs": rate_secs, "max_txs": max_txs, "batch": batch,
               "accounts": MNEMONIC, "fresh_instance_per_run": true}),
    ))
}

/// The installed npm package's version (e2e/bench/node_modules/<package>/package.json).
fn version(dir: &Path, name: &str) -> String {
    let package = if name == "anvil" {
        "@foundry-rs/anvil"
    } else {
        name
    };
    let path = dir.join("node_modules").join(package).join("package.json");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
