//! What the scenario runner asks the nodes (each over its own HTTP address): the head block
//! (height, hash, epoch, view, proposer) by JSON-RPC, committees by GraphQL, block hashes and
//! receipts by JSON-RPC batches.
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::proxy;

/// Longest wait for one answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Calls per JSON-RPC batch.
const BATCH: usize = 200;

/// A consensus key as compared here: lower-case hex without `0x`.
pub fn norm_key(k: &str) -> String {
    k.trim().trim_start_matches("0x").to_ascii_lowercase()
}

/// A node's highest committed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// Height.
    pub number: u64,
    /// Hash (hex).
    pub hash: String,
    /// Epoch of the committee that decided it.
    pub epoch: u64,
    /// PBFT view it was decided in.
    pub view: u64,
    /// Its proposer's key ([`norm_key`]).
    pub proposer: String,
}

async fn timed<T>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(CALL_TIMEOUT, f)
        .await
        .map_err(|_| format!("{what}: no answer within {CALL_TIMEOUT:?}"))?
}

fn head_of(b: &Value) -> Result<Head, String> {
    let q = |k: &str| proxy::quantity(&b[k]).ok_or_else(|| format!("block without {k}: {b}"));
    Ok(Head {
        number: q("number")?,
        hash: b["hash"].as_str().unwrap_or_default().to_string(),
        epoch: q("epoch")?,
        view: q("view")?,
        proposer: norm_key(b["proposer"].as_str().unwrap_or_default()),
    })
}

/// The node's head block.
pub async fn head(addr: SocketAddr) -> Result<Head, String> {
    let b = timed(
        "eth_getBlockByNumber",
        proxy::rpc(addr, "eth_getBlockByNumber", json!(["latest", false])),
    )
    .await?;
    head_of(&b)
}

/// A committee as the runner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitteeInfo {
    /// Epoch it serves.
    pub epoch: u64,
    /// Member keys in canonical order ([`norm_key`]).
    pub members: Vec<String>,
    /// Its hash (as named by the previous epoch's last block).
    pub hash: String,
}

impl CommitteeInfo {
    /// Tolerated faulty members f = ⌊(n − 1)/3⌋.
    pub fn max_faulty(&self) -> usize {
        tc_types::committee::max_faulty(self.members.len())
    }
}

fn committee_of(c: &Value) -> Option<CommitteeInfo> {
    Some(CommitteeInfo {
        epoch: proxy::quantity(&c["epoch"])?,
        members: c["members"]
            .as_array()?
            .iter()
            .filter_map(|m| m["key"].as_str().map(norm_key))
            .collect(),
        hash: c["hash"].as_str().unwrap_or_default().to_string(),
    })
}

async fn graphql(addr: SocketAddr, query: &str) -> Result<Value, String> {
    let v = timed(
        "GraphQL",
        proxy::post_json(addr, "/graphql", &json!({"query": query})),
    )
    .await?;
    if let Some(e) = v.get("errors") {
        return Err(format!("GraphQL errors: {e}"));
    }
    Ok(v["data"].clone())
}

const COMMITTEE_FIELDS: &str = "epoch hash members { key }";

/// The committee of `epoch` (the latest known one, possibly elected and not deciding yet,
/// when `None`).
pub async fn committee(
    addr: SocketAddr,
    epoch: Option<u64>,
) -> Result<Option<CommitteeInfo>, String> {
    let arg = epoch.map_or(String::new(), |e| format!("(epoch: \"{e:#x}\")"));
    let d = graphql(
        addr,
        &format!("{{ committee{arg} {{ {COMMITTEE_FIELDS} }} }}"),
    )
    .await?;
    Ok(committee_of(&d["committee"]))
}

/// Every committee the node has stored (up to the GraphQL range limit), epoch ascending.
pub async fn committees(addr: SocketAddr) -> Result<Vec<CommitteeInfo>, String> {
    let d = graphql(addr, &format!("{{ epochs {{ {COMMITTEE_FIELDS} }} }}")).await?;
    Ok(d["epochs"]
        .as_array()
        .map(|a| a.iter().filter_map(committee_of).collect())
        .unwrap_or_default())
}

/// Block hashes at heights `from..=to` (batched).
pub async fn hashes(addr: SocketAddr, from: u64, to: u64) -> Result<Vec<(u64, String)>, String> {
    let mut out = Vec::new();
    let heights: Vec<u64> = (from..=to).collect();
    for chunk in heights.chunks(BATCH) {
        let calls: Vec<(&str, Value)> = chunk
            .iter()
            .map(|n| ("eth_getBlockByNumber", json!([format!("{n:#x}"), false])))
            .collect();
        let answers = timed("block hashes", proxy::rpc_batch(addr, &calls)).await?;
        for (n, a) in chunk.iter().zip(answers) {
            if let Some(h) = a.ok().and_then(|b| b["hash"].as_str().map(str::to_string)) {
                out.push((*n, h));
            }
        }
    }
    Ok(out)
}

/// Which of `txs` have a receipt on the node (batched; `false` for a failed call).
pub async fn committed(addr: SocketAddr, txs: &[String]) -> Result<Vec<bool>, String> {
    let mut out = Vec::with_capacity(txs.len());
    for chunk in txs.chunks(BATCH) {
        let calls: Vec<(&str, Value)> = chunk
            .iter()
            .map(|h| ("eth_getTransactionReceipt", json!([h])))
            .collect();
        let answers = timed("receipts", proxy::rpc_batch(addr, &calls)).await?;
        out.extend(answers.into_iter().map(|a| a.is_ok_and(|r| r.is_object())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_committees_parse() {
        let b = json!({"number": "0x10", "hash": "0xab", "epoch": "0x2", "view": "0x1",
            "proposer": "0xAbCd"});
        assert_eq!(
            head_of(&b),
            Ok(Head {
                number: 16,
                hash: "0xab".into(),
                epoch: 2,
                view: 1,
                proposer: "abcd".into()
            })
        );
        assert!(head_of(&json!({"number": "0x1"})).is_err());
        let c =
            json!({"epoch": "0x3", "hash": "0x01", "members": [{"key": "0xAA"}, {"key": "0xbb"}]});
        let c = committee_of(&c).expect("committee");
        assert_eq!(
            (c.epoch, c.members.clone()),
            (3, vec!["aa".into(), "bb".into()])
        );
        assert_eq!(c.max_faulty(), 0);
    }
}
