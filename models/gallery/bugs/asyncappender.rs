//! # asyncappender-edge-notify: log4j's AsyncAppender wakes the wrong waiter
//!
//! An asynchronous logger hands events to a dispatcher thread through a bounded buffer.
//! Producers and the dispatcher wait on the same monitor, and each side wakes "the other
//! side" with a single `notify()`, and only on an edge: empty to non-empty, full to not full.
//! With a one-slot buffer: P1 fills it and waits with its second event; P2 waits too; the
//! dispatcher takes the event and its notify wakes P1, then it finds the buffer empty and
//! sleeps. P1 refills it and, on the "was empty" edge, its single notify wakes P2 instead of
//! the dispatcher; P2 finds the buffer full and sleeps. Nobody is left to wake anybody. The
//! fix is `notify_all`, so every waiter re-checks its own condition.
//!
//! Source: log4j Bugzilla 38137, JaConTeBe `jacontebe/log4j/src/org/apache/log4j/Test38137.java`
//! and `jacontebe/log4j/description/38137.html`; log4j 1.2.x `AsyncAppender.java`.
//! Class: lost wakeup (`notify_one` on a monitor shared by two conditions); deadlock on every
//! checker.

use std::collections::VecDeque;

use super::rt::sync::{Arc, Condvar, Mutex};
use super::rt::thread;

/// The events the dispatcher took, in order.
pub type Outcome = Vec<u32>;

const CAPACITY: usize = 1;

struct Appender {
    buffer: Mutex<VecDeque<u32>>,
    changed: Condvar,
    /// BUGGY: `notify_one` on the edges; FIXED: `notify_all`.
    notify_all: bool,
}

impl Appender {
    fn notify(&self) {
        if self.notify_all {
            self.changed.notify_all();
        } else {
            self.changed.notify_one();
        }
    }

    fn append(&self, event: u32) {
        let mut buffer = self.buffer.lock().unwrap();
        while buffer.len() == CAPACITY {
            buffer = self.changed.wait(buffer).unwrap();
        }
        buffer.push_back(event);
        if buffer.len() == 1 {
            self.notify(); // the "was empty" edge
        }
    }

    fn dispatch_one(&self) -> u32 {
        let mut buffer = self.buffer.lock().unwrap();
        while buffer.is_empty() {
            buffer = self.changed.wait(buffer).unwrap();
        }
        let event = buffer.pop_front().unwrap();
        if buffer.len() == CAPACITY - 1 {
            self.notify(); // the "was full" edge
        }
        event
    }
}

fn model(notify_all: bool) -> Outcome {
    let appender = Arc::new(Appender {
        buffer: Mutex::new(VecDeque::new()),
        changed: Condvar::new(),
        notify_all,
    });
    let producers: Vec<_> = [vec![1, 2], vec![3]]
        .into_iter()
        .map(|events| {
            let appender = Arc::clone(&appender);
            thread::spawn(move || events.into_iter().for_each(|e| appender.append(e)))
        })
        .collect();
    let taken = (0..3).map(|_| appender.dispatch_one()).collect();
    for producer in producers {
        producer.join().unwrap();
    }
    taken
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

pub fn invariant(taken: &Outcome) -> Result<(), String> {
    let mut sorted = taken.clone();
    sorted.sort();
    if sorted == [1, 2, 3] {
        Ok(())
    } else {
        Err(format!("events lost or duplicated: {taken:?}"))
    }
}
