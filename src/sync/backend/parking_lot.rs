//! The parking_lot backend: production locks and condvars from `parking_lot`, with `std`
//! threads and atomics (parking_lot has none of its own).
//!
//! Invariant: a faithful pass-through; parking_lot locks never poison.

use crate::sync::backend::PlainCell;
use crate::sync::model::ThreadContext;
use crate::sync::{Primitives, Std};
use ::std::cell::RefCell;
use ::std::io;

/// Production primitives with parking_lot's `Mutex` and `Condvar`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParkingLot;

impl Primitives for ParkingLot {
    const NAME: &'static str = "parking-lot";
    const MODEL: bool = false;

    type Mutex<T: Send> = ::parking_lot::Mutex<T>;
    type Guard<'a, T: Send + 'a> = ::parking_lot::MutexGuard<'a, T>;
    type Condvar = ::parking_lot::Condvar;
    type JoinHandle<T: Send + 'static> = <Std as Primitives>::JoinHandle<T>;
    type Atomic<V: crate::sync::AtomicValue> = <Std as Primitives>::Atomic<V>;
    type UnsafeCell<T> = PlainCell<T>;

    fn mutex<T: Send>(value: T) -> Self::Mutex<T> {
        ::parking_lot::Mutex::new(value)
    }
    fn lock<T: Send>(mutex: &Self::Mutex<T>) -> Self::Guard<'_, T> {
        mutex.lock()
    }
    fn into_inner<T: Send>(mutex: Self::Mutex<T>) -> T {
        mutex.into_inner()
    }
    fn try_lock<T: Send>(mutex: &Self::Mutex<T>) -> Option<Self::Guard<'_, T>> {
        mutex.try_lock()
    }

    type RwLock<T: Send + Sync> = ::parking_lot::RwLock<T>;
    type Signal = <Std as Primitives>::Signal;
    type Token = <Std as Primitives>::Token;

    fn condvar() -> Self::Condvar {
        ::parking_lot::Condvar::new()
    }
    fn wait<'a, T: Send>(
        condvar: &Self::Condvar,
        mut guard: Self::Guard<'a, T>,
    ) -> Self::Guard<'a, T> {
        condvar.wait(&mut guard);
        guard
    }
    fn notify_one(condvar: &Self::Condvar) {
        condvar.notify_one();
    }
    fn notify_all(condvar: &Self::Condvar) {
        condvar.notify_all();
    }
    fn spawn_sized<T, F>(
        name: Option<String>,
        stack_size: Option<usize>,
        body: F,
    ) -> io::Result<Self::JoinHandle<T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        Std::spawn_sized(name, stack_size, body)
    }
    fn join<T: Send + 'static>(handle: Self::JoinHandle<T>) -> ::std::thread::Result<T> {
        Std::join(handle)
    }
    fn yield_now() {
        Std::yield_now()
    }
    fn fence(order: ::std::sync::atomic::Ordering) {
        Std::fence(order)
    }
    fn sleep(duration: ::std::time::Duration) {
        Std::sleep(duration)
    }

    type Thread = <Std as Primitives>::Thread;
    fn thread_of<T: Send + 'static>(
        handle: &Self::JoinHandle<T>,
        parker: Option<::std::sync::Arc<dyn ::std::any::Any + Send + Sync>>,
    ) -> Self::Thread {
        Std::thread_of(handle, parker)
    }

    fn wait_timeout<'a, T: Send>(
        condvar: &Self::Condvar,
        mut guard: Self::Guard<'a, T>,
        timeout: ::std::time::Duration,
    ) -> (Self::Guard<'a, T>, bool) {
        let timed_out = condvar.wait_for(&mut guard, timeout).timed_out();
        (guard, timed_out)
    }
    fn with_thread_context<R>(f: impl FnOnce(&RefCell<Option<ThreadContext>>) -> R) -> R {
        Std::with_thread_context(f)
    }
}
