//! Checking your own code: a bounded buffer with a lost wakeup, found and explained by every
//! checker, next to its fixed version, which passes.
//!
//! Run it with `cargo run --example bounded_buffer`. It exits 0 when every checker catches the
//! bug and passes the fix, 1 otherwise.
//!
//! The two buffers are plain std code: in a library the swap below is the only change, and
//! `check!`/`verdicts!` compile the checked body once, for every checker:
//!
//! ```text
//! #[cfg(threadproof)] use threadproof::std::sync::{Condvar, Mutex};
//! #[cfg(not(threadproof))] use std::sync::{Condvar, Mutex};
//! ```
//!
//! (An example is always checked, so it imports the mirror directly.)
//!
//! The bug: producers and consumers share one condvar and wake each other with `notify_one`.
//! With two consumers and a buffer of one slot, a consumer that takes an item may wake the
//! other consumer instead of the waiting producer; that consumer finds the buffer empty and
//! sleeps again, and nobody is left to wake anyone:
//!
//! ```text
//!   consumer 1: wait (empty)            consumer 2: wait (empty)
//!   producer:   put 1, notify_one -> consumer 1;  put 2: full, wait
//!   consumer 1: take 1, notify_one -> consumer 2 (not the producer!)
//!   consumer 2: empty, wait             => everyone waits: deadlock
//! ```
//!
//! The fix: one condvar per condition (`not_full`, `not_empty`), so a wakeup always reaches a
//! thread that can use it.

use std::collections::VecDeque;
use std::process::ExitCode;

use threadproof::check::Verdicts;
use threadproof::std::sync::{Arc, Condvar, Mutex};
use threadproof::std::thread;
use threadproof::verdicts;

/// A FIFO of at most `capacity` items with one condvar for both conditions: the lost wakeup.
struct OneCondvarBuffer {
    items: Mutex<VecDeque<u32>>,
    capacity: usize,
    changed: Condvar,
}

impl OneCondvarBuffer {
    fn new(capacity: usize) -> Self {
        OneCondvarBuffer {
            items: Mutex::new(VecDeque::new()),
            capacity,
            changed: Condvar::new(),
        }
    }

    fn put(&self, item: u32) {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.changed.wait(items).unwrap();
        }
        items.push_back(item);
        self.changed.notify_one();
    }

    fn take(&self) -> u32 {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.changed.wait(items).unwrap();
        }
        let item = items.pop_front().expect("not empty");
        self.changed.notify_one();
        item
    }
}

/// The same FIFO with a condvar per condition: `put` waits on `not_full`, `take` on
/// `not_empty`, and each wakes the other side only.
struct BoundedBuffer {
    items: Mutex<VecDeque<u32>>,
    capacity: usize,
    not_full: Condvar,
    not_empty: Condvar,
}

impl BoundedBuffer {
    fn new(capacity: usize) -> Self {
        BoundedBuffer {
            items: Mutex::new(VecDeque::new()),
            capacity,
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
        }
    }

    fn put(&self, item: u32) {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.not_full.wait(items).unwrap();
        }
        items.push_back(item);
        self.not_empty.notify_one();
    }

    fn take(&self) -> u32 {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.not_empty.wait(items).unwrap();
        }
        let item = items.pop_front().expect("not empty");
        self.not_full.notify_one();
        item
    }
}

/// What the test below needs of a buffer, so one test drives both.
trait Buffer: Send + Sync + 'static {
    fn put(&self, item: u32);
    fn take(&self) -> u32;
}

impl Buffer for OneCondvarBuffer {
    fn put(&self, item: u32) {
        OneCondvarBuffer::put(self, item)
    }
    fn take(&self) -> u32 {
        OneCondvarBuffer::take(self)
    }
}

impl Buffer for BoundedBuffer {
    fn put(&self, item: u32) {
        BoundedBuffer::put(self, item)
    }
    fn take(&self) -> u32 {
        BoundedBuffer::take(self)
    }
}

/// One producer putting 1 and 2 through `buffer`, two consumers taking one each: what they
/// took, sorted.
fn produce_and_consume(buffer: impl Buffer) -> Vec<u32> {
    let buffer = Arc::new(buffer);
    let consumers: Vec<_> = (1..=2)
        .map(|i| {
            let buffer = Arc::clone(&buffer);
            thread::Builder::new()
                .name(format!("consumer-{i}"))
                .spawn(move || buffer.take())
                .unwrap()
        })
        .collect();
    let producer = {
        let buffer = Arc::clone(&buffer);
        thread::Builder::new()
            .name("producer".into())
            .spawn(move || {
                buffer.put(1);
                buffer.put(2);
            })
            .unwrap()
    };
    producer.join().unwrap();
    let mut taken: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
    taken.sort();
    taken
}

/// Every item is taken exactly once.
fn each_taken_once(taken: &[u32]) -> Result<(), String> {
    match taken {
        [1, 2] => Ok(()),
        other => Err(format!("consumers took {other:?}, expected [1, 2]")),
    }
}

fn main() -> ExitCode {
    let buggy: Verdicts<Vec<u32>> =
        verdicts!(produce_and_consume(OneCondvarBuffer::new(1)), |taken| {
            each_taken_once(taken)
        });
    println!("one condvar + notify_one:\n{}", buggy.explain());
    let fixed: Verdicts<Vec<u32>> =
        verdicts!(produce_and_consume(BoundedBuffer::new(1)), |taken| {
            each_taken_once(taken)
        });
    println!("not_full + not_empty:\n{}", fixed.explain());
    // Every checker must catch it: each finds it within its standard budget (loom and URW at
    // once, random and PCT within 20 schedules), so a miss is a regression, not bad luck.
    let caught = buggy.failures().count();
    if caught == buggy.reports.len() && fixed.passed() {
        println!("every checker finds the lost wakeup and passes the fix");
        ExitCode::SUCCESS
    } else {
        println!("the lost wakeup was not caught, or the fix failed");
        ExitCode::FAILURE
    }
}
