//! [`Cell`]: plain shared memory whose accesses loom checks for data races.
//!
//! Invariant: the caller synchronises every access (see [`Cell`]'s safety contract); loom
//! verifies it, the other backends trust it.

use super::{Primitives, RawCell};

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
