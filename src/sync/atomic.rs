//! Atomics of every std type over any backend ([`Atomic<P, V>`] and its std-named aliases),
//! recorded under the model backends with the values they read and wrote; [`fence`] and
//! [`compiler_fence`].
//!
//! Invariant: each operation is the backend's own, with the caller's ordering (shuttle runs
//! every one as `SeqCst`; loom models the weaker orderings, and `SeqCst` with fences), and is
//! recorded after it returned: where it took effect. The one exception is a
//! `compare_exchange_weak` that fails spuriously, which is an explored fault of the model
//! backends ([`super::choice`]): it fails without exchanging, having read the value (as a
//! load with the failure ordering), whatever that value is. An ordering std refuses at run
//! time (a `Release` load, an `Acquire` store, a `Release` failure ordering) panics as std's
//! does under every backend. Production backends compile to the plain std calls.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::choice;
use super::trace::{self, Identity, Object, Op, Order, Scalar, Value};
use super::Primitives;

/// A read-modify-write operation of the `fetch_*` family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rmw {
    Add,
    Sub,
    And,
    Nand,
    Or,
    Xor,
    Max,
    Min,
}

impl Rmw {
    pub fn name(self) -> &'static str {
        self.name_ref()
    }

    /// [`Rmw::name`] by a thin reference (see `Op::name_ref`).
    pub(crate) fn name_ref(self) -> &'static &'static str {
        match self {
            Rmw::Add => &"fetch_add",
            Rmw::Sub => &"fetch_sub",
            Rmw::And => &"fetch_and",
            Rmw::Nand => &"fetch_nand",
            Rmw::Or => &"fetch_or",
            Rmw::Xor => &"fetch_xor",
            Rmw::Max => &"fetch_max",
            Rmw::Min => &"fetch_min",
        }
    }
}

/// An atomic of one backend holding a `V`.
pub trait RawAtomic<V>: Send + Sync {
    fn new(value: V) -> Self;
    fn load(&self, order: Ordering) -> V;
    fn store(&self, value: V, order: Ordering);
    fn swap(&self, value: V, order: Ordering) -> V;
    fn compare_exchange(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
    fn compare_exchange_weak(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V>;
    /// The `fetch_*` operation `op`; only called with the operations `V` has (see
    /// [`AtomicInteger`] and [`AtomicBits`]).
    fn fetch(&self, op: Rmw, operand: V, order: Ordering) -> V;
    fn into_inner(self) -> V;
}

/// A type std has an atomic for: names that atomic in each backend.
pub trait AtomicValue: Copy + PartialEq + 'static {
    type Std: RawAtomic<Self>;
    type Loom: RawAtomic<Self>;
    type Shuttle: RawAtomic<Self>;
    /// std's name for the atomic, as traces label it (`AtomicI32#1`).
    const KIND: &'static str;
    /// The value as a trace shows it.
    fn scalar(self) -> Scalar;
    /// What `op` stores given the old value and the operand (for the trace).
    fn apply(op: Rmw, old: Self, operand: Self) -> Self;
}

/// The integer types: every `fetch_*` operation.
pub trait AtomicInteger: AtomicBits {}

/// The integers and `bool`: `fetch_and`, `fetch_nand`, `fetch_or`, `fetch_xor`.
pub trait AtomicBits: AtomicValue {}

macro_rules! integer_values {
    ($($v:ident $atomic:ident $scalar:ident),*) => {$(
        impl AtomicValue for $v {
            type Std = ::std::sync::atomic::$atomic;
            type Loom = ::loom::sync::atomic::$atomic;
            type Shuttle = ::shuttle::sync::atomic::$atomic;
            const KIND: &'static str = stringify!($atomic);
            #[inline]
            fn scalar(self) -> Scalar {
                Scalar::$scalar(self as _)
            }
            #[inline]
            fn apply(op: Rmw, old: Self, operand: Self) -> Self {
                match op {
                    Rmw::Add => old.wrapping_add(operand),
                    Rmw::Sub => old.wrapping_sub(operand),
                    Rmw::And => old & operand,
                    Rmw::Nand => !(old & operand),
                    Rmw::Or => old | operand,
                    Rmw::Xor => old ^ operand,
                    Rmw::Max => old.max(operand),
                    Rmw::Min => old.min(operand),
                }
            }
        }
        impl AtomicBits for $v {}
        impl AtomicInteger for $v {}
    )*};
}

integer_values!(
    i8 AtomicI8 Int, i16 AtomicI16 Int, i32 AtomicI32 Int, i64 AtomicI64 Int,
    isize AtomicIsize Int, u8 AtomicU8 Uint, u16 AtomicU16 Uint, u32 AtomicU32 Uint,
    u64 AtomicU64 Uint, usize AtomicUsize Usize
);

impl AtomicValue for bool {
    type Std = ::std::sync::atomic::AtomicBool;
    type Loom = ::loom::sync::atomic::AtomicBool;
    type Shuttle = ::shuttle::sync::atomic::AtomicBool;
    const KIND: &'static str = "AtomicBool";
    #[inline]
    fn scalar(self) -> Scalar {
        Scalar::Bool(self)
    }
    #[inline]
    fn apply(op: Rmw, old: Self, operand: Self) -> Self {
        match op {
            Rmw::And => old & operand,
            Rmw::Nand => !(old & operand),
            Rmw::Or => old | operand,
            Rmw::Xor => old ^ operand,
            Rmw::Add | Rmw::Sub | Rmw::Max | Rmw::Min => old,
        }
    }
}

impl AtomicBits for bool {}

impl<T: 'static> AtomicValue for *mut T {
    type Std = ::std::sync::atomic::AtomicPtr<T>;
    type Loom = ::loom::sync::atomic::AtomicPtr<T>;
    type Shuttle = ::shuttle::sync::atomic::AtomicPtr<T>;
    const KIND: &'static str = "AtomicPtr";
    #[inline]
    fn scalar(self) -> Scalar {
        Scalar::Ptr(self as usize)
    }
    #[inline]
    fn apply(_: Rmw, old: Self, _: Self) -> Self {
        old
    }
}

/// An atomic `V` of backend `P`: `std::sync::atomic`'s types in one generic, named by the
/// aliases below (`AtomicI32<P>`, `AtomicPtr<P, T>`, ...).
pub struct Atomic<P: Primitives, V: AtomicValue> {
    raw: P::Atomic<V>,
    identity: Identity,
}

pub type AtomicBool<P> = Atomic<P, bool>;
pub type AtomicI8<P> = Atomic<P, i8>;
pub type AtomicI16<P> = Atomic<P, i16>;
pub type AtomicI32<P> = Atomic<P, i32>;
pub type AtomicI64<P> = Atomic<P, i64>;
pub type AtomicIsize<P> = Atomic<P, isize>;
pub type AtomicU8<P> = Atomic<P, u8>;
pub type AtomicU16<P> = Atomic<P, u16>;
pub type AtomicU32<P> = Atomic<P, u32>;
pub type AtomicU64<P> = Atomic<P, u64>;
pub type AtomicUsize<P> = Atomic<P, usize>;
pub type AtomicPtr<P, T> = Atomic<P, *mut T>;

impl<P: Primitives, V: AtomicValue> Atomic<P, V> {
    pub fn new(value: V) -> Self {
        Atomic {
            raw: RawAtomic::new(value),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new atomic that traces call `name` instead of its `Kind#n` label.
    pub fn named(name: impl Into<Arc<str>>, value: V) -> Self {
        Atomic {
            raw: RawAtomic::new(value),
            identity: Identity::new::<P>(Some(name.into())),
        }
    }

    #[inline(always)]
    #[track_caller]
    fn record(&self, op: Op, order: Order, value: impl FnOnce() -> Value) {
        if P::MODEL {
            let object = self.identity.object(V::KIND);
            let at = Location::caller();
            trace::effect_ordered::<P>(op, object, value(), Some(order), at);
        }
    }

    #[inline]
    #[track_caller]
    pub fn load(&self, order: Ordering) -> V {
        if P::MODEL {
            check_load(order);
        }
        let seen = self.raw.load(order);
        self.record(Op::Load, Order::One(order), || Value::Read(seen.scalar()));
        seen
    }

    #[inline]
    #[track_caller]
    pub fn store(&self, value: V, order: Ordering) {
        if P::MODEL {
            check_store(order);
        }
        self.raw.store(value, order);
        self.record(Op::Store, Order::One(order), || {
            Value::Wrote(value.scalar())
        });
    }

    #[inline]
    #[track_caller]
    pub fn swap(&self, value: V, order: Ordering) -> V {
        let old = self.raw.swap(value, order);
        self.record(Op::Swap, Order::One(order), || Value::Updated {
            old: old.scalar(),
            new: value.scalar(),
        });
        old
    }

    #[inline]
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V> {
        if P::MODEL {
            check_failure(failure);
        }
        let result = self.raw.compare_exchange(current, new, success, failure);
        self.record(Op::CompareExchange, exchange(success, failure), || {
            exchanged(current, new, result)
        });
        result
    }

    /// Like [`Atomic::compare_exchange`], but may fail even when the value is `current`: on
    /// real hardware (LL/SC), and under the model backends as an explored fault, so a loop
    /// that cannot survive a spurious failure is caught.
    #[inline]
    #[track_caller]
    pub fn compare_exchange_weak(
        &self,
        current: V,
        new: V,
        success: Ordering,
        failure: Ordering,
    ) -> Result<V, V> {
        if P::MODEL {
            check_failure(failure);
        }
        if P::MODEL && choice::fault::<P>() {
            let saw = self.raw.load(failure);
            self.record(Op::CompareExchangeWeak, exchange(success, failure), || {
                Value::FailedSpuriously {
                    expected: current.scalar(),
                    new: new.scalar(),
                    saw: saw.scalar(),
                }
            });
            return Err(saw);
        }
        let result = self
            .raw
            .compare_exchange_weak(current, new, success, failure);
        let order = exchange(success, failure);
        self.record(Op::CompareExchangeWeak, order, || {
            exchanged(current, new, result)
        });
        result
    }

    /// Applies `f` until its result is stored, as std's: a load, then a
    /// `compare_exchange_weak` loop (each step recorded); `Err` with the last value seen once
    /// `f` returns `None`.
    #[inline]
    #[track_caller]
    pub fn fetch_update(
        &self,
        set_order: Ordering,
        fetch_order: Ordering,
        mut f: impl FnMut(V) -> Option<V>,
    ) -> Result<V, V> {
        let mut previous = self.load(fetch_order);
        while let Some(next) = f(previous) {
            match self.compare_exchange_weak(previous, next, set_order, fetch_order) {
                Ok(value) => return Ok(value),
                Err(seen) => previous = seen,
            }
        }
        Err(previous)
    }

    #[inline]
    #[track_caller]
    fn fetch(&self, op: Rmw, operand: V, order: Ordering) -> V {
        let old = self.raw.fetch(op, operand, order);
        self.record(Op::Fetch(op), Order::One(order), || Value::Updated {
            old: old.scalar(),
            new: V::apply(op, old, operand).scalar(),
        });
        old
    }

    pub fn into_inner(self) -> V {
        self.raw.into_inner()
    }
}

/// A compare-exchange's orderings for the trace.
fn exchange(success: Ordering, failure: Ordering) -> Order {
    Order::Exchange { success, failure }
}

/// A compare-exchange's value for the trace.
fn exchanged<V: AtomicValue>(current: V, new: V, result: Result<V, V>) -> Value {
    let (expected, new) = (current.scalar(), new.scalar());
    match result {
        Ok(_) => Value::Exchanged { expected, new },
        Err(saw) => Value::NotExchanged {
            expected,
            new,
            saw: saw.scalar(),
        },
    }
}

impl<P: Primitives, V: AtomicInteger> Atomic<P, V> {
    #[inline]
    #[track_caller]
    pub fn fetch_add(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Add, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_sub(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Sub, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_max(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Max, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_min(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Min, value, order)
    }
}

impl<P: Primitives, V: AtomicBits> Atomic<P, V> {
    #[inline]
    #[track_caller]
    pub fn fetch_and(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::And, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_nand(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Nand, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_or(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Or, value, order)
    }
    #[inline]
    #[track_caller]
    pub fn fetch_xor(&self, value: V, order: Ordering) -> V {
        self.fetch(Rmw::Xor, value, order)
    }
}

impl<P: Primitives> Atomic<P, bool> {
    /// Negates the value, returning the old one (`fetch_xor(true)`: loom has no `fetch_not`).
    #[inline]
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        self.fetch(Rmw::Xor, true, order)
    }
}

impl<P: Primitives, V: AtomicValue + Default> Default for Atomic<P, V> {
    fn default() -> Self {
        Self::new(V::default())
    }
}

impl<P: Primitives, V: AtomicValue> fmt::Debug for Atomic<P, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{}>", V::KIND, P::NAME)
    }
}

/// A memory fence of backend `P`, as `std::sync::atomic::fence` (a `Relaxed` fence panics, as
/// std's does). Under shuttle, whose atomics are all `SeqCst`, it does nothing.
#[inline]
#[track_caller]
pub fn fence<P: Primitives>(order: Ordering) {
    P::fence(order);
    if P::MODEL {
        let object = Object::Thread(&FENCE);
        trace::effect::<P>(
            Op::Fence,
            object,
            Value::Ordering(order),
            Location::caller(),
        );
    }
}

/// What a fence row names as its object.
static FENCE: std::sync::LazyLock<Arc<str>> = std::sync::LazyLock::new(|| Arc::from("memory"));

/// A compiler fence: std's own on every backend (it orders nothing between threads).
#[inline]
pub fn compiler_fence(order: Ordering) {
    std::sync::atomic::compiler_fence(order)
}

// std checks these orderings at run time and panics; the model backends do not (loom takes an
// ordering that cannot be as `Relaxed`, shuttle ignores orderings), so a call that panics in
// production would pass its checks. Under a model backend they panic here, with std's words,
// at the caller's place.

#[track_caller]
fn check_load(order: Ordering) {
    match order {
        Ordering::Release => panic!("there is no such thing as a release load"),
        Ordering::AcqRel => panic!("there is no such thing as an acquire-release load"),
        _ => {}
    }
}

#[track_caller]
fn check_store(order: Ordering) {
    match order {
        Ordering::Acquire => panic!("there is no such thing as an acquire store"),
        Ordering::AcqRel => panic!("there is no such thing as an acquire-release store"),
        _ => {}
    }
}

#[track_caller]
fn check_failure(order: Ordering) {
    match order {
        Ordering::Release => panic!("there is no such thing as a release failure ordering"),
        Ordering::AcqRel => {
            panic!("there is no such thing as an acquire-release failure ordering")
        }
        _ => {}
    }
}
