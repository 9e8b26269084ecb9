//! The shuttle backend: random and PCT schedules inside a shuttle run.
//!
//! Invariant: valid only inside a shuttle execution (see [`crate::explore::shuttle`]); every
//! atomic is `SeqCst` there, and spurious wakeups follow the run's [`super::spurious`] setting.

use super::PlainCell;
use ::shuttle::sync;
use ::shuttle::thread;

/// Randomised model-checking primitives from shuttle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shuttle;

super::raw_atomics!(sync::atomic::AtomicUsize, sync::atomic::AtomicBool);
super::std_like_primitives!(
    Shuttle,
    "shuttle",
    sync,
    thread,
    model = true,
    cell = PlainCell,
    spurious = super::spurious::next_wait_spurs()
);
