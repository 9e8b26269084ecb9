//! [`Mutex`]: a lock whose `lock` cannot fail, over any backend.
//!
//! Invariant: every acquisition and release goes through the backend's own lock, and under the
//! model backends each is recorded where it took effect (an acquisition that had to wait also
//! where it began), so a trace shows who held the lock when.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Identity, Object, Op, Value};
use super::Primitives;

/// What loom cannot see of a `try_lock`: its model makes a lock's release no event of its
/// own, so its DPOR never schedules a `try_lock` inside another thread's critical section
/// unless that thread's critical section and the caller share some other state (probe: a
/// holder that locks, stores, unlocks and a caller that only `try_lock`s: loom reaches no
/// failed `try_lock`; with a load of the stored atomic before the `try_lock`, it does).
pub const LOOM_TRY_LOCK: &str = "a try_lock that fails because another thread holds the lock, \
     unless the caller touched something of that thread's critical section first (loom does \
     not see lock releases)";

/// A mutual exclusion lock whose `lock` cannot fail.
pub struct Mutex<P: Primitives, T: Send> {
    raw: P::Mutex<T>,
    identity: Identity,
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
            identity: Identity::new::<P>(None),
        }
    }

    /// A new mutex that traces call `name` instead of `Mutex#n`.
    pub fn named(name: impl Into<Arc<str>>, value: T) -> Self {
        Self {
            raw: P::mutex(value),
            identity: Identity::new::<P>(Some(name.into())),
        }
    }

    /// The mutex as a trace names it.
    pub(super) fn object(&self) -> Object<'_> {
        self.identity.object("Mutex")
    }

    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, P, T> {
        let attempt = trace::attempt::<P>(Op::Lock, self.object(), Location::caller());
        let raw = P::lock(&self.raw);
        attempt.took_effect(Value::None);
        MutexGuard::from_parts(self, raw)
    }

    /// Locks without recording: for a wait that relocks, whose row says so itself.
    pub(super) fn lock_unrecorded(&self) -> P::Guard<'_, T> {
        P::lock(&self.raw)
    }

    /// The backend's lock, for a wait that unlocks and relocks it itself.
    pub(super) fn raw(&self) -> &P::Mutex<T> {
        &self.raw
    }

    /// The lock if it is free now; never waits.
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, P, T>> {
        let trying = (P::NAME == "loom").then(|| {
            super::model::note_limit(LOOM_TRY_LOCK);
            super::model::trying_lock()
        });
        let raw = P::try_lock(&self.raw);
        drop(trying);
        let raw = raw?;
        trace::effect::<P>(Op::Lock, self.object(), Value::None, Location::caller());
        Some(MutexGuard::from_parts(self, raw))
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
        Self::from_parts_at(mutex, raw, Location::caller())
    }

    /// A guard for a lock just taken through the raw guard `raw`, at line `at`.
    pub(super) fn from_parts_at(
        mutex: &'a Mutex<P, T>,
        raw: P::Guard<'a, T>,
        at: &'static Location<'static>,
    ) -> Self {
        MutexGuard {
            mutex,
            raw: ManuallyDrop::new(raw),
            locked_at: at,
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
        if P::MODEL && std::thread::panicking() {
            super::model::note_guard_dropped_unwinding(self.locked_at);
        }
        // SAFETY: `raw` is dropped exactly once, here; `into_parts` skips this `Drop`.
        unsafe { ManuallyDrop::drop(&mut self.raw) }
        // After the release: shuttle may switch threads just before it.
        trace::effect::<P>(Op::Unlock, self.mutex.object(), Value::None, self.locked_at);
    }
}

/// Runs the bookkeeping of a built primitive's drop (a sender leaving, a lock released):
/// always, except while the model execution is being stopped, whose checker objects must not
/// be touched again.
///
/// A panic that a body catches unwinds through such drops and the execution goes on, so the
/// bookkeeping must happen then too (skipping it left a channel connected forever: a false
/// deadlock). While a panic unwinds under a model backend, the checker may itself panic in
/// `release` (its own reaction to a failure already under way, e.g. loom's deadlock); a
/// second panic escaping a drop would abort the process, so that one is caught and dropped:
/// the failure already unwinding is the one reported.
pub(super) fn release_in_drop<P: Primitives>(release: impl FnOnce()) {
    if !(P::MODEL && std::thread::panicking()) {
        return release();
    }
    if super::model::stop_requested() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(release));
}
