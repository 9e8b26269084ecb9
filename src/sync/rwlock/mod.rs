//! [`RwLock`]: a reader-writer lock whose `read` and `write` cannot fail, over any backend.
//!
//! Invariant: while a write guard lives no other guard does, and read guards only coexist
//! with read guards. Production backends use their own lock (std's, parking_lot's); the model
//! backends use [`BuiltRwLock`], built on a gate (`super::gate`: a model event for each
//! acquisition's entry and each release, but none for a write release under loom's hand-over)
//! with the policy of those production locks: a waiting writer blocks new readers (writer
//! preference), and a release wakes one waiting writer, or else every waiting reader, which
//! then try again (another thread may take the lock first; under loom, in a run without a
//! preemption bound and until a try operation, the release hands the lock to the head of the
//! queue instead: see [`BuiltRwLock`]). So a thread that takes a second read guard while a writer waits
//! deadlocks, under the checkers as in production. Loom's own lock has no writer preference
//! (that deadlock never shows) and mis-counts a thread holding two read guards; shuttle's
//! panics on any second read guard.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Identity, Object, Op, Value};
use super::Primitives;

mod built;

pub use self::built::BuiltRwLock;

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
