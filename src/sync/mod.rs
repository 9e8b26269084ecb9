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

mod channel;
mod loom;
mod parking_lot;
mod shuttle;
pub mod spurious;
mod std;
pub mod trace;

use ::std::fmt;
use ::std::io;
use ::std::mem::ManuallyDrop;
use ::std::ops::{Deref, DerefMut};
use ::std::panic::Location;
use ::std::sync::atomic::Ordering;
use ::std::sync::Arc;

use self::trace::{Object, Op};

pub use self::channel::{channel, Receiver, Sender};
pub use self::loom::Loom;
pub use self::parking_lot::ParkingLot;
pub use self::shuttle::Shuttle;
pub use self::std::Std;

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

/// A mutual exclusion lock whose `lock` cannot fail.
pub struct Mutex<P: Primitives, T: Send> {
    raw: P::Mutex<T>,
}

/// Proof that the holder owns the [`Mutex`]; unlocks on drop.
pub struct MutexGuard<'a, P: Primitives, T: Send> {
    mutex: &'a Mutex<P, T>,
    /// Dropped by hand: `Drop` records the unlock first, and `Condvar::wait` takes it out.
    raw: ManuallyDrop<P::Guard<'a, T>>,
    /// Where it was locked, to name the unlock in a trace.
    locked_at: &'static Location<'static>,
}

/// Records `op` on `object` for the model backends; compiles to nothing for production ones.
#[track_caller]
fn record<P: Primitives>(op: Op, object: Object, done: bool) -> Option<trace::Step> {
    record_at::<P>(op, object, done, Location::caller())
}

fn record_at<P: Primitives>(
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

fn address<T: ?Sized>(object: &T) -> usize {
    object as *const T as *const () as usize
}

impl<P: Primitives, T: Send> Mutex<P, T> {
    pub fn new(value: T) -> Self {
        Self {
            raw: P::mutex(value),
        }
    }

    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, P, T> {
        let step = record::<P>(Op::Lock, Object::At("Mutex", address(self)), false);
        let raw = P::lock(&self.raw);
        trace::done(step);
        MutexGuard {
            mutex: self,
            raw: ManuallyDrop::new(raw),
            locked_at: Location::caller(),
        }
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
    /// Takes the guard apart without unlocking: the caller now owns the raw guard.
    fn into_parts(self) -> (&'a Mutex<P, T>, P::Guard<'a, T>) {
        let mut guard = ManuallyDrop::new(self);
        // SAFETY: `guard` is never dropped or used again, so `raw` is taken exactly once.
        let raw = unsafe { ManuallyDrop::take(&mut guard.raw) };
        (guard.mutex, raw)
    }
}

impl<P: Primitives, T: Send> Drop for MutexGuard<'_, P, T> {
    fn drop(&mut self) {
        record_at::<P>(
            Op::Unlock,
            Object::At("Mutex", address(self.mutex)),
            true,
            self.locked_at,
        );
        // SAFETY: `raw` is dropped exactly once, here; `into_parts` skips this `Drop`.
        unsafe { ManuallyDrop::drop(&mut self.raw) }
    }
}

/// A condition variable. Waiters must re-check their condition in a loop: under the model
/// backends a wait may wake spuriously.
pub struct Condvar<P: Primitives> {
    raw: P::Condvar,
}

impl<P: Primitives> Condvar<P> {
    pub fn new() -> Self {
        Self { raw: P::condvar() }
    }

    /// Unlocks, sleeps until notified (or spuriously woken), and locks again.
    #[track_caller]
    pub fn wait<'a, T: Send>(&self, guard: MutexGuard<'a, P, T>) -> MutexGuard<'a, P, T> {
        let (mutex, raw) = guard.into_parts();
        let this = Object::At("Condvar", address(self));
        record::<P>(Op::Unlock, Object::At("Mutex", address(mutex)), true);
        if P::spurious_wakeup() {
            // A spurious wakeup is an unlock and a relock with no notification between: other
            // threads may run in the gap, exactly as after a real one.
            record::<P>(Op::SpuriousWake, this, true);
            drop(raw);
            P::yield_now();
            return mutex.lock();
        }
        let step = record::<P>(Op::Wait, this, false);
        let raw = P::wait(&self.raw, raw);
        trace::done(step);
        record::<P>(Op::Lock, Object::At("Mutex", address(mutex)), true);
        MutexGuard {
            mutex,
            raw: ManuallyDrop::new(raw),
            locked_at: Location::caller(),
        }
    }

    /// Waits until `condition` is false, re-checking it after every wakeup.
    #[track_caller]
    pub fn wait_while<'a, T: Send>(
        &self,
        mut guard: MutexGuard<'a, P, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, P, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    #[track_caller]
    pub fn notify_one(&self) {
        record::<P>(Op::NotifyOne, Object::At("Condvar", address(self)), true);
        P::notify_one(&self.raw)
    }

    #[track_caller]
    pub fn notify_all(&self) {
        record::<P>(Op::NotifyAll, Object::At("Condvar", address(self)), true);
        P::notify_all(&self.raw)
    }
}

impl<P: Primitives> Default for Condvar<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// An owned permission to join a spawned thread.
pub struct JoinHandle<P: Primitives, T: Send + 'static> {
    raw: P::JoinHandle<T>,
    name: Arc<str>,
}

/// A thread ended by a panic; carries the panic's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread panicked: {}", self.0)
    }
}

impl ::std::error::Error for Panicked {}

/// The message of a panic payload, for errors and reports.
pub fn panic_message(payload: &(dyn ::std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

impl<P: Primitives, T: Send + 'static> JoinHandle<P, T> {
    /// Waits for the thread; its panic comes back as an error, never as a panic here.
    #[track_caller]
    pub fn join(self) -> Result<T, Panicked> {
        let step = record::<P>(Op::Join, Object::Named(Arc::clone(&self.name)), false);
        let joined = P::join(self.raw).map_err(|payload| Panicked(panic_message(&*payload)));
        trace::done(step);
        joined
    }

    /// The name the thread was spawned with.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Spawns a named thread of backend `P`.
#[track_caller]
pub fn spawn<P, T, F>(name: impl Into<String>, body: F) -> io::Result<JoinHandle<P, T>>
where
    P: Primitives,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let name: String = name.into();
    let label: Arc<str> = Arc::from(name.as_str());
    record::<P>(Op::Spawn, Object::Named(Arc::clone(&label)), true);
    P::spawn(name, body).map(|raw| JoinHandle { raw, name: label })
}

/// The name the current thread was spawned with, if any.
pub fn current_thread_name<P: Primitives>() -> Option<String> {
    P::current_thread_name()
}

/// Offers the scheduler a chance to run another thread.
pub fn yield_now<P: Primitives>() {
    P::yield_now()
}

/// An atomic `usize`.
pub struct AtomicUsize<P: Primitives> {
    raw: P::AtomicUsize,
}

impl<P: Primitives> AtomicUsize<P> {
    pub fn new(value: usize) -> Self {
        Self {
            raw: RawAtomic::new(value),
        }
    }
    #[track_caller]
    pub fn load(&self, order: Ordering) -> usize {
        record::<P>(Op::Load, Object::At("AtomicUsize", address(self)), true);
        self.raw.load(order)
    }
    #[track_caller]
    pub fn store(&self, value: usize, order: Ordering) {
        record::<P>(Op::Store, Object::At("AtomicUsize", address(self)), true);
        self.raw.store(value, order)
    }
    #[track_caller]
    pub fn swap(&self, value: usize, order: Ordering) -> usize {
        record::<P>(Op::Swap, Object::At("AtomicUsize", address(self)), true);
        self.raw.swap(value, order)
    }
    #[track_caller]
    pub fn fetch_add(&self, value: usize, order: Ordering) -> usize {
        record::<P>(Op::FetchAdd, Object::At("AtomicUsize", address(self)), true);
        self.raw.fetch_add(value, order)
    }
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        record::<P>(
            Op::CompareExchange,
            Object::At("AtomicUsize", address(self)),
            true,
        );
        self.raw.compare_exchange(current, new, success, failure)
    }
}

/// An atomic `bool`.
pub struct AtomicBool<P: Primitives> {
    raw: P::AtomicBool,
}

impl<P: Primitives> AtomicBool<P> {
    pub fn new(value: bool) -> Self {
        Self {
            raw: RawAtomic::new(value),
        }
    }
    #[track_caller]
    pub fn load(&self, order: Ordering) -> bool {
        record::<P>(Op::Load, Object::At("AtomicBool", address(self)), true);
        self.raw.load(order)
    }
    #[track_caller]
    pub fn store(&self, value: bool, order: Ordering) {
        record::<P>(Op::Store, Object::At("AtomicBool", address(self)), true);
        self.raw.store(value, order)
    }
    #[track_caller]
    pub fn swap(&self, value: bool, order: Ordering) -> bool {
        record::<P>(Op::Swap, Object::At("AtomicBool", address(self)), true);
        self.raw.swap(value, order)
    }
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        record::<P>(
            Op::CompareExchange,
            Object::At("AtomicBool", address(self)),
            true,
        );
        self.raw.compare_exchange(current, new, success, failure)
    }
}

/// Shared memory whose reads and writes loom checks for data races.
///
/// # Safety
///
/// `with` and `with_mut` hand out raw pointers: the caller guarantees, through a lock or an
/// acquire/release pair, that no `with_mut` overlaps another access. Loom reports a violation
/// of that guarantee as a causality error; the other backends trust it.
pub struct Cell<P: Primitives, T> {
    raw: P::Cell<T>,
}

impl<P: Primitives, T> Cell<P, T> {
    pub fn new(value: T) -> Self {
        Self {
            raw: RawCell::new(value),
        }
    }
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.raw.with(f)
    }
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.raw.with_mut(f)
    }
}

/// Implements [`RawAtomic`] and [`RawAtomicInt`] for a backend's `AtomicUsize` and `AtomicBool`,
/// which all share std's method names.
macro_rules! raw_atomics {
    ($usize:ty, $bool:ty) => {
        $crate::sync::raw_atomics!(@one $usize, usize);
        $crate::sync::raw_atomics!(@one $bool, bool);
        impl $crate::sync::RawAtomicInt for $usize {
            #[inline]
            fn fetch_add(&self, value: usize, order: ::std::sync::atomic::Ordering) -> usize {
                <$usize>::fetch_add(self, value, order)
            }
        }
    };
    (@one $ty:ty, $v:ty) => {
        impl $crate::sync::RawAtomic<$v> for $ty {
            #[inline]
            fn new(value: $v) -> Self {
                <$ty>::new(value)
            }
            #[inline]
            fn load(&self, order: ::std::sync::atomic::Ordering) -> $v {
                <$ty>::load(self, order)
            }
            #[inline]
            fn store(&self, value: $v, order: ::std::sync::atomic::Ordering) {
                <$ty>::store(self, value, order)
            }
            #[inline]
            fn swap(&self, value: $v, order: ::std::sync::atomic::Ordering) -> $v {
                <$ty>::swap(self, value, order)
            }
            #[inline]
            fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: ::std::sync::atomic::Ordering,
                failure: ::std::sync::atomic::Ordering,
            ) -> Result<$v, $v> {
                <$ty>::compare_exchange(self, current, new, success, failure)
            }
        }
    };
}
pub(crate) use raw_atomics;

/// Implements [`Primitives`] for a backend whose crate mirrors `std::sync` and `std::thread`
/// (std itself, loom, shuttle): `$sync` and `$thread` name its modules.
macro_rules! std_like_primitives {
    ($backend:ty, $name:literal, $sync:ident, $thread:ident, model = $model:literal, cell = $cell:ident, spurious = $spurious:expr) => {
        impl $crate::sync::Primitives for $backend {
            const NAME: &'static str = $name;
            const MODEL: bool = $model;

            type Mutex<T: Send> = $sync::Mutex<T>;
            type Guard<'a, T: Send + 'a> = $sync::MutexGuard<'a, T>;
            type Condvar = $sync::Condvar;
            type JoinHandle<T: Send + 'static> = $thread::JoinHandle<T>;
            type AtomicUsize = $sync::atomic::AtomicUsize;
            type AtomicBool = $sync::atomic::AtomicBool;
            type Cell<T> = $cell<T>;

            fn mutex<T: Send>(value: T) -> Self::Mutex<T> {
                $sync::Mutex::new(value)
            }
            fn lock<T: Send>(mutex: &Self::Mutex<T>) -> Self::Guard<'_, T> {
                mutex
                    .lock()
                    .unwrap_or_else(::std::sync::PoisonError::into_inner)
            }
            fn into_inner<T: Send>(mutex: Self::Mutex<T>) -> T {
                mutex
                    .into_inner()
                    .unwrap_or_else(::std::sync::PoisonError::into_inner)
            }
            fn condvar() -> Self::Condvar {
                $sync::Condvar::new()
            }
            fn wait<'a, T: Send>(
                condvar: &Self::Condvar,
                guard: Self::Guard<'a, T>,
            ) -> Self::Guard<'a, T> {
                condvar
                    .wait(guard)
                    .unwrap_or_else(::std::sync::PoisonError::into_inner)
            }
            fn notify_one(condvar: &Self::Condvar) {
                condvar.notify_one()
            }
            fn notify_all(condvar: &Self::Condvar) {
                condvar.notify_all()
            }
            fn spurious_wakeup() -> bool {
                $spurious
            }
            fn spawn<T, F>(name: String, body: F) -> ::std::io::Result<Self::JoinHandle<T>>
            where
                T: Send + 'static,
                F: FnOnce() -> T + Send + 'static,
            {
                $thread::Builder::new().name(name).spawn(body)
            }
            fn join<T: Send + 'static>(handle: Self::JoinHandle<T>) -> ::std::thread::Result<T> {
                handle.join()
            }
            fn current_thread_name() -> Option<String> {
                $thread::current().name().map(str::to_owned)
            }
            fn yield_now() {
                $thread::yield_now()
            }
        }
    };
}
pub(crate) use std_like_primitives;

/// `core::cell::UnsafeCell` with loom's `with`/`with_mut` surface, for the backends that do not
/// check causality.
pub struct PlainCell<T>(::std::cell::UnsafeCell<T>);

// SAFETY: `Cell`'s contract makes the caller synchronise every access, as for loom's cell.
unsafe impl<T: Send> Sync for PlainCell<T> {}

impl<T> RawCell<T> for PlainCell<T> {
    fn new(value: T) -> Self {
        Self(::std::cell::UnsafeCell::new(value))
    }
    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
