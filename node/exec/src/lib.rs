//! revm execution of fast blocks over the store: receipts, logs, calls, gas estimation
//!
//! Not built yet: see the open issues.
