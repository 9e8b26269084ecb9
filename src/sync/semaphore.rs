//! [`Semaphore`]: a counting semaphore (Dijkstra's P and V, Java's `acquire`/`release`).
//!
//! Invariant: the permit count never goes below zero; `acquire` takes one permit, waiting
//! while there is none, and `release` adds one, whether or not the caller took one (as in
//! Java: releasing a permit never acquired inflates the count, a classic bug this type lets a
//! model show). Built once, on the backend's own mutex and condvar, for every backend: std has
//! no semaphore, and loom and shuttle see every step of this one.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Identity, Object, Op, Value};
use super::Primitives;

/// A counting semaphore.
pub struct Semaphore<P: Primitives> {
    permits: P::Mutex<Permits>,
    available: P::Condvar,
    identity: Identity,
}

/// The permits available, and how many threads wait for one: `release` notifies only when
/// some do (a notify nobody waits for is a model event all the same).
struct Permits {
    available: usize,
    waiting: usize,
}

impl<P: Primitives> Semaphore<P> {
    /// A semaphore holding `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            permits: P::mutex(Permits {
                available: permits,
                waiting: 0,
            }),
            available: P::condvar(),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new semaphore that traces call `name` instead of `Semaphore#n`.
    pub fn named(name: impl Into<Arc<str>>, permits: usize) -> Self {
        let mut made = Self::new(permits);
        made.identity = made.identity.named(name.into());
        made
    }

    fn object(&self) -> Object<'_> {
        self.identity.object("Semaphore")
    }

    /// Takes a permit, waiting until one is available.
    #[track_caller]
    pub fn acquire(&self) {
        let attempt = trace::attempt::<P>(Op::Acquire, self.object(), Location::caller());
        let mut permits = P::lock(&self.permits);
        while permits.available == 0 {
            permits.waiting += 1;
            permits = P::wait(&self.available, permits);
            permits.waiting -= 1;
        }
        permits.available -= 1;
        // Under the lock: where the permit was taken.
        attempt.took_effect(Value::None);
    }

    /// Takes a permit if one is available now; never waits.
    #[track_caller]
    pub fn try_acquire(&self) -> bool {
        let mut permits = P::lock(&self.permits);
        let acquired = permits.available > 0;
        if acquired {
            permits.available -= 1;
        }
        let (object, at) = (self.object(), Location::caller());
        trace::effect::<P>(Op::TryAcquire, object, Value::Acquired(acquired), at);
        acquired
    }

    /// Adds a permit and wakes one waiter.
    #[track_caller]
    pub fn release(&self) {
        let mut permits = P::lock(&self.permits);
        permits.available += 1;
        trace::effect::<P>(Op::Release, self.object(), Value::None, Location::caller());
        let wake = permits.waiting > 0;
        drop(permits);
        if wake {
            P::notify_one(&self.available);
        }
    }

    /// The permits available now (stale as soon as it returns, unless the caller knows better).
    #[track_caller]
    pub fn available_permits(&self) -> usize {
        P::lock(&self.permits).available
    }
}

impl<P: Primitives> fmt::Debug for Semaphore<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Semaphore<{}>", P::NAME)
    }
}
