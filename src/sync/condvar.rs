//! [`Condvar`]: a condition variable over any backend, whose waits may wake spuriously under
//! the model backends.
//!
//! Invariant: a wait unlocks, sleeps and relocks exactly as the backend's does; when the
//! exploration's spurious-wakeup policy says so, it returns instead after an unlock and a
//! relock with no notification between (see [`super::spurious`]).

use super::trace::{self, Object, Op};
use super::{address, record, MutexGuard, Primitives};

/// A condition variable. Waiters must re-check their condition in a loop: under the model
/// backends a wait may wake spuriously.
pub struct Condvar<P: Primitives> {
    raw: P::Condvar,
}

impl<P: Primitives> Condvar<P> {
    pub fn new() -> Self {
        Self { raw: P::condvar() }
    }

    /// Unlocks, sleeps until notified (or spuriously woken), and locks again.
    #[track_caller]
    pub fn wait<'a, T: Send>(&self, guard: MutexGuard<'a, P, T>) -> MutexGuard<'a, P, T> {
        let (mutex, raw) = guard.into_parts();
        let this = Object::At("Condvar", address(self));
        record::<P>(Op::Unlock, Object::At("Mutex", address(mutex)), true);
        if P::spurious_wakeup() {
            // A spurious wakeup is an unlock and a relock with no notification between: other
            // threads may run in the gap, exactly as after a real one.
            record::<P>(Op::SpuriousWake, this, true);
            drop(raw);
            P::yield_now();
            return mutex.lock();
        }
        let step = record::<P>(Op::Wait, this, false);
        let raw = P::wait(&self.raw, raw);
        trace::done(step);
        record::<P>(Op::Lock, Object::At("Mutex", address(mutex)), true);
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
        record::<P>(Op::NotifyOne, Object::At("Condvar", address(self)), true);
        P::notify_one(&self.raw)
    }

    #[track_caller]
    pub fn notify_all(&self) {
        record::<P>(Op::NotifyAll, Object::At("Condvar", address(self)), true);
        P::notify_all(&self.raw)
    }
}

impl<P: Primitives> Default for Condvar<P> {
    fn default() -> Self {
        Self::new()
    }
}
