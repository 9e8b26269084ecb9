//! The std-shaped paths of each backend, so that code reads like std with no turbofish:
//! `use threadproof::sync::loom::{Mutex, Condvar, thread, atomic::AtomicUsize};`.
//!
//! Invariant: every name here is an alias of (or a thin function over) the generic facade of
//! [`super`] at one backend: the same code, recorded the same way. Code written once over any
//! backend keeps the generic form (`Mutex<P, T>` with `P: Primitives`).

/// The items of one backend's paths; `$backend` names it.
macro_rules! std_paths {
    ($backend:ty) => {
        /// This path's backend, for generic code (`BoundedBuffer<P>`) used from here.
        pub type P = $backend;

        pub use ::std::sync::Arc;

        pub type Mutex<T> = $crate::sync::Mutex<$backend, T>;
        pub type MutexGuard<'a, T> = $crate::sync::MutexGuard<'a, $backend, T>;
        pub type Condvar = $crate::sync::Condvar<$backend>;
        pub type RwLock<T> = $crate::sync::RwLock<$backend, T>;
        pub type RwLockReadGuard<'a, T> = $crate::sync::RwLockReadGuard<'a, $backend, T>;
        pub type RwLockWriteGuard<'a, T> = $crate::sync::RwLockWriteGuard<'a, $backend, T>;
        pub type Barrier = $crate::sync::Barrier<$backend>;
        pub use $crate::sync::BarrierWaitResult;
        pub type Semaphore = $crate::sync::Semaphore<$backend>;
        pub type Once = $crate::sync::Once<$backend>;
        /// std's `OnceLock`: [`crate::lazy::OnceValue`].
        pub type OnceLock<T> = $crate::lazy::OnceValue<$backend, T>;
        /// std's `LazyLock`: [`crate::lazy::Lazy`].
        pub type LazyLock<T, F = fn() -> T> = $crate::lazy::Lazy<$backend, T, F>;
        /// Plain shared data, race-checked by loom.
        pub type Cell<T> = $crate::sync::Cell<$backend, T>;

        /// Channels, as `std::sync::mpsc`.
        pub mod mpsc {
            pub type Sender<T> = $crate::sync::Sender<$backend, T>;
            pub type Receiver<T> = $crate::sync::Receiver<$backend, T>;

            /// An unbounded channel.
            pub fn channel<T: Send>() -> (Sender<T>, Receiver<T>) {
                $crate::sync::channel::<$backend, T>()
            }
        }

        /// Atomics, as `std::sync::atomic`.
        pub mod atomic {
            pub use ::std::sync::atomic::Ordering;

            pub type AtomicBool = $crate::sync::AtomicBool<$backend>;
            pub type AtomicUsize = $crate::sync::AtomicUsize<$backend>;
        }

        /// Threads, as `std::thread`.
        pub mod thread {
            pub type JoinHandle<T> = $crate::sync::JoinHandle<$backend, T>;

            /// Spawns a thread named `name` (its name in traces and reports).
            #[track_caller]
            pub fn spawn_named<F, T>(name: impl Into<String>, body: F) -> JoinHandle<T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                $crate::sync::spawn::<$backend, T, F>(name, body)
                    .expect("the backend failed to spawn a thread")
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
