//! The four backends, each one `impl Primitives` over its crate's types, and the two macros
//! shared by the three whose crates mirror `std::sync` and `std::thread`.
//!
//! Invariant: a backend only forwards to its crate (loom's `SeqCst` fences aside, see
//! [`crate::sync`]); everything built on top of the primitives lives once in [`crate::sync`].

mod loom;
mod parking_lot;
mod shuttle;
mod std;
mod std_like;

pub use self::loom::Loom;
pub use self::parking_lot::ParkingLot;
pub use self::shuttle::Shuttle;
pub use self::std::Std;
pub(crate) use self::std_like::{raw_atomics, std_like_primitives};
