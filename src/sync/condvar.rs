//! [`Condvar`]: a condition variable over any backend, whose waits may wake spuriously, and
//! whose timed waits may time out, under the model backends.
//!
//! Invariant: a wait unlocks, sleeps and relocks exactly as the backend's does; when the
//! exploration's spurious-wakeup policy says so, it returns instead after an unlock and a
//! relock with no notification between (see [`super::choice`]). A timed wait under the model
//! backends ends either notified or timed out, the timer thread of [`super::timer`] deciding
//! when, so both are explored; in production it is the backend's own. A trace shows the wait
//! where it began (with the mutex it unlocked) and where it woke (notified, spuriously or timed
//! out; relocked).

use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::trace::{self, Identity, Object, Op, Value};
use super::{timer, MutexGuard, Primitives};

/// Whether a timed wait timed out, as `std::sync::WaitTimeoutResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable. Waiters must re-check their condition in a loop: under the model
/// backends a wait may wake spuriously.
pub struct Condvar<P: Primitives> {
    raw: P::Condvar,
    identity: Identity,
}

impl<P: Primitives> Condvar<P> {
    pub fn new() -> Self {
        Self {
            raw: P::condvar(),
            identity: Identity::new::<P>(None),
        }
    }

    /// A new condvar that traces call `name` instead of `Condvar#n`.
    pub fn named(name: impl Into<Arc<str>>) -> Self {
        Self {
            raw: P::condvar(),
            identity: Identity::new::<P>(Some(name.into())),
        }
    }

    fn object(&self) -> Object<'_> {
        self.identity.object("Condvar")
    }

    /// Unlocks, sleeps until notified (or spuriously woken), and locks again.
    #[track_caller]
    pub fn wait<'a, T: Send>(&self, guard: MutexGuard<'a, P, T>) -> MutexGuard<'a, P, T> {
        self.wait_at(guard, None, Location::caller()).0
    }

    /// Unlocks, sleeps until notified, spuriously woken or `timeout` has passed, and locks
    /// again. Under the model backends the timeout is an explored choice: it may fire at any
    /// moment of the wait, or not at all if a notification comes first.
    #[track_caller]
    pub fn wait_timeout<'a, T: Send>(
        &self,
        guard: MutexGuard<'a, P, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, P, T>, WaitTimeoutResult) {
        let (guard, timed_out) = self.wait_at(guard, Some(timeout), Location::caller());
        (guard, WaitTimeoutResult(timed_out))
    }

    /// Waits while `condition` holds, giving up after `timeout` (std's `wait_timeout_while`):
    /// timed out if the condition still holds when the time is up.
    #[track_caller]
    pub fn wait_timeout_while<'a, T: Send>(
        &self,
        mut guard: MutexGuard<'a, P, T>,
        timeout: Duration,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> (MutexGuard<'a, P, T>, WaitTimeoutResult) {
        let at = Location::caller();
        let deadline = (!P::MODEL).then(|| Instant::now() + timeout);
        loop {
            if !condition(&mut guard) {
                return (guard, WaitTimeoutResult(false));
            }
            // The model backends have no time: the timeout is the timer's to fire.
            let left = match deadline {
                None => timeout,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return (guard, WaitTimeoutResult(true)),
                },
            };
            let (relocked, timed_out) = self.wait_at(guard, Some(left), at);
            guard = relocked;
            if timed_out && P::MODEL {
                let still = condition(&mut guard);
                return (guard, WaitTimeoutResult(still));
            }
        }
    }

    fn wait_at<'a, T: Send>(
        &self,
        guard: MutexGuard<'a, P, T>,
        timeout: Option<Duration>,
        at: &'static Location<'static>,
    ) -> (MutexGuard<'a, P, T>, bool) {
        let (mutex, raw) = guard.into_parts();
        if !P::MODEL {
            let (raw, timed_out) = match timeout {
                None => (P::wait(&self.raw, raw), false),
                Some(timeout) => P::wait_timeout(&self.raw, raw, timeout),
            };
            return (MutexGuard::from_parts_at(mutex, raw, at), timed_out);
        }
        // The mutex's label, for the rows that say it was unlocked and relocked.
        let label = trace::label::<P>(mutex.object());
        let unlocking = label.clone().map_or(Value::None, Value::Unlocking);
        let spurious = P::spurious_wakeup();
        let attempt = trace::attempt_with::<P>(Op::Wait, self.object(), unlocking, at);
        let (raw, timed_out) = if spurious {
            // A spurious wakeup is an unlock and a relock with no notification between. The
            // relock is a scheduling point of its own, so other threads may run in the gap,
            // and the waiter may also win the race for the lock. (No `yield_now` here: loom
            // would run every other thread first, so the waiter would never win it, and PCT
            // would lower the waiter's priority.)
            drop(raw);
            (mutex.lock_unrecorded(), false)
        } else {
            timer::wait::<P, T>(&self.raw, mutex.raw(), raw, timeout.is_some())
        };
        attempt.took_effect(match label {
            Some(relocked) if timed_out => Value::TimedOutRelocked(relocked),
            Some(relocked) => Value::Woke { spurious, relocked },
            None => Value::None,
        });
        (MutexGuard::from_parts_at(mutex, raw, at), timed_out)
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
        if P::MODEL {
            timer::notify::<P>(&self.raw, false);
        } else {
            P::notify_one(&self.raw);
        }
        trace::effect::<P>(
            Op::NotifyOne,
            self.object(),
            Value::None,
            Location::caller(),
        );
    }

    #[track_caller]
    pub fn notify_all(&self) {
        if P::MODEL {
            timer::notify::<P>(&self.raw, true);
        } else {
            P::notify_all(&self.raw);
        }
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
