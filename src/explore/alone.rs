//! Loom's walks run one at a time in the process.
//!
//! Loom maps a fresh stack for every model thread of every execution and unmaps it when the
//! execution ends, and each unmapping interrupts every core that runs another thread of the
//! process, to flush its TLB. Two walks at once pay that on every execution of both: a walk
//! of four `RwLock` writers took 2.9 s alone, and two of them at once 15.0 s, where one after
//! the other would take 5.8 s (`just loom-split contention`). `check --mutants --jobs 2` took
//! 12.7 s without this turn and 7.1 s with it (7.5 s with `--jobs 1`); the model tests 28.9 s
//! and 16.5 s. Shuttle explorations, whose stacks are pooled, still run beside a walk and each
//! other: making them wait too cost the model tests more (35.2 s) than it saved.
//!
//! Invariant: a walk takes its turn before its clock starts and keeps it until its report is
//! made (or, if the walk stalled outside the model, until it is reported blocked and left
//! behind), so waiting never counts against a budget or as a stall. The threads an
//! exploration starts inherit its turn ([`carried`]): a walk started on any of them (inside
//! another walk's body, or a `check!` row there) does not wait for the outer walk to end.

use std::cell::Cell;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Held by the loom walk running in this process.
static LOOM_WALK: Mutex<()> = Mutex::new(());

thread_local! {
    /// Whether this thread is within a walk's turn.
    static WITHIN_TURN: Cell<bool> = const { Cell::new(false) };
}

/// A loom walk's turn, held until it is dropped (`None`: taken within another's).
pub(super) struct LoomTurn(Option<MutexGuard<'static, ()>>);

impl LoomTurn {
    /// Waits until no other loom walk runs in the process.
    pub(super) fn take() -> LoomTurn {
        if WITHIN_TURN.with(|t| t.replace(true)) {
            return LoomTurn(None);
        }
        LoomTurn(Some(
            LOOM_WALK.lock().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

impl Drop for LoomTurn {
    fn drop(&mut self) {
        if self.0.is_some() {
            WITHIN_TURN.with(|t| t.set(false));
        }
    }
}

/// This thread's turn, to be carried into a thread it starts for the same work.
#[derive(Clone, Copy)]
pub(crate) struct Carried(bool);

/// This thread's turn, if it is within one.
pub(crate) fn carried() -> Carried {
    Carried(WITHIN_TURN.with(Cell::get))
}

impl Carried {
    /// Puts the thread that calls this (just started) within the turn it was carried from.
    pub(crate) fn enter(self) {
        if self.0 {
            WITHIN_TURN.with(|t| t.set(true));
        }
    }
}
