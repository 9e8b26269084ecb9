// The crate documentation is the README, so that its examples (checking your own code) are
// compiled and run as doctests and stay true.
#![doc = include_str!("../README.md")]
pub mod check;
pub mod explore;
pub mod process;
pub mod scenarios;
pub mod std;
pub mod sync;
pub mod thread_pool;

/// `docs/processes.md`, whose process-pool example is compiled as a doctest too.
#[cfg(doctest)]
#[doc = include_str!("../docs/processes.md")]
struct ProcessesDoc;
