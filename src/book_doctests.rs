//! The book's inline Rust snippets, doctested by `cargo test` (issue 6).
