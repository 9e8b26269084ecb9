//! The `std` backend: production primitives from `std::sync` and `std::thread`.
//!
//! Invariant: a faithful pass-through; poisoned locks are entered anyway (see [`super`]).

use super::PlainCell;
use ::std::sync;
use ::std::thread;

/// Production primitives from the standard library.
#[derive(Debug, Clone, Copy, Default)]
pub struct Std;

super::raw_atomics!(sync::atomic::AtomicUsize, sync::atomic::AtomicBool);
super::std_like_primitives!(
    Std,
    "std",
    sync,
    thread,
    model = false,
    cell = PlainCell,
    spurious = false
);
