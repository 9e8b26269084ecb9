//! [`UnsafeCell`]: plain shared memory whose accesses loom checks for data races, and which traces
//! show at the caller's line.
//!
//! Invariant: the caller synchronises every access (see [`UnsafeCell`]'s safety contract); loom
//! verifies it and names both racing accesses at the user's lines; shuttle makes every access
//! a scheduling point (so that a bug in how plain data interleaves can show in the values)
//! but cannot see a race itself; the production backends trust it. Every access is recorded,
//! as `read` or `write`, before it happens: a race is reported during the access.

use std::panic::Location;
use std::sync::Arc;

use super::backend::RawCell;
use super::trace::{self, Identity, Op, Value};
use super::Primitives;

/// Shared memory whose reads and writes loom checks for data races.
///
/// # Safety
///
/// `with` and `with_mut` hand out raw pointers: the caller guarantees, through a lock or an
/// acquire/release pair, that no `with_mut` overlaps another access. Loom reports a violation
/// of that guarantee as a data race; the other backends trust it.
pub struct UnsafeCell<P: Primitives, T> {
    raw: P::UnsafeCell<T>,
    identity: Identity,
}

impl<P: Primitives, T> UnsafeCell<P, T> {
    #[track_caller]
    pub fn new(value: T) -> Self {
        Self {
            raw: RawCell::new(value),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new cell that traces call `name` instead of `UnsafeCell#n`.
    #[track_caller]
    pub fn named(name: impl Into<Arc<str>>, value: T) -> Self {
        Self {
            raw: RawCell::new(value),
            identity: Identity::new::<P>(Some(name.into())),
        }
    }

    #[track_caller]
    fn access(&self, op: Op) {
        P::plain_access();
        let object = self.identity.object("UnsafeCell");
        trace::effect::<P>(op, object, Value::None, Location::caller());
    }

    /// Reads through a pointer to the value.
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.access(Op::Read);
        self.raw.with(f)
    }

    /// Writes (or reads) through a mutable pointer to the value.
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.access(Op::Write);
        self.raw.with_mut(f)
    }

    /// A copy of the value: plain shared data read as a program would.
    ///
    /// # Safety
    ///
    /// No write may overlap it (the cell's contract): under loom an overlap is reported as a
    /// data race, in production it is undefined behaviour.
    #[track_caller]
    pub unsafe fn get(&self) -> T
    where
        T: Copy,
    {
        // SAFETY: the caller's contract.
        self.with(|value| unsafe { *value })
    }

    /// Writes `value`: plain shared data written as a program would.
    ///
    /// # Safety
    ///
    /// No other access may overlap it (the cell's contract), as for [`UnsafeCell::get`].
    #[track_caller]
    pub unsafe fn set(&self, value: T) {
        // SAFETY: the caller's contract.
        self.with_mut(|cell| unsafe { *cell = value })
    }
}

// SAFETY: the cell's contract makes the caller synchronise every access (loom checks it): it
// may be shared between threads as `PlainCell` is, whichever backend holds the value.
unsafe impl<P: Primitives, T: Send> Sync for UnsafeCell<P, T> {}
