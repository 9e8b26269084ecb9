//! [`Condvar`]: a condition variable over any backend, whose waits may wake spuriously under
//! the model backends.
//!
//! Invariant: a wait unlocks, sleeps and relocks exactly as the backend's does; when the
//! exploration's spurious-wakeup policy says so, it returns instead after an unlock and a
//! relock with no notification between (see [`super::spurious`]). A trace shows the wait where
//! it began (with the mutex it unlocked) and where it woke (notified or spuriously, relocked).

use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Object, Op, Value};
use super::{MutexGuard, Primitives};

/// A condition variable. Waiters must re-check their condition in a loop: under the model
/// backends a wait may wake spuriously.
pub struct Condvar<P: Primitives> {
    raw: P::Condvar,
    name: Option<Arc<str>>,
}

impl<P: Primitives> Condvar<P> {
    pub fn new() -> Self {
        Self {
            raw: P::condvar(),
            name: None,
        }
    }

    /// A new condvar that traces call `name` instead of `Condvar#n`.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Self {
            raw: P::condvar(),
            name: Some(name.into()),
        }
    }

    fn object(&self) -> Object<'_> {
        Object::of("Condvar", self, self.name.as_deref())
    }

    /// Unlocks, sleeps until notified (or spuriously woken), and locks again.
    #[track_caller]
    pub fn wait<'a, T: Send>(&self, guard: MutexGuard<'a, P, T>) -> MutexGuard<'a, P, T> {
        let (mutex, raw) = guard.into_parts();
        let at = Location::caller();
        // The mutex's label, for the rows that say it was unlocked and relocked.
        let label = trace::label::<P>(mutex.object());
        let unlocking = label.clone().map_or(Value::None, Value::Unlocking);
        let spurious = P::spurious_wakeup();
        let attempt = trace::attempt_with::<P>(Op::Wait, self.object(), unlocking, at);
        let raw = if spurious {
            // A spurious wakeup is an unlock and a relock with no notification between: other
            // threads may run in the gap, exactly as after a real one.
            drop(raw);
            P::yield_now();
            mutex.lock_unrecorded()
        } else {
            P::wait(&self.raw, raw)
        };
        attempt
            .took_effect(label.map_or(Value::None, |relocked| Value::Woke { spurious, relocked }));
        MutexGuard::from_parts(mutex, raw)
    }

    /// Waits until `condition` is false, re-checking it after every wakeup.
    #[track_caller]
    pub fn wait_while<'a, T: Send>(
        &self,
        mut guard: MutexGuard<'a, P, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> MutexGuard<'a, P, T> {
        while condition(&mut guard) {
            guard = self.wait(guard);
        }
        guard
    }

    #[track_caller]
    pub fn notify_one(&self) {
        P::notify_one(&self.raw);
        trace::effect::<P>(
            Op::NotifyOne,
            self.object(),
            Value::None,
            Location::caller(),
        );
    }

    #[track_caller]
    pub fn notify_all(&self) {
        P::notify_all(&self.raw);
        trace::effect::<P>(
            Op::NotifyAll,
            self.object(),
            Value::None,
            Location::caller(),
        );
    }
}

impl<P: Primitives> Default for Condvar<P> {
    fn default() -> Self {
        Self::new()
    }
}
