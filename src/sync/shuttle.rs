//! The shuttle backend: random and PCT schedules inside a shuttle run.
//!
//! Invariant: valid only inside a shuttle execution (see [`crate::explore::shuttle`]); every
//! atomic is `SeqCst` there, every [`super::Cell`] access is a scheduling point, and spurious
//! wakeups follow the run's [`super::spurious`] setting.

use std::cell::RefCell;
use std::time::Duration;

use super::model::ThreadContext;
use super::PlainCell;
use ::shuttle::sync;
use ::shuttle::thread;

/// Randomised model-checking primitives from shuttle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shuttle;

::shuttle::thread_local! {
    static CONTEXT: RefCell<Option<ThreadContext>> = const { RefCell::new(None) };
}

super::raw_atomics!(
    sync::atomic::AtomicUsize,
    sync::atomic::AtomicBool,
    seq_cst_fence = super::no_fence
);
super::std_like_primitives!(
    Shuttle,
    "shuttle",
    sync,
    thread,
    model = true,
    cell = PlainCell,
    spurious = super::spurious::next_wait_spurs::<Shuttle>(),
    context = CONTEXT,
    max_spawned = None,
    // A bare switch: `sleep` has no time in shuttle, and unlike `yield_now` it does not tell
    // PCT to lower the thread's priority.
    plain_access = thread::sleep(Duration::ZERO),
    rwlock = super::BuiltRwLock<Shuttle, T>
);
