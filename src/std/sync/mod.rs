//! std's `std::sync`, checked: every type at std's path with std's signatures, dispatching at
//! run time to the checker that runs the current execution (std's own outside one).
//!
//! Invariant: each type is a thin layer over the generic wrappers of [`crate::sync`] (which
//! record traces and explore spurious wakeups and timeouts), made per execution
//! (`PerExec`) so that `new` is `const` and a `static` is fresh in every
//! execution.
//!
//! `Arc` and `Weak` are std's: the checkers do not see reference counts (loom's `Arc` makes
//! every clone and drop a scheduling point, multiplying executions; see design.md), so a leak
//! or a `try_unwrap` race is not explored. Data behind an `Arc` that a mirror lock or atomic
//! guards is checked as usual.

pub mod atomic;
mod condvar;
pub mod mpsc;
mod mutex;
mod once;
mod rwlock;

pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};

pub use self::condvar::{Condvar, WaitTimeoutResult};
pub use self::mutex::{Mutex, MutexGuard};
pub use self::once::{Barrier, BarrierWaitResult, LazyLock, Once, OnceLock};
pub use self::rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
