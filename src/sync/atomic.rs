//! Atomics over any backend, recorded under the model backends.
//!
//! Invariant: each operation is the backend's own, with the caller's ordering (shuttle runs
//! every one as `SeqCst`; loom models the weaker orderings).

use std::sync::atomic::Ordering;

use super::trace::{Object, Op};
use super::{address, record, Primitives, RawAtomic, RawAtomicInt};

/// An atomic `usize`.
pub struct AtomicUsize<P: Primitives> {
    raw: P::AtomicUsize,
}

impl<P: Primitives> AtomicUsize<P> {
    pub fn new(value: usize) -> Self {
        Self {
            raw: RawAtomic::new(value),
        }
    }
    #[track_caller]
    pub fn load(&self, order: Ordering) -> usize {
        record::<P>(Op::Load, Object::At("AtomicUsize", address(self)), true);
        self.raw.load(order)
    }
    #[track_caller]
    pub fn store(&self, value: usize, order: Ordering) {
        record::<P>(Op::Store, Object::At("AtomicUsize", address(self)), true);
        self.raw.store(value, order)
    }
    #[track_caller]
    pub fn swap(&self, value: usize, order: Ordering) -> usize {
        record::<P>(Op::Swap, Object::At("AtomicUsize", address(self)), true);
        self.raw.swap(value, order)
    }
    #[track_caller]
    pub fn fetch_add(&self, value: usize, order: Ordering) -> usize {
        record::<P>(Op::FetchAdd, Object::At("AtomicUsize", address(self)), true);
        self.raw.fetch_add(value, order)
    }
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        record::<P>(
            Op::CompareExchange,
            Object::At("AtomicUsize", address(self)),
            true,
        );
        self.raw.compare_exchange(current, new, success, failure)
    }
}

/// An atomic `bool`.
pub struct AtomicBool<P: Primitives> {
    raw: P::AtomicBool,
}

impl<P: Primitives> AtomicBool<P> {
    pub fn new(value: bool) -> Self {
        Self {
            raw: RawAtomic::new(value),
        }
    }
    #[track_caller]
    pub fn load(&self, order: Ordering) -> bool {
        record::<P>(Op::Load, Object::At("AtomicBool", address(self)), true);
        self.raw.load(order)
    }
    #[track_caller]
    pub fn store(&self, value: bool, order: Ordering) {
        record::<P>(Op::Store, Object::At("AtomicBool", address(self)), true);
        self.raw.store(value, order)
    }
    #[track_caller]
    pub fn swap(&self, value: bool, order: Ordering) -> bool {
        record::<P>(Op::Swap, Object::At("AtomicBool", address(self)), true);
        self.raw.swap(value, order)
    }
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: bool,
        new: bool,
        success: Ordering,
        failure: Ordering,
    ) -> Result<bool, bool> {
        record::<P>(
            Op::CompareExchange,
            Object::At("AtomicBool", address(self)),
            true,
        );
        self.raw.compare_exchange(current, new, success, failure)
    }
}
