//! The book's inline Rust snippets, doctested by `cargo test` (issue 6).
//!
//! Each chapter of `book/` that has ```` ```rust ```` blocks of its own (not
//! `{{#include}}`s of compiled files, which are `rust,ignore`) is pulled in
//! here as the doc comment of an empty type, so rustdoc runs its snippets as
//! doctests. ```` ```python ````, ```` ```console ```` and ```` ```text ````
//! blocks are not Rust, and rustdoc leaves them alone.

/// Introduction.
#[doc = include_str!("../book/src/introduction.md")]
pub struct Introduction;

/// Chapter 1.
#[doc = include_str!("../book/src/ch01-busy-polling.md")]
pub struct Ch01BusyPolling;

/// Chapter 2.
#[doc = include_str!("../book/src/ch02-blocking.md")]
pub struct Ch02Blocking;

/// Chapter 3.
#[doc = include_str!("../book/src/ch03-bounded.md")]
pub struct Ch03Bounded;

/// Chapter 4.
#[doc = include_str!("../book/src/ch04-closing.md")]
pub struct Ch04Closing;

/// Chapter 5.
#[doc = include_str!("../book/src/ch05-producer-consumer.md")]
pub struct Ch05ProducerConsumer;

/// Chapter 6.
#[doc = include_str!("../book/src/ch06-pipeline.md")]
pub struct Ch06Pipeline;

/// Chapter 6, the pipeline for real work.
#[doc = include_str!("../book/src/ch06-real-work.md")]
pub struct Ch06RealWork;

/// Chapter 8.
#[doc = include_str!("../book/src/ch08-property-tests.md")]
pub struct Ch08PropertyTests;

/// Chapter 10.
#[doc = include_str!("../book/src/ch10-benchmarks.md")]
pub struct Ch10Benchmarks;

/// Chapter 11.
#[doc = include_str!("../book/src/ch11-qsize-empty.md")]
pub struct Ch11QsizeEmpty;
