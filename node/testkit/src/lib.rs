//! Seeded deterministic simulator: virtual clock, faulty network, byzantine hooks
//!
//! Not built yet: see the open issues.
