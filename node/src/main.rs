//! `tc-node`: initialise, run and talk to a trueconsensus node.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes, U256};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tc_node::config::{LogFormat, NodeConfig};
use tc_node::genesis::{Genesis, bank_alloc};
use tc_node::keys::{
    ConsensusKey, TxParams, dev_signer, dev_signers, sign_eip1559, signer_from_hex,
};
use tc_node::runtime::Node;
use tc_types::Member;

#[derive(Parser, Debug)]
#[command(
    name = "tc-node",
    version,
    about = "trueconsensus hybrid-consensus node"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a consensus key, a dev genesis (10 funded dev accounts, the Bank contract, this
    /// node as the one-member committee) and node.toml into DIR.
    Init {
        /// Directory to create.
        #[arg(long, default_value = ".tc-node")]
        dir: PathBuf,
        /// Node name.
        #[arg(long, default_value = "node-0")]
        name: String,
        /// JSON-RPC listen address.
        #[arg(long, default_value = "127.0.0.1:8545")]
        http: std::net::SocketAddr,
        /// Overwrite an existing directory's files (the database is kept unless you delete it).
        #[arg(long)]
        force: bool,
    },
    /// Write the files of an N-node local network into DIR/node-i (shared genesis; the first
    /// COMMITTEE nodes are the genesis committee; nodes 0 and 1 are the bootnodes).
    Testnet {
        /// Directory to create.
        #[arg(long, default_value = ".devnet/testnet")]
        dir: PathBuf,
        /// Number of nodes.
        #[arg(long, default_value_t = 4)]
        nodes: usize,
        /// Committee size.
        #[arg(long, default_value_t = 4)]
        committee: usize,
        /// HTTP port of node 0 (node i gets PORT + i).
        #[arg(long, default_value_t = 8545)]
        http_port: u16,
        /// libp2p port of node 0 (node i gets PORT + i).
        #[arg(long, default_value_t = 30333)]
        p2p_port: u16,
        /// Snail blocks per epoch.
        #[arg(long, default_value_t = 10)]
        epoch_length: u64,
        /// Fast blocks between the checkpointed height and a committee switch.
        #[arg(long, default_value_t = 24)]
        switch_margin: u64,
        /// Target interval between snail blocks (ms).
        #[arg(long, default_value_t = 2000)]
        snail_interval_ms: u64,
        /// PoW hashes per second per node.
        #[arg(long, default_value_t = 50_000)]
        hashrate_cap: u64,
    },
    /// Run a node.
    Run {
        /// Path of node.toml.
        #[arg(long, default_value = ".tc-node/node.toml")]
        config: PathBuf,
    },
    /// Sign and submit an EIP-1559 transaction, wait for its receipt.
    Send {
        /// JSON-RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
        /// Sign with dev account N of the test mnemonic.
        #[arg(long, conflicts_with = "key", default_value_t = 0)]
        dev: u32,
        /// Sign with this hex private key instead.
        #[arg(long)]
        key: Option<String>,
        /// Recipient; omit to deploy `--data` as init code.
        #[arg(long)]
        to: Option<Address>,
        /// Wei to send.
        #[arg(long, default_value = "0")]
        value: U256,
        /// Calldata / init code (hex).
        #[arg(long, default_value = "0x")]
        data: Bytes,
        /// Gas limit.
        #[arg(long, default_value_t = 100_000)]
        gas: u64,
        /// Seconds to wait for the receipt (0 = don't wait).
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
    /// Submit raw EIP-2718 transaction bytes (hex) as they are.
    SendRaw {
        /// JSON-RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
        /// The raw transaction.
        raw: Bytes,
    },
    /// Call any JSON-RPC method and print the result.
    Rpc {
        /// JSON-RPC endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8545")]
        rpc: String,
        /// Method name.
        method: String,
        /// Parameters as a JSON array.
        #[arg(default_value = "[]")]
        params: String,
    },
    /// Print the dev accounts (address and private key).
    Accounts,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Init {
            dir,
            name,
            http,
            force,
        } => init(&dir, &name, http, force),
        Cmd::Run { config } => run(&config),
        Cmd::Send {
            rpc,
            dev,
            key,
            to,
            value,
            data,
            gas,
            wait,
        } => {
            let signer = match key {
                Some(k) => signer_from_hex(&k)?,
                None => dev_signer(dev)?,
            };
            let chain_id = u64_of(&rpc_call(&rpc, "eth_chainId", json!([]))?)?;
            let nonce = u64_of(&rpc_call(
                &rpc,
                "eth_getTransactionCount",
                json!([signer.address(), "pending"]),
            )?)?;
            let gas_price = u64_of(&rpc_call(&rpc, "eth_gasPrice", json!([]))?)?;
            let tx = sign_eip1559(
                &signer,
                &TxParams {
                    chain_id,
                    nonce,
                    to,
                    value,
                    input: data,
                    gas_limit: gas,
                    max_fee_per_gas: u128::from(gas_price) * 2,
                    max_priority_fee_per_gas: 1_000_000_000,
                },
            )?;
            let raw = Bytes::from(alloy_eips::eip2718::Encodable2718::encoded_2718(&tx));
            let hash = rpc_call(&rpc, "eth_sendRawTransaction", json!([raw]))?;
            println!("{}", hash.as_str().unwrap_or_default());
            if wait > 0 {
                let deadline = Instant::now() + Duration::from_secs(wait);
                loop {
                    let r = rpc_call(&rpc, "eth_getTransactionReceipt", json!([hash]))?;
                    if !r.is_null() {
                        println!("{}", serde_json::to_string_pretty(&r)?);
                        break;
                    }
                    if Instant::now() > deadline {
                        bail!("no receipt for {hash} after {wait}s");
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            Ok(())
        }
        Cmd::Testnet {
            dir,
            nodes,
            committee,
            http_port,
            p2p_port,
            epoch_length,
            switch_margin,
            snail_interval_ms,
            hashrate_cap,
        } => {
            let mut spec = tc_node::testnet::TestnetSpec {
                nodes,
                committee_size: committee,
                http_port,
                p2p_port,
                ..Default::default()
            };
            spec.hybrid.epoch_length = epoch_length;
            spec.hybrid.switch_margin = switch_margin;
            spec.base.snail.target_interval_ms = snail_interval_ms;
            spec.base.snail.hashrate_cap = hashrate_cap;
            for n in tc_node::testnet::generate(&dir, &spec)? {
                println!(
                    "{}: {} http://{} p2p {}{}",
                    n.name,
                    n.config.display(),
                    n.http,
                    n.p2p,
                    if n.genesis_member {
                        " (genesis committee)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        Cmd::SendRaw { rpc, raw } => {
            println!(
                "{}",
                rpc_call(&rpc, "eth_sendRawTransaction", json!([raw]))?
            );
            Ok(())
        }
        Cmd::Rpc {
            rpc,
            method,
            params,
        } => {
            let params: Value =
                serde_json::from_str(&params).context("params must be a JSON array")?;
            println!(
                "{}",
                serde_json::to_string_pretty(&rpc_call(&rpc, &method, params)?)?
            );
            Ok(())
        }
        Cmd::Accounts => {
            for (i, s) in dev_signers(10)?.iter().enumerate() {
                println!(
                    "{i}: {} 0x{}",
                    s.address(),
                    alloy_primitives::hex::encode(s.to_bytes())
                );
            }
            Ok(())
        }
    }
}

fn init(
    dir: &std::path::Path,
    name: &str,
    http: std::net::SocketAddr,
    force: bool,
) -> anyhow::Result<()> {
    let cfg_path = dir.join("node.toml");
    if cfg_path.exists() && !force {
        bail!(
            "{} exists; pass --force to overwrite the key, genesis and config",
            cfg_path.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let key = ConsensusKey::generate();
    key.save(&dir.join("node.key"))?;
    let coinbase = key.coinbase();
    let accounts: Vec<Address> = dev_signers(10)?.iter().map(|s| s.address()).collect();
    let (bank_addr, bank) = bank_alloc()?;
    let genesis = Genesis::dev(
        &accounts,
        [(bank_addr, bank)].into(),
        vec![Member {
            key: key.public(),
            coinbase,
            weight: 1,
        }],
    );
    genesis.save(&dir.join("genesis.json"))?;
    let mut cfg = NodeConfig::default();
    cfg.node.name = name.into();
    cfg.api.http = http;
    cfg.storage.path = "db".into();
    // A single node has no peers to find it: any free loopback port will do.
    cfg.network.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    std::fs::write(&cfg_path, cfg.to_toml()?)?;
    println!(
        "initialised {} (consensus key {}, chain id {})",
        dir.display(),
        key.public(),
        genesis.chain_id
    );
    println!("run it with: tc-node run --config {}", cfg_path.display());
    Ok(())
}

fn run(config: &std::path::Path) -> anyhow::Result<()> {
    let cfg = NodeConfig::load(config)?;
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.node.log_level)?;
    let sub = tracing_subscriber::fmt().with_env_filter(filter);
    match cfg.node.log_format {
        LogFormat::Json => sub.json().init(),
        LogFormat::Pretty => sub.init(),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let api = cfg.api.clone();
        let node = Node::open(cfg)?;
        let (handle, commands) = node.handle()?;
        if api.enabled {
            let listener = tokio::net::TcpListener::bind(api.http)
                .await
                .with_context(|| format!("bind api.http {}", api.http))?;
            tracing::info!(addr = %api.http, "JSON-RPC on POST /, GraphQL on POST /graphql, events on GET /events, metrics on GET /metrics");
            let app = tc_node::rpc::router(handle.clone(), api.max_body_bytes)
                .merge(tc_node::gql::router(handle.clone(), api.max_body_bytes))
                .merge(tc_node::metrics::router(handle.metrics.clone()))
                .merge(tc_node::admin::router(handle.clone(), api.admin_token.clone()))
                .merge(tc_node::feed::router(handle));
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, app).await {
                    tracing::error!(error = %e, "API server stopped");
                }
            });
        }
        node.run(commands, shutdown_signal()).await
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn rpc_call(url: &str, method: &str, params: Value) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp: Value = ureq::post(url)
        .send_json(&body)
        .with_context(|| format!("{method} to {url}"))?
        .body_mut()
        .read_json()
        .with_context(|| format!("{method}: response is not JSON"))?;
    if let Some(err) = resp.get("error") {
        bail!(
            "{method}: {}",
            err.get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
        );
    }
    Ok(resp.get("result").cloned().unwrap_or(Value::Null))
}

fn u64_of(v: &Value) -> anyhow::Result<u64> {
    let s = v.as_str().context("expected a hex quantity")?;
    Ok(u64::from_str_radix(s.trim_start_matches("0x"), 16)?)
}
