//! The one-shot signal a thread blocked in a built primitive waits on (see
//! `crate::sync::gate`): each backend's cheapest way to block a thread until another one
//! wakes it, which is no model event of its own.
//!
//! Beside it, the token that carries a message's causality, or a sender's drop's, where a
//! gate's entries do not ([`RawToken`]).
//!
//! Invariant: [`RawSignal::wait`] returns only after [`RawSignal::raise`] was called (at once if
//! it was already), never spuriously; `raise` is not a scheduling point of the checker (so it
//! can end an operation that took its one event already), and under loom what the raiser did
//! before it happens before what the waiter does after `wait` (loom's `unpark` joins the
//! raiser's causality into the parked thread's).

use std::sync::atomic::{AtomicBool, Ordering};

use std::mem::ManuallyDrop;

use super::{Loom, RawSignal, RawToken};
use crate::sync::model;
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
/// releases the sender's causality), received when it is taken (its receive acquires it). The
/// execution keeps the receive (`model::keep_token`), so that what a body never takes is
/// received when it ends, before loom checks its channels for messages left.
pub struct LoomToken(model::TokenId);

impl RawToken for LoomToken {
    fn new() -> Self {
        let (sender, receiver) = ::loom::sync::mpsc::channel();
        sender.send(()).expect("the receiver is here");
        // Loom's receiver is dropped only once empty: its own drop would receive, and outside
        // its execution (a receipt forgotten with the execution) that panics.
        let receiver = ManuallyDrop::new(receiver);
        LoomToken(model::keep_token(Box::new(move || {
            receiver.recv().expect("sent when made");
            drop(ManuallyDrop::into_inner(receiver));
        })))
    }
    fn take(self) {
        if let Some(receive) = model::take_token(self.0) {
            receive();
        }
    }
}

impl Drop for LoomToken {
    /// An untaken token is received all the same, except while the execution is being stopped
    /// (`take` leaves nothing for this to do).
    fn drop(&mut self) {
        let id = self.0;
        release_in_drop::<Loom>(|| {
            if let Some(receive) = model::take_token(id) {
                receive();
            }
        });
    }
}
