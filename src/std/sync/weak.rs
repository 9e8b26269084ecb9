//! std's `Weak`, modelled with [`super::arc`] (where `upgrade`, which makes an `Arc`, lives):
//! an `upgrade` is a compare-exchange on the strong count that the checker interleaves with
//! the drops, so an upgrade racing the last drop is explored both ways.
//!
//! Invariant: a `Weak` is std's exactly when its `Arc` was (or it is `Weak::new()`, which
//! points to nothing); a modelled one holds one unit of the allocation's weak count and
//! frees the allocation when it takes that count to zero.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

use super::count::Line;
use super::inner::Inner;
use crate::std::rt;
use crate::sync::backend::Rmw;

/// std's `Weak`: a reference that does not keep the value alive; `upgrade` gives an `Arc` while
/// some `Arc` still does.
pub struct Weak<T: ?Sized> {
    pub(super) repr: WeakRepr<T>,
}

pub(super) enum WeakRepr<T: ?Sized> {
    Std(std::sync::Weak<T>),
    /// The allocation, and the line that made this handle (its drop's rows name it).
    Model(NonNull<Inner<T>>, Line, PhantomData<Inner<T>>),
}

// SAFETY: as std's: a `Weak` can become an `Arc` on any thread.
unsafe impl<T: ?Sized + Send + Sync> Send for Weak<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for Weak<T> {}
impl<T: ?Sized + RefUnwindSafe> UnwindSafe for Weak<T> {}
impl<T: ?Sized + RefUnwindSafe> RefUnwindSafe for Weak<T> {}
impl<T: ?Sized> Unpin for Weak<T> {}

impl<T> Weak<T> {
    /// A `Weak` to nothing: `upgrade` always returns `None`.
    pub const fn new() -> Weak<T> {
        Weak {
            repr: WeakRepr::Std(std::sync::Weak::new()),
        }
    }
}

impl<T: ?Sized> Weak<T> {
    pub(super) fn from_std(std: std::sync::Weak<T>) -> Self {
        Weak {
            repr: WeakRepr::Std(std),
        }
    }

    /// The `Weak` that owns one unit of the allocation's weak count, already counted; made
    /// at `at`.
    pub(super) fn from_inner(ptr: NonNull<Inner<T>>, at: Line) -> Self {
        Weak {
            repr: WeakRepr::Model(ptr, at, PhantomData),
        }
    }

    /// Gives up the unit of the weak count that all `Arc`s held together: the last `Arc` is
    /// gone (not recorded: std's bookkeeping, see `count`).
    pub(super) fn release_implicit(ptr: NonNull<Inner<T>>) {
        // SAFETY: the last `Arc` owned that unit.
        unsafe { Inner::release_weak(ptr, None) }
    }

    fn inner(&self) -> Option<&Inner<T>> {
        match &self.repr {
            WeakRepr::Std(_) => None,
            // SAFETY: a `Weak` keeps the allocation (not the value) alive.
            WeakRepr::Model(ptr, _, _) => Some(unsafe { ptr.as_ref() }),
        }
    }

    /// How many `Arc`s hold the value (0 for `Weak::new()`).
    #[track_caller]
    pub fn strong_count(&self) -> usize {
        match (&self.repr, self.inner()) {
            (WeakRepr::Std(std), _) => std.strong_count(),
            (_, inner) => {
                let inner = inner.expect("modelled");
                inner.check_execution();
                inner.strong.load(Relaxed, Location::caller())
            }
        }
    }

    /// How many `Weak`s point to the allocation, 0 once no `Arc` holds the value (as std's).
    #[track_caller]
    pub fn weak_count(&self) -> usize {
        let at = Location::caller();
        match (&self.repr, self.inner()) {
            (WeakRepr::Std(std), _) => std.weak_count(),
            (_, inner) => {
                let inner = inner.expect("modelled");
                inner.check_execution();
                let weak = inner.weak.load(Acquire, at);
                let strong = inner.strong.load(Relaxed, at);
                if strong == 0 {
                    0
                } else {
                    weak - 1
                }
            }
        }
    }

    /// Whether the two point to the same allocation (two `Weak::new()`s do).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        match (&self.repr, &other.repr) {
            (WeakRepr::Std(a), WeakRepr::Std(b)) => a.ptr_eq(b),
            (WeakRepr::Model(a, _, _), WeakRepr::Model(b, _, _)) => {
                a.cast::<()>() == b.cast::<()>()
            }
            _ => false,
        }
    }

    /// A pointer to the value, dangling once no `Arc` holds it.
    pub fn as_ptr(&self) -> *const T {
        match (&self.repr, self.inner()) {
            (WeakRepr::Std(std), _) => std.as_ptr(),
            (_, inner) => inner.expect("modelled").data.as_ptr(),
        }
    }
}

impl<T: ?Sized> Clone for Weak<T> {
    #[track_caller]
    fn clone(&self) -> Weak<T> {
        match &self.repr {
            WeakRepr::Std(std) => Weak::from_std(std.clone()),
            WeakRepr::Model(ptr, _, _) => {
                // SAFETY: as in `inner`.
                let inner = unsafe { ptr.as_ref() };
                inner.check_execution();
                let at = Location::caller();
                inner.weak.step(Rmw::Add, Relaxed, Some(at));
                Weak::from_inner(*ptr, at)
            }
        }
    }
}

impl<T: ?Sized> Drop for Weak<T> {
    fn drop(&mut self) {
        let WeakRepr::Model(ptr, at, _) = self.repr else {
            return;
        };
        // SAFETY: this `Weak` kept the allocation alive until its decrement below.
        let inner = unsafe { ptr.as_ref() };
        if inner.key != rt::key() {
            return; // See `Arc`'s drop.
        }
        // SAFETY: this `Weak` owns one unit of the weak count.
        super::leak::in_drop(|| unsafe { Inner::release_weak(ptr, Some(at)) });
    }
}

impl<T> Default for Weak<T> {
    fn default() -> Self {
        Weak::new()
    }
}

impl<T: ?Sized> fmt::Debug for Weak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(Weak)")
    }
}
