//! The `impl Primitives` shared by the backends whose crates mirror `std::sync` and
//! `std::thread` (std itself, loom, shuttle), as two macros.
//!
//! Invariant: the macros only forward to the named crate's types, entering poisoned locks
//! anyway; whatever differs between those backends is a macro argument. `seq_cst_fence` is
//! called before a `SeqCst` load, after a `SeqCst` store and around a `SeqCst`
//! read-modify-write: a no-op except under loom (see the module docs of [`crate::sync`]).

/// Implements [`RawAtomic`] for every atomic type of a backend's `atomic` module (named by
/// `$atomic`), which all share std's method names: the integers with every `fetch_*`
/// operation, `bool` with the bitwise ones, pointers with none.
///
/// [`RawAtomic`]: crate::sync::backend::RawAtomic
macro_rules! raw_atomics {
    ($atomic:ident, seq_cst_fence = $fence:path) => {
        $crate::sync::raw_atomics!(@int $atomic, $fence,
            AtomicI8 i8, AtomicI16 i16, AtomicI32 i32, AtomicI64 i64, AtomicIsize isize,
            AtomicU8 u8, AtomicU16 u16, AtomicU32 u32, AtomicU64 u64, AtomicUsize usize);
        $crate::sync::raw_atomics!(@common $atomic::AtomicBool, bool, [], $fence, fetch = [
            #[inline]
            fn fetch(&self, op: $crate::sync::backend::Rmw, operand: bool, order: ::std::sync::atomic::Ordering) -> bool {
                use $crate::sync::backend::Rmw;
                $fence(order);
                let old = match op {
                    Rmw::And => self.fetch_and(operand, order),
                    Rmw::Nand => self.fetch_nand(operand, order),
                    Rmw::Or => self.fetch_or(operand, order),
                    Rmw::Xor => self.fetch_xor(operand, order),
                    Rmw::Add | Rmw::Sub | Rmw::Max | Rmw::Min => {
                        unreachable!("{op:?} is not a bool operation")
                    }
                };
                $fence(order);
                old
            }
        ]);
        $crate::sync::raw_atomics!(@common $atomic::AtomicPtr<T>, *mut T, [T], $fence, fetch = [
            fn fetch(&self, op: $crate::sync::backend::Rmw, _: *mut T, _: ::std::sync::atomic::Ordering) -> *mut T {
                unreachable!("{op:?} is not a pointer operation")
            }
        ]);
    };
    (@int $atomic:ident, $fence:path, $($ty:ident $v:ty),*) => {$(
        $crate::sync::raw_atomics!(@common $atomic::$ty, $v, [], $fence, fetch = [
            #[inline]
            fn fetch(&self, op: $crate::sync::backend::Rmw, operand: $v, order: ::std::sync::atomic::Ordering) -> $v {
                use $crate::sync::backend::Rmw;
                $fence(order);
                let old = match op {
                    Rmw::Add => self.fetch_add(operand, order),
                    Rmw::Sub => self.fetch_sub(operand, order),
                    Rmw::And => self.fetch_and(operand, order),
                    Rmw::Nand => self.fetch_nand(operand, order),
                    Rmw::Or => self.fetch_or(operand, order),
                    Rmw::Xor => self.fetch_xor(operand, order),
                    Rmw::Max => self.fetch_max(operand, order),
                    Rmw::Min => self.fetch_min(operand, order),
                };
                $fence(order);
                old
            }
        ]);
    )*};
    (@common $ty:ty, $v:ty, [$($generic:ident)?], $fence:path, fetch = [$($fetch:tt)*]) => {
        impl<$($generic: 'static)?> $crate::sync::backend::RawAtomic<$v> for $ty {
            #[inline]
            fn new(value: $v) -> Self {
                <$ty>::new(value)
            }
            #[inline]
            fn load(&self, order: ::std::sync::atomic::Ordering) -> $v {
                $fence(order);
                <$ty>::load(self, order)
            }
            #[inline]
            fn store(&self, value: $v, order: ::std::sync::atomic::Ordering) {
                <$ty>::store(self, value, order);
                $fence(order);
            }
            #[inline]
            fn swap(&self, value: $v, order: ::std::sync::atomic::Ordering) -> $v {
                $fence(order);
                let old = <$ty>::swap(self, value, order);
                $fence(order);
                old
            }
            #[inline]
            fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: ::std::sync::atomic::Ordering,
                failure: ::std::sync::atomic::Ordering,
            ) -> Result<$v, $v> {
                $fence(success);
                let result = <$ty>::compare_exchange(self, current, new, success, failure);
                $fence(if result.is_ok() { success } else { failure });
                result
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: $v,
                new: $v,
                success: ::std::sync::atomic::Ordering,
                failure: ::std::sync::atomic::Ordering,
            ) -> Result<$v, $v> {
                $fence(success);
                let result = <$ty>::compare_exchange_weak(self, current, new, success, failure);
                $fence(if result.is_ok() { success } else { failure });
                result
            }
            $($fetch)*
            #[inline]
            fn into_inner(self) -> $v {
                <$ty>::into_inner(self)
            }
        }
    };
}
pub(crate) use raw_atomics;

/// Implements [`Primitives`] for a backend whose crate mirrors `std::sync` and `std::thread`
/// (std itself, loom, shuttle): `$sync` and `$thread` name its modules.
macro_rules! std_like_primitives {
    (@threads std) => {
        type Thread = ::std::thread::Thread;
        fn thread_of<T: Send + 'static>(
            handle: &Self::JoinHandle<T>,
            _: Option<::std::sync::Arc<dyn ::std::any::Any + Send + Sync>>,
        ) -> Self::Thread {
            handle.thread().clone()
        }
    };
    (@threads model) => {
        type Thread = ::std::sync::Arc<$crate::sync::backend::Parker<Self>>;
        fn thread_of<T: Send + 'static>(
            _: &Self::JoinHandle<T>,
            parker: Option<::std::sync::Arc<dyn ::std::any::Any + Send + Sync>>,
        ) -> Self::Thread {
            parker
                .expect("a model thread's parker is made before it is spawned")
                .downcast()
                .unwrap_or_else(|_| unreachable!("a thread's parker is of its own backend"))
        }
    };
    ($backend:ty, $name:literal, $sync:ident, $thread:ident, model = $model:literal, cell = $cell:ident, spurious = $spurious:expr, context = $context:ident, max_spawned = $max_spawned:expr, plain_access = $plain_access:expr, rwlock = $rwlock:ty, signal = $signal:ty, token = $token:ty, atomics = $atomic_of:ident, threads = $threads:ident, sleep = $sleep:path) => {
        impl $crate::sync::Primitives for $backend {
            const NAME: &'static str = $name;
            const MODEL: bool = $model;
            const MAX_SPAWNED: Option<usize> = $max_spawned;

            type Mutex<T: Send> = $sync::Mutex<T>;
            type Guard<'a, T: Send + 'a> = $sync::MutexGuard<'a, T>;
            type Condvar = $sync::Condvar;
            type JoinHandle<T: Send + 'static> = $thread::JoinHandle<T>;
            type Atomic<V: $crate::sync::AtomicValue> = V::$atomic_of;
            type UnsafeCell<T> = $cell<T>;

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
            fn try_lock<T: Send>(mutex: &Self::Mutex<T>) -> Option<Self::Guard<'_, T>> {
                match mutex.try_lock() {
                    Ok(guard) => Some(guard),
                    Err(::std::sync::TryLockError::Poisoned(poisoned)) => {
                        Some(poisoned.into_inner())
                    }
                    Err(::std::sync::TryLockError::WouldBlock) => None,
                }
            }

            type RwLock<T: Send + Sync> = $rwlock;
            type Signal = $signal;
            type Token = $token;
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
            fn spawn_sized<T, F>(
                name: Option<String>,
                stack_size: Option<usize>,
                body: F,
            ) -> ::std::io::Result<Self::JoinHandle<T>>
            where
                T: Send + 'static,
                F: FnOnce() -> T + Send + 'static,
            {
                let mut builder = $thread::Builder::new();
                if let Some(name) = name {
                    builder = builder.name(name);
                }
                if let Some(size) = stack_size {
                    builder = builder.stack_size(size);
                }
                builder.spawn(body)
            }
            fn join<T: Send + 'static>(handle: Self::JoinHandle<T>) -> ::std::thread::Result<T> {
                handle.join()
            }
            fn yield_now() {
                $thread::yield_now()
            }
            fn fence(order: ::std::sync::atomic::Ordering) {
                $sync::atomic::fence(order)
            }
            fn sleep(duration: ::std::time::Duration) {
                $sleep(duration)
            }
            fn wait_timeout<'a, T: Send>(
                condvar: &Self::Condvar,
                guard: Self::Guard<'a, T>,
                timeout: ::std::time::Duration,
            ) -> (Self::Guard<'a, T>, bool) {
                let (guard, result) = condvar
                    .wait_timeout(guard, timeout)
                    .unwrap_or_else(::std::sync::PoisonError::into_inner);
                (guard, result.timed_out())
            }
            $crate::sync::std_like_primitives!(@threads $threads);
            fn with_thread_context<R>(
                f: impl FnOnce(
                    &::std::cell::RefCell<Option<$crate::sync::model::ThreadContext>>,
                ) -> R,
            ) -> R {
                $context.with(f)
            }
            fn plain_access() {
                $plain_access
            }
        }
    };
}
pub(crate) use std_like_primitives;
