//! The cell a backend checks for data races, and the plain one of the backends that do not.
//!
//! Invariant: [`RawCell`] is loom's `UnsafeCell` surface (`with`/`with_mut`); [`PlainCell`]
//! is `core::cell::UnsafeCell` behind it, checking nothing, and the caller synchronises every
//! access as [`crate::sync::UnsafeCell`]'s contract says.

/// A cell whose accesses the backend can check for data races (loom's `UnsafeCell`). An
/// implementation that reports races marks its methods `#[track_caller]`, so that they name
/// the user's lines.
pub trait RawCell<T> {
    #[track_caller]
    fn new(value: T) -> Self;
    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R;
    #[track_caller]
    fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R;
}

/// `core::cell::UnsafeCell` with loom's `with`/`with_mut` surface, for the backends that do not
/// check causality.
pub struct PlainCell<T>(::std::cell::UnsafeCell<T>);

// SAFETY: `UnsafeCell`'s contract makes the caller synchronise every access, as for loom's cell.
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
