//! [`Barrier`]: `n` threads wait until all `n` have arrived, then all go on; reusable.
//!
//! Invariant: a wait returns only once `n` waits of its generation have begun, exactly one of
//! them is the leader, and a thread that comes back for the next generation cannot be released
//! by the previous one. Built once, on the backend's own mutex and condvar, for every backend
//! (loom has no barrier; std's is the same construction), so the checkers see every step.

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Identity, Op, Value};
use super::Primitives;

/// A reusable barrier for `n` threads, as `std::sync::Barrier`.
pub struct Barrier<P: Primitives> {
    parties: usize,
    state: P::Mutex<Generation>,
    released: P::Condvar,
    identity: Identity,
}

struct Generation {
    /// Threads of the current generation waiting so far.
    arrived: usize,
    /// Bumped when the last thread of a generation arrives: what the waiters wait for.
    number: u64,
}

/// What [`Barrier::wait`] returns: whether this thread was the generation's leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// True for exactly one thread of each generation: the last to arrive.
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

impl<P: Primitives> Barrier<P> {
    /// A barrier that releases its waiters each time `n` have arrived (at once, for 0 or 1).
    pub fn new(n: usize) -> Self {
        Barrier {
            parties: n,
            state: P::mutex(Generation {
                arrived: 0,
                number: 0,
            }),
            released: P::condvar(),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new barrier that traces call `name` instead of `Barrier#n`.
    pub fn named(name: impl Into<Arc<str>>, n: usize) -> Self {
        let mut made = Self::new(n);
        made.identity = made.identity.named(name.into());
        made
    }

    /// Blocks until `n` threads (this one included) have called `wait` in this generation.
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let object = self.identity.object("Barrier");
        let attempt = trace::attempt::<P>(Op::BarrierWait, object, Location::caller());
        let result = self.arrive();
        attempt.took_effect(Value::Leader(result.leader));
        result
    }

    fn arrive(&self) -> BarrierWaitResult {
        let mut state = P::lock(&self.state);
        let generation = state.number;
        state.arrived += 1;
        if state.arrived < self.parties {
            while state.number == generation {
                state = P::wait(&self.released, state);
            }
            BarrierWaitResult { leader: false }
        } else {
            state.arrived = 0;
            state.number = state.number.wrapping_add(1);
            drop(state);
            P::notify_all(&self.released);
            BarrierWaitResult { leader: true }
        }
    }
}

impl<P: Primitives> fmt::Debug for Barrier<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Barrier<{}>({})", P::NAME, self.parties)
    }
}
