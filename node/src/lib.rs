//! The trueconsensus node: config, mempool, genesis, event loop and the tc-node binary
//!
//! Not built yet: see the open issues.
