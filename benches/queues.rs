//! Placeholder: filled in by issue 5.
fn main() {}
