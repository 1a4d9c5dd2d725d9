//! Prometheus metrics at `GET /metrics` (OpenMetrics text): chain heads, commits, mempool,
//! snail mining, PBFT phase timings and view changes, peers and their ping round trips,
//! RocksDB per-table statistics, API requests and latency.
//!
//! The event loop and the API update the metrics (atomics, never blocking); `/metrics` only
//! encodes them.
use std::collections::BTreeSet;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use tc_types::TableStats;

/// Label set `{table="…"}` / `{method="…"}` / `{phase="…"}` / `{peer="…"}`.
type Label = Vec<(&'static str, String)>;

/// Most `peer` label values of [`Metrics::peer_rtt_seconds`] (connected peers only; a peer's
/// series is removed when it disconnects).
pub const MAX_PEER_LABELS: usize = 64;

/// Every metric of a node.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Peers that have a `peer_rtt_seconds` series.
    rtt_peers: Mutex<BTreeSet<String>>,
    /// Fast head height.
    pub fast_head: Gauge,
    /// Snail head height.
    pub snail_head: Gauge,
    /// Difficulty of the snail head.
    pub snail_difficulty: Gauge,
    /// Fast blocks committed since start.
    pub blocks_committed: Counter,
    /// Transactions committed since start.
    pub txs_committed: Counter,
    /// Snail blocks mined since start.
    pub snail_mined: Counter,
    /// Transactions refused (mempool or block building).
    pub txs_rejected: Counter,
    /// Pooled transactions.
    pub mempool_txs: Gauge,
    /// Pooled bytes.
    pub mempool_bytes: Gauge,
    /// Per-table storage gauges.
    pub table_live_sst_bytes: Family<Label, Gauge>,
    /// Per-table estimated keys.
    pub table_keys: Family<Label, Gauge>,
    /// Per-table bytes read since open.
    pub table_bytes_read: Family<Label, Gauge>,
    /// Per-table bytes written since open.
    pub table_bytes_written: Family<Label, Gauge>,
    /// API requests by method.
    pub api_requests: Family<Label, Counter>,
    /// API latency by method (seconds).
    pub api_seconds: Family<Label, Histogram>,
    /// Connected libp2p peers.
    pub peers: Gauge,
    /// Last ping round trip per connected peer (seconds).
    pub peer_rtt_seconds: Family<Label, Gauge<f64, AtomicU64>>,
    /// PBFT view changes started since start.
    pub view_changes: Counter,
    /// Seconds from accepting a PRE-PREPARE to each later step, by `phase`
    /// (`prepare_quorum`, `commit_quorum`, `block_committed`).
    pub pbft_phase_seconds: Family<Label, Histogram>,
    /// Seconds from the first VIEW-CHANGE of this node to the NEW-VIEW it accepted.
    pub view_change_seconds: Histogram,
    /// Epoch of the fast head.
    pub epoch: Gauge,
    /// Whether this node is a member of the committee deciding the next height (0/1).
    pub committee_member: Gauge,
    /// Peers penalised for invalid input since start.
    pub peer_penalties: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Consensus steps take milliseconds to (view changes) tens of seconds.
fn consensus_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 18))
}

/// Register `metric` under `name` and hand it back (the registry keeps a clone that shares
/// its value).
fn reg<M: Metric + Clone>(r: &mut Registry, name: &str, help: &str, metric: M) -> M {
    r.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// All metrics registered under the `tc` prefix.
    pub fn new() -> Arc<Self> {
        let mut r = Registry::with_prefix("tc");
        let r = &mut r;
        let m = Self {
            fast_head: reg(r, "fast_head", "Fast chain head height", Gauge::default()),
            snail_head: reg(r, "snail_head", "Snail chain head height", Gauge::default()),
            snail_difficulty: reg(
                r,
                "snail_difficulty",
                "Difficulty of the snail head",
                Gauge::default(),
            ),
            blocks_committed: reg(
                r,
                "blocks_committed",
                "Fast blocks committed since start",
                Counter::default(),
            ),
            txs_committed: reg(
                r,
                "txs_committed",
                "Transactions committed since start",
                Counter::default(),
            ),
            snail_mined: reg(
                r,
                "snail_blocks_mined",
                "Snail blocks mined since start",
                Counter::default(),
            ),
            txs_rejected: reg(
                r,
                "txs_rejected",
                "Transactions refused since start",
                Counter::default(),
            ),
            mempool_txs: reg(r, "mempool_txs", "Pooled transactions", Gauge::default()),
            mempool_bytes: reg(
                r,
                "mempool_bytes",
                "Pooled transaction bytes",
                Gauge::default(),
            ),
            table_live_sst_bytes: reg(
                r,
                "storage_live_sst_bytes",
                "Live SST bytes per table",
                Family::default(),
            ),
            table_keys: reg(
                r,
                "storage_estimated_keys",
                "Estimated keys per table",
                Family::default(),
            ),
            table_bytes_read: reg(
                r,
                "storage_bytes_read",
                "Bytes read per table since open",
                Family::default(),
            ),
            table_bytes_written: reg(
                r,
                "storage_bytes_written",
                "Bytes written per table since open",
                Family::default(),
            ),
            api_requests: reg(
                r,
                "api_requests",
                "API requests by method",
                Family::default(),
            ),
            api_seconds: reg(
                r,
                "api_request_seconds",
                "API latency by method",
                Family::new_with_constructor(latency_histogram),
            ),
            peers: reg(r, "peers", "Connected libp2p peers", Gauge::default()),
            peer_rtt_seconds: reg(
                r,
                "peer_rtt_seconds",
                "Last ping round trip per connected peer",
                Family::default(),
            ),
            view_changes: reg(
                r,
                "pbft_view_changes",
                "PBFT view changes started since start",
                Counter::default(),
            ),
            pbft_phase_seconds: reg(
                r,
                "pbft_phase_seconds",
                "Seconds from accepting a PRE-PREPARE to the prepare quorum, the commit quorum and the committed block",
                Family::new_with_constructor(consensus_histogram),
            ),
            view_change_seconds: reg(
                r,
                "pbft_view_change_seconds",
                "Seconds from this node's first VIEW-CHANGE to the NEW-VIEW it accepted",
                consensus_histogram(),
            ),
            epoch: reg(r, "epoch", "Epoch of the fast head", Gauge::default()),
            committee_member: reg(
                r,
                "committee_member",
                "1 when this node is in the committee deciding the next height",
                Gauge::default(),
            ),
            peer_penalties: reg(
                r,
                "peer_penalties",
                "Peers penalised for invalid input since start",
                Counter::default(),
            ),
            registry: Registry::default(),
            rtt_peers: Mutex::default(),
        };
        let registry = std::mem::take(r);
        Arc::new(Self { registry, ..m })
    }

    /// Record a peer's last ping round trip (at most [`MAX_PEER_LABELS`] peers get a series).
    pub fn set_peer_rtt(&self, peer: &str, rtt: Duration) {
        let Ok(mut labelled) = self.rtt_peers.lock() else {
            return;
        };
        if !labelled.contains(peer) {
            if labelled.len() >= MAX_PEER_LABELS {
                return;
            }
            labelled.insert(peer.to_string());
        }
        self.peer_rtt_seconds
            .get_or_create(&vec![("peer", peer.to_string())])
            .set(rtt.as_secs_f64());
    }

    /// Forget a disconnected peer's round trip series.
    pub fn remove_peer(&self, peer: &str) {
        if let Ok(mut labelled) = self.rtt_peers.lock()
            && labelled.remove(peer)
        {
            self.peer_rtt_seconds
                .remove(&vec![("peer", peer.to_string())]);
        }
    }

    /// Record one PBFT step duration (`phase` as in [`Metrics::pbft_phase_seconds`]).
    pub fn pbft_phase(&self, phase: &'static str, took: Duration) {
        self.pbft_phase_seconds
            .get_or_create(&vec![("phase", phase.to_string())])
            .observe(took.as_secs_f64());
    }

    /// Record per-table storage statistics.
    pub fn set_storage(&self, tables: &[TableStats]) {
        let gi = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        for t in tables {
            let l = vec![("table", t.name.clone())];
            self.table_live_sst_bytes
                .get_or_create(&l)
                .set(gi(t.live_sst_bytes));
            self.table_keys.get_or_create(&l).set(gi(t.estimated_keys));
            self.table_bytes_read
                .get_or_create(&l)
                .set(gi(t.bytes_read));
            self.table_bytes_written
                .get_or_create(&l)
                .set(gi(t.bytes_written));
        }
    }

    /// Record one API request (`method` is a JSON-RPC method name or `graphql`).
    pub fn api_request(&self, method: &str, took: Duration) {
        // Only known method names become labels, so hostile input cannot grow the families.
        let name = if crate::rpc::METHODS.contains(&method) || method == "graphql" {
            method
        } else {
            "unknown"
        };
        let l = vec![("method", name.to_string())];
        self.api_requests.get_or_create(&l).inc();
        self.api_seconds
            .get_or_create(&l)
            .observe(took.as_secs_f64());
    }

    /// OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Router with `GET /metrics`.
pub fn router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(serve))
        .with_state(metrics)
}

async fn serve(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
}
