//! The loom backend: every interleaving, explored exhaustively (DPOR) inside a loom model.
//!
//! Invariant: valid only inside `loom::model` (see [`crate::explore::loom`]); spurious wakeups
//! follow the exploration's plan (`crate::sync::model::choice`); a `SeqCst` access is fenced so that loom
//! treats it as sequentially consistent (see [`crate::sync`]).

use std::cell::RefCell;
use std::sync::atomic::Ordering;

use ::loom::cell::UnsafeCell;
use ::loom::sync;
use ::loom::thread;

use crate::sync::model::ThreadContext;

/// Exhaustive model-checking primitives from loom.
#[derive(Debug, Clone, Copy, Default)]
pub struct Loom;

::loom::thread_local! {
    static CONTEXT: RefCell<Option<ThreadContext>> = RefCell::new(None);
}

/// Loom's `seq_cst()` for accesses is a stub; only its `SeqCst` fence is sequentially
/// consistent.
#[inline]
fn seq_cst_fence(order: Ordering) {
    if order == Ordering::SeqCst {
        sync::atomic::fence(Ordering::SeqCst);
    }
}

use ::loom::sync::atomic;
crate::sync::raw_atomics!(atomic, seq_cst_fence = seq_cst_fence);
crate::sync::std_like_primitives!(
    Loom,
    "loom",
    sync,
    thread,
    model = true,
    cell = UnsafeCell,
    spurious = crate::sync::choice::next_wait_spurs::<Loom>(),
    context = CONTEXT,
    max_spawned = Some(::loom::MAX_THREADS - 1),
    plain_access = (),
    rwlock = crate::sync::backend::BuiltRwLock<Loom, T>,
    signal = crate::sync::backend::ParkSignal<::loom::thread::Thread>,
    token = crate::sync::backend::LoomToken,
    atomics = Loom,
    threads = model,
    sleep = yield_for
);

impl<T> crate::sync::backend::RawCell<T> for UnsafeCell<T> {
    #[track_caller]
    fn new(value: T) -> Self {
        UnsafeCell::new(value)
    }
    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        UnsafeCell::with(self, f)
    }
    #[track_caller]
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        UnsafeCell::with_mut(self, f)
    }
}

/// `sleep` under the checkers, which have no time: a yield, so that the others run first.
fn yield_for(_: std::time::Duration) {
    thread::yield_now()
}
