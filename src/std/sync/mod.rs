//! std's `std::sync`, checked: every type at std's path with std's signatures, dispatching at
//! run time to the checker that runs the current execution (std's own outside one).
//!
//! Invariant: each type is a thin layer over the generic wrappers of [`crate::sync`] (which
//! record traces and explore spurious wakeups and timeouts), made per execution
//! (`PerExec`) so that `new` is `const` and a `static` is fresh in every
//! execution.
//!
//! `Arc` and `Weak` are modelled ([`Arc`]): under a checker their counts are its atomics, so
//! every drop, upgrade and `try_unwrap` is interleaved, each with the clones traced
//! (`Arc#1.strong`), and
//! an `Arc` still held when the execution ends fails it as a leak, with the line that made it.
//! An unsized `Arc` (`Arc<dyn Trait>`, `Arc<str>`) is made with `Arc::from(Box<T>)`: std's
//! coercion from `Arc<T>` needs an unstable trait. It costs executions, as loom's `Arc` does:
//! the drops of one `Arc` by several threads are ordered every way (three threads each adding
//! to a shared atomic and dropping their clone: 13,662 loom executions with std's `Arc`,
//! 204,534 with this one, 1,413,525 were clones scheduling points too). Scoped threads
//! (`thread::scope`) share by borrowing, with no `Arc`.

mod arc;
pub mod atomic;
mod condvar;
mod count;
mod inner;
mod leak;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;
mod weak;

pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

pub use self::arc::{Arc, Weak};

pub use self::condvar::{Condvar, WaitTimeoutResult};
pub use self::mutex::{Mutex, MutexGuard};
pub use self::once::{Barrier, BarrierWaitResult, LazyLock, Once, OnceLock, OnceState};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) use self::leak::check_at_end as check_leaks;
pub(crate) use self::mutex::STATIC_DATA;
