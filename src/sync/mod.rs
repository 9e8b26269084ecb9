//! The swappable primitives: one interface, four backends, all compiled in every build, and
//! on top of it the whole std-shaped surface, built once.
//!
//! Invariant: scenario and user code names only the types of this module ([`Mutex`],
//! [`Condvar`], [`RwLock`], [`Barrier`], [`Semaphore`], [`Once`], [`UnsafeCell`], the atomics,
//! [`channel`] and [`sync_channel`], [`spawn`], [`scope`], [`park`], [`choose`], ...) with a
//! backend parameter `P: Primitives`, or the same names without it through the per-backend
//! paths [`loom`], [`shuttle`], [`std`] and [`parking_lot`]. Whatever it does, it does the same
//! on every backend; the `impl Primitives` blocks of `backend/` differ, and one wrapper asks which
//! model it runs under (`Mutex::try_lock` notes that loom never fails it spuriously). Under the model
//! backends every wrapper records each call where it took effect, with its value ([`trace`]
//! says how); production backends compile to the plain std and parking_lot calls (the checks
//! are on the constant `P::MODEL`).
//!
//! | backend | where it is valid |
//! |---|---|
//! | [`Std`] | anywhere: `std::sync` and `std::thread` |
//! | [`ParkingLot`] | anywhere: `parking_lot` locks and condvars, `std` threads and channels |
//! | [`Loom`] | inside a loom model only ([`crate::explore::loom`]) |
//! | [`Shuttle`] | inside a shuttle run only ([`crate::explore::shuttle`]) |
//!
//! The surface is poison-free: `lock()`, `read()` and `write()` return the guard, as tokio's
//! loom shim does, and a thread that panics while holding a lock leaves the data as it was at
//! the panic.
//!
//! # Explored choices
//!
//! What a real run leaves to chance, the model backends explore ([`choice`]): a condvar wait or
//! a `park` that returns spuriously and a `compare_exchange_weak` that fails spuriously
//! (faults, bounded per execution: neither checker ever does either), a timed wait that times
//! out or is notified (by a timer thread: neither checker ever times out), and the body's
//! own [`choose`]`(n)` (every value, exhaustively, under loom).
//!
//! # Built once, for every backend
//!
//! [`Barrier`], [`Semaphore`], [`Once`] (on [`OnceLock`]), [`LazyLock`], the channels and the
//! model backends' parking and [`RwLock`] are built here, on the backends' mutex and condvar,
//! except that under the model backends the channels and the `RwLock` are built on a gate,
//! one model event per operation (`gate`): loom has no barrier, once, bounded channel or
//! `recv_timeout`; its `RwLock` has no writer preference (std's and parking_lot's have, so a
//! recursive read behind a queued writer deadlocks in production and must under the
//! checkers) and mis-counts a thread holding two read guards; shuttle's panics on any second
//! read guard; loom's unpark token leaks into condvar waits. Production keeps std's and
//! parking_lot's own `RwLock` and parking.
//!
//! # What the backends do not model
//!
//! Each checker's report lists what it cannot see (`Report::blind_spots`), including what a
//! body used at run time that its checker sees only in part.
//!
//! - `std::sync::Arc`, `Box` and plain memory outside [`UnsafeCell`] are invisible to the checkers:
//!   they are used on purpose (loom's `Arc` multiplied the state space a hundredfold, measured
//!   in the project's design notes) and only hold data that a [`Mutex`] or an atomic guards.
//!   (The std mirror's `Arc` is modelled, for users' code: [`crate::std::sync::Arc`].)
//! - Shuttle treats every atomic as `SeqCst` and `fence` as nothing: weak-memory bugs (a
//!   `Relaxed` publication, store buffering) are loom's job alone. Shuttle does not detect data
//!   races on [`UnsafeCell`] either; it makes each access a scheduling point, so a bug that shows in
//!   the values can still be found.
//! - Loom treats `SeqCst` loads and stores like `Acquire`/`Release` ones (its `seq_cst()` is a
//!   stub), which would report impossible outcomes of correct `SeqCst` code (store buffering
//!   ending `(0, 0)`). The loom backend therefore puts a `SeqCst` fence after a `SeqCst` store,
//!   before a `SeqCst` load and around a `SeqCst` read-modify-write. That is stronger than
//!   `SeqCst`: a weaker access next to a `SeqCst` one on another location can no longer
//!   reorder with it, so loom misses bugs that need exactly that reordering.
//! - Loom allows at most 5 threads including the model's main thread (4 spawned, scoped
//!   threads and the timer of timed waits included): [`spawn`] raises a `TooManyThreads`
//!   panic past it, which the explorer reports as unsupported by loom, never as a bug, and
//!   [`crate::check!`] leaves to shuttle.
//! - Loom does not see a mutex's release as an event: a [`Mutex::try_lock`] that fails because
//!   another thread holds the lock is explored only if the caller first touched something of
//!   that thread's critical section (the report says so when a body uses `try_lock`).
//! - Loom does not explore load buffering, and shuttle no weak memory at all.
//! - Faults are bounded: loom explores every placement of at most `spurious_wakeups` of them
//!   per execution; shuttle draws each with a replayable coin.
//! - Time does not pass under the checkers: `sleep` is a yield, and a timeout fires whenever
//!   the timer thread runs (any duration may elapse before any step).
//! - Loom's `Mutex` is not poison-free: after a panic while a guard is held, every later
//!   `lock` of it panics inside the model. Code that must survive a panicking closure under
//!   the lock (the lazy value's initialiser) catches the panic, unlocks, then resumes it.
//! - Nothing is `const`: loom's primitives need a running model. Statics of them need a
//!   lazy value per execution.
//! - Real processes, pipes and sockets are not modelled; process scenarios check their
//!   coordination logic over channels between threads.
//! - Production backends are not instrumented: a real OS may wake spuriously at will and
//!   schedules threads as it likes; the model runs are what prove the orderings.

mod atomic;
pub mod backend;
mod barrier;
mod channel;
mod condvar;
mod gate;
pub(crate) mod model;
mod mutex;
mod once;
pub(crate) mod once_lock;
pub(crate) mod park;
mod paths;
mod rwlock;
mod semaphore;
mod thread;
mod unsafe_cell;

// The model runtime's data that reports carry (a failure's trace, a loom plan) is public under
// these paths; the rest of the runtime is the crate's own.
pub(crate) use self::model::timer;
pub use self::model::{choice, trace};

use ::std::any::Any;
use ::std::cell::RefCell;
use ::std::io;
use ::std::ops::DerefMut;
use ::std::sync::atomic::Ordering;
use ::std::sync::Arc;
use ::std::time::Duration;

use self::backend::{RawAtomic, RawCell, RawRwLock, RawSignal, RawThread, RawToken};
use self::model::ThreadContext;

pub use self::atomic::{
    compiler_fence, fence, Atomic, AtomicBits, AtomicBool, AtomicI16, AtomicI32, AtomicI64,
    AtomicI8, AtomicInteger, AtomicIsize, AtomicPtr, AtomicU16, AtomicU32, AtomicU64, AtomicU8,
    AtomicUsize, AtomicValue,
};
pub(crate) use self::backend::{raw_atomics, std_like_primitives};
pub use self::backend::{Loom, ParkingLot, Shuttle, Std};
pub use self::barrier::{Barrier, BarrierWaitResult};
pub use self::channel::{
    channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError,
    TrySendError,
};
pub use self::choice::choose;
pub use self::condvar::{Condvar, WaitTimeoutResult};
pub use self::model::execution::panic_message;
pub(crate) use self::model::NeedsMirrorMakers;
pub(crate) use self::mutex::LOOM_TRY_LOCK;
pub use self::mutex::{Mutex, MutexGuard};
pub use self::once::Once;
pub use self::once_lock::{LazyLock, OnceLock};
pub use self::paths::{loom, parking_lot, shuttle, std};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use self::semaphore::Semaphore;
pub use self::thread::{
    current, current_thread_name, park, park_timeout, scope, sleep, spawn, yield_now, Builder,
    JoinHandle, Panicked, Scope, ScopedJoinHandle, Thread,
};
pub use self::unsafe_cell::UnsafeCell;

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
    /// The backend's atomic holding a `V` ([`AtomicValue`] names it).
    type Atomic<V: AtomicValue>: RawAtomic<V>;
    type UnsafeCell<T>: RawCell<T>;

    fn mutex<T: Send>(value: T) -> Self::Mutex<T>;
    fn lock<T: Send>(mutex: &Self::Mutex<T>) -> Self::Guard<'_, T>;
    fn into_inner<T: Send>(mutex: Self::Mutex<T>) -> T;
    /// The lock if it is free now; never waits.
    fn try_lock<T: Send>(mutex: &Self::Mutex<T>) -> Option<Self::Guard<'_, T>>;

    type RwLock<T: Send + Sync>: RawRwLock<T>;
    /// What a thread blocked in a built primitive waits on under the model backends (see
    /// `gate`): the checker's cheapest block, which is no model event of its own.
    type Signal: RawSignal;
    /// What carries a message's causality where a gate's entries do not (see `gate`).
    type Token: RawToken;

    fn condvar() -> Self::Condvar;
    fn wait<'a, T: Send>(condvar: &Self::Condvar, guard: Self::Guard<'a, T>) -> Self::Guard<'a, T>;
    fn notify_one(condvar: &Self::Condvar);
    fn notify_all(condvar: &Self::Condvar);

    /// Whether the wait about to start wakes spuriously: always `false` in production.
    fn spurious_wakeup() -> bool {
        false
    }

    /// Spawns a thread, named `name` if given.
    fn spawn<T, F>(name: Option<String>, body: F) -> io::Result<Self::JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Self::spawn_sized(name, None, body)
    }
    /// Spawns a thread, named `name` if given, with a stack of `stack_size` bytes if given
    /// (the checkers' model threads too: loom's and shuttle's builders take the size).
    fn spawn_sized<T, F>(
        name: Option<String>,
        stack_size: Option<usize>,
        body: F,
    ) -> io::Result<Self::JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;
    fn join<T: Send + 'static>(handle: Self::JoinHandle<T>) -> ::std::thread::Result<T>;
    fn yield_now();
    /// A memory fence (`std::sync::atomic::fence`).
    fn fence(order: Ordering);
    /// Sleeps (production) or yields (the model backends, which have no time).
    fn sleep(duration: Duration);

    /// A thread handle: std's in production, a [`Parker`](backend::Parker) under the model backends.
    type Thread: RawThread;
    /// The thread `handle` runs; under the model backends, the one whose parker is `parker`
    /// (an `Arc<Parker<Self>>`, made before the thread was spawned).
    fn thread_of<T: Send + 'static>(
        handle: &Self::JoinHandle<T>,
        parker: Option<Arc<dyn Any + Send + Sync>>,
    ) -> Self::Thread;

    /// A wait that gives up after `timeout` (production backends only: the model backends
    /// time out through their timer thread); the guard, and whether it timed out.
    fn wait_timeout<'a, T: Send>(
        condvar: &Self::Condvar,
        guard: Self::Guard<'a, T>,
        timeout: Duration,
    ) -> (Self::Guard<'a, T>, bool);

    /// At most this many threads spawned per execution besides the main one (loom's cap);
    /// `None`: no limit.
    const MAX_SPAWNED: Option<usize> = None;

    /// Runs `f` on the running thread's context slot, kept in the backend's own thread-local
    /// storage (a model thread's own, under loom and shuttle).
    fn with_thread_context<R>(f: impl FnOnce(&RefCell<Option<ThreadContext>>) -> R) -> R;

    /// Called before every access to an [`UnsafeCell`]: a scheduling point under shuttle, so that
    /// plain data can interleave there; nothing elsewhere.
    fn plain_access() {}
}

/// The `seq_cst_fence` of the backends whose `SeqCst` accesses need none.
#[inline(always)]
pub(crate) fn no_fence(_: Ordering) {}
