//! [`Mutex`]: a lock whose `lock` cannot fail, over any backend.
//!
//! Invariant: every acquisition and release goes through the backend's own lock, and under the
//! model backends each is recorded (the acquisition where it took effect, the release where
//! it happened), so a trace shows who held the lock when.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

use super::trace::{self, Object, Op};
use super::{address, record, record_at, Primitives};

/// A mutual exclusion lock whose `lock` cannot fail.
pub struct Mutex<P: Primitives, T: Send> {
    raw: P::Mutex<T>,
}

/// Proof that the holder owns the [`Mutex`]; unlocks on drop.
pub struct MutexGuard<'a, P: Primitives, T: Send> {
    mutex: &'a Mutex<P, T>,
    /// Dropped by hand: `Drop` records the unlock first, and `Condvar::wait` takes it out.
    raw: ManuallyDrop<P::Guard<'a, T>>,
    /// Where it was locked, to name the unlock in a trace.
    locked_at: &'static Location<'static>,
}

impl<P: Primitives, T: Send> Mutex<P, T> {
    pub fn new(value: T) -> Self {
        Self {
            raw: P::mutex(value),
        }
    }

    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, P, T> {
        let step = record::<P>(Op::Lock, Object::At("Mutex", address(self)), false);
        let raw = P::lock(&self.raw);
        trace::done(step);
        MutexGuard::from_parts(self, raw)
    }

    pub fn into_inner(self) -> T {
        P::into_inner(self.raw)
    }
}

impl<P: Primitives, T: Send + Default> Default for Mutex<P, T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<P: Primitives, T: Send> fmt::Debug for Mutex<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mutex<{}>", P::NAME)
    }
}

impl<P: Primitives, T: Send> Deref for MutexGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.raw
    }
}

impl<P: Primitives, T: Send> DerefMut for MutexGuard<'_, P, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.raw
    }
}

impl<'a, P: Primitives, T: Send> MutexGuard<'a, P, T> {
    /// A guard for a lock just taken through the raw guard `raw`, at the caller's line.
    #[track_caller]
    pub(super) fn from_parts(mutex: &'a Mutex<P, T>, raw: P::Guard<'a, T>) -> Self {
        MutexGuard {
            mutex,
            raw: ManuallyDrop::new(raw),
            locked_at: Location::caller(),
        }
    }

    /// Takes the guard apart without unlocking: the caller now owns the raw guard.
    pub(super) fn into_parts(self) -> (&'a Mutex<P, T>, P::Guard<'a, T>) {
        let mut guard = ManuallyDrop::new(self);
        // SAFETY: `guard` is never dropped or used again, so `raw` is taken exactly once.
        let raw = unsafe { ManuallyDrop::take(&mut guard.raw) };
        (guard.mutex, raw)
    }
}

impl<P: Primitives, T: Send> Drop for MutexGuard<'_, P, T> {
    fn drop(&mut self) {
        record_at::<P>(
            Op::Unlock,
            Object::At("Mutex", address(self.mutex)),
            true,
            self.locked_at,
        );
        // SAFETY: `raw` is dropped exactly once, here; `into_parts` skips this `Drop`.
        unsafe { ManuallyDrop::drop(&mut self.raw) }
    }
}
