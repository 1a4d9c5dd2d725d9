//! Pure consensus state machines: PBFT engine, snail-chain PoW rules, committee election. No tokio, no clock, no RNG, no I/O.
//!
//! Not built yet: see the open issues.
