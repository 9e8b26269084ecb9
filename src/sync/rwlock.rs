//! [`RwLock`]: a reader-writer lock whose `read` and `write` cannot fail, over any backend.
//!
//! Invariant: while a write guard lives no other guard does, and read guards only coexist
//! with read guards. Production backends use their own lock (std's, parking_lot's); the model
//! backends use [`BuiltRwLock`], built on a gate (`super::gate`: one model event per
//! acquisition or release) with the policy of those production locks: a waiting writer blocks
//! new readers (writer preference), and a release wakes one waiting writer, or else every
//! waiting reader, which then try again (another thread may take the lock first; under loom,
//! in a run without a preemption bound and until a try operation, the release hands them the
//! lock instead: see [`BuiltRwLock`]). So a
//! thread that takes a second read guard while a writer waits deadlocks, under the checkers
//! as in production. Loom's own lock has no writer preference (that deadlock never shows) and
//! mis-counts a thread holding two read guards; shuttle's panics on any second read guard.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;

use super::gate::{Gate, Waiter, Wakeups};
use super::model;
use super::mutex::release_in_drop;
use super::trace::{self, Identity, Object, Op, Value};
use super::Primitives;

/// A reader-writer lock of one backend.
pub trait RawRwLock<T>: Send + Sync {
    type Read<'a>: Deref<Target = T>
    where
        Self: 'a;
    type Write<'a>: DerefMut<Target = T>
    where
        Self: 'a;
    fn new(value: T) -> Self;
    fn read(&self) -> Self::Read<'_>;
    fn try_read(&self) -> Option<Self::Read<'_>>;
    fn write(&self) -> Self::Write<'_>;
    fn try_write(&self) -> Option<Self::Write<'_>>;
    fn into_inner(self) -> T;
}

/// A reader-writer lock whose `read` and `write` cannot fail.
pub struct RwLock<P: Primitives, T: Send + Sync> {
    raw: P::RwLock<T>,
    identity: Identity,
}

/// Shared access to an [`RwLock`]'s value; released on drop.
pub struct RwLockReadGuard<'a, P: Primitives, T: Send + Sync + 'a> {
    lock: &'a RwLock<P, T>,
    /// Dropped by hand: `Drop` records the release after it happened.
    raw: ManuallyDrop<<P::RwLock<T> as RawRwLock<T>>::Read<'a>>,
    locked_at: &'static Location<'static>,
}

/// Exclusive access to an [`RwLock`]'s value; released on drop.
pub struct RwLockWriteGuard<'a, P: Primitives, T: Send + Sync + 'a> {
    lock: &'a RwLock<P, T>,
    raw: ManuallyDrop<<P::RwLock<T> as RawRwLock<T>>::Write<'a>>,
    locked_at: &'static Location<'static>,
}

impl<P: Primitives, T: Send + Sync> RwLock<P, T> {
    pub fn new(value: T) -> Self {
        RwLock {
            raw: RawRwLock::new(value),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new lock that traces call `name` instead of `RwLock#n`.
    pub fn named(name: impl Into<Arc<str>>, value: T) -> Self {
        RwLock {
            raw: RawRwLock::new(value),
            identity: Identity::new::<P>(Some(name.into())),
        }
    }

    fn object(&self) -> Object<'_> {
        self.identity.object("RwLock")
    }

    /// Shared access, waiting while a writer holds the lock or waits for it.
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, P, T> {
        let at = Location::caller();
        let attempt = trace::attempt::<P>(Op::ReadLock, self.object(), at);
        let raw = self.raw.read();
        attempt.took_effect(Value::None);
        self.read_guard(raw, at)
    }

    /// Shared access if it is available now; never waits.
    #[track_caller]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, P, T>> {
        let at = Location::caller();
        let raw = self.raw.try_read();
        let acquired = Value::Acquired(raw.is_some());
        trace::effect::<P>(Op::TryReadLock, self.object(), acquired, at);
        raw.map(|raw| self.read_guard(raw, at))
    }

    /// Exclusive access, waiting until no guard is held.
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, P, T> {
        let at = Location::caller();
        let attempt = trace::attempt::<P>(Op::WriteLock, self.object(), at);
        let raw = self.raw.write();
        attempt.took_effect(Value::None);
        self.write_guard(raw, at)
    }

    /// Exclusive access if it is available now; never waits.
    #[track_caller]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, P, T>> {
        let at = Location::caller();
        let raw = self.raw.try_write();
        let acquired = Value::Acquired(raw.is_some());
        trace::effect::<P>(Op::TryWriteLock, self.object(), acquired, at);
        raw.map(|raw| self.write_guard(raw, at))
    }

    pub fn into_inner(self) -> T {
        self.raw.into_inner()
    }

    fn read_guard<'a>(
        &'a self,
        raw: <P::RwLock<T> as RawRwLock<T>>::Read<'a>,
        locked_at: &'static Location<'static>,
    ) -> RwLockReadGuard<'a, P, T> {
        RwLockReadGuard {
            lock: self,
            raw: ManuallyDrop::new(raw),
            locked_at,
        }
    }

    fn write_guard<'a>(
        &'a self,
        raw: <P::RwLock<T> as RawRwLock<T>>::Write<'a>,
        locked_at: &'static Location<'static>,
    ) -> RwLockWriteGuard<'a, P, T> {
        RwLockWriteGuard {
            lock: self,
            raw: ManuallyDrop::new(raw),
            locked_at,
        }
    }
}

impl<P: Primitives, T: Send + Sync + Default> Default for RwLock<P, T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<P: Primitives, T: Send + Sync> fmt::Debug for RwLock<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RwLock<{}>", P::NAME)
    }
}

impl<P: Primitives, T: Send + Sync> Deref for RwLockReadGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.raw
    }
}

impl<P: Primitives, T: Send + Sync> Deref for RwLockWriteGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.raw
    }
}

impl<P: Primitives, T: Send + Sync> DerefMut for RwLockWriteGuard<'_, P, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.raw
    }
}

impl<P: Primitives, T: Send + Sync> Drop for RwLockReadGuard<'_, P, T> {
    fn drop(&mut self) {
        // SAFETY: `raw` is dropped exactly once, here.
        unsafe { ManuallyDrop::drop(&mut self.raw) }
        let object = self.lock.object();
        trace::effect::<P>(Op::Unlock, object, Value::None, self.locked_at);
    }
}

impl<P: Primitives, T: Send + Sync> Drop for RwLockWriteGuard<'_, P, T> {
    fn drop(&mut self) {
        // SAFETY: `raw` is dropped exactly once, here.
        unsafe { ManuallyDrop::drop(&mut self.raw) }
        let object = self.lock.object();
        trace::effect::<P>(Op::Unlock, object, Value::None, self.locked_at);
    }
}

impl<T: Send + Sync> RawRwLock<T> for ::std::sync::RwLock<T> {
    type Read<'a>
        = ::std::sync::RwLockReadGuard<'a, T>
    where
        T: 'a;
    type Write<'a>
        = ::std::sync::RwLockWriteGuard<'a, T>
    where
        T: 'a;
    #[inline]
    fn new(value: T) -> Self {
        ::std::sync::RwLock::new(value)
    }
    #[inline]
    fn read(&self) -> Self::Read<'_> {
        ::std::sync::RwLock::read(self).unwrap_or_else(::std::sync::PoisonError::into_inner)
    }
    #[inline]
    fn try_read(&self) -> Option<Self::Read<'_>> {
        match ::std::sync::RwLock::try_read(self) {
            Ok(guard) => Some(guard),
            Err(::std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(::std::sync::TryLockError::WouldBlock) => None,
        }
    }
    #[inline]
    fn write(&self) -> Self::Write<'_> {
        ::std::sync::RwLock::write(self).unwrap_or_else(::std::sync::PoisonError::into_inner)
    }
    #[inline]
    fn try_write(&self) -> Option<Self::Write<'_>> {
        match ::std::sync::RwLock::try_write(self) {
            Ok(guard) => Some(guard),
            Err(::std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(::std::sync::TryLockError::WouldBlock) => None,
        }
    }
    #[inline]
    fn into_inner(self) -> T {
        ::std::sync::RwLock::into_inner(self).unwrap_or_else(::std::sync::PoisonError::into_inner)
    }
}

impl<T: Send + Sync> RawRwLock<T> for ::parking_lot::RwLock<T> {
    type Read<'a>
        = ::parking_lot::RwLockReadGuard<'a, T>
    where
        T: 'a;
    type Write<'a>
        = ::parking_lot::RwLockWriteGuard<'a, T>
    where
        T: 'a;
    #[inline]
    fn new(value: T) -> Self {
        ::parking_lot::RwLock::new(value)
    }
    #[inline]
    fn read(&self) -> Self::Read<'_> {
        ::parking_lot::RwLock::read(self)
    }
    #[inline]
    fn try_read(&self) -> Option<Self::Read<'_>> {
        ::parking_lot::RwLock::try_read(self)
    }
    #[inline]
    fn write(&self) -> Self::Write<'_> {
        ::parking_lot::RwLock::write(self)
    }
    #[inline]
    fn try_write(&self) -> Option<Self::Write<'_>> {
        ::parking_lot::RwLock::try_write(self)
    }
    #[inline]
    fn into_inner(self) -> T {
        ::parking_lot::RwLock::into_inner(self)
    }
}

/// A writer-preferring reader-writer lock on a gate (`sync::gate::Gate`): the model backends'
/// [`RawRwLock`] (see the module docs for why not the checkers' own). Each acquisition and
/// release is one model event; a thread that cannot have the lock waits on a waiter
/// (`sync::gate::Waiter`) and tries again once raised, so another thread may take the lock
/// first, as in std.
///
/// Under loom, in a run without a preemption bound and until the exploration's first
/// `try_read` or `try_write`, a release hands the lock to the waiters it raises instead (they
/// then hold it), which saves each contended acquisition its second entry (three writers:
/// 4,022 executions against 6,191; `docs/performance.md`). Without a try operation the two
/// reach the same behaviours: who holds the lock, and in what order threads take it, is all
/// a blocking `read` or `write` can observe, and a run where a thread barges in before a
/// raised waiter is, with hand-over, the run where that thread came before the waiter queued.
/// Not with the same preemptions, so a bounded run always barges. A failing try operation
/// sees a waiter's place in the queue (a `try_read` fails while a writer waits), so barging
/// is then no longer the same as coming first: the first try operation starts the
/// exploration again with raised waiters entering again (`model::needs_barging`), and a
/// replay token found after that says so (`rwlock=barging`).
pub struct BuiltRwLock<P: Primitives, T> {
    access: Gate<P, Access<P>>,
    /// Whether a release hands the lock to the waiters it raises (who then hold it) rather
    /// than letting them try again: fixed when the lock is made, from the exploration's mode.
    hand_over: bool,
    value: UnsafeCell<T>,
}

/// Who holds the lock, and who waits for it.
struct Access<P: Primitives> {
    readers: usize,
    writer: bool,
    /// Writers inside `write` that do not hold the lock yet, waiting or raised (with
    /// hand-over, only waiting: a raised writer holds the lock): while there are any, new
    /// readers wait (writer preference).
    writers_waiting: usize,
    /// Writers waiting now, in the order they came: a release raises the first (as std's
    /// and parking_lot's wake one writer).
    writers: VecDeque<Waiter<P, ()>>,
    /// Readers waiting now: raised together once no writer holds or waits.
    readers_queued: Vec<Waiter<P, ()>>,
}

impl<P: Primitives> Access<P> {
    fn readable(&self) -> bool {
        !self.writer && self.writers_waiting == 0
    }

    fn writable(&self) -> bool {
        !self.writer && self.readers == 0
    }

    /// The lock was released: raise whoever can have it now, handing it to them if
    /// `hand_over`.
    fn released<'a>(&mut self, hand_over: bool, wakeups: &mut Wakeups<'a>) {
        if !self.writable() {
            return;
        }
        if let Some(writer) = self.writers.pop_front() {
            if hand_over {
                self.writers_waiting -= 1;
                self.writer = true;
            }
            wakeups.push(writer);
        } else if self.writers_waiting == 0 {
            if hand_over {
                self.readers += self.readers_queued.len();
            }
            for reader in self.readers_queued.drain(..) {
                wakeups.push(reader);
            }
        }
    }
}

// SAFETY: `Access` grants `&T` to readers only while no writer holds the lock, and `&mut T`
// to one writer only while nothing else does: the `RwLock` contract, as for std's.
unsafe impl<P: Primitives, T: Send + Sync> Sync for BuiltRwLock<P, T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<P: Primitives, T: Send> Send for BuiltRwLock<P, T> {}

/// A read guard of a [`BuiltRwLock`].
pub struct BuiltReadGuard<'a, P: Primitives, T> {
    lock: &'a BuiltRwLock<P, T>,
}

/// A write guard of a [`BuiltRwLock`].
pub struct BuiltWriteGuard<'a, P: Primitives, T> {
    lock: &'a BuiltRwLock<P, T>,
}

impl<P: Primitives, T> BuiltRwLock<P, T> {
    /// Takes the lock once `take` says it may (in an entry, where it counts itself in),
    /// waiting between tries; with hand-over, the release that raises a waiter gave it the
    /// lock.
    fn acquire(
        &self,
        take: impl Fn(&mut Access<P>) -> bool,
        queue: fn(&mut Access<P>, Waiter<P, ()>),
    ) {
        loop {
            let waiter = self.access.enter(|access| {
                if take(access) {
                    return None;
                }
                let waiter = Waiter::new(false);
                queue(access, waiter.clone());
                Some(waiter)
            });
            match waiter {
                None => return,
                Some(waiter) => {
                    waiter.wait();
                    if self.hand_over {
                        return;
                    }
                }
            }
        }
    }

    /// Before a `try_read` or `try_write`: with hand-over, the exploration starts again
    /// without it (see [`BuiltRwLock`]).
    fn before_try(&self) {
        if self.hand_over {
            model::needs_barging();
        }
    }

    /// Gives the lock back (`give` in an entry), raising whoever can have it now.
    fn release(&self, give: impl FnOnce(&mut Access<P>)) {
        release_in_drop::<P>(|| {
            let mut wakeups = Wakeups::new();
            self.access.enter(|access| {
                give(access);
                access.released(self.hand_over, &mut wakeups);
            });
            wakeups.raise();
        });
    }
}

impl<P: Primitives, T: Send + Sync> RawRwLock<T> for BuiltRwLock<P, T> {
    type Read<'a>
        = BuiltReadGuard<'a, P, T>
    where
        T: 'a;
    type Write<'a>
        = BuiltWriteGuard<'a, P, T>
    where
        T: 'a;

    fn new(value: T) -> Self {
        BuiltRwLock {
            access: Gate::new(Access {
                readers: 0,
                writer: false,
                writers_waiting: 0,
                writers: VecDeque::new(),
                readers_queued: Vec::new(),
            }),
            hand_over: P::NAME == "loom" && model::rwlock_hand_over(),
            value: UnsafeCell::new(value),
        }
    }

    fn read(&self) -> Self::Read<'_> {
        self.acquire(
            |access| {
                let readable = access.readable();
                access.readers += usize::from(readable);
                readable
            },
            |access, waiter| access.readers_queued.push(waiter),
        );
        BuiltReadGuard { lock: self }
    }

    fn try_read(&self) -> Option<Self::Read<'_>> {
        self.before_try();
        let taken = self.access.enter(|access| {
            let readable = access.readable();
            access.readers += usize::from(readable);
            readable
        });
        taken.then(|| BuiltReadGuard { lock: self })
    }

    fn write(&self) -> Self::Write<'_> {
        let counted = std::cell::Cell::new(false);
        self.acquire(
            |access| {
                if !counted.replace(true) {
                    access.writers_waiting += 1;
                }
                let writable = access.writable();
                if writable {
                    access.writers_waiting -= 1;
                    access.writer = true;
                }
                writable
            },
            |access, waiter| access.writers.push_back(waiter),
        );
        BuiltWriteGuard { lock: self }
    }

    fn try_write(&self) -> Option<Self::Write<'_>> {
        self.before_try();
        let taken = self.access.enter(|access| {
            let writable = access.writable();
            access.writer |= writable;
            writable
        });
        taken.then(|| BuiltWriteGuard { lock: self })
    }

    fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<P: Primitives, T> Drop for BuiltReadGuard<'_, P, T> {
    fn drop(&mut self) {
        self.lock.release(|access| access.readers -= 1);
    }
}

impl<P: Primitives, T> Drop for BuiltWriteGuard<'_, P, T> {
    fn drop(&mut self) {
        self.lock.release(|access| access.writer = false);
    }
}

impl<P: Primitives, T> Deref for BuiltReadGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while no writer holds the lock (`Access`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<P: Primitives, T> Deref for BuiltWriteGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write guard is the only guard while it lives (`Access`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<P: Primitives, T> DerefMut for BuiltWriteGuard<'_, P, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}
