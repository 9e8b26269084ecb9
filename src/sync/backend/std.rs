//! The `std` backend: production primitives from `std::sync` and `std::thread`.
//!
//! Invariant: a faithful pass-through; poisoned locks are entered anyway (see [`crate::sync`]).

use std::cell::RefCell;

use crate::sync::backend::PlainCell;
use crate::sync::model::ThreadContext;
use ::std::sync;
use ::std::thread;

/// Production primitives from the standard library.
#[derive(Debug, Clone, Copy, Default)]
pub struct Std;

::std::thread_local! {
    static CONTEXT: RefCell<Option<ThreadContext>> = const { RefCell::new(None) };
}

use ::std::sync::atomic;
crate::sync::raw_atomics!(atomic, seq_cst_fence = crate::sync::no_fence);
crate::sync::std_like_primitives!(
    Std,
    "std",
    sync,
    thread,
    model = false,
    cell = PlainCell,
    spurious = false,
    context = CONTEXT,
    max_spawned = None,
    plain_access = (),
    rwlock = ::std::sync::RwLock<T>,
    signal = crate::sync::backend::ParkSignal<::std::thread::Thread>,
    token = crate::sync::backend::NoToken,
    atomics = Std,
    threads = std,
    sleep = ::std::thread::sleep
);
