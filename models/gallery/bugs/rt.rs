//! The four runtimes every gallery program is compiled against, each with std's paths and
//! signatures: `rt::sync::{Arc, Mutex, Condvar, RwLock, atomic::*}` and `rt::thread`, where
//! `lock()` and `wait()` return `LockResult`, `join()` a `thread::Result`.
//!
//! - [`production`]: `std` itself, real threads (what the program is in production);
//! - [`mirror`]: threadproof's std mirror `threadproof::std`: one build, which every checker
//!   (loom, shuttle's random, PCT and URW) runs, dispatching at run time;
//! - [`raw_loom`]: `loom::sync` and `loom::thread`;
//! - [`raw_shuttle`]: `shuttle::sync` and `shuttle::thread`.
//!
//! Invariant: a program names its primitives only through `rt`, as a user's crate names them
//! behind its two-line cfg swap, so one source is compiled unchanged for all four. `Arc` is
//! std's on every runtime but raw shuttle (see [`raw_loom::sync`] and [`mirror::sync`] for
//! why). Beyond std's own names a runtime offers only two things, each documented where it
//! is made:
//! [`RaceCell`](production::RaceCell), plain shared data that loom race-checks (std's
//! `UnsafeCell` is invisible to every checker, and loom's has no std signature), which every
//! runtime has; and `choose(n)`, a nondeterministic choice, which only the mirror
//! (`threadproof::std::choose`) and raw shuttle (`shuttle::rand`) have. A program that needs
//! what a runtime lacks is not mounted on it, and the gallery says why (`Raw::CannotExpress`).

/// Plain shared data on `std::cell::UnsafeCell`, for the runtimes with nothing that checks it
/// (std, and raw shuttle, which has no race-checked cell: an access is not a scheduling point
/// there either). The same `get`/`set` as threadproof's `UnsafeCell`.
macro_rules! plain_race_cell {
    () => {
        /// Plain shared data: every access must be synchronised by the caller.
        pub struct RaceCell<T>(::std::cell::UnsafeCell<T>);

        // SAFETY: the caller synchronises every access (`get`/`set`'s contract), as for any
        // `UnsafeCell` a program shares; the checkers that can see races check it elsewhere.
        unsafe impl<T: Send> Sync for RaceCell<T> {}

        impl<T: Copy> RaceCell<T> {
            pub fn new(value: T) -> Self {
                RaceCell(::std::cell::UnsafeCell::new(value))
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
    };
}

/// std itself: the program as it runs in production, on real threads. No `choose` (std has
/// no nondeterministic choice).
pub mod production {
    pub use ::std::{sync, thread};
    plain_race_cell!();
}

/// threadproof's std mirror, `threadproof::std`: the program compiled once, each execution
/// dispatched to the checker running it, and threadproof's `choose`.
///
/// Its [`RaceCell`] is the one thing the mirror itself lacks: the mirror has no race-checked
/// cell (its `cell` is std's, plain memory; `threadproof::sync::UnsafeCell<P, T>` is one type
/// per backend), so the gallery tells the cell which checker runs the execution
/// ([`as_engine`], around the one compiled body) and the cell holds that backend's
/// `UnsafeCell`, which loom race-checks and traces as `UnsafeCell#n`.
pub mod mirror {
    use std::cell::Cell;

    pub use threadproof::std::{choose, thread};
    use threadproof::sync::{Loom, Shuttle, UnsafeCell};

    /// `threadproof::std::sync`, with std's `Arc` as on raw loom. The mirror's own `Arc` is
    /// modelled (every clone and drop an interleaved atomic step); with it, loom on this
    /// gallery no longer found if-not-while's bug within 50,000 executions, nor proved
    /// treiber's fix, while no bug here turns on an `Arc`'s count. A user's swap may take
    /// either.
    pub mod sync {
        pub use ::std::sync::Arc;
        pub use threadproof::std::sync::*;
    }

    /// The checker running the current execution, as [`as_engine`] says.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Engine {
        Loom,
        Shuttle,
    }

    thread_local! {
        /// Set around each execution's body: loom and shuttle run all of an execution's
        /// model threads on the OS thread that runs the exploration, so this names the
        /// engine for every one of them.
        static ENGINE: Cell<Option<Engine>> = const { Cell::new(None) };
    }

    /// Runs `body` (one execution's main thread) with `engine` named for [`RaceCell`].
    pub fn as_engine<O>(engine: Engine, body: fn() -> O) -> O {
        struct Unset;
        impl Drop for Unset {
            fn drop(&mut self) {
                ENGINE.with(|e| e.set(None));
            }
        }
        ENGINE.with(|e| e.set(Some(engine)));
        let _unset = Unset;
        body()
    }

    /// Plain shared data: loom checks every access for a data race; shuttle makes each a
    /// scheduling point; outside a checker it is std's `UnsafeCell`.
    pub struct RaceCell<T>(Backend<T>);

    enum Backend<T> {
        Loom(UnsafeCell<Loom, T>),
        Shuttle(UnsafeCell<Shuttle, T>),
        Std(::std::cell::UnsafeCell<T>),
    }

    // SAFETY: the caller synchronises every access (`get`/`set`'s contract); loom checks it.
    unsafe impl<T: Send> Sync for RaceCell<T> {}

    impl<T: Copy> RaceCell<T> {
        #[track_caller]
        pub fn new(value: T) -> Self {
            RaceCell(match ENGINE.with(Cell::get) {
                Some(Engine::Loom) => Backend::Loom(UnsafeCell::new(value)),
                Some(Engine::Shuttle) => Backend::Shuttle(UnsafeCell::new(value)),
                None => Backend::Std(::std::cell::UnsafeCell::new(value)),
            })
        }
        /// # Safety
        /// No write may overlap it (loom reports an overlap as a data race).
        #[track_caller]
        pub unsafe fn get(&self) -> T {
            // SAFETY: the caller's contract.
            unsafe {
                match &self.0 {
                    Backend::Loom(cell) => cell.get(),
                    Backend::Shuttle(cell) => cell.get(),
                    Backend::Std(cell) => *cell.get(),
                }
            }
        }
        /// # Safety
        /// No other access may overlap it.
        #[track_caller]
        pub unsafe fn set(&self, value: T) {
            // SAFETY: the caller's contract.
            unsafe {
                match &self.0 {
                    Backend::Loom(cell) => cell.set(value),
                    Backend::Shuttle(cell) => cell.set(value),
                    Backend::Std(cell) => *cell.get() = value,
                }
            }
        }
    }
}

/// Raw loom: `loom::sync` and `loom::thread`, whose signatures are std's. No `choose` (loom
/// has no nondeterministic choice inside a model). Two shims, for what loom truly lacks:
pub mod raw_loom {
    pub mod sync {
        pub use ::loom::sync::*;
        /// std's `Arc`, not loom's: loom's aborts the whole process when a model deadlocks
        /// (unwinding out of the deadlock drops it, and its drop panics again outside the
        /// execution: a double panic), so one deadlock would end the measuring run. (Loom
        /// then does not see an `Arc`'s drops, which no bug here turns on.)
        pub use ::std::sync::Arc;
    }
    pub use ::loom::thread;

    /// Plain shared data on loom's race-checked `UnsafeCell`, whose own API is
    /// `with`/`with_mut` rather than std's.
    pub struct RaceCell<T>(::loom::cell::UnsafeCell<T>);

    // SAFETY: the caller synchronises every access (`get`/`set`'s contract), and loom checks
    // that it did. (loom's `UnsafeCell` is not `Sync`, and loom's `spawn` does not ask for
    // `Send`, so without this a program could share a cell that std would refuse.)
    unsafe impl<T: Send> Sync for RaceCell<T> {}

    impl<T: Copy> RaceCell<T> {
        #[track_caller]
        pub fn new(value: T) -> Self {
            RaceCell(::loom::cell::UnsafeCell::new(value))
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

/// Raw shuttle: `shuttle::sync` and `shuttle::thread`, whose signatures are std's, and
/// `choose` from `shuttle::rand`, which the scheduler drives.
pub mod raw_shuttle {
    pub use ::shuttle::{sync, thread};
    plain_race_cell!();

    /// A value in `0..n` from shuttle's scheduler-driven randomness.
    pub fn choose(n: usize) -> usize {
        use ::shuttle::rand::Rng;
        ::shuttle::rand::thread_rng().gen_range(0..n)
    }
}
