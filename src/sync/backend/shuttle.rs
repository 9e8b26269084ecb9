//! The shuttle backend: random, PCT and URW schedules inside a shuttle run.
//!
//! Invariant: valid only inside a shuttle execution (see [`crate::explore::shuttle`]); every
//! atomic is `SeqCst` there, every [`crate::sync::UnsafeCell`] access is a scheduling point, and spurious
//! wakeups follow the run's setting (`crate::sync::model::choice`).

use std::cell::RefCell;
use std::time::Duration;

use crate::sync::backend::PlainCell;
use crate::sync::model::ThreadContext;
use ::shuttle::sync;
use ::shuttle::thread;

/// Randomised model-checking primitives from shuttle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shuttle;

::shuttle::thread_local! {
    static CONTEXT: RefCell<Option<ThreadContext>> = const { RefCell::new(None) };
}

use ::shuttle::sync::atomic;
crate::sync::raw_atomics!(atomic, seq_cst_fence = crate::sync::no_fence);
crate::sync::std_like_primitives!(
    Shuttle,
    "shuttle",
    sync,
    thread,
    model = true,
    cell = PlainCell,
    spurious = crate::sync::choice::next_wait_spurs::<Shuttle>(),
    context = CONTEXT,
    max_spawned = None,
    // A bare switch: `sleep` has no time in shuttle, and unlike `yield_now` it does not tell
    // PCT to lower the thread's priority.
    plain_access = thread::sleep(Duration::ZERO),
    rwlock = crate::sync::backend::BuiltRwLock<Shuttle, T>,
    signal = crate::sync::backend::SemaphoreSignal,
    token = crate::sync::backend::NoToken,
    atomics = Shuttle,
    threads = model,
    sleep = yield_for
);

/// `sleep` under the checkers, which have no time: a yield, so that the others run first.
fn yield_for(_: std::time::Duration) {
    thread::yield_now()
}
