//! A reference count of the modelled `Arc`: the running checker's atomic, recorded at a line
//! the caller gives (a drop has no line of its own in Rust: its rows name the line that made
//! the dropped handle).
//!
//! Invariant: each operation is the backend's own atomic operation with std's ordering,
//! recorded after it returned (where it took effect), as [`crate::sync::Atomic`] records;
//! except std's bookkeeping that the user never wrote (the fence after a last decrement, the
//! release of the weak count that all `Arc`s hold together), which is explored but not
//! recorded: a trace shows the clones, drops, upgrades and checks the user's code made.

use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::std::rt::{By, Engine};
use crate::sync::backend::{RawAtomic, Rmw};
use crate::sync::model::trace::{self, Identity};
use crate::sync::trace::{Op, Scalar, Value};
use crate::sync::{Loom, Primitives, Shuttle, Std};

/// A line of the user's code.
pub(super) type Line = &'static Location<'static>;

/// One count: `Arc#n.strong` or `Arc#n.weak` in traces.
pub(super) struct Count {
    raw: By<Counter<Loom>, Counter<Shuttle>, Counter<Std>>,
}

struct Counter<P: Primitives> {
    raw: P::Atomic<usize>,
    identity: Identity,
}

impl<P: Primitives> Counter<P> {
    fn new(name: Arc<str>, value: usize) -> Self {
        Counter {
            raw: RawAtomic::new(value),
            identity: Identity::new::<P>(Some(name)),
        }
    }

    fn record(&self, op: Op, value: Value, at: Line) {
        let object = self.identity.object("AtomicUsize");
        trace::effect::<P>(op, object, value, at);
    }
}

/// `$e` with `$c` the counter of whichever checker runs.
macro_rules! each {
    ($count:expr, $c:ident => $e:expr) => {
        match &$count.raw {
            By::Loom($c) => $e,
            By::Shuttle($c) => $e,
            By::Std($c) => $e,
        }
    };
}

impl Count {
    /// A count at `value`, on `engine`'s atomics (never std's: outside a checker an `Arc` is
    /// std's own).
    pub(super) fn new(engine: Engine, name: String, value: usize) -> Self {
        let name = Arc::from(name);
        let raw = match engine {
            Engine::Loom => By::Loom(Counter::new(name, value)),
            Engine::Shuttle => By::Shuttle(Counter::new(name, value)),
            Engine::Std => By::Std(Counter::new(name, value)),
        };
        Count { raw }
    }

    pub(super) fn load(&self, order: Ordering, at: Line) -> usize {
        each!(self, c => {
            let seen = c.raw.load(order);
            c.record(Op::Load, Value::Read(Scalar::Usize(seen)), at);
            seen
        })
    }

    pub(super) fn store(&self, value: usize, order: Ordering, at: Line) {
        each!(self, c => {
            c.raw.store(value, order);
            c.record(Op::Store, Value::Wrote(Scalar::Usize(value)), at);
        })
    }

    /// `fetch_add` (`Rmw::Add`) or `fetch_sub` (`Rmw::Sub`) of one; recorded at `at`, if
    /// given (see the module docs).
    pub(super) fn step(&self, op: Rmw, order: Ordering, at: Option<Line>) -> usize {
        each!(self, c => {
            let old = c.raw.fetch(op, 1, order);
            let new = match op {
                Rmw::Sub => old.wrapping_sub(1),
                _ => old.wrapping_add(1),
            };
            let value = Value::Updated {
                old: Scalar::Usize(old),
                new: Scalar::Usize(new),
            };
            if let Some(at) = at {
                c.record(Op::Fetch(op), value, at);
            }
            old
        })
    }

    pub(super) fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
        at: Line,
    ) -> Result<usize, usize> {
        each!(self, c => {
            let result = c.raw.compare_exchange(current, new, success, failure);
            let (expected, new) = (Scalar::Usize(current), Scalar::Usize(new));
            let value = match result {
                Ok(_) => Value::Exchanged { expected, new },
                Err(saw) => Value::NotExchanged {
                    expected,
                    new,
                    saw: Scalar::Usize(saw),
                },
            };
            c.record(Op::CompareExchange, value, at);
            result
        })
    }

    /// std's `acquire!` after the last decrement of this count: every other thread's use of
    /// what it guards happens before what follows (not recorded: see the module docs).
    pub(super) fn acquire_fence(&self) {
        match &self.raw {
            By::Loom(_) => Loom::fence(Ordering::Acquire),
            By::Shuttle(_) => Shuttle::fence(Ordering::Acquire),
            By::Std(_) => Std::fence(Ordering::Acquire),
        }
    }

    /// The backend's operations unrecorded, for a caller that records what they mean
    /// ([`Strong`]).
    fn raw_fetch(&self, op: Rmw, order: Ordering) -> usize {
        each!(self, c => c.raw.fetch(op, 1, order))
    }

    fn raw_load(&self, order: Ordering) -> usize {
        each!(self, c => c.raw.load(order))
    }

    fn raw_store(&self, value: usize, order: Ordering) {
        each!(self, c => c.raw.store(value, order))
    }

    fn raw_compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        each!(self, c => c.raw.compare_exchange(current, new, success, failure))
    }

    fn note(&self, op: Op, value: Value, at: Line) {
        each!(self, c => c.record(op, value, at))
    }

    /// Lets the checker run another thread (a spin on the weak count's lock).
    pub(super) fn yield_now(&self) {
        match &self.raw {
            By::Loom(_) => crate::sync::yield_now::<Loom>(),
            By::Shuttle(_) => crate::sync::yield_now::<Shuttle>(),
            By::Std(_) => crate::sync::yield_now::<Std>(),
        }
    }
}

/// The strong count, as loom's `Arc` sees it: a clone commutes with every other count
/// operation (its thread holds a reference throughout, so no drop can be the last and no
/// `try_unwrap` can succeed around it), so it is no operation of the checker, only a row;
/// drops, upgrades and the checks are the checker's atomic operations, interleaved.
///
/// The count is `atomic + clones` (wrapping): `clones` only grows, and only while its thread
/// holds a reference, so an operation that read it stale sees the change in its result (the
/// compare-exchanges retry then). Rows show that sum, the count std's `Arc` would hold.
pub(super) struct Strong {
    atomic: Count,
    clones: AtomicUsize,
    /// The count as of the last change, for a clone's row.
    shown: AtomicUsize,
}

impl Strong {
    pub(super) fn new(engine: Engine, name: String) -> Self {
        Strong {
            atomic: Count::new(engine, name, 1),
            clones: AtomicUsize::new(0),
            shown: AtomicUsize::new(1),
        }
    }

    fn clones(&self) -> usize {
        self.clones.load(Ordering::Relaxed)
    }

    fn updated(&self, op: Rmw, old: usize, new: usize, at: Line) {
        self.shown.store(new, Ordering::Relaxed);
        let value = Value::Updated {
            old: Scalar::Usize(old),
            new: Scalar::Usize(new),
        };
        self.atomic.note(Op::Fetch(op), value, at);
    }

    /// A clone (std's relaxed increment): a row, not a scheduling point.
    pub(super) fn clone_one(&self, at: Line) {
        self.clones.fetch_add(1, Ordering::Relaxed);
        let old = self.shown.load(Ordering::Relaxed);
        self.updated(Rmw::Add, old, old + 1, at);
    }

    /// A drop (std's release decrement): the count left.
    pub(super) fn drop_one(&self, at: Line) -> usize {
        let old = (self.atomic.raw_fetch(Rmw::Sub, Ordering::Release)).wrapping_add(self.clones());
        self.updated(Rmw::Sub, old, old.wrapping_sub(1), at);
        old.wrapping_sub(1)
    }

    /// The count (a load with `order`).
    pub(super) fn load(&self, order: Ordering, at: Line) -> usize {
        let count = self.atomic.raw_load(order).wrapping_add(self.clones());
        self.atomic
            .note(Op::Load, Value::Read(Scalar::Usize(count)), at);
        count
    }

    /// std's `compare_exchange(current, new)` on the count.
    pub(super) fn compare_exchange(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
        at: Line,
    ) -> Result<usize, usize> {
        let mut clones = self.clones();
        loop {
            let exchanged = self.atomic.raw_compare_exchange(
                current.wrapping_sub(clones),
                new.wrapping_sub(clones),
                success,
                failure,
            );
            let (expected, written) = (Scalar::Usize(current), Scalar::Usize(new));
            match exchanged {
                Ok(_) => {
                    self.shown.store(new, Ordering::Relaxed);
                    let value = Value::Exchanged {
                        expected,
                        new: written,
                    };
                    self.atomic.note(Op::CompareExchange, value, at);
                    return Ok(current);
                }
                // A clone since `clones` was read: the expectation was stale.
                Err(_) if self.clones() != clones => clones = self.clones(),
                Err(seen) => {
                    let saw = seen.wrapping_add(clones);
                    let value = Value::NotExchanged {
                        expected,
                        new: written,
                        saw: Scalar::Usize(saw),
                    };
                    self.atomic.note(Op::CompareExchange, value, at);
                    return Err(saw);
                }
            }
        }
    }

    /// Sets the count of a unique `Arc` back to one (no clone can run: it is unique).
    pub(super) fn store_one(&self, at: Line) {
        let clones = self.clones();
        self.atomic
            .raw_store(1usize.wrapping_sub(clones), Ordering::Release);
        self.shown.store(1, Ordering::Relaxed);
        self.atomic
            .note(Op::Store, Value::Wrote(Scalar::Usize(1)), at);
    }

    pub(super) fn acquire_fence(&self) {
        self.atomic.acquire_fence();
    }
}
