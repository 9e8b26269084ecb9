//! The allocation of a modelled `Arc`: std's `ArcInner` (the two counts and the value), with
//! the steps of std's algorithm that `Arc` and `Weak` share.
//!
//! Invariant: the value lives while the strong count is above zero, the allocation while the
//! weak count is (all `Arc`s together hold one unit of it); each count changes only through
//! the running checker's atomics ([`Count`]), so the checker sees every change.

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::count::{Count, Line, Strong};
use super::leak::{self, Id};
use crate::std::rt::{self, Engine, Key};
use crate::sync::backend::Rmw;

/// A modelled allocation: std's `ArcInner`, the value boxed apart so that `T` may be unsized.
pub(super) struct Inner<T: ?Sized> {
    /// The number of `Arc`s.
    pub(super) strong: Strong,
    /// The number of `Weak`s, plus one held by all the `Arc`s together; `usize::MAX` while
    /// `get_mut` checks uniqueness (std's lock against a concurrent `downgrade`).
    pub(super) weak: Count,
    /// Dropped (and freed) when `strong` reaches zero.
    pub(super) data: NonNull<T>,
    /// The execution the counts belong to.
    pub(super) key: Key,
    pub(super) id: Id,
}

impl<T: ?Sized> Inner<T> {
    /// A new allocation holding `data`, counted by the checker `engine`.
    pub(super) fn model(
        engine: Engine,
        data: Box<T>,
        at: &'static Location<'static>,
    ) -> NonNull<Self> {
        let id = leak::register(at);
        let name = |what: &str| format!("Arc#{}.{what}", id.number());
        let inner = Box::new(Inner {
            strong: Strong::new(engine, name("strong")),
            weak: Count::new(engine, name("weak"), 1),
            // SAFETY: `Box::into_raw` is never null.
            data: unsafe { NonNull::new_unchecked(Box::into_raw(data)) },
            key: rt::key(),
            id,
        });
        // SAFETY: as above.
        unsafe { NonNull::new_unchecked(Box::into_raw(inner)) }
    }

    /// Stops with a clear message if this allocation belongs to another execution.
    #[track_caller]
    pub(super) fn check_execution(&self) {
        if self.key != rt::key() {
            panic!("{}", leak::OTHER_EXECUTION);
        }
    }

    /// Drops the value: the strong count has just reached zero.
    ///
    /// # Safety
    /// Called once, by the thread that took the strong count to zero.
    pub(super) unsafe fn drop_value(&self) {
        leak::released(self.id);
        drop(Box::from_raw(self.data.as_ptr()));
    }

    /// The value, moved out: the strong count has just reached zero.
    ///
    /// # Safety
    /// As [`Inner::drop_value`], with `T` sized.
    pub(super) unsafe fn take_value(&self) -> T
    where
        T: Sized,
    {
        leak::released(self.id);
        *Box::from_raw(self.data.as_ptr())
    }

    /// One `Arc` lets go (std's decrement): whether it was the last, whose thread then owns
    /// the value, after the fence that orders every other thread's use of it before.
    pub(super) fn strong_down(&self, at: Line) -> bool {
        if self.strong.drop_one(at) != 0 {
            leak::dropped_one(self.id);
            return false;
        }
        self.strong.acquire_fence();
        true
    }

    /// std's `is_unique`: lock the weak count (no `downgrade` can then run), check the
    /// strong count, unlock.
    pub(super) fn is_unique(&self, at: Line) -> bool {
        if (self.weak)
            .compare_exchange(1, usize::MAX, Acquire, Relaxed, at)
            .is_err()
        {
            return false;
        }
        let unique = self.strong.load(Acquire, at) == 1;
        self.weak.store(1, Release, at);
        unique
    }

    /// Gives up one unit of the weak count, freeing the allocation if it was the last;
    /// recorded at `at` if given.
    ///
    /// # Safety
    /// The caller owns that unit: the allocation is alive until this call.
    pub(super) unsafe fn release_weak(ptr: NonNull<Self>, at: Option<Line>) {
        let inner = ptr.as_ref();
        if inner.weak.step(Rmw::Sub, Release, at) == 1 {
            inner.weak.acquire_fence();
            // The last reference of any kind: nothing points here any more.
            drop(Box::from_raw(ptr.as_ptr()));
        }
    }
}
