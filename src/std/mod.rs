//! std's paths, checked: `threadproof::std::sync::{Mutex, Condvar, ...}`, `threadproof::std::thread`,
//! `threadproof::std::cell`, and [`crate::thread_local!`], with std's signatures, so that a
//! library is checked unchanged after a two-line swap:
//!
//! ```
//! #[cfg(threadproof)] use threadproof::std::sync::{Arc, Mutex, Condvar};
//! #[cfg(not(threadproof))] use std::sync::{Arc, Mutex, Condvar};
//! # let _ = (Arc::new(Mutex::new(0)), Condvar::new());
//! ```
//!
//! Compiled once, run under every checker: each type dispatches at run time to the checker
//! running the current execution (loom, or shuttle's random, PCT or URW schedules; std's own
//! primitives when none runs), which the harness names when each execution begins.
//!
//! Invariant: the mirror adds no behaviour of its own over [`crate::sync`]'s wrappers: it
//! picks the backend, makes its primitive per execution (so `new` is `const` and a `static`
//! starts fresh in every execution), and maps results to std's types (`LockResult`, poisoning
//! included; `RecvError`; `thread::Result`).
//!
//! # Where it differs from std
//!
//! - A `static Mutex<T>` or `RwLock<T>` gets a fresh lock and poison flag in every execution,
//!   but its data is what the previous execution left (there is no `T: Clone` to rebuild it
//!   from); the report lists it when a body does this. Wrap it in a `LazyLock` to rebuild it.
//!   Two explorations running at once on two OS threads that share such a static stop with a
//!   message rather than race on its data.
//! - Poisoning is std's under every checker, but under loom a thread already waiting for a
//!   `Mutex` when another panics under its guard panics inside loom (loom's own mutex is not
//!   poison-safe; the mirror renews it for later `lock`s only): loom's row is then `not run`,
//!   and says why; the shuttle rows check the body.
//! - `LazyLock`'s initialiser is `Fn` (it runs once per execution), where std's is `FnOnce`.
//! - `Arc` and `Weak` are modelled (see [`sync`]): drops, upgrades and `try_unwrap` are
//!   interleaved, and traced with the clones, and an `Arc` still held when the body has
//!   returned and every thread has finished (a cycle) fails the execution as a leak. Unsized
//!   ones are made with `Arc::from(Box<T>)` (std's coercion is unstable), a drop's trace rows
//!   name the line that made the dropped handle, an `Arc` made outside an execution stays
//!   std's, and one made by a `OnceLock`/`LazyLock` initialiser is not leak-checked (a
//!   `static` holds it). An `Arc` in the body's outcome, or in the data of a static `Mutex`
//!   (which outlives the execution), is still held when the execution ends: a leak.
//!   `into_raw`/`from_raw` are not offered.
//!   `std::cell` is plain memory: the checkers do not see it; use [`crate::sync::UnsafeCell`]
//!   for data they should race-check.
//! - The mirror's `Arc` is a type of its own, so what only std's `Arc` can be does not carry
//!   over: a method receiver `self: Arc<Self>` or `self: &Arc<Self>` (Rust allows those for
//!   std's smart pointers only; `arbitrary_self_types` is unstable), and `impl Wake` /
//!   `Waker::from(arc)`. Write such a method as an associated function
//!   (`fn run(this: &Arc<Self>)`), which compiles against both.
//! - `Builder::stack_size` is honoured in production; under the checkers every model thread
//!   has the stack the explorer configures.
//! - A model thread's `ThreadId` is its place in the spawn tree: equal ids in different
//!   executions name the same thread.

pub(crate) mod local;
pub(crate) mod rt;
pub mod sync;
pub mod thread;

/// std's `std::cell`: plain memory, which the checkers do not see (see the module docs).
pub mod cell {
    pub use std::cell::*;
}

/// A value in `0..n` that the checker chooses (threadproof's own, not std's): loom explores
/// every one, shuttle draws one per execution (replayably); outside the checkers, one at
/// random.
#[track_caller]
pub fn choose(n: usize) -> usize {
    match rt::engine() {
        rt::Engine::Loom => crate::sync::choose::<crate::sync::Loom>(n),
        rt::Engine::Shuttle => crate::sync::choose::<crate::sync::Shuttle>(n),
        rt::Engine::Std => crate::sync::choose::<crate::sync::Std>(n),
    }
}

/// What [`crate::check!`] brings into its body's scope: std's `sync` names (with the `atomic`
/// and `mpsc` modules), `thread`, and [`choose`].
#[doc(hidden)]
pub mod prelude {
    pub use super::choose;
    pub use super::sync::*;
    pub use super::thread;
}

/// std's `thread_local!`, per model thread under the checkers (see
/// [`crate::std::thread::LocalKey`]): `thread_local!(static NAME: T = init);`, `const { .. }`
/// initialisers included.
#[macro_export]
macro_rules! thread_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init; $($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init);
        $crate::thread_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $(#[$attr])*
        $vis static $name: $crate::std::thread::LocalKey<$t> = {
            fn init() -> $t {
                $init
            }
            fn std_key() -> &'static ::std::thread::LocalKey<::std::cell::OnceCell<$t>> {
                ::std::thread_local! {
                    static KEY: ::std::cell::OnceCell<$t> = const { ::std::cell::OnceCell::new() };
                }
                &KEY
            }
            $crate::std::thread::LocalKey::new(init, std_key)
        };
    };
}
