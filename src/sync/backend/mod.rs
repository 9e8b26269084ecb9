//! The four backends, each one `impl Primitives` over its crate's types; the traits such an
//! `impl` names, for whoever writes a fifth; and the two macros shared by the three whose crates
//! mirror `std::sync` and `std::thread`.
//!
//! Invariant: a backend only forwards to its crate (loom's `SeqCst` fences aside, see
//! [`crate::sync`]); everything built on top of the primitives lives once in [`crate::sync`].
//! Code that uses the primitives never names the traits below: they are the contract between
//! [`Primitives`](crate::sync::Primitives) and a backend.

mod loom;
mod parking_lot;
mod raw_cell;
mod shuttle;
mod signal;
mod std;
mod std_like;

pub use self::loom::Loom;
pub use self::parking_lot::ParkingLot;
pub use self::raw_cell::{PlainCell, RawCell};
pub use self::shuttle::Shuttle;
pub use self::signal::{LoomToken, ParkSignal, SemaphoreSignal};
pub use self::std::Std;
pub(crate) use self::std_like::{raw_atomics, std_like_primitives};
pub use super::atomic::{RawAtomic, Rmw};
pub use super::gate::{NoToken, RawSignal, RawToken};
pub use super::park::{Parked, Parker, RawThread};
pub use super::rwlock::{BuiltRwLock, RawRwLock};
