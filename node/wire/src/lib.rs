//! Protobuf wire format (prost + protox) for every message that crosses a process boundary
//!
//! Not built yet: see the open issues.
