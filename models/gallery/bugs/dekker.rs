//! # dekker-store-buffering: Dekker's entry protocol with `Relaxed` flags
//!
//! Each thread raises its own flag, then checks the other's; if the other's flag is down it
//! enters the critical section. Under sequential consistency at least one thread sees the
//! other's flag. With store buffers, each thread's store can sit in its buffer while its load
//! reads the old value, and both enter: the store-buffering outcome. The fix puts a full
//! fence between the store and the load (`fence(SeqCst)`: loom models `SeqCst` loads and
//! stores more weakly than a fence).
//!
//! Source: GenMC `tests/wrong/safety/dekker_rlx/dekker_rlx.c` (`MPI-SWS/genmc`); CDSChecker
//! benchmarks `dekker-fences/dekker-fences.cc` (`bdemsky/cdschecker-benchmarks`, commit
//! 9f2a28f); loom `tests/litmus.rs` `store_buffering`.
//! Class: weak memory (store buffering). loom reports the data race in the critical section;
//! shuttle runs every atomic `SeqCst` and cannot see it.

use super::rt::sync::atomic::{fence, AtomicBool, Ordering::*};
use super::rt::sync::Arc;
use super::rt::thread;
use super::rt::RaceCell;

/// Who was in the critical section last.
pub type Outcome = u32;

struct Dekker {
    flags: [AtomicBool; 2],
    critical: RaceCell<u32>,
    /// FIXED: a `SeqCst` fence between raising one's flag and reading the other's.
    fenced: bool,
}

fn enter(dekker: &Dekker, me: usize) {
    dekker.flags[me].store(true, Relaxed);
    if dekker.fenced {
        fence(SeqCst);
    }
    if !dekker.flags[1 - me].load(Relaxed) {
        // SAFETY: none when both get here: the data race is the bug loom reports.
        unsafe { dekker.critical.set(me as u32 + 1) };
    }
}

fn model(fenced: bool) -> Outcome {
    let dekker = Arc::new(Dekker {
        flags: [AtomicBool::new(false), AtomicBool::new(false)],
        critical: RaceCell::new(0),
        fenced,
    });
    let other = {
        let dekker = Arc::clone(&dekker);
        thread::spawn(move || enter(&dekker, 1))
    };
    enter(&dekker, 0);
    other.join().unwrap();
    // SAFETY: the other thread is joined.
    unsafe { dekker.critical.get() }
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
