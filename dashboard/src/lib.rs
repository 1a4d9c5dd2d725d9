//! The devnet dashboard: a Leptos client-side app (wasm32) over the merged feed
//! (`GET /feed`, protocol in [`tc_types::feed`]).
//!
//! Map:
//! - [`abi`]   contract artifacts (solc/forge/hardhat JSON) and the ABI codec of the Contracts panel
//! - [`model`] the pure reducer: feed messages → [`model::Model`] (bounded history); native tests
//! - [`fmt`]   number/hash/time formatting shared by the panels
//! - [`chart`] geometry of the inline SVG bar charts
//! - `app`     (wasm32 only) the Leptos components and the WebSocket client with reconnects
//!
//! Build: `cargo xtask dashboard --release` (wasm32 build + wasm-bindgen, see `xtask/`).

pub mod abi;
pub mod chart;
pub mod fmt;
pub mod model;

#[cfg(target_arch = "wasm32")]
mod app;
/// The wasm entry point (`#[wasm_bindgen(start)]`): mounts the app on `<body>`.
#[cfg(target_arch = "wasm32")]
pub use app::start;
