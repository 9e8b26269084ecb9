//! # seqlock-missing-fence: a torn read that the seqlock accepts
//!
//! A seqlock lets readers copy two fields without a lock. The writer makes the sequence
//! number odd, writes the fields, and makes it even again. A reader accepts its copy if the
//! sequence was even and unchanged around its reads. Without the reader's acquire fence
//! between reading the fields and re-reading the sequence, the reader can see the new first
//! field, the old second one, and a sequence number that looks unchanged: a torn read it
//! accepts. The fix is the benchmark's fence pair.
//!
//! Source: CDSChecker benchmarks `seqlock/seqlock.cc` (`bdemsky/cdschecker-benchmarks`,
//! "XXX-injection-#2": the reader's `atomic_thread_fence(acquire)`); GenMC
//! `tests/wrong/safety/cks` (Concurrency Kit's `ck_sequence`).
//! Class: weak memory; fails its invariant under loom; shuttle runs every atomic `SeqCst`
//! and cannot see it.

use super::rt::sync::atomic::{fence, AtomicI32, AtomicU32, Ordering::*};
use super::rt::sync::Arc;
use super::rt::thread;

/// The copy the reader accepted, if it accepted one.
pub type Outcome = Option<(i32, i32)>;

struct SeqLock {
    seq: AtomicU32,
    d1: AtomicI32,
    d2: AtomicI32,
    /// BUGGY: the reader's acquire fence left out (injection #2).
    reader_fence: bool,
}

impl SeqLock {
    /// The single writer.
    fn write(&self, value: i32) {
        let s = self.seq.load(Relaxed);
        self.seq.store(s + 1, Relaxed); // odd: a write in progress
        fence(Release);
        self.d1.store(value, Relaxed);
        self.d2.store(value, Relaxed);
        self.seq.store(s + 2, Release);
    }

    fn try_read(&self) -> Outcome {
        let s1 = self.seq.load(Acquire);
        if s1 % 2 == 1 {
            return None;
        }
        let copy = (self.d1.load(Relaxed), self.d2.load(Relaxed));
        if self.reader_fence {
            fence(Acquire);
        }
        (self.seq.load(Relaxed) == s1).then_some(copy)
    }
}

fn model(reader_fence: bool) -> Outcome {
    let lock = Arc::new(SeqLock {
        seq: AtomicU32::new(0),
        d1: AtomicI32::new(0),
        d2: AtomicI32::new(0),
        reader_fence,
    });
    let writer = {
        let lock = Arc::clone(&lock);
        thread::spawn(move || lock.write(1))
    };
    let read = lock.try_read();
    writer.join().unwrap();
    read
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

pub fn invariant(read: &Outcome) -> Result<(), String> {
    match read {
        Some((a, b)) if a != b => Err(format!("torn read accepted: ({a}, {b})")),
        _ => Ok(()),
    }
}
