//! The swappable primitives: one interface, four backends, all compiled in every build.
//!
//! Invariant: scenario code names only the types of this module ([`Mutex`], [`Condvar`],
//! [`spawn`], [`channel`], [`AtomicUsize`], [`AtomicBool`], [`Cell`]) with a backend
//! parameter `P: Primitives`. Whatever it does, it does the same on every backend; only the
//! `impl Primitives` blocks in this module's children differ.
//!
//! | backend | where it is valid |
//! |---|---|
//! | [`Std`] | anywhere: `std::sync` and `std::thread` |
//! | [`ParkingLot`] | anywhere: `parking_lot` locks and condvars, `std` threads and channels |
//! | [`Loom`] | inside a loom model only ([`crate::explore::loom`]) |
//! | [`Shuttle`] | inside a shuttle run only ([`crate::explore::shuttle`]) |
//!
//! The surface is poison-free on the production backends: `lock()` returns the guard, as
//! tokio's loom shim does, and a thread that panics while holding a lock leaves the data as
//! it was at the panic.
//!
//! # Spurious wakeups
//!
//! Neither loom nor shuttle ever wakes a condvar spuriously, so a `wait` guarded by `if` instead
//! of `while` would pass both. [`Condvar::wait`] therefore asks the backend, before every wait,
//! whether this wait wakes spuriously ([`Primitives::spurious_wakeup`]); under the model
//! backends that is an explored choice ([`spurious`]), off unless the exploration turns it on.
//!
//! # What the backends do not model
//!
//! - `std::sync::Arc`, `Box` and plain memory outside [`Cell`] are invisible to the checkers:
//!   they are used on purpose (loom's `Arc` multiplied the state space a hundredfold, see
//!   design.md) and only hold data that a [`Mutex`] or an atomic guards.
//! - Shuttle treats every atomic as `SeqCst`: weak-memory bugs (a `Relaxed` publication) are
//!   loom's job alone.
//! - Loom allows at most 5 threads including the model's main thread and has no `Barrier`,
//!   `Once`, scoped threads or `const fn new`; scenarios use none of them.
//! - Neither checker has timeouts: `wait_timeout` never times out, so no scenario relies on one.
//! - Spurious wakeups are a bounded choice: loom explores every placement of at most
//!   [`spurious::Plan`]'s bound of them; shuttle draws each with a replayable coin.
//! - Loom's `Mutex` is not poison-free: after a panic while a guard is held, every later
//!   `lock` of it panics inside the model. Code that must survive a panicking closure under
//!   the lock (the lazy value's initialiser) catches the panic, unlocks, then resumes it.
//! - The [`channel`] is built once on [`Mutex`] and [`Condvar`] for every backend (loom
//!   0.7's `mpsc` never sees its senders go, and prints a `dbg!` line per receive): the
//!   checkers see its lock and condvar like any other, and traces name its sends and receives.
//! - Real processes, pipes and sockets are not modelled; process scenarios check their
//!   coordination logic over channels between threads.
//! - Production backends are not instrumented: a real OS may wake spuriously at will and
//!   schedules threads as it likes; the model runs are what prove the orderings.

mod atomic;
mod cell;
mod channel;
mod condvar;
mod loom;
mod mutex;
mod parking_lot;
mod shuttle;
pub mod spurious;
mod std;
mod std_like;
mod thread;
pub mod trace;

use ::std::io;
use ::std::ops::DerefMut;
use ::std::panic::Location;
use ::std::sync::atomic::Ordering;

use self::trace::{Object, Op};

pub use self::atomic::{AtomicBool, AtomicUsize};
pub use self::cell::{Cell, PlainCell};
pub use self::channel::{channel, Receiver, Sender};
pub use self::condvar::Condvar;
pub use self::loom::Loom;
pub use self::mutex::{Mutex, MutexGuard};
pub use self::parking_lot::ParkingLot;
pub use self::shuttle::Shuttle;
pub use self::std::Std;
pub(crate) use self::std_like::{raw_atomics, std_like_primitives};
pub use self::thread::{
    current_thread_name, panic_message, spawn, yield_now, JoinHandle, Panicked,
};

/// A family of synchronisation primitives: what a backend must provide.
///
/// Scenario code does not call these functions; it uses the std-like wrappers of this module,
/// which call them. Implementations are thin: each is one `impl` over its crate's types.
pub trait Primitives: Sized + Send + Sync + 'static {
    /// The backend's name as the CLI spells it.
    const NAME: &'static str;
    /// True for the model-checking backends: only they record traces and spur wakeups.
    const MODEL: bool;

    type Mutex<T: Send>: Send + Sync;
    type Guard<'a, T: Send + 'a>: DerefMut<Target = T>;
    type Condvar: Send + Sync;
    type JoinHandle<T: Send + 'static>: Send;
    type AtomicUsize: RawAtomic<usize> + RawAtomicInt;
    type AtomicBool: RawAtomic<bool>;
    type Cell<T>: RawCell<T>;

    fn mutex<T: Send>(value: T) -> Self::Mutex<T>;
    fn lock<T: Send>(mutex: &Self::Mutex<T>) -> Self::Guard<'_, T>;
    fn into_inner<T: Send>(mutex: Self::Mutex<T>) -> T;

    fn condvar() -> Self::Condvar;
    fn wait<'a, T: Send>(condvar: &Self::Condvar, guard: Self::Guard<'a, T>) -> Self::Guard<'a, T>;
    fn notify_one(condvar: &Self::Condvar);
    fn notify_all(condvar: &Self::Condvar);

    /// Whether the wait about to start wakes spuriously: always `false` in production.
    fn spurious_wakeup() -> bool {
        false
    }

    fn spawn<T, F>(name: String, body: F) -> io::Result<Self::JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;
    fn join<T: Send + 'static>(handle: Self::JoinHandle<T>) -> ::std::thread::Result<T>;
    fn current_thread_name() -> Option<String>;
    fn yield_now();
}

/// An atomic value of one backend.
pub trait RawAtomic<V>: Send + Sync {
    fn new(value: V) -> Self;
    fn load(&self, order: Ordering) -> V;
    fn store(&self, value: V, order: Ordering);
    fn swap(&self, value: V, order: Ordering) -> V;
    fn compare_exchange(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
}

/// The integer operations of an atomic `usize`.
pub trait RawAtomicInt {
    fn fetch_add(&self, value: usize, order: Ordering) -> usize;
}

/// A cell whose accesses the backend can check for data races (loom's `UnsafeCell`).
pub trait RawCell<T> {
    fn new(value: T) -> Self;
    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R;
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R;
}

/// Records `op` on `object` for the model backends; compiles to nothing for production ones.
#[track_caller]
pub(crate) fn record<P: Primitives>(op: Op, object: Object, done: bool) -> Option<trace::Step> {
    record_at::<P>(op, object, done, Location::caller())
}

pub(crate) fn record_at<P: Primitives>(
    op: Op,
    object: Object,
    done: bool,
    location: &'static Location<'static>,
) -> Option<trace::Step> {
    if !P::MODEL {
        return None;
    }
    trace::begin(P::current_thread_name, op, object, location, done)
}

pub(crate) fn address<T: ?Sized>(object: &T) -> usize {
    object as *const T as *const () as usize
}
