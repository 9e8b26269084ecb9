//! The loom backend: every interleaving, explored exhaustively (DPOR) inside a loom model.
//!
//! Invariant: valid only inside `loom::model` (see [`crate::explore::loom`]); spurious wakeups
//! follow the exploration's [`super::spurious`] plan.

use ::loom::cell::UnsafeCell;
use ::loom::sync;
use ::loom::thread;

/// Exhaustive model-checking primitives from loom.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loom;

super::raw_atomics!(sync::atomic::AtomicUsize, sync::atomic::AtomicBool);
super::std_like_primitives!(
    Loom,
    "loom",
    sync,
    thread,
    model = true,
    cell = UnsafeCell,
    spurious = super::spurious::next_wait_spurs()
);

impl<T> super::RawCell<T> for UnsafeCell<T> {
    fn new(value: T) -> Self {
        UnsafeCell::new(value)
    }
    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        UnsafeCell::with(self, f)
    }
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        UnsafeCell::with_mut(self, f)
    }
}
