//! The std-shaped paths of each backend, so that code reads like std with no turbofish:
//! `use threadproof::sync::loom::{Mutex, Condvar, thread, atomic::AtomicUsize};`.
//!
//! Invariant: every name here is an alias of (or a thin function over) the generic facade of
//! [`super`] at one backend: the same code, recorded the same way. Code written once over any
//! backend keeps the generic form (`Mutex<P, T>` with `P: Primitives`), and `P` here names the
//! path's backend for it.
//!
//! Where these differ from std (`threadproof::std` has std's exact signatures): `Mutex` needs
//! `T: Send`, `RwLock` `T: Send + Sync` and the channels `T: Send`, and none takes `T: ?Sized`;
//! `lock`, `read` and `write` return the guard (no poisoning);
//! `JoinHandle::join` returns the panic's message as [`super::Panicked`]; `Receiver::recv`
//! returns an `Option` (`None` once every sender is gone); `Once` and `OnceLock` retry after a
//! panicking initialiser instead of poisoning; nothing is `const`, since loom's primitives
//! cannot be; and [`choose`](loom::choose) is threadproof's own.

/// The items of one backend's paths; `$backend` names it.
macro_rules! std_paths {
    ($backend:ty) => {
        /// This path's backend, for generic code (`BoundedBuffer<P>`) used from here.
        pub type P = $backend;

        /// std's `Arc` on every backend: the checkers need not see reference counts (loom's
        /// `Arc` multiplies executions by making every clone a scheduling point).
        pub use ::std::sync::Arc;

        pub type Mutex<T> = $crate::sync::Mutex<$backend, T>;
        pub type MutexGuard<'a, T> = $crate::sync::MutexGuard<'a, $backend, T>;
        pub type Condvar = $crate::sync::Condvar<$backend>;
        pub use $crate::sync::WaitTimeoutResult;
        pub type RwLock<T> = $crate::sync::RwLock<$backend, T>;
        pub type RwLockReadGuard<'a, T> = $crate::sync::RwLockReadGuard<'a, $backend, T>;
        pub type RwLockWriteGuard<'a, T> = $crate::sync::RwLockWriteGuard<'a, $backend, T>;
        pub type Barrier = $crate::sync::Barrier<$backend>;
        pub use $crate::sync::BarrierWaitResult;
        pub type Semaphore = $crate::sync::Semaphore<$backend>;
        pub type Once = $crate::sync::Once<$backend>;
        pub type OnceLock<T> = $crate::sync::OnceLock<$backend, T>;
        pub type LazyLock<T, F = fn() -> T> = $crate::sync::LazyLock<$backend, T, F>;
        /// Plain shared data: race-checked by loom, each access a scheduling point in shuttle.
        pub type UnsafeCell<T> = $crate::sync::UnsafeCell<$backend, T>;

        /// A value in `0..n` that the checker chooses: loom explores every one, shuttle draws
        /// one per execution (replayably); production draws one at random.
        #[track_caller]
        pub fn choose(n: usize) -> usize {
            $crate::sync::choose::<$backend>(n)
        }

        /// Channels, as `std::sync::mpsc`.
        pub mod mpsc {
            pub use $crate::sync::{RecvTimeoutError, TryRecvError, TrySendError};

            pub type Sender<T> = $crate::sync::Sender<$backend, T>;
            pub type SyncSender<T> = $crate::sync::SyncSender<$backend, T>;
            pub type Receiver<T> = $crate::sync::Receiver<$backend, T>;

            /// An unbounded channel.
            pub fn channel<T: Send>() -> (Sender<T>, Receiver<T>) {
                $crate::sync::channel::<$backend, T>()
            }

            /// A channel of at most `bound` messages (a rendezvous at 0).
            pub fn sync_channel<T: Send>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
                $crate::sync::sync_channel::<$backend, T>(bound)
            }
        }

        /// Atomics, as `std::sync::atomic`.
        pub mod atomic {
            pub use ::std::sync::atomic::Ordering;

            pub use $crate::sync::compiler_fence;
            pub type AtomicBool = $crate::sync::AtomicBool<$backend>;
            pub type AtomicI8 = $crate::sync::AtomicI8<$backend>;
            pub type AtomicI16 = $crate::sync::AtomicI16<$backend>;
            pub type AtomicI32 = $crate::sync::AtomicI32<$backend>;
            pub type AtomicI64 = $crate::sync::AtomicI64<$backend>;
            pub type AtomicIsize = $crate::sync::AtomicIsize<$backend>;
            pub type AtomicU8 = $crate::sync::AtomicU8<$backend>;
            pub type AtomicU16 = $crate::sync::AtomicU16<$backend>;
            pub type AtomicU32 = $crate::sync::AtomicU32<$backend>;
            pub type AtomicU64 = $crate::sync::AtomicU64<$backend>;
            pub type AtomicUsize = $crate::sync::AtomicUsize<$backend>;
            pub type AtomicPtr<T> = $crate::sync::AtomicPtr<$backend, T>;

            /// A memory fence (a `Relaxed` fence panics, as std's does).
            #[track_caller]
            pub fn fence(order: Ordering) {
                $crate::sync::fence::<$backend>(order)
            }
        }

        /// Threads, as `std::thread`.
        pub mod thread {
            use ::std::time::Duration;

            pub type JoinHandle<T> = $crate::sync::JoinHandle<$backend, T>;
            pub type Thread = $crate::sync::Thread<$backend>;
            pub type Builder = $crate::sync::Builder<$backend>;
            pub type Scope<'scope, 'env> = $crate::sync::Scope<'scope, 'env, $backend>;
            pub type ScopedJoinHandle<'scope, T> =
                $crate::sync::ScopedJoinHandle<'scope, $backend, T>;

            /// Spawns a thread (named by its place in the spawn tree in traces: `t0`, `t0.1`).
            #[track_caller]
            pub fn spawn<F, T>(body: F) -> JoinHandle<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                Builder::new()
                    .spawn(body)
                    .expect("the backend failed to spawn a thread")
            }

            /// Runs `f` with a scope whose threads may borrow from the caller; every one is
            /// joined before `scope` returns.
            #[track_caller]
            pub fn scope<'env, F, T>(f: F) -> T
            where
                F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
            {
                $crate::sync::scope::<$backend, F, T>(f)
            }

            /// The running thread's handle (`main` is named `main` on every backend).
            pub fn current() -> Thread {
                $crate::sync::current::<$backend>()
            }

            /// Parks until unparked (may return spuriously: an explored fault in the models).
            #[track_caller]
            pub fn park() {
                $crate::sync::park::<$backend>()
            }

            /// Parks until unparked or `timeout` (an explored choice in the models).
            #[track_caller]
            pub fn park_timeout(timeout: Duration) {
                $crate::sync::park_timeout::<$backend>(timeout)
            }

            /// Sleeps (production); yields under the checkers, which have no time.
            pub fn sleep(duration: Duration) {
                $crate::sync::sleep::<$backend>(duration)
            }

            /// Offers the scheduler a chance to run another thread.
            pub fn yield_now() {
                $crate::sync::yield_now::<$backend>()
            }
        }
    };
}

/// The loom backend's paths: valid inside a loom model only.
pub mod loom {
    std_paths!(crate::sync::Loom);
}

/// The shuttle backend's paths: valid inside a shuttle run only.
pub mod shuttle {
    std_paths!(crate::sync::Shuttle);
}

/// The std backend's paths: production, anywhere.
pub mod std {
    std_paths!(crate::sync::Std);
}

/// The parking_lot backend's paths: production, anywhere.
pub mod parking_lot {
    std_paths!(crate::sync::ParkingLot);
}
