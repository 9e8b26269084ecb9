//! std's `Mutex` and `MutexGuard`, over the backend of the running checker.
//!
//! Invariant: the data lives in the mirror object; the lock and the poison flag live in the
//! execution's [`PerExec`] slot, so a `static` gets a fresh, unpoisoned lock in every
//! execution. The data itself is not rebuilt (no `T: Clone` to rebuild it from): a static
//! `Mutex` keeps what the last execution left, which the report lists, and [`Users`] stops two
//! concurrent explorations from sharing it.
//!
//! Loom's own mutex cannot be locked again once a guard of it was dropped by a panic (it
//! keeps a std mutex inside, which that poisons, and unwraps its lock). So under loom such a
//! drop, the poison flag set, swaps in a fresh loom lock for the next `lock`, provided no
//! thread waits for the old one (one that does panics inside loom, and the loom row is then
//! `not run`, saying why). Known gap: the fresh lock does not order its holders after the
//! panicking one's critical section, so a loom atomic or cell written under the guard before
//! the panic may be read stale, or reported as a race, by the next holder. (Handing that on
//! through a loom lock taken while the panic unwinds was tried and withdrawn: a scheduling
//! point there lets other model threads run while `thread::panicking()` is true.)

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::std::rt::{by_engine, each, map, By, PerExec, Users};
use crate::sync::{self, Loom, Shuttle, Std};

/// What the report says of a static `Mutex`.
pub(crate) const STATIC_DATA: &str = "the data of a static Mutex or RwLock of threadproof::std \
     (its lock and poison flag are fresh in every execution, its data is what the previous \
     execution left: wrap it in a LazyLock to rebuild it)";

pub(crate) type RawMutex =
    By<sync::Mutex<Loom, ()>, sync::Mutex<Shuttle, ()>, sync::Mutex<Std, ()>>;
pub(crate) type RawGuard<'a> = By<
    sync::MutexGuard<'a, Loom, ()>,
    sync::MutexGuard<'a, Shuttle, ()>,
    sync::MutexGuard<'a, Std, ()>,
>;

pub(crate) struct Entry {
    /// The lock, until a loom one is renewed ([`Entry::raw`]).
    first: RawMutex,
    /// Under loom, the lock that replaced a poisoned one (leaked, never freed: a loom object
    /// must not be dropped outside its execution, and a guard may borrow it); null before.
    renewed: AtomicPtr<RawMutex>,
    /// Threads inside `lock`, or in a condvar wait that will lock again.
    waiting: AtomicUsize,
    poisoned: AtomicBool,
}

impl Entry {
    /// The lock the next `lock` takes.
    pub(crate) fn raw(&self) -> &RawMutex {
        let renewed = self.renewed.load(Ordering::Acquire);
        if renewed.is_null() {
            &self.first
        } else {
            // SAFETY: leaked when stored, never freed.
            unsafe { &*renewed }
        }
    }

    /// After a loom guard was dropped by a panic (see the module docs).
    fn renew_loom_lock(&self) {
        if self.waiting.load(Ordering::Relaxed) != 0 {
            // Each waiter holds on to the old lock: the first to take it panics inside loom,
            // and the loom row says it did not run the body (`explore::unseen::loom_poisoned`).
            return;
        }
        // Loom may refuse to make an object while an execution it stopped unwinds: the
        // failure under way is the one to report.
        let made = std::panic::catch_unwind(|| sync::Mutex::<Loom, ()>::new(()));
        if let Ok(fresh) = made {
            let fresh: &'static RawMutex = Box::leak(Box::new(By::Loom(fresh)));
            self.renewed
                .store(fresh as *const RawMutex as *mut RawMutex, Ordering::Release);
        }
    }
}

/// std's `Mutex`: `lock` returns a [`LockResult`], poisoned by a panic under the guard.
pub struct Mutex<T: ?Sized> {
    per: PerExec<Entry>,
    users: Users,
    data: UnsafeCell<T>,
}

// SAFETY: as std's: the lock hands the data to one thread at a time ([`Users`] across OS
// threads), so `T: Send` is enough for both.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// As std's: poisoning is what makes a lock safe to use across a caught panic.
impl<T: ?Sized> std::panic::UnwindSafe for Mutex<T> {}
impl<T: ?Sized> std::panic::RefUnwindSafe for Mutex<T> {}

/// std's `MutexGuard`: the data, until dropped.
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    mutex: &'a Mutex<T>,
    entry: &'a Entry,
    /// Taken out by `Condvar::wait` while it waits.
    pub(crate) raw: Option<RawGuard<'a>>,
    /// Whether the thread was already panicking when it locked (std's rule: only a panic that
    /// starts under the guard poisons).
    panicking: bool,
}

// SAFETY: as std's: sharing a guard shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex {
            per: PerExec::new(),
            users: Users::new(),
            data: UnsafeCell::new(value),
        }
    }

    pub fn into_inner(mut self) -> LockResult<T>
    where
        T: Sized,
    {
        let poisoned = self.take_poison();
        let data = self.data.into_inner();
        if poisoned {
            Err(PoisonError::new(data))
        } else {
            Ok(data)
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    pub(crate) fn entry(&self) -> &Entry {
        let (entry, outlived) = self.per.get_unordered(|| Entry {
            first: by_engine!(sync::Mutex::<P, ()>::new(())),
            renewed: AtomicPtr::new(std::ptr::null_mut()),
            waiting: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        });
        if outlived && !matches!(entry.first, By::Std(_)) {
            crate::sync::model::note_limit(STATIC_DATA);
        }
        entry
    }

    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let entry = self.entry();
        entry.waiting.fetch_add(1, Ordering::Relaxed);
        let raw = map!(entry.raw(), m => m.lock());
        entry.waiting.fetch_sub(1, Ordering::Relaxed);
        self.guard(entry, raw)
    }

    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let entry = self.entry();
        let raw = match entry.raw() {
            By::Loom(m) => m.try_lock().map(By::Loom),
            By::Shuttle(m) => m.try_lock().map(By::Shuttle),
            By::Std(m) => m.try_lock().map(By::Std),
        };
        match raw {
            None => Err(TryLockError::WouldBlock),
            Some(raw) => self.guard(entry, raw).map_err(TryLockError::Poisoned),
        }
    }

    pub(crate) fn guard<'a>(
        &'a self,
        entry: &'a Entry,
        raw: RawGuard<'a>,
    ) -> LockResult<MutexGuard<'a, T>> {
        self.users.enter();
        let guard = MutexGuard {
            mutex: self,
            entry,
            raw: Some(raw),
            panicking: std::thread::panicking(),
        };
        if entry.poisoned.load(Ordering::Relaxed) {
            Err(PoisonError::new(guard))
        } else {
            Ok(guard)
        }
    }

    pub fn is_poisoned(&self) -> bool {
        self.entry().poisoned.load(Ordering::Relaxed)
    }

    pub fn clear_poison(&self) {
        self.entry().poisoned.store(false, Ordering::Relaxed);
    }

    fn take_poison(&mut self) -> bool {
        self.per
            .take()
            .is_some_and(|e| e.poisoned.load(Ordering::Relaxed))
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.is_poisoned();
        let data = self.data.get_mut();
        if poisoned {
            Err(PoisonError::new(data))
        } else {
            Ok(data)
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex").finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// Hands the lock to a waiting condvar: no longer inside the data.
    pub(crate) fn release_for_wait(&mut self) -> RawGuard<'a> {
        self.entry.waiting.fetch_add(1, Ordering::Relaxed);
        self.mutex.users.leave();
        self.raw.take().expect("a guard holds its lock")
    }

    /// Takes the lock back after a wait.
    pub(crate) fn reacquire(&mut self, raw: RawGuard<'a>) {
        self.entry.waiting.fetch_sub(1, Ordering::Relaxed);
        self.mutex.users.enter();
        self.raw = Some(raw);
    }

    pub(crate) fn poisoned(&self) -> bool {
        self.entry.poisoned.load(Ordering::Relaxed)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        let poisons = !self.panicking && std::thread::panicking();
        if poisons {
            self.entry.poisoned.store(true, Ordering::Relaxed);
        }
        if let Some(raw) = self.raw.take() {
            self.mutex.users.leave();
            let loom = matches!(raw, By::Loom(_));
            each!(raw, g => drop(g));
            if poisons && loom {
                self.entry.renew_loom_lock();
            }
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
