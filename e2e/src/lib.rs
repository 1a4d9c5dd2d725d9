//! End-to-end tests over real node processes
//!
//! Not built yet: see the open issues.
