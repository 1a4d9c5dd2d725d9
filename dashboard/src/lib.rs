//! Leptos client-side dashboard (wasm32)
//!
//! Not built yet: see the open issues.
