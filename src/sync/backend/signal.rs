//! The one-shot signal a thread blocked in a built primitive waits on (see
//! `crate::sync::gate`): each backend's cheapest way to block a thread until another one
//! wakes it, which is no model event of its own.
//!
//! Beside it, the token that carries a message's causality where a gate's entries do not
//! ([`RawToken`]).
//!
//! Invariant: [`RawSignal::wait`] returns only after [`RawSignal::raise`] was called (at once if
//! it was already), never spuriously; `raise` is not a scheduling point of the checker (so it
//! can end an operation that took its one event already), and under loom what the raiser did
//! before it happens before what the waiter does after `wait` (loom's `unpark` joins the
//! raiser's causality into the parked thread's).

use std::sync::atomic::{AtomicBool, Ordering};

use std::mem::ManuallyDrop;

use super::{Loom, RawSignal, RawToken};
use crate::sync::mutex::release_in_drop;

/// A signal on the thread's own park token: std's, and loom's (whose `park` is no branch point
/// and never returns spuriously; a raise only ever finds its waiter parked, since nothing
/// between the waiter's registration and its `park` is a loom event, so no token is left
/// behind for loom's condvar waits to trip on).
pub struct ParkSignal<T> {
    thread: T,
    raised: AtomicBool,
}

macro_rules! park_signal {
    ($thread:ident) => {
        impl RawSignal for ParkSignal<$thread::Thread> {
            fn new() -> Self {
                ParkSignal {
                    thread: $thread::current(),
                    raised: AtomicBool::new(false),
                }
            }
            fn wait(&self) {
                while !self.raised.load(Ordering::Acquire) {
                    $thread::park();
                }
            }
            fn raise(&self) {
                self.raised.store(true, Ordering::Release);
                self.thread.unpark();
            }
        }
    };
}

use ::loom::thread as loom_thread;
use ::std::thread as std_thread;
park_signal!(std_thread);
park_signal!(loom_thread);

/// Shuttle's signal: a semaphore of no permit (shuttle's `park` may return spuriously, and its
/// scheduler counts a parked thread as one that can run, which would hide a deadlock). A
/// blocked acquire is no scheduling point, nor is a release without one.
pub struct SemaphoreSignal(::shuttle::future::batch_semaphore::BatchSemaphore);

impl RawSignal for SemaphoreSignal {
    fn new() -> Self {
        use ::shuttle::future::batch_semaphore::{BatchSemaphore, Fairness};
        SemaphoreSignal(BatchSemaphore::new(0, Fairness::Unfair))
    }
    fn wait(&self) {
        self.0
            .acquire_blocking(1)
            .expect("a signal's semaphore is never closed");
    }
    fn raise(&self) {
        self.0.release_no_scheduling_point(1);
    }
}

/// Loom's token: a message on a channel of loom's own, sent when the token is made (loom's send
/// releases the sender's causality), received when it is taken (its receive acquires it).
pub struct LoomToken(Option<ManuallyDrop<::loom::sync::mpsc::Receiver<()>>>);

impl RawToken for LoomToken {
    fn new() -> Self {
        let (sender, receiver) = ::loom::sync::mpsc::channel();
        sender.send(()).expect("the receiver is here");
        crate::sync::model::token_made();
        LoomToken(Some(ManuallyDrop::new(receiver)))
    }
    fn take(mut self) {
        if let Some(receiver) = self.0.take() {
            receiver.recv().expect("sent when made");
            crate::sync::model::token_received();
            drop(ManuallyDrop::into_inner(receiver));
        }
    }
}

impl Drop for LoomToken {
    /// An untaken token is received all the same (loom counts a message never received as
    /// leaked), except while the execution is being stopped; loom's receiver is dropped only
    /// once empty, since its own drop would receive, and a panic there would abort.
    fn drop(&mut self) {
        if let Some(receiver) = self.0.take() {
            release_in_drop::<Loom>(|| {
                receiver.recv().expect("sent when made");
                crate::sync::model::token_received();
                drop(ManuallyDrop::into_inner(receiver));
            });
        }
    }
}
