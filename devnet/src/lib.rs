//! Devnet launcher: N node processes, merged event feed, fault injection, scenarios
//!
//! Not built yet: see the open issues.
