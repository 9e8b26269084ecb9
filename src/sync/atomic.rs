//! Atomics over any backend, recorded under the model backends with the values they read and
//! wrote.
//!
//! Invariant: each operation is the backend's own, with the caller's ordering (shuttle runs
//! every one as `SeqCst`; loom models the weaker orderings, and `SeqCst` with fences), and is
//! recorded after it returned: where it took effect.

use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::trace::{self, Object, Op, Scalar, Value};
use super::{Primitives, RawAtomic, RawAtomicInt};

/// Implements the operations both atomic types share, recording each with its value.
macro_rules! atomic_ops {
    ($name:ident, $v:ty, $kind:literal) => {
        impl<P: Primitives> $name<P> {
            pub fn new(value: $v) -> Self {
                Self {
                    raw: RawAtomic::new(value),
                    name: None,
                }
            }

            /// A new atomic that traces call `name` instead of its `Kind#n` label.
            pub fn named(name: impl Into<Arc<str>>, value: $v) -> Self {
                Self {
                    raw: RawAtomic::new(value),
                    name: Some(name.into()),
                }
            }

            #[track_caller]
            fn record(&self, op: Op, value: Value) {
                let object = Object::of($kind, self, self.name.as_deref());
                trace::effect::<P>(op, object, value, Location::caller());
            }

            #[track_caller]
            pub fn load(&self, order: Ordering) -> $v {
                let seen = self.raw.load(order);
                self.record(Op::Load, Value::Read(Scalar::from(seen)));
                seen
            }

            #[track_caller]
            pub fn store(&self, value: $v, order: Ordering) {
                self.raw.store(value, order);
                self.record(Op::Store, Value::Wrote(Scalar::from(value)));
            }

            #[track_caller]
            pub fn swap(&self, value: $v, order: Ordering) -> $v {
                let old = self.raw.swap(value, order);
                let (old_, new) = (Scalar::from(old), Scalar::from(value));
                self.record(Op::Swap, Value::Updated { old: old_, new });
                old
            }

            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $v,
                new: $v,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$v, $v> {
                let result = self.raw.compare_exchange(current, new, success, failure);
                let (expected, new) = (Scalar::from(current), Scalar::from(new));
                let value = match result {
                    Ok(_) => Value::Exchanged { expected, new },
                    Err(saw) => Value::NotExchanged {
                        expected,
                        new,
                        saw: Scalar::from(saw),
                    },
                };
                self.record(Op::CompareExchange, value);
                result
            }
        }
    };
}

/// An atomic `usize`.
pub struct AtomicUsize<P: Primitives> {
    raw: P::AtomicUsize,
    name: Option<Arc<str>>,
}

atomic_ops!(AtomicUsize, usize, "AtomicUsize");

impl<P: Primitives> AtomicUsize<P> {
    #[track_caller]
    pub fn fetch_add(&self, value: usize, order: Ordering) -> usize {
        let old = self.raw.fetch_add(value, order);
        let new = Scalar::Usize(old.wrapping_add(value));
        self.record(
            Op::FetchAdd,
            Value::Updated {
                old: Scalar::Usize(old),
                new,
            },
        );
        old
    }
}

/// An atomic `bool`.
pub struct AtomicBool<P: Primitives> {
    raw: P::AtomicBool,
    name: Option<Arc<str>>,
}

atomic_ops!(AtomicBool, bool, "AtomicBool");
