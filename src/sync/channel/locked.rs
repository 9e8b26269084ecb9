//! The channel on the production backends (std, parking_lot): one lock round trip of the
//! backend's raw mutex per operation, and a condvar for each side to wait on.
//!
//! Invariant: the state changes only under the lock; a condvar is notified only when someone
//! waits on it (`State::receiving`, `State::senders_waiting`: a notify nobody waits for is a
//! futex wake all the same), and the count of senders reaches zero under the lock, where the
//! receiver reads it.

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{object, Inner, TryRecvError, TrySendError};
use crate::sync::trace::{self, Attempt, Op, Value};
use crate::sync::Primitives;

struct State<T> {
    /// Each message with its number (1 for the first sent).
    queue: VecDeque<(u64, T)>,
    sent: u64,
    /// Messages received so far: a rendezvous sender waits until its number is among them.
    received: u64,
    receiver: bool,
    /// Whether the receiver waits in `recv` now: `ready` is notified only then, and a
    /// rendezvous `try_send` needs one.
    receiving: bool,
    /// Senders waiting on `taken` now: it is notified only when there are some.
    senders_waiting: usize,
}

/// The locked channel's state and condvars.
pub(super) struct Locked<P: Primitives, T: Send> {
    state: P::Mutex<State<T>>,
    /// The receiver waits here for a message, or for the last sender to go.
    ready: P::Condvar,
    /// Bounded senders wait here for room, for their message to be received, or for the
    /// receiver to go.
    taken: P::Condvar,
}

impl<P: Primitives, T: Send> Locked<P, T> {
    pub(super) fn new() -> Self {
        Locked {
            state: P::mutex(State {
                queue: VecDeque::new(),
                sent: 0,
                received: 0,
                receiver: true,
                receiving: false,
                senders_waiting: 0,
            }),
            ready: P::condvar(),
            taken: P::condvar(),
        }
    }

    /// Unlocks `state`, waits on `condvar` (at most `timeout`), relocks: the guard, and
    /// whether it timed out.
    fn wait<'a>(
        &'a self,
        condvar: &P::Condvar,
        state: P::Guard<'a, State<T>>,
        timeout: Option<Duration>,
    ) -> (P::Guard<'a, State<T>>, bool) {
        match timeout {
            None => (P::wait(condvar, state), false),
            Some(timeout) => P::wait_timeout(condvar, state, timeout),
        }
    }

    fn notify(condvar: &P::Condvar, all: bool) {
        if all {
            P::notify_all(condvar);
        } else {
            P::notify_one(condvar);
        }
    }

    /// Waits on `taken`, counted among the senders waiting there.
    fn wait_taken<'a>(&'a self, mut state: P::Guard<'a, State<T>>) -> P::Guard<'a, State<T>> {
        state.senders_waiting += 1;
        let (mut state, _) = self.wait(&self.taken, state, None);
        state.senders_waiting -= 1;
        state
    }

    /// Sends `message`, waiting for room (or for its receipt) when `wait` and bounded: one
    /// lock round trip unless it must wait.
    pub(super) fn send(
        &self,
        inner: &Arc<Inner<P, T>>,
        message: T,
        wait: bool,
        at: &'static Location<'static>,
    ) -> Result<(), TrySendError<T>> {
        // Only a send that can block is an attempt: its row shows where it began, and stays
        // open if it never completes (a deadlock's blocked sender).
        let attempt = (wait && inner.bound.is_some())
            .then(|| trace::attempt::<P>(Op::Send, object(inner), at));
        let finish = |attempt: Option<Attempt>, value: Value| match attempt {
            Some(attempt) => attempt.took_effect(value),
            None => trace::effect::<P>(Op::Send, object(inner), value, at),
        };
        let mut state = P::lock(&self.state);
        if let Some(bound) = inner.bound.filter(|b| *b > 0) {
            while state.receiver && state.queue.len() >= bound {
                if !wait {
                    return Err(TrySendError::Full(message));
                }
                if let Some(attempt) = &attempt {
                    attempt.waits(Value::Full { capacity: bound });
                }
                state = self.wait_taken(state);
            }
        }
        if !state.receiver {
            finish(attempt, Value::Disconnected);
            return Err(TrySendError::Disconnected(message));
        }
        let rendezvous = inner.bound == Some(0);
        if rendezvous && !wait && !(state.receiving && state.queue.is_empty()) {
            return Err(TrySendError::Full(message));
        }
        state.sent += 1;
        let number = state.sent;
        state.queue.push_back((number, message));
        let receiving = state.receiving;
        if !(rendezvous && wait) {
            // Under the lock: where the message went in.
            finish(attempt, Value::Message(number));
            drop(state);
            if receiving {
                Self::notify(&self.ready, false);
            }
            return Ok(());
        }
        if receiving {
            Self::notify(&self.ready, false);
        }
        while state.receiver && state.received < number {
            if let Some(attempt) = &attempt {
                attempt.waits(Value::Full { capacity: 0 });
            }
            state = self.wait_taken(state);
        }
        if state.received < number {
            // The receiver left without taking it: give it back, as std does.
            let mine = state.queue.iter().position(|(n, _)| *n == number);
            if let Some((_, message)) = mine.and_then(|i| state.queue.remove(i)) {
                finish(attempt, Value::Disconnected);
                return Err(TrySendError::Disconnected(message));
            }
        }
        // Under the lock: where its receipt was seen.
        finish(attempt, Value::Message(number));
        Ok(())
    }

    /// The last sender is gone: the count reaches zero under the lock, where the receiver
    /// reads it.
    pub(super) fn last_sender_gone(&self, inner: &Inner<P, T>) {
        let state = P::lock(&self.state);
        inner.senders_gone();
        let wake = state.receiving;
        drop(state);
        if wake {
            Self::notify(&self.ready, false);
        }
    }

    /// The receive of `op`: never waiting (`wait` is `None`), until a message or the last
    /// sender's drop (`Some(None)`), or at most `timeout` (`Some(Some(timeout))`).
    pub(super) fn receive(
        &self,
        inner: &Arc<Inner<P, T>>,
        op: Op,
        wait: Option<Option<Duration>>,
        at: &'static Location<'static>,
    ) -> Result<T, TryRecvError> {
        let attempt = wait.map(|_| trace::attempt::<P>(op, object(inner), at));
        let mut state = P::lock(&self.state);
        if let Some(timeout) = wait {
            let deadline = timeout.map(|t| Instant::now() + t);
            while state.queue.is_empty() && !inner.disconnected() {
                let left = match deadline {
                    None => timeout,
                    Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                        Some(left) if !left.is_zero() => Some(left),
                        _ => break,
                    },
                };
                if let Some(attempt) = &attempt {
                    attempt.waits(Value::Empty);
                }
                state.receiving = true;
                let (relocked, _) = self.wait(&self.ready, state, left);
                state = relocked;
                state.receiving = false;
            }
        }
        let (value, result) = match state.queue.pop_front() {
            Some((number, message)) => {
                state.received = number.max(state.received);
                (Value::Message(number), Ok(message))
            }
            None if inner.disconnected() => (Value::Disconnected, Err(TryRecvError::Disconnected)),
            None if wait.is_some() => (Value::TimedOut, Err(TryRecvError::Empty)),
            None => (Value::Empty, Err(TryRecvError::Empty)),
        };
        // Under the lock: where the message came out.
        match attempt {
            Some(attempt) => attempt.took_effect(value),
            None => trace::effect::<P>(op, object(inner), value, at),
        }
        let wake = result.is_ok() && state.senders_waiting > 0;
        drop(state);
        if wake {
            Self::notify(&self.taken, true);
        }
        result
    }

    /// The receiver is gone: unread messages are dropped now, not with the last sender; but a
    /// rendezvous sender still waiting takes its own back.
    pub(super) fn receiver_gone(&self, inner: &Inner<P, T>) {
        let mut state = P::lock(&self.state);
        state.receiver = false;
        let unread = match inner.bound {
            Some(0) => VecDeque::new(),
            _ => std::mem::take(&mut state.queue),
        };
        let wake = state.senders_waiting > 0;
        drop(state);
        drop(unread);
        if wake {
            Self::notify(&self.taken, true);
        }
    }
}
