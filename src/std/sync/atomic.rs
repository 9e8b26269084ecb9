//! std's `std::sync::atomic`, over the backend of the running checker: every atomic type with
//! std's methods on this toolchain (`fetch_update`, `update`, `try_update` included), `fence`,
//! `compiler_fence` and `Ordering`.
//!
//! Invariant: the initial value lives in the mirror object and the backend atomic is made from
//! it in every execution (`PerExec`), so a `static` atomic starts at its initial value in
//! each; `get_mut` takes the current execution's atomic back into the object.

use std::fmt;

pub use std::sync::atomic::Ordering;

use crate::std::rt::{by_engine, each, By, PerExec};
use crate::sync::{self, Loom, Shuttle, Std};

type Raw<V> = By<sync::Atomic<Loom, V>, sync::Atomic<Shuttle, V>, sync::Atomic<Std, V>>;

/// A memory fence (a `Relaxed` fence panics, as std's does).
#[track_caller]
pub fn fence(order: Ordering) {
    match crate::std::rt::engine() {
        crate::std::rt::Engine::Loom => sync::fence::<Loom>(order),
        crate::std::rt::Engine::Shuttle => sync::fence::<Shuttle>(order),
        crate::std::rt::Engine::Std => sync::fence::<Std>(order),
    }
}

pub use crate::sync::compiler_fence;

/// An atomic's value as the bits the pool of objects made before any thread keys it by.
trait Bits: Sized {
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
}

impl Bits for bool {
    fn to_bits(self) -> u64 {
        u64::from(self)
    }
    fn from_bits(bits: u64) -> Self {
        bits != 0
    }
}

macro_rules! int_bits {
    ($($v:ty),*) => {$(
        impl Bits for $v {
            // Wrapping both ways: the bits of a signed or narrower value, and back.
            fn to_bits(self) -> u64 {
                self as u64
            }
            fn from_bits(bits: u64) -> Self {
                bits as $v
            }
        }
    )*};
}

int_bits!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// The methods every atomic has; `$v` the value type.
macro_rules! common {
    ($name:ident, $v:ty) => {

        #[track_caller]
        pub fn load(&self, order: Ordering) -> $v {
            each!(self.raw(), a => a.load(order))
        }

        #[track_caller]
        pub fn store(&self, value: $v, order: Ordering) {
            each!(self.raw(), a => a.store(value, order))
        }

        #[track_caller]
        pub fn swap(&self, value: $v, order: Ordering) -> $v {
            each!(self.raw(), a => a.swap(value, order))
        }

        #[track_caller]
        pub fn compare_exchange(
            &self,
            current: $v,
            new: $v,
            success: Ordering,
            failure: Ordering,
        ) -> Result<$v, $v> {
            each!(self.raw(), a => a.compare_exchange(current, new, success, failure))
        }

        #[track_caller]
        pub fn compare_exchange_weak(
            &self,
            current: $v,
            new: $v,
            success: Ordering,
            failure: Ordering,
        ) -> Result<$v, $v> {
            each!(self.raw(), a => a.compare_exchange_weak(current, new, success, failure))
        }

        #[track_caller]
        pub fn fetch_update<F: FnMut($v) -> Option<$v>>(
            &self,
            set_order: Ordering,
            fetch_order: Ordering,
            f: F,
        ) -> Result<$v, $v> {
            each!(self.raw(), a => a.fetch_update(set_order, fetch_order, f))
        }

        #[track_caller]
        pub fn try_update(
            &self,
            set_order: Ordering,
            fetch_order: Ordering,
            f: impl FnMut($v) -> Option<$v>,
        ) -> Result<$v, $v> {
            self.fetch_update(set_order, fetch_order, f)
        }

        #[track_caller]
        pub fn update(
            &self,
            set_order: Ordering,
            fetch_order: Ordering,
            mut f: impl FnMut($v) -> $v,
        ) -> $v {
            match self.fetch_update(set_order, fetch_order, |v| Some(f(v))) {
                Ok(previous) | Err(previous) => previous,
            }
        }

        pub fn get_mut(&mut self) -> &mut $v {
            if let Some(raw) = self.per.take() {
                self.init = each!(raw, a => a.into_inner());
            }
            &mut self.init
        }

        pub fn into_inner(mut self) -> $v {
            *self.get_mut()
        }
    };
}

/// `fetch_*` of the integers (`$int`) or of `bool` and the integers (`$bits`).
macro_rules! fetch {
    ($v:ty; $($op:ident),*) => {$(
        #[track_caller]
        pub fn $op(&self, value: $v, order: Ordering) -> $v {
            each!(self.raw(), a => a.$op(value, order))
        }
    )*};
}

macro_rules! atomic {
    ($name:ident, $v:ty, $($op:ident),*) => {
        #[doc = concat!("std's `", stringify!($name), "`.")]
        pub struct $name {
            init: $v,
            per: PerExec<Raw<$v>>,
        }

        impl $name {
            pub const fn new(value: $v) -> Self {
                $name {
                    init: value,
                    per: PerExec::new(),
                }
            }

            fn raw(&self) -> &Raw<$v> {
                let init = self.init;
                let make = || by_engine!(sync::Atomic::<P, $v>::new(init));
                // Under loom, one made with the same value before any thread will do.
                fn made_before(bits: u64) -> Box<dyn std::any::Any> {
                    let value = <$v as Bits>::from_bits(bits);
                    Box::new(Raw::<$v>::Loom(sync::Atomic::<Loom, $v>::new(value)))
                }
                self.per.get_pooled::<$v>(make, made_before, init.to_bits()).0
            }

            common!($name, $v);
            fetch!($v; $($op),*);
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new(<$v>::default())
            }
        }

        impl From<$v> for $name {
            fn from(value: $v) -> Self {
                Self::new(value)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
            }
        }
    };
}

atomic!(AtomicBool, bool, fetch_and, fetch_nand, fetch_or, fetch_xor);
atomic!(
    AtomicI8, i8, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicI16, i16, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicI32, i32, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicI64, i64, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicIsize,
    isize,
    fetch_add,
    fetch_sub,
    fetch_max,
    fetch_min,
    fetch_and,
    fetch_nand,
    fetch_or,
    fetch_xor
);
atomic!(
    AtomicU8, u8, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicU16, u16, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicU32, u32, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicU64, u64, fetch_add, fetch_sub, fetch_max, fetch_min, fetch_and, fetch_nand, fetch_or,
    fetch_xor
);
atomic!(
    AtomicUsize,
    usize,
    fetch_add,
    fetch_sub,
    fetch_max,
    fetch_min,
    fetch_and,
    fetch_nand,
    fetch_or,
    fetch_xor
);

impl AtomicBool {
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        each!(self.raw(), a => a.fetch_not(order))
    }
}

/// std's `AtomicPtr` (of a `T: 'static`, which the backends' atomics need).
pub struct AtomicPtr<T: 'static> {
    init: *mut T,
    per: PerExec<Raw<*mut T>>,
}

// SAFETY: as std's `AtomicPtr`: only the pointer is shared, never the pointee.
unsafe impl<T: 'static> Send for AtomicPtr<T> {}
// SAFETY: as above.
unsafe impl<T: 'static> Sync for AtomicPtr<T> {}

impl<T: 'static> AtomicPtr<T> {
    pub const fn new(value: *mut T) -> Self {
        AtomicPtr {
            init: value,
            per: PerExec::new(),
        }
    }

    fn raw(&self) -> &Raw<*mut T> {
        let init = self.init;
        self.per
            .get(|| by_engine!(sync::Atomic::<P, *mut T>::new(init)))
            .0
    }

    common!(AtomicPtr, *mut T);
}

impl<T: 'static> Default for AtomicPtr<T> {
    fn default() -> Self {
        Self::new(std::ptr::null_mut())
    }
}

impl<T: 'static> fmt::Debug for AtomicPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
    }
}
