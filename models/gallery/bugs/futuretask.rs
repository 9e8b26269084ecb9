//! # futuretask-set-order: the task says "done" before its result is written
//!
//! A `FutureTask` completed by an explicit `set(v)` first moves its state to done and only
//! then stores the result. A `get()` that arrives in between sees the task done, does not
//! wait, and returns the result field, which is still empty: `get()` returns null. The bug is
//! there even under sequential consistency. JDK 8 rewrote `FutureTask` with an intermediate
//! state: claim it (COMPLETING), write the outcome, then publish DONE with a release store.
//! The getter blocks with `park`/`unpark`, as `FutureTask.awaitDone` does, re-checking the
//! state after registering so that no wakeup is lost.
//!
//! Source: JDK-7132378, JaConTeBe `jacontebe/jdk7/src/Test7132378.java` and
//! `jacontebe/jdk7/description/7132378.html` (`FutureTask$Sync.innerSet`/`innerGet`).
//! Class: order violation; fails its invariant on every checker.

use super::rt::sync::atomic::{AtomicU8, Ordering::*};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread::{self, Thread};

/// What `get()` returned.
pub type Outcome = Option<u32>;

const NEW: u8 = 0;
const COMPLETING: u8 = 1;
const DONE: u8 = 2;

struct Task {
    state: AtomicU8,
    result: Mutex<Option<u32>>,
    waiter: Mutex<Option<Thread>>,
}

impl Task {
    /// BUGGY (JDK 7 `innerSet`): claim DONE, then write the result.
    fn set(&self, v: u32) {
        if self
            .state
            .compare_exchange(NEW, DONE, SeqCst, SeqCst)
            .is_ok()
        {
            *self.result.lock().unwrap() = Some(v);
            self.wake();
        }
    }

    /// FIXED (JDK 8): NEW -> COMPLETING, write the outcome, then publish DONE.
    fn set_fixed(&self, v: u32) {
        if (self.state)
            .compare_exchange(NEW, COMPLETING, AcqRel, Acquire)
            .is_ok()
        {
            *self.result.lock().unwrap() = Some(v);
            self.state.store(DONE, Release);
            self.wake();
        }
    }

    fn wake(&self) {
        if let Some(waiter) = self.waiter.lock().unwrap().take() {
            waiter.unpark();
        }
    }

    fn get(&self) -> Outcome {
        while self.state.load(Acquire) != DONE {
            *self.waiter.lock().unwrap() = Some(thread::current());
            if self.state.load(Acquire) == DONE {
                break;
            }
            thread::park(); // may return spuriously: the loop re-checks
        }
        *self.result.lock().unwrap()
    }
}

fn model(set: fn(&Task, u32)) -> Outcome {
    let task = Arc::new(Task {
        state: AtomicU8::new(NEW),
        result: Mutex::new(None),
        waiter: Mutex::new(None),
    });
    let setter = {
        let task = Arc::clone(&task);
        thread::spawn(move || set(&task, 7))
    };
    let got = task.get();
    setter.join().unwrap();
    got
}

pub fn buggy() -> Outcome {
    model(Task::set)
}

pub fn fixed() -> Outcome {
    model(Task::set_fixed)
}

pub fn invariant(got: &Outcome) -> Result<(), String> {
    match got {
        Some(7) => Ok(()),
        _ => Err("get() returned null".into()),
    }
}
