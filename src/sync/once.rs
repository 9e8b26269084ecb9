//! [`Once`]: run an initialisation exactly once, as `std::sync::Once`; with [`OnceLock`] and
//! [`super::LazyLock`] it completes std's one-time initialisation family.
//!
//! Invariant: of all the `call_once` calls on one `Once`, exactly one closure runs to
//! completion, and every call returns only after it has. Built on
//! [`OnceLock`], so the checkers see the same double-checked path (one acquire
//! load once done) that the singleton scenario proves.
//!
//! Unlike std's, a `Once` whose closure panicked is not poisoned: the next `call_once` runs
//! its closure (as [`OnceLock`] retries its initialiser).

use std::fmt;

use super::once_lock::OnceLock;
use super::Primitives;

/// A one-time initialisation.
pub struct Once<P: Primitives> {
    done: OnceLock<P, ()>,
}

impl<P: Primitives> Once<P> {
    pub fn new() -> Self {
        Once {
            done: OnceLock::new(),
        }
    }

    /// Runs `f` if no `call_once` has completed yet; waits for one running elsewhere.
    pub fn call_once(&self, f: impl FnOnce()) {
        self.done.get_or_init(f);
    }

    /// Whether some `call_once` has completed.
    pub fn is_completed(&self) -> bool {
        self.done.get().is_some()
    }
}

impl<P: Primitives> Default for Once<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Primitives> fmt::Debug for Once<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Once<{}>", P::NAME)
    }
}
