//! GraphQL schema (EIP-1767 + hybrid extensions) over a read trait
//!
//! Not built yet: see the open issues.
