//! GraphQL at `POST /graphql` (schema: `tc-graphql`, geth's EIP-1767 names), over this node.
use std::sync::Arc;

use alloy_primitives::{B256, Bytes};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use tc_graphql::{BoxFuture, NodeApi, TcSchema};
use tc_storage::ChainStore;
use tc_types::RecoveredTx;
use tokio::sync::oneshot;

use crate::runtime::{Command, NodeHandle};

impl NodeApi for NodeHandle {
    fn chain(&self) -> &ChainStore {
        &self.chain
    }
    fn chain_id(&self) -> u64 {
        self.chain_id
    }
    fn send_raw_transaction(&self, raw: Bytes) -> BoxFuture<'_, Result<B256, String>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            self.commands
                .send(Command::SubmitTx { raw, reply })
                .await
                .map_err(|_| "node is shutting down".to_string())?;
            rx.await
                .map_err(|_| "node is shutting down".to_string())?
                .map_err(|e| e.to_string())
        })
    }
    fn pending_transactions(&self) -> BoxFuture<'_, Vec<RecoveredTx>> {
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            if self
                .commands
                .send(Command::PooledTxs { reply })
                .await
                .is_err()
            {
                return Vec::new();
            }
            rx.await.unwrap_or_default()
        })
    }
}

/// Router with `POST /graphql` (body limit as the JSON-RPC one).
pub fn router(handle: NodeHandle, max_body_bytes: usize) -> Router {
    let metrics = handle.metrics.clone();
    let schema = tc_graphql::schema(Arc::new(handle));
    Router::new()
        .route("/graphql", post(serve))
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .with_state((schema, metrics))
}

async fn serve(
    State((schema, metrics)): State<(TcSchema, Arc<crate::metrics::Metrics>)>,
    body: axum::body::Bytes,
) -> Json<serde_json::Value> {
    let started = std::time::Instant::now();
    let out = execute(&schema, &body).await;
    metrics.api_request("graphql", started.elapsed());
    out
}

async fn execute(schema: &TcSchema, body: &[u8]) -> Json<serde_json::Value> {
    let req: async_graphql::Request = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Json(
                serde_json::json!({"errors": [{"message": format!("malformed GraphQL request: {e}")}]}),
            );
        }
    };
    let resp = schema.execute(req).await;
    Json(
        serde_json::to_value(&resp)
            .unwrap_or_else(|e| serde_json::json!({"errors": [{"message": e.to_string()}]})),
    )
}
