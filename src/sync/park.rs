//! Thread handles and parking: std's own in production; under the model backends a
//! [`Parker`] per thread, built on the backend's mutex and condvar.
//!
//! Invariant: an `unpark` before a `park` is never lost (it leaves a token the next `park`
//! takes), and a `park` returns after an `unpark`, spuriously, or (`park_timeout`) when its
//! timeout fires: under the model backends a spurious return is an explored fault and a
//! timeout an explored choice ([`super::choice`], [`super::timer`]), as std allows both.
//!
//! Why not the checkers' own `park`: loom's unpark token is shared with its condvar waits (a
//! pending token makes the next `Condvar::wait` return at once and leaves a stale waiter that
//! can swallow a later `notify_one`, a false deadlock), its `park` never returns spuriously and
//! it has no `park_timeout`; shuttle's never times out. Built once on the backend's mutex and
//! condvar, parking behaves the same under both checkers and mixes with every other primitive.

use std::sync::Arc;
use std::time::Duration;

use super::model::{self, ThreadContext};
use super::{choice, timer, Primitives};

/// How a `park` ended, as far as the backend knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parked {
    /// Unparked (production backends: unparked, spuriously or timed out, unknown which).
    Unparked,
    /// Returned with no unpark (an explored fault).
    Spuriously,
    /// Its timeout fired (an explored choice).
    TimedOut,
}

/// A thread handle of one backend: what `current()` returns and `unpark` takes.
pub trait RawThread: Clone + Send + Sync + 'static {
    /// The running thread's handle.
    fn current() -> Self;
    /// Parks the running thread, with a timeout if `timeout` is given.
    fn park(timeout: Option<Duration>) -> Parked;
    fn unpark(&self);
    /// The name the thread was spawned with (`main` for the main thread).
    fn name(&self) -> Option<&str>;
}

impl RawThread for std::thread::Thread {
    #[inline]
    fn current() -> Self {
        std::thread::current()
    }
    #[inline]
    fn park(timeout: Option<Duration>) -> Parked {
        match timeout {
            None => std::thread::park(),
            Some(timeout) => std::thread::park_timeout(timeout),
        }
        Parked::Unparked
    }
    #[inline]
    fn unpark(&self) {
        std::thread::Thread::unpark(self)
    }
    #[inline]
    fn name(&self) -> Option<&str> {
        std::thread::Thread::name(self)
    }
}

/// A model thread's parking spot: its unpark token under a mutex, and a condvar to sleep on.
///
/// Every model thread has one from its spawn (its parent's handle can unpark it before it
/// runs), but the checker objects inside are made on the first `park` or `unpark`: most
/// threads never park, and a mutex and a condvar per spawn are a cost every execution would
/// pay.
pub struct Parker<P: Primitives> {
    spot: std::sync::OnceLock<Spot<P>>,
    name: Option<Arc<str>>,
}

struct Spot<P: Primitives> {
    token: P::Mutex<bool>,
    wake: P::Condvar,
}

impl<P: Primitives> Parker<P> {
    fn spot(&self) -> &Spot<P> {
        self.spot.get_or_init(|| Spot {
            token: P::mutex(false),
            wake: P::condvar(),
        })
    }
}

/// The parker of the thread whose context is `context`, made on first use.
pub(crate) fn parker_of<P: Primitives>(context: &ThreadContext) -> Arc<Parker<P>> {
    let parker = context.parker.get_or_init(|| {
        Arc::new(Parker::<P> {
            spot: std::sync::OnceLock::new(),
            name: context.named.then(|| Arc::clone(&context.name)),
        })
    });
    Arc::clone(parker)
        .downcast::<Parker<P>>()
        .unwrap_or_else(|_| unreachable!("a thread's parker is of its own backend"))
}

impl<P: Primitives> RawThread for Arc<Parker<P>> {
    fn current() -> Self {
        model::with_context::<P, _>(parker_of::<P>)
    }

    fn park(timeout: Option<Duration>) -> Parked {
        let me = Self::current();
        let me = me.spot();
        let mut token = P::lock(&me.token);
        loop {
            if std::mem::take(&mut *token) {
                return Parked::Unparked;
            }
            if choice::fault::<P>() {
                // No `yield_now` before returning (as for a condvar's spurious wakeup): loom
                // would run every other thread first, and PCT would lower this one's priority.
                return Parked::Spuriously;
            }
            let (relocked, timed_out) =
                timer::wait::<P, bool>(&me.wake, &me.token, token, timeout.is_some());
            token = relocked;
            if timed_out {
                // A token that came with the timeout is left for the next park.
                return Parked::TimedOut;
            }
        }
    }

    fn unpark(&self) {
        let spot = self.spot();
        *P::lock(&spot.token) = true;
        timer::notify::<P>(&spot.wake, false);
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}
