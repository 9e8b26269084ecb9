//! std's `Arc`, modelled: under a checker its strong and weak counts are the backend's atomics
//! (traced as `Arc#n.strong` and `Arc#n.weak`), so every drop, upgrade, downgrade and
//! `try_unwrap` is an operation the checker interleaves (a clone, which commutes with them,
//! only a row: [`super::count::Strong`]); outside one it is std's own `Arc`.
//!
//! Invariant: an `Arc` made outside an execution is `std::sync::Arc` and stays one wherever it
//! goes. One made inside follows std's algorithm step for step (the same counts, orderings and
//! fences, the value dropped by whichever thread takes the strong count to zero), and is
//! registered with its allocation's location ([`super::leak`]) until that happens: one still
//! registered when the execution ends is a leak, which fails the execution as loom's does.

use std::borrow::Borrow;
use std::cmp::Ordering as Order;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::panic::{Location, RefUnwindSafe, UnwindSafe};
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

use super::count::Line;
use super::inner::Inner;
use super::leak;
use super::weak::WeakRepr;
use crate::std::rt::{self, Engine};

pub use super::weak::Weak;

/// std's `Arc`: a value shared by counted references, freed by the last one.
pub struct Arc<T: ?Sized> {
    pub(super) repr: Repr<T>,
}

pub(super) enum Repr<T: ?Sized> {
    Std(std::sync::Arc<T>),
    /// The allocation, and the line that made this handle (its drop's rows name it).
    Model(NonNull<Inner<T>>, Line, PhantomData<Inner<T>>),
}

// SAFETY: as std's: an `Arc` hands `&T` to every thread and drops `T` on whichever thread
// drops the last one, so both need `T: Send + Sync`. The counts are atomics.
unsafe impl<T: ?Sized + Send + Sync> Send for Arc<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for Arc<T> {}
impl<T: ?Sized + RefUnwindSafe> UnwindSafe for Arc<T> {}
impl<T: ?Sized + RefUnwindSafe> RefUnwindSafe for Arc<T> {}
impl<T: ?Sized> Unpin for Arc<T> {}

impl<T> Arc<T> {
    /// A new `Arc`; under a checker, its location is the one a leak of it names.
    #[track_caller]
    pub fn new(data: T) -> Arc<T> {
        Arc::from_box(Box::new(data), Location::caller())
    }

    /// The value, if this is the only `Arc` (weak ones do not count); otherwise `this` back.
    #[track_caller]
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        let at = Location::caller();
        let ptr = match &this.repr {
            Repr::Std(_) => {
                return match this.into_std() {
                    Ok(std) => std::sync::Arc::try_unwrap(std).map_err(Arc::from_std),
                    Err(_) => unreachable!(),
                }
            }
            Repr::Model(ptr, _, _) => *ptr,
        };
        // SAFETY: an `Arc` keeps its allocation alive.
        let inner = unsafe { ptr.as_ref() };
        inner.check_execution();
        if (inner.strong)
            .compare_exchange(1, 0, Relaxed, Relaxed, at)
            .is_err()
        {
            return Err(this);
        }
        inner.strong.acquire_fence();
        this.forget();
        // SAFETY: this thread took the strong count to zero.
        let value = unsafe { inner.take_value() };
        Weak::release_implicit(ptr);
        Ok(value)
    }

    /// The value, if this was the last `Arc` (as std's: of two threads calling it on the last
    /// two clones, exactly one gets it).
    #[track_caller]
    pub fn into_inner(this: Self) -> Option<T> {
        let at = Location::caller();
        let ptr = match this.into_std() {
            Ok(std) => return std::sync::Arc::into_inner(std),
            Err(ptr) => ptr,
        };
        // SAFETY: this `Arc` kept the allocation alive until its decrement below.
        let inner = unsafe { ptr.as_ref() };
        inner.check_execution();
        if !inner.strong_down(at) {
            return None;
        }
        // SAFETY: this thread took the strong count to zero.
        let value = unsafe { inner.take_value() };
        Weak::release_implicit(ptr);
        Some(value)
    }

    /// The value if this is the only `Arc`, a clone of it otherwise.
    #[track_caller]
    pub fn unwrap_or_clone(this: Self) -> T
    where
        T: Clone,
    {
        Arc::try_unwrap(this).unwrap_or_else(|arc| (*arc).clone())
    }
}

impl<T: ?Sized> Arc<T> {
    /// The boxed value in a new `Arc`: std's when no checker runs, modelled otherwise.
    fn from_box(data: Box<T>, at: Line) -> Arc<T> {
        let repr = match rt::engine() {
            Engine::Std => Repr::Std(std::sync::Arc::from(data)),
            engine => Repr::Model(Inner::model(engine, data, at), at, PhantomData),
        };
        Arc { repr }
    }

    pub(super) fn from_std(std: std::sync::Arc<T>) -> Self {
        Arc {
            repr: Repr::Std(std),
        }
    }

    /// The handle of an allocation whose strong count already counts it, made at `at`.
    pub(super) fn from_inner(ptr: NonNull<Inner<T>>, at: Line) -> Self {
        Arc {
            repr: Repr::Model(ptr, at, PhantomData),
        }
    }

    /// std's `Arc`, or the modelled allocation, without dropping `this`.
    fn into_std(self) -> Result<std::sync::Arc<T>, NonNull<Inner<T>>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again, nor dropped: its field moves out once.
        match unsafe { std::ptr::read(&this.repr) } {
            Repr::Std(std) => Ok(std),
            Repr::Model(ptr, _, _) => Err(ptr),
        }
    }

    /// Lets go of a modelled `Arc` whose strong reference the caller has taken over.
    fn forget(self) {
        let _ = self.into_std().err().expect("a modelled Arc");
    }

    /// The allocation of a modelled `Arc`.
    pub(super) fn inner(&self) -> Option<&Inner<T>> {
        match &self.repr {
            Repr::Std(_) => None,
            // SAFETY: an `Arc` keeps its allocation alive.
            Repr::Model(ptr, _, _) => Some(unsafe { ptr.as_ref() }),
        }
    }

    fn std(&self) -> Option<&std::sync::Arc<T>> {
        match &self.repr {
            Repr::Std(std) => Some(std),
            Repr::Model(..) => None,
        }
    }

    /// A new `Weak` to this allocation (std's loop: wait while `get_mut` holds the weak count
    /// locked).
    #[track_caller]
    pub fn downgrade(this: &Self) -> Weak<T> {
        let at = Location::caller();
        let (ptr, inner) = match &this.repr {
            Repr::Std(std) => return Weak::from_std(std::sync::Arc::downgrade(std)),
            // SAFETY: an `Arc` keeps its allocation alive.
            Repr::Model(ptr, _, _) => (*ptr, unsafe { ptr.as_ref() }),
        };
        inner.check_execution();
        let mut current = inner.weak.load(Relaxed, at);
        loop {
            if current == usize::MAX {
                inner.weak.yield_now();
                current = inner.weak.load(Relaxed, at);
                continue;
            }
            match (inner.weak).compare_exchange(current, current + 1, Acquire, Relaxed, at) {
                Ok(_) => return Weak::from_inner(ptr, at),
                Err(seen) => current = seen,
            }
        }
    }

    /// How many `Arc`s share the value (a relaxed load, as std's).
    #[track_caller]
    pub fn strong_count(this: &Self) -> usize {
        match (this.std(), this.inner()) {
            (Some(std), _) => std::sync::Arc::strong_count(std),
            (_, inner) => {
                let inner = inner.expect("modelled");
                inner.check_execution();
                inner.strong.load(Relaxed, Location::caller())
            }
        }
    }

    /// How many `Weak`s point to the value.
    #[track_caller]
    pub fn weak_count(this: &Self) -> usize {
        match (this.std(), this.inner()) {
            (Some(std), _) => std::sync::Arc::weak_count(std),
            (_, inner) => {
                let inner = inner.expect("modelled");
                inner.check_execution();
                match inner.weak.load(Relaxed, Location::caller()) {
                    // Locked by `get_mut`, which found no `Weak`.
                    usize::MAX => 0,
                    count => count - 1,
                }
            }
        }
    }

    /// The value, mutably, if no other `Arc` or `Weak` points to it.
    #[track_caller]
    pub fn get_mut(this: &mut Self) -> Option<&mut T> {
        let at = Location::caller();
        let ptr = match &mut this.repr {
            Repr::Std(std) => return std::sync::Arc::get_mut(std),
            Repr::Model(ptr, _, _) => *ptr,
        };
        // SAFETY: an `Arc` keeps its allocation alive.
        let inner = unsafe { ptr.as_ref() };
        inner.check_execution();
        // SAFETY: unique: no other handle can reach the value while `this` is borrowed.
        inner
            .is_unique(at)
            .then(|| unsafe { &mut *inner.data.as_ptr() })
    }

    /// Whether the two point to the same allocation.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        match (&this.repr, &other.repr) {
            (Repr::Std(a), Repr::Std(b)) => std::sync::Arc::ptr_eq(a, b),
            (Repr::Model(a, _, _), Repr::Model(b, _, _)) => a.cast::<()>() == b.cast::<()>(),
            _ => false,
        }
    }

    /// A pointer to the value.
    pub fn as_ptr(this: &Self) -> *const T {
        match (this.std(), this.inner()) {
            (Some(std), _) => std::sync::Arc::as_ptr(std),
            (_, inner) => inner.expect("modelled").data.as_ptr(),
        }
    }
}

impl<T: ?Sized> Weak<T> {
    /// An `Arc` to the value, if one still holds it (std's increment-if-not-zero loop).
    #[track_caller]
    pub fn upgrade(&self) -> Option<Arc<T>> {
        let at = Location::caller();
        let ptr = match &self.repr {
            WeakRepr::Std(std) => return std.upgrade().map(Arc::from_std),
            WeakRepr::Model(ptr, _, _) => *ptr,
        };
        // SAFETY: a `Weak` keeps the allocation alive.
        let inner = unsafe { ptr.as_ref() };
        inner.check_execution();
        let mut current = inner.strong.load(Relaxed, at);
        loop {
            if current == 0 {
                return None;
            }
            match (inner.strong).compare_exchange(current, current + 1, Acquire, Relaxed, at) {
                Ok(_) => {
                    leak::cloned(inner.id);
                    return Some(Arc::from_inner(ptr, at));
                }
                Err(seen) => current = seen,
            }
        }
    }
}

impl<T: Clone> Arc<T> {
    /// The value, mutably: cloned into a new allocation first if another `Arc` shares it,
    /// moved into one if only `Weak`s do (they then upgrade to nothing), as std's.
    #[track_caller]
    pub fn make_mut(this: &mut Self) -> &mut T {
        let at = Location::caller();
        let ptr = match this.repr {
            Repr::Std(_) => {
                let Repr::Std(std) = &mut this.repr else {
                    unreachable!()
                };
                return std::sync::Arc::make_mut(std);
            }
            Repr::Model(ptr, _, _) => ptr,
        };
        // SAFETY: an `Arc` keeps its allocation alive.
        let inner = unsafe { ptr.as_ref() };
        inner.check_execution();
        if (inner.strong)
            .compare_exchange(1, 0, Acquire, Relaxed, at)
            .is_err()
        {
            // Another `Arc` shares it: clone.
            *this = Arc::from_box(Box::new((**this).clone()), at);
        } else if inner.weak.load(Relaxed, at) != 1 {
            // Only `Weak`s share it: move the value out and leave them the empty allocation.
            // SAFETY: this thread took the strong count to zero.
            let value = unsafe { inner.take_value() };
            let fresh = Arc::from_box(Box::new(value), at);
            // SAFETY: the old `Arc`'s strong reference is gone: it must not be dropped.
            unsafe { std::ptr::write(this, fresh) };
            Weak::release_implicit(ptr);
        } else {
            // Unique: put the strong count back.
            inner.strong.store_one(at);
        }
        match &mut this.repr {
            Repr::Std(std) => std::sync::Arc::get_mut(std).expect("unique"),
            // SAFETY: unique (made so above), alive (an `Arc`).
            Repr::Model(ptr, _, _) => unsafe { &mut *ptr.as_ref().data.as_ptr() },
        }
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    #[track_caller]
    fn clone(&self) -> Arc<T> {
        let at = Location::caller();
        match &self.repr {
            Repr::Std(std) => Arc::from_std(std::sync::Arc::clone(std)),
            Repr::Model(ptr, _, _) => {
                // SAFETY: an `Arc` keeps its allocation alive.
                let inner = unsafe { ptr.as_ref() };
                inner.check_execution();
                inner.strong.clone_one(at);
                leak::cloned(inner.id);
                Arc::from_inner(*ptr, at)
            }
        }
    }
}

impl<T: ?Sized> Drop for Arc<T> {
    fn drop(&mut self) {
        let Repr::Model(ptr, at, _) = self.repr else {
            return; // std's `Arc` drops itself.
        };
        // SAFETY: this `Arc` kept the allocation alive until its decrement below.
        let inner = unsafe { ptr.as_ref() };
        if inner.key != rt::key() {
            // Dropped after its execution (kept in an outcome, or in a static's data): the
            // checker's counts are gone; the allocation is leaked, never touched again.
            return;
        }
        leak::in_drop(|| {
            if inner.strong_down(at) {
                // SAFETY: this thread took the strong count to zero.
                unsafe { inner.drop_value() };
                Weak::release_implicit(ptr);
            }
        });
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.repr {
            Repr::Std(std) => std,
            // SAFETY: an `Arc` keeps its value alive.
            Repr::Model(ptr, _, _) => unsafe { ptr.as_ref().data.as_ref() },
        }
    }
}

impl<T: ?Sized> AsRef<T> for Arc<T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T: ?Sized> Borrow<T> for Arc<T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: Default> Default for Arc<T> {
    #[track_caller]
    fn default() -> Self {
        Arc::new(T::default())
    }
}

impl<T> From<T> for Arc<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Arc::new(value)
    }
}

/// How an unsized `Arc` is made (`Arc<dyn Trait>`, `Arc<str>`, `Arc<[T]>`): std's coercion
/// from `Arc<T>` needs an unstable trait, so go through a `Box` as loom's `from_std` does.
impl<T: ?Sized> From<Box<T>> for Arc<T> {
    #[track_caller]
    fn from(value: Box<T>) -> Self {
        Arc::from_box(value, Location::caller())
    }
}

impl From<String> for Arc<str> {
    #[track_caller]
    fn from(value: String) -> Self {
        Arc::from_box(value.into_boxed_str(), Location::caller())
    }
}

impl From<&str> for Arc<str> {
    #[track_caller]
    fn from(value: &str) -> Self {
        Arc::from_box(Box::from(value), Location::caller())
    }
}

impl<T> From<Vec<T>> for Arc<[T]> {
    #[track_caller]
    fn from(value: Vec<T>) -> Self {
        Arc::from_box(value.into_boxed_slice(), Location::caller())
    }
}

impl<T: Clone> From<&[T]> for Arc<[T]> {
    #[track_caller]
    fn from(value: &[T]) -> Self {
        Arc::from_box(Box::from(value), Location::caller())
    }
}

impl<T, const N: usize> From<[T; N]> for Arc<[T]> {
    #[track_caller]
    fn from(value: [T; N]) -> Self {
        Arc::from_box(Box::new(value) as Box<[T]>, Location::caller())
    }
}

/// `collect()` into an `Arc<[T]>`, as std's.
impl<T> FromIterator<T> for Arc<[T]> {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let items: Box<[T]> = iter.into_iter().collect();
        Arc::from_box(items, Location::caller())
    }
}

impl Default for Arc<str> {
    #[track_caller]
    fn default() -> Self {
        Arc::from_box(Box::from(""), Location::caller())
    }
}

impl<T> Default for Arc<[T]> {
    #[track_caller]
    fn default() -> Self {
        Arc::from_box(Box::new([]) as Box<[T]>, Location::caller())
    }
}

impl<T: ?Sized + std::error::Error> std::error::Error for Arc<T> {
    #[allow(deprecated)]
    fn description(&self) -> &str {
        (**self).description()
    }
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        (**self).source()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized> fmt::Pointer for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&Arc::as_ptr(self), f)
    }
}

impl<T: ?Sized + PartialEq> PartialEq for Arc<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for Arc<T> {}

impl<T: ?Sized + PartialOrd> PartialOrd for Arc<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: ?Sized + Ord> Ord for Arc<T> {
    fn cmp(&self, other: &Self) -> Order {
        (**self).cmp(&**other)
    }
}

impl<T: ?Sized + Hash> Hash for Arc<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}
