//! Placeholder: replaced below.
