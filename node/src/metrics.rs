//! Prometheus metrics at `GET /metrics` (OpenMetrics text): chain heads, commits, mempool,
//! snail mining, RocksDB per-table statistics, API requests and latency.
//!
//! The event loop and the API update the metrics (atomics, never blocking); `/metrics` only
//! encodes them.
use std::sync::Arc;
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
use prometheus_client::registry::Registry;
use tc_types::TableStats;

/// Label set `{table="…"}` / `{method="…"}`.
type Label = Vec<(&'static str, String)>;

/// Every metric of a node.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
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
    /// PBFT view changes started since start.
    pub view_changes: Counter,
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

impl Metrics {
    /// All metrics registered under the `tc` prefix.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("tc");
        let m = Self {
            fast_head: Gauge::default(),
            snail_head: Gauge::default(),
            snail_difficulty: Gauge::default(),
            blocks_committed: Counter::default(),
            txs_committed: Counter::default(),
            snail_mined: Counter::default(),
            txs_rejected: Counter::default(),
            mempool_txs: Gauge::default(),
            mempool_bytes: Gauge::default(),
            table_live_sst_bytes: Family::default(),
            table_keys: Family::default(),
            table_bytes_read: Family::default(),
            table_bytes_written: Family::default(),
            api_requests: Family::default(),
            api_seconds: Family::new_with_constructor(latency_histogram),
            peers: Gauge::default(),
            view_changes: Counter::default(),
            epoch: Gauge::default(),
            committee_member: Gauge::default(),
            peer_penalties: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("fast_head", "Fast chain head height", m.fast_head.clone());
        registry.register(
            "snail_head",
            "Snail chain head height",
            m.snail_head.clone(),
        );
        registry.register(
            "snail_difficulty",
            "Difficulty of the snail head",
            m.snail_difficulty.clone(),
        );
        registry.register(
            "blocks_committed",
            "Fast blocks committed since start",
            m.blocks_committed.clone(),
        );
        registry.register(
            "txs_committed",
            "Transactions committed since start",
            m.txs_committed.clone(),
        );
        registry.register(
            "snail_blocks_mined",
            "Snail blocks mined since start",
            m.snail_mined.clone(),
        );
        registry.register(
            "txs_rejected",
            "Transactions refused since start",
            m.txs_rejected.clone(),
        );
        registry.register("mempool_txs", "Pooled transactions", m.mempool_txs.clone());
        registry.register(
            "mempool_bytes",
            "Pooled transaction bytes",
            m.mempool_bytes.clone(),
        );
        registry.register(
            "storage_live_sst_bytes",
            "Live SST bytes per table",
            m.table_live_sst_bytes.clone(),
        );
        registry.register(
            "storage_estimated_keys",
            "Estimated keys per table",
            m.table_keys.clone(),
        );
        registry.register(
            "storage_bytes_read",
            "Bytes read per table since open",
            m.table_bytes_read.clone(),
        );
        registry.register(
            "storage_bytes_written",
            "Bytes written per table since open",
            m.table_bytes_written.clone(),
        );
        registry.register(
            "api_requests",
            "API requests by method",
            m.api_requests.clone(),
        );
        registry.register(
            "api_request_seconds",
            "API latency by method",
            m.api_seconds.clone(),
        );
        registry.register("peers", "Connected libp2p peers", m.peers.clone());
        registry.register(
            "pbft_view_changes",
            "PBFT view changes started since start",
            m.view_changes.clone(),
        );
        registry.register("epoch", "Epoch of the fast head", m.epoch.clone());
        registry.register(
            "committee_member",
            "1 when this node is in the committee deciding the next height",
            m.committee_member.clone(),
        );
        registry.register(
            "peer_penalties",
            "Peers penalised for invalid input since start",
            m.peer_penalties.clone(),
        );
        Arc::new(Self { registry, ..m })
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
