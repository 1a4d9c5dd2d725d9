//! The scenario's `[load]` on top of the load generator ([`crate::load`]): `rate × duration_s`
//! transfers or Bank transfers from `accounts` dev accounts at a fixed rate, submitted through
//! the launcher's address (which fails over when a node dies).
use std::time::Duration;

use super::check::LoadOutcome;
use super::file::LoadSection;
use crate::load::{LoadSpec, Pace, run_async};

/// Send the load; the hashes of the accepted transactions. `drain_s`: how long the generator
/// waits for its last commits (the runner checks receipts itself afterwards).
pub(super) async fn run(l: &LoadSection, url: &str, seed: u64, drain_s: f64) -> LoadOutcome {
    // Validated: rate ≤ 10,000 tx/s, duration ≤ 3,600 s, accounts 1–10.
    let txs = (l.rate * l.duration_s).round().max(1.0) as usize;
    let spec = LoadSpec {
        kind: l.kind,
        pace: Pace::Rate(l.rate),
        txs,
        senders: u32::try_from(l.accounts).unwrap_or(1),
        workers: l.accounts.clamp(1, 4),
        commit_timeout: Duration::from_secs_f64(drain_s.max(1.0)),
        seed,
        ..LoadSpec::default()
    };
    match run_async(vec![url.to_string()], spec).await {
        Ok(r) => LoadOutcome {
            sent: u64::try_from(r.submitted).unwrap_or(u64::MAX),
            accepted: r.accepted_hashes,
            missing: Vec::new(),
            error: None,
        },
        Err(e) => LoadOutcome {
            error: Some(e.to_string()),
            ..LoadOutcome::default()
        },
    }
}
