//! Checking your own code: a bounded buffer with a lost wakeup, found and explained, next to
//! its fixed version, which passes.
//!
//! Run it with `cargo run --example bounded_buffer`. It exits 0 when the harness catches the
//! bug and passes the fix, 1 otherwise.
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
use std::sync::Arc;

use threadproof::explore::{loom, LoomConfig, Report};
use threadproof::sync::{spawn, Condvar, Loom, Mutex, Primitives};

/// A FIFO of at most `capacity` items; `put` waits while full, `take` while empty.
struct BoundedBuffer<P: Primitives> {
    items: Mutex<P, VecDeque<u32>>,
    capacity: usize,
    /// The buggy version uses only this condvar, for both conditions.
    not_full: Condvar<P>,
    not_empty: Condvar<P>,
    one_condvar: bool,
}

impl<P: Primitives> BoundedBuffer<P> {
    fn new(capacity: usize, one_condvar: bool) -> Self {
        BoundedBuffer {
            items: Mutex::new(VecDeque::new()),
            capacity,
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
            one_condvar,
        }
    }

    fn not_empty(&self) -> &Condvar<P> {
        if self.one_condvar {
            &self.not_full
        } else {
            &self.not_empty
        }
    }

    fn put(&self, item: u32) {
        let mut items = self.items.lock();
        while items.len() == self.capacity {
            items = self.not_full.wait(items);
        }
        items.push_back(item);
        self.not_empty().notify_one();
    }

    fn take(&self) -> u32 {
        let mut items = self.items.lock();
        while items.is_empty() {
            items = self.not_empty().wait(items);
        }
        let item = items.pop_front().expect("not empty");
        self.not_full.notify_one();
        item
    }
}

/// One producer putting 1 and 2 through a one-slot buffer, two consumers taking one each.
fn produce_and_consume(one_condvar: bool) -> Vec<u32> {
    let buffer = Arc::new(BoundedBuffer::<Loom>::new(1, one_condvar));
    let consumers: Vec<_> = (1..=2)
        .map(|i| {
            let buffer = Arc::clone(&buffer);
            spawn::<Loom, _, _>(format!("consumer-{i}"), move || buffer.take()).unwrap()
        })
        .collect();
    let producer = {
        let buffer = Arc::clone(&buffer);
        spawn::<Loom, _, _>("producer", move || {
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

fn explore(one_condvar: bool) -> Report<Vec<u32>> {
    loom::explore(
        &LoomConfig::exhaustive(),
        move || produce_and_consume(one_condvar),
        |taken| match taken.as_slice() {
            [1, 2] => Ok(()),
            other => Err(format!("consumers took {other:?}, expected [1, 2]")),
        },
    )
}

fn main() -> ExitCode {
    let buggy = explore(true);
    println!("one condvar + notify_one: {}", buggy.summary());
    if let Some(failure) = &buggy.failure {
        println!("{}", failure.explain());
    }
    let fixed = explore(false);
    println!("not_full + not_empty:     {}", fixed.summary());
    if buggy.failure.is_some() && fixed.passed() {
        println!("the harness finds the lost wakeup and passes the fix");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
