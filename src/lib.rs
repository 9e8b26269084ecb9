//! threadproof: the eight concurrency patterns of the Python notes, written once against
//! swappable primitives, run in production on `std` and `parking_lot`, and model-checked with
//! loom (every interleaving) and shuttle (random and PCT schedules).
//!
//! - [`sync`]: the primitives and their four backends;
//! - [`scenarios`]: the patterns, each with its invariant and its known-bad mutants;
//! - [`explore`]: running a body under loom or shuttle within a budget, with a report.

pub mod explore;
pub mod scenarios;
pub mod sync;

/// The README's code examples, compiled and run as doctests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
