//! Model-checks concurrent Rust: one body, written with std's names, explored by
//! [loom](https://docs.rs/loom) (every interleaving, with a spurious wakeup as an explored
//! choice) and by [shuttle](https://docs.rs/shuttle)'s random, PCT and URW schedulers, each
//! failure explained (the interleaving, what each blocked thread waits on) and replayable from
//! a token. Linux only (the process components use Linux's `prctl`, pidfds and `/proc`).
//!
//! # Check, inspect, replay
//!
//! [`check!`] asserts: in a test, it panics with the verdict table, the failing interleaving
//! and the line that replays it. The block is plain std code, compiled once against
//! [`std`] (std's paths and signatures: `Mutex`, `Condvar`, `Arc`, `thread::spawn`,
//! atomics, `mpsc`, `OnceLock`, ...), each execution dispatched to the checker running it; the
//! closure judges the block's outcome (`bool` or `Result<(), why>`). A library checks itself
//! unchanged behind `#[cfg(threadproof)] use threadproof::std::sync::{..};` (see
//! `examples/user-crate/`); code written over `P: Primitives` uses [`check_backends!`].
//!
//! ```
//! use threadproof::check;
//!
//! check!({
//!     let counter = Arc::new(Mutex::new(0));
//!     let c = Arc::clone(&counter);
//!     let t = thread::spawn(move || *c.lock().unwrap() += 1);
//!     *counter.lock().unwrap() += 1;
//!     t.join().unwrap();
//!     let total = *counter.lock().unwrap();
//!     total
//! }, |total| *total == 2);
//! ```
//!
//! [`verdicts!`] runs the same checkers and returns their [`check::Verdicts`] instead of
//! asserting; [`replay!`] runs the one execution a failure's token names, with the same body:
//!
//! ```
//! use threadproof::explore::FailureKind;
//! use threadproof::{replay, verdicts};
//!
//! // An increment split into a read and a write under separate locks loses an update.
//! macro_rules! split_increment {
//!     () => {{
//!         let counter = Arc::new(Mutex::new(0));
//!         let c = Arc::clone(&counter);
//!         let t = thread::spawn(move || {
//!             let seen = *c.lock().unwrap();
//!             *c.lock().unwrap() = seen + 1;
//!         });
//!         let seen = *counter.lock().unwrap();
//!         *counter.lock().unwrap() = seen + 1;
//!         t.join().unwrap();
//!         let total = *counter.lock().unwrap();
//!         total
//!     }};
//! }
//! let verdicts = verdicts!(split_increment!(), |total| *total == 2);
//! assert!(!verdicts.passed());
//! let (_, failure) = verdicts.failures().next().unwrap();
//! assert_eq!(failure.kind, FailureKind::InvariantViolated);
//! let token = failure.replay.to_string();
//! let again = replay!(&token, split_increment!(), |total| *total == 2);
//! assert_eq!(again.failure_kind(), Some(FailureKind::InvariantViolated));
//! ```
//!
//! [`check::Portfolio`] chooses the checkers and their budgets:
//! `check!(with Portfolio::standard().without_loom(); BODY, INVARIANT)`.
//!
//! # The paths
//!
//! - [`check`](mod@check): the three macros' portfolio and verdicts.
//! - [`std`]: std's paths and signatures, checked: what a `check!` body and a library behind
//!   the `cfg(threadproof)` swap name.
//! - [`sync`]: the primitives. [`sync::loom`] and [`sync::shuttle`] are what a checked body
//!   sees; [`sync::std`] and [`sync::parking_lot`] run the same code in production; code
//!   written once over any backend takes a [`sync::Primitives`] parameter; [`sync::backend`]
//!   holds what only a new backend's implementor names.
//! - [`explore`]: one checker at a time (`explore::loom::explore`,
//!   `explore::shuttle::explore`), its [`explore::Report`] and [`explore::Failure`], for finer
//!   control than the macros.
//! - [`thread_pool`], [`sync::OnceLock`] and [`process`] (a process pool and a manager): components
//!   checked the same way.
//! - [`scenarios`]: the eight patterns of the Python notes the `threadproof` command runs and
//!   checks; [`scenarios::suite`] is that command's `check`, as a library.
//!
//! The command (`cargo run --release -- check --mutants`), the kill matrix and the set-up are
//! in the README. Two default features, which a library user leaves out with
//! `default-features = false`: `patterns` ([`scenarios`] and [`process`], with the crates only
//! they use: mio, rustix, serde, serde_json, libc) and `cli` (the binary, clap, indicatif).
pub mod check;
pub mod explore;
#[cfg(feature = "patterns")]
pub mod process;
#[cfg(feature = "patterns")]
pub mod scenarios;
pub mod std;
pub mod sync;
pub mod thread_pool;

/// The README, whose examples (checking your own code) are compiled and run as doctests, so
/// that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoc;

/// `docs/processes.md`, whose process-pool example is compiled as a doctest too.
#[cfg(doctest)]
#[doc = include_str!("../docs/processes.md")]
struct ProcessesDoc;
