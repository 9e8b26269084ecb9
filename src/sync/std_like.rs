//! The `impl Primitives` shared by the backends whose crates mirror `std::sync` and
//! `std::thread` (std itself, loom, shuttle), as two macros.
//!
//! Invariant: the macros only forward to the named crate's types, entering poisoned locks
//! anyway; whatever differs between those backends is a macro argument.

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
