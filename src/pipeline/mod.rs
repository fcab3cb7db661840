//! Workers and pipelines (issue 4): filled in next.
