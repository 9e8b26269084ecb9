//! std's `Condvar`, over the backend of the running checker: the backend's waits (spurious
//! wakeups and timeouts explored) on the lock of a mirror [`super::Mutex`].
//!
//! Invariant: the backend condvar is made per execution ([`PerExec`]), so `Condvar::new` is
//! `const` and a `static` works; a wait hands the mirror guard's backend guard to the backend
//! condvar and puts back the one it returns.

use std::fmt;
use std::sync::{LockResult, PoisonError};
use std::time::Duration;

use super::mutex::{MutexGuard, RawGuard};
use crate::std::rt::{by_engine, each, pair, By, PerExec};
use crate::sync::{self, Loom, Shuttle, Std};

type RawCondvar = By<sync::Condvar<Loom>, sync::Condvar<Shuttle>, sync::Condvar<Std>>;

/// Whether a timed wait timed out, as std's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// std's `Condvar`.
pub struct Condvar {
    per: PerExec<RawCondvar>,
}

/// The guard, as `Err` if its mutex is poisoned.
fn checked<'a, T: ?Sized>(guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
    if guard.poisoned() {
        Err(PoisonError::new(guard))
    } else {
        Ok(guard)
    }
}

impl Condvar {
    pub const fn new() -> Self {
        Condvar {
            per: PerExec::new(),
        }
    }

    fn raw(&self) -> &RawCondvar {
        self.per
            .get_unordered(|| by_engine!(sync::Condvar::<P>::new()))
            .0
    }

    #[track_caller]
    pub fn wait<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
    ) -> LockResult<MutexGuard<'a, T>> {
        let raw = guard.release_for_wait();
        let relocked: RawGuard<'a> = pair!(self.raw(), raw, (c, g) => c.wait(g));
        guard.reacquire(relocked);
        checked(guard)
    }

    #[track_caller]
    pub fn wait_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        checked(guard)
    }

    #[track_caller]
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let raw = guard.release_for_wait();
        let (relocked, result) = match pair!(self.raw(), raw, (c, g) => c.wait_timeout(g, timeout))
        {
            By::Loom((g, r)) => (By::Loom(g), r.timed_out()),
            By::Shuttle((g, r)) => (By::Shuttle(g), r.timed_out()),
            By::Std((g, r)) => (By::Std(g), r.timed_out()),
        };
        guard.reacquire(relocked);
        match checked(guard) {
            Ok(guard) => Ok((guard, WaitTimeoutResult(result))),
            Err(poisoned) => Err(PoisonError::new((
                poisoned.into_inner(),
                WaitTimeoutResult(result),
            ))),
        }
    }

    #[track_caller]
    pub fn wait_timeout_while<'a, T: ?Sized, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        timeout: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        // The model backends have no time: one timed wait, whose timeout is the timer's to
        // fire, then the condition decides; std's own clock in production.
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if !condition(&mut *guard) {
                return checked(guard)
                    .map(|g| (g, WaitTimeoutResult(false)))
                    .map_err(|p| PoisonError::new((p.into_inner(), WaitTimeoutResult(false))));
            }
            let left = match crate::std::rt::engine() {
                crate::std::rt::Engine::Std => {
                    deadline.saturating_duration_since(std::time::Instant::now())
                }
                _ => timeout,
            };
            let (relocked, result) = self.wait_timeout(guard, left)?;
            guard = relocked;
            if result.timed_out() {
                let still = condition(&mut *guard);
                return checked(guard)
                    .map(|g| (g, WaitTimeoutResult(still)))
                    .map_err(|p| PoisonError::new((p.into_inner(), WaitTimeoutResult(still))));
            }
        }
    }

    #[track_caller]
    pub fn notify_one(&self) {
        each!(self.raw(), c => c.notify_one())
    }

    #[track_caller]
    pub fn notify_all(&self) {
        each!(self.raw(), c => c.notify_all())
    }
}

impl Default for Condvar {
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
