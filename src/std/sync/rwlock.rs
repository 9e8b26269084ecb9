//! std's `RwLock` and its guards, over the backend of the running checker.
//!
//! Invariant: as for [`super::Mutex`]: data in the mirror object, the backend lock and the
//! poison flag fresh in every execution; only a panic under a write guard poisons, as in std.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use super::mutex::STATIC_DATA;
use crate::std::rt::{by_engine, each, map, By, PerExec, Users};
use crate::sync::{self, Loom, Shuttle, Std};

type RawRwLock = By<sync::RwLock<Loom, ()>, sync::RwLock<Shuttle, ()>, sync::RwLock<Std, ()>>;

struct Entry {
    raw: RawRwLock,
    poisoned: AtomicBool,
}

/// std's `RwLock`.
pub struct RwLock<T: ?Sized> {
    per: PerExec<Entry>,
    users: Users,
    data: UnsafeCell<T>,
}

// SAFETY: as std's: readers share `&T` (`T: Sync`), a writer gets `&mut T` (`T: Send`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// As std's: poisoning is what makes a lock safe to use across a caught panic.
impl<T: ?Sized> std::panic::UnwindSafe for RwLock<T> {}
impl<T: ?Sized> std::panic::RefUnwindSafe for RwLock<T> {}

/// std's `RwLockReadGuard`.
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    raw: Option<ReadRaw<'a>>,
}

/// std's `RwLockWriteGuard`.
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    entry: &'a Entry,
    raw: Option<WriteRaw<'a>>,
    panicking: bool,
}

// SAFETY: as std's: sharing a guard shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

fn poisoned_if<G>(poisoned: bool, guard: G) -> LockResult<G> {
    if poisoned {
        Err(PoisonError::new(guard))
    } else {
        Ok(guard)
    }
}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock {
            per: PerExec::new(),
            users: Users::new(),
            data: UnsafeCell::new(value),
        }
    }

    pub fn into_inner(mut self) -> LockResult<T>
    where
        T: Sized,
    {
        let poisoned = (self.per.take()).is_some_and(|e| e.poisoned.load(Ordering::Relaxed));
        poisoned_if(poisoned, self.data.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    fn entry(&self) -> &Entry {
        let make = || Entry {
            raw: by_engine!(sync::RwLock::<P, ()>::new(())),
            poisoned: AtomicBool::new(false),
        };
        // Its lock needs no value of its own: under loom, one made before any thread will do.
        fn unlocked(_: u64) -> Box<dyn std::any::Any> {
            Box::new(Entry {
                raw: By::Loom(sync::RwLock::<Loom, ()>::new(())),
                poisoned: AtomicBool::new(false),
            })
        }
        let (entry, outlived) = self.per.get_pooled::<Entry>(make, unlocked, 0);
        if outlived && !matches!(entry.raw, By::Std(_)) {
            crate::sync::model::note_limit(STATIC_DATA);
        }
        entry
    }

    fn read_guard<'a>(
        &'a self,
        entry: &'a Entry,
        raw: Option<ReadRaw<'a>>,
    ) -> Option<LockResult<RwLockReadGuard<'a, T>>> {
        let raw = raw?;
        self.users.enter();
        let guard = RwLockReadGuard {
            lock: self,
            raw: Some(raw),
        };
        Some(poisoned_if(entry.poisoned.load(Ordering::Relaxed), guard))
    }

    fn write_guard<'a>(
        &'a self,
        entry: &'a Entry,
        raw: Option<WriteRaw<'a>>,
    ) -> Option<LockResult<RwLockWriteGuard<'a, T>>> {
        let raw = raw?;
        self.users.enter();
        let guard = RwLockWriteGuard {
            lock: self,
            entry,
            raw: Some(raw),
            panicking: std::thread::panicking(),
        };
        Some(poisoned_if(entry.poisoned.load(Ordering::Relaxed), guard))
    }

    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let entry = self.entry();
        let raw = map!(&entry.raw, l => l.read());
        self.read_guard(entry, Some(raw)).expect("a read lock")
    }

    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let entry = self.entry();
        let raw = match &entry.raw {
            By::Loom(l) => l.try_read().map(By::Loom),
            By::Shuttle(l) => l.try_read().map(By::Shuttle),
            By::Std(l) => l.try_read().map(By::Std),
        };
        match self.read_guard(entry, raw) {
            None => Err(TryLockError::WouldBlock),
            Some(result) => result.map_err(TryLockError::Poisoned),
        }
    }

    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let entry = self.entry();
        let raw = map!(&entry.raw, l => l.write());
        self.write_guard(entry, Some(raw)).expect("a write lock")
    }

    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let entry = self.entry();
        let raw = match &entry.raw {
            By::Loom(l) => l.try_write().map(By::Loom),
            By::Shuttle(l) => l.try_write().map(By::Shuttle),
            By::Std(l) => l.try_write().map(By::Std),
        };
        match self.write_guard(entry, raw) {
            None => Err(TryLockError::WouldBlock),
            Some(result) => result.map_err(TryLockError::Poisoned),
        }
    }

    pub fn is_poisoned(&self) -> bool {
        self.entry().poisoned.load(Ordering::Relaxed)
    }

    pub fn clear_poison(&self) {
        self.entry().poisoned.store(false, Ordering::Relaxed);
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.is_poisoned();
        poisoned_if(poisoned, self.data.get_mut())
    }
}

type ReadRaw<'a> = By<
    sync::RwLockReadGuard<'a, Loom, ()>,
    sync::RwLockReadGuard<'a, Shuttle, ()>,
    sync::RwLockReadGuard<'a, Std, ()>,
>;
type WriteRaw<'a> = By<
    sync::RwLockWriteGuard<'a, Loom, ()>,
    sync::RwLockWriteGuard<'a, Shuttle, ()>,
    sync::RwLockWriteGuard<'a, Std, ()>,
>;

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock").finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the write lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the write lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            self.lock.users.leave();
            each!(raw, g => drop(g));
        }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        if !self.panicking && std::thread::panicking() {
            self.entry.poisoned.store(true, Ordering::Relaxed);
        }
        if let Some(raw) = self.raw.take() {
            self.lock.users.leave();
            each!(raw, g => drop(g));
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
