//! The scenario's `[load]`, sent through the launcher's address.
use super::check::LoadOutcome;
use super::file::LoadSection;

/// Send the load; the hashes of the accepted transactions.
pub(super) async fn run(l: &LoadSection, url: &str, seed: u64) -> LoadOutcome {
    let _ = (l, url, seed);
    LoadOutcome {
        error: Some("no load generator yet".into()),
        ..LoadOutcome::default()
    }
}
