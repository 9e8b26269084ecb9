//! # if-not-while: a stolen wakeup (OSTEP Fig. 30.8)
//!
//! A one-slot buffer is shared by one producer and two consumers, and each waiter checks its
//! condition with `if`, not `while`. Consumer C1 finds the buffer empty and waits. The
//! producer fills it and wakes C1. Before C1 reacquires the mutex, consumer C2 walks in, sees
//! a full buffer and takes the item. C1 returns from `wait`, does not re-check, and takes
//! from an empty buffer. It fails without any spurious wakeup. Both versions wake with
//! `notify_all`, so that the only difference is `if` against `while` (with `notify_one`, the
//! `while` version would still lose a wakeup: Fig. 30.10).
//!
//! Source: shuttle `tests/basic/condvar.rs` `producer_consumer_broken1` (OSTEP, "Condition
//! Variables", Fig. 30.8); a real instance is KAFKA-17929 (found by Fray, `cmu-pasta/fray`
//! `docs/bugs.md`; fixed in apache/kafka PR #23238).
//! Class: `if` around `wait`; fails an assertion (a panic) on every checker.

use super::rt::sync::{Arc, Condvar, Mutex};
use super::rt::thread;

/// Items consumed.
pub type Outcome = usize;

struct Slot {
    count: Mutex<usize>,
    changed: Condvar,
    fixed: bool,
}

impl Slot {
    fn consume(&self) {
        let mut count = self.count.lock().unwrap();
        if self.fixed {
            while *count == 0 {
                count = self.changed.wait(count).unwrap();
            }
        } else if *count == 0 {
            count = self.changed.wait(count).unwrap(); // BUGGY: `if`
        }
        assert_eq!(*count, 1, "nothing to get");
        *count = 0;
        self.changed.notify_all();
    }

    fn produce(&self) {
        let mut count = self.count.lock().unwrap();
        if self.fixed {
            while *count == 1 {
                count = self.changed.wait(count).unwrap();
            }
        } else if *count == 1 {
            count = self.changed.wait(count).unwrap(); // BUGGY: `if`
        }
        assert_eq!(*count, 0, "no space to put");
        *count = 1;
        self.changed.notify_all();
    }
}

fn model(fixed: bool) -> Outcome {
    let slot = Arc::new(Slot {
        count: Mutex::new(0),
        changed: Condvar::new(),
        fixed,
    });
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let slot = Arc::clone(&slot);
            thread::spawn(move || slot.consume())
        })
        .collect();
    slot.produce();
    slot.produce();
    consumers.into_iter().map(|c| c.join().unwrap()).count()
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

pub fn invariant(_: &Outcome) -> Result<(), String> {
    Ok(())
}
