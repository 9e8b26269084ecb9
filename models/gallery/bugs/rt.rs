//! The runtimes every gallery program is compiled against, each shaped like `std`:
//! `rt::sync::{Arc, Mutex, Condvar, atomic::*, ...}` and `rt::thread`.
//!
//! Invariant: a program names its primitives only through `rt`, so one source is compiled
//! unchanged for threadproof's loom and shuttle paths and for raw loom and raw shuttle. The raw
//! runtimes add only what makes the same source compile: `lock` and `wait` without
//! `LockResult` (threadproof's surface is poison-free, as tokio's own loom shim is), and a
//! plain-data `UnsafeCell` with threadproof's `get`/`set`. Anything a raw engine lacks (a semaphore,
//! a writer-preferring `RwLock`, timeouts that fire, `choose` under loom) is left out, so a
//! program that needs it does not compile there: the gallery says "cannot express" and why.

/// threadproof's loom paths: `threadproof::sync::loom`.
pub mod tp_loom {
    pub use threadproof::sync::loom as sync;
    pub use threadproof::sync::loom::thread;
}

/// threadproof's shuttle paths: `threadproof::sync::shuttle`.
pub mod tp_shuttle {
    pub use threadproof::sync::shuttle as sync;
    pub use threadproof::sync::shuttle::thread;
}

/// `Mutex` and `Condvar` over an engine's own, returning guards rather than `LockResult`s.
macro_rules! poison_free {
    ($engine:ident) => {
        /// The engine's mutex; `lock` returns the guard.
        pub struct Mutex<T>(::$engine::sync::Mutex<T>);
        pub type MutexGuard<'a, T> = ::$engine::sync::MutexGuard<'a, T>;

        impl<T> Mutex<T> {
            pub fn new(value: T) -> Self {
                Mutex(::$engine::sync::Mutex::new(value))
            }
            pub fn lock(&self) -> MutexGuard<'_, T> {
                self.0.lock().unwrap()
            }
        }

        /// The engine's condvar; `wait` returns the guard.
        pub struct Condvar(::$engine::sync::Condvar);

        impl Condvar {
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Condvar(::$engine::sync::Condvar::new())
            }
            pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
                self.0.wait(guard).unwrap()
            }
            pub fn notify_one(&self) {
                self.0.notify_one()
            }
            pub fn notify_all(&self) {
                self.0.notify_all()
            }
        }
    };
}

/// Raw loom (`loom::sync`, `loom::thread`), with std's `Arc` as threadproof's paths have:
/// loom's own `Arc` aborts the whole process when a model deadlocks (unwinding out of the
/// deadlock drops it, and its drop panics again outside the execution: a double panic), so a
/// run could not go on to its next bug. It also keeps the program the same on every runtime.
pub mod raw_loom {
    pub mod sync {
        pub use ::loom::sync::atomic;
        pub use ::std::sync::Arc;
        poison_free!(loom);

        /// Plain shared data on loom's race-checked `UnsafeCell`.
        pub struct UnsafeCell<T>(::loom::cell::UnsafeCell<T>);

        // SAFETY: the caller synchronises every access (`get`/`set`'s contract), and loom
        // checks that it did. (loom's `UnsafeCell` is not `Sync`, and loom's `spawn` does not
        // ask for `Send`, so without this a program could share a cell that std would refuse.)
        unsafe impl<T: Send> Sync for UnsafeCell<T> {}

        impl<T: Copy> UnsafeCell<T> {
            pub fn new(value: T) -> Self {
                UnsafeCell(::loom::cell::UnsafeCell::new(value))
            }
            /// # Safety
            /// No write may overlap it (loom reports an overlap as a causality violation).
            #[track_caller]
            pub unsafe fn get(&self) -> T {
                // SAFETY: the caller's contract.
                self.0.with(|value| unsafe { *value })
            }
            /// # Safety
            /// No other access may overlap it.
            #[track_caller]
            pub unsafe fn set(&self, value: T) {
                // SAFETY: the caller's contract.
                self.0.with_mut(|cell| unsafe { *cell = value })
            }
        }
    }
    pub use ::loom::thread;
}

/// Raw shuttle (`shuttle::sync`, `shuttle::thread`); `choose` is `shuttle::rand`, which the
/// scheduler drives.
pub mod raw_shuttle {
    pub mod sync {
        pub use ::shuttle::sync::atomic;
        pub use ::shuttle::sync::Arc;
        poison_free!(shuttle);

        /// Plain shared data: shuttle has no race-checked cell, and an access is not a
        /// scheduling point.
        pub struct UnsafeCell<T>(::std::cell::UnsafeCell<T>);

        // SAFETY: the caller synchronises every access (`get`/`set`'s contract).
        unsafe impl<T: Send> Sync for UnsafeCell<T> {}

        impl<T: Copy> UnsafeCell<T> {
            pub fn new(value: T) -> Self {
                UnsafeCell(::std::cell::UnsafeCell::new(value))
            }
            /// # Safety
            /// No write may overlap it.
            pub unsafe fn get(&self) -> T {
                // SAFETY: the caller's contract.
                unsafe { *self.0.get() }
            }
            /// # Safety
            /// No other access may overlap it.
            pub unsafe fn set(&self, value: T) {
                // SAFETY: the caller's contract.
                unsafe { *self.0.get() = value }
            }
        }

        /// A value in `0..n` from shuttle's scheduler-driven randomness.
        pub fn choose(n: usize) -> usize {
            use ::shuttle::rand::Rng;
            ::shuttle::rand::thread_rng().gen_range(0..n)
        }
    }
    pub use ::shuttle::thread;
}
