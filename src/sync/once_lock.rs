//! [`OnceLock`] and [`LazyLock`], as std's: a value initialised once, on first use, by
//! whichever thread gets there first. It is the Python notes' singleton
//! (`DatabaseConnection.get_connection()`), built on the facade's primitives so that loom and
//! shuttle see every step (`std::sync::OnceLock` is invisible to them).
//!
//! Invariant: the initialiser of a [`OnceLock`] runs to completion at most once, and every
//! caller of `get_or_init`, on every thread, gets a reference to that one value. A panicking
//! initialiser leaves the value uninitialised, and a later call tries again. After
//! initialisation, `get` is lock-free: one acquire load and a read.
//!
//! ```text
//!   get_or_init ─ ready.load(Acquire) ─ true ───────────────────────────► read value
//!                                     └ false ─ lock ─ ready? ─ yes ─ unlock ─┘
//!                                                      └ no ─ init() ─ write value
//!                                                             ─ ready.store(true, Release)
//!                                                             ─ unlock ─► read value
//! ```
//!
//! The `Release` store of `ready` after writing the value, paired with the fast path's
//! `Acquire` load, is what makes a reader that sees `ready` also see the value: the value lives
//! in an [`UnsafeCell`], so under loom a read that is not ordered after the write is
//! reported as a causality violation.
//!
//! Known-bad variants of this code ([`Flaw`]) live next to the correct paths, marked `MUTANT`;
//! they are reachable only from the `singleton` scenario's mutants, never from the public API,
//! and are honoured only under the model backends (`P::MODEL`): on `Std` and `ParkingLot` the
//! fast path compiles to the one acquire load of the correct version.

use std::fmt;
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::{AtomicBool, Mutex, Primitives, UnsafeCell};

/// A known-bad code path of the lazy value (the `singleton` scenario's mutants); `None` is the
/// correct double-checked initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Only the scenarios plant these mutants.
#[cfg_attr(not(feature = "patterns"), allow(dead_code))]
pub(crate) enum Flaw {
    /// Check-then-act without the lock: a thread that saw "uninitialised" creates a value
    /// outside the lock, so two racing threads both create one.
    DoubleInit,
    /// `ready` is published and read with `Relaxed`: a thread can see `ready` and not the
    /// value (loom reports the read; shuttle, whose atomics are all SeqCst, cannot).
    RelaxedPublication,
}

/// A cell written at most once, by the first caller of [`OnceLock::get_or_init`].
pub struct OnceLock<P: Primitives, T> {
    /// Set, with `Release`, once `value` holds the value; never unset.
    ready: AtomicBool<P>,
    /// Serialises initialisers.
    init_lock: Mutex<P, ()>,
    /// Written once, under `init_lock`, before `ready` is set; read only after `ready` is seen
    /// set (fast path) or under `init_lock` (slow path).
    value: UnsafeCell<P, Option<T>>,
    flaw: Option<Flaw>,
}

// SAFETY: `value` is written only once, under `init_lock`, before `ready` is published with
// `Release`; every read follows an `Acquire` load that saw `ready` set, or the lock. So shared
// access hands out `&T` across threads (`T: Sync`) and the write may come from any thread
// (`T: Send`), as for `std::sync::OnceLock`. The other fields are the facade's `Send + Sync`
// primitives; `UnsafeCell` carries no thread affinity of its own.
unsafe impl<P: Primitives, T: Send + Sync> Sync for OnceLock<P, T> {}
// SAFETY: moving the cell moves the `T` it owns, which is `Send`.
unsafe impl<P: Primitives, T: Send> Send for OnceLock<P, T> {}

impl<P: Primitives, T: Send> OnceLock<P, T> {
    /// An uninitialised value.
    pub fn new() -> Self {
        Self::with_flaw(None)
    }

    /// A value with known-bad initialisation: for the `singleton` scenario's mutants.
    pub(crate) fn with_flaw(flaw: Option<Flaw>) -> Self {
        OnceLock {
            ready: AtomicBool::new(false),
            init_lock: Mutex::new(()),
            value: UnsafeCell::new(None),
            flaw,
        }
    }

    /// The value, if initialised: the lock-free fast path, one acquire load.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        let order = match self.flaw() {
            // MUTANT relaxed-publication: a Relaxed load does not synchronise with the
            // initialiser's store, so the value's write need not be visible yet.
            Some(Flaw::RelaxedPublication) => Relaxed,
            None | Some(Flaw::DoubleInit) => Acquire,
        };
        if self.ready.load(order) {
            // SAFETY: `ready` was seen set by a load ordered after the initialiser's write
            // (for the correct variants), and the value is never written again.
            Some(unsafe { self.read() })
        } else {
            None
        }
    }

    /// The value, initialising it with `init` if no one has yet. If `init` panics, the panic
    /// propagates, the value stays uninitialised, and the next call tries again. Callers that
    /// arrive during an initialisation wait for it. `init` must not call `get_or_init` on the
    /// same value: it would wait for itself (as with `std::sync::OnceLock`).
    #[inline]
    pub fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        match self.get() {
            Some(value) => value,
            None => self.initialize(init),
        }
    }

    #[cold]
    fn initialize(&self, init: impl FnOnce() -> T) -> &T {
        match self.flaw() {
            Some(Flaw::DoubleInit) => {
                // MUTANT double-init: check-then-act without the lock. Every thread that saw
                // "uninitialised" on the fast path creates a value; the lock only guards the
                // store, so the losers' values are dropped, but they were created.
                let value = init();
                let _guard = self.init_lock.lock();
                if !self.ready.load(Relaxed) {
                    // SAFETY: under `init_lock`, before `ready` is published.
                    self.value.with_mut(|cell| unsafe { *cell = Some(value) });
                    self.ready.store(true, Release);
                }
            }
            None | Some(Flaw::RelaxedPublication) => {
                let guard = self.init_lock.lock();
                // Under the lock, `Relaxed` suffices: the lock orders us after any initialiser.
                if !self.ready.load(Relaxed) {
                    // A panicking `init` leaves `ready` unset. The panic is let out only after
                    // unlocking normally: unwinding through the guard would poison loom's
                    // mutex (a std mutex inside) for every later caller.
                    let value = match panic::catch_unwind(AssertUnwindSafe(init)) {
                        Ok(value) => value,
                        Err(payload) => {
                            drop(guard);
                            panic::resume_unwind(payload)
                        }
                    };
                    // SAFETY: under `init_lock`, before `ready` is published: no reader yet.
                    self.value.with_mut(|cell| unsafe { *cell = Some(value) });
                    let publish = match self.flaw() {
                        // MUTANT relaxed-publication: a Relaxed store publishes `ready`
                        // without ordering the value's write before it.
                        Some(Flaw::RelaxedPublication) => Relaxed,
                        _ => Release,
                    };
                    self.ready.store(true, publish);
                }
                drop(guard);
            }
        }
        // SAFETY: initialised above or by the thread that held the lock before us; the lock
        // orders its write before this read.
        unsafe { self.read() }
    }

    /// The flaw this value runs: only ever under a model backend, so that production code is
    /// the correct path alone.
    #[inline(always)]
    fn flaw(&self) -> Option<Flaw> {
        self.flaw.filter(|_| P::MODEL)
    }

    /// # Safety
    ///
    /// The value must be initialised, and its write ordered before this read.
    unsafe fn read(&self) -> &T {
        let value: *const T = self.value.with(|cell| {
            // SAFETY: the caller's contract; the value is never written again, so the
            // reference stays valid for as long as `self`.
            unsafe { (*cell).as_ref() }.expect("the value is initialised") as *const T
        });
        // SAFETY: as above; `value` points into `self`.
        unsafe { &*value }
    }

    /// The value, if initialised, taking it out of the cell.
    pub fn into_inner(self) -> Option<T> {
        // SAFETY: `self` is owned: no other access exists.
        self.value.with_mut(|cell| unsafe { (*cell).take() })
    }
}

impl<P: Primitives, T: Send> Default for OnceLock<P, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Primitives, T: Send + fmt::Debug> fmt::Debug for OnceLock<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Some(value) => f.debug_tuple("OnceLock").field(value).finish(),
            None => f.write_str("OnceLock(<uninitialised>)"),
        }
    }
}

/// A value computed by `init` on first access: [`OnceLock`] with its initialiser. `init` is
/// `Fn`, not `FnOnce`, since a panicking initialisation is retried by the next access.
pub struct LazyLock<P: Primitives, T, F = fn() -> T> {
    once: OnceLock<P, T>,
    init: F,
}

impl<P: Primitives, T: Send, F: Fn() -> T> LazyLock<P, T, F> {
    pub fn new(init: F) -> Self {
        Self::with_flaw(init, None)
    }

    /// A lazy value with known-bad initialisation: for the `singleton` scenario's mutants.
    pub(crate) fn with_flaw(init: F, flaw: Option<Flaw>) -> Self {
        LazyLock {
            once: OnceLock::with_flaw(flaw),
            init,
        }
    }

    /// The value, computing it if this is the first access.
    #[inline]
    pub fn get(&self) -> &T {
        self.once.get_or_init(&self.init)
    }

    /// The value if some access has computed it already; never computes.
    #[inline]
    pub fn get_if_ready(&self) -> Option<&T> {
        self.once.get()
    }
}

impl<P: Primitives, T: Send, F: Fn() -> T> Deref for LazyLock<P, T, F> {
    type Target = T;
    fn deref(&self) -> &T {
        self.get()
    }
}

impl<P: Primitives, T: Send + fmt::Debug, F> fmt::Debug for LazyLock<P, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyLock").field(&self.once).finish()
    }
}
