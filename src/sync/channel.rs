//! Channels, as `std::sync::mpsc`: unbounded ([`channel`]) and bounded ([`sync_channel`],
//! a rendezvous at bound 0), with `try_recv` and `recv_timeout`; built once on the facade's
//! [`Mutex`] and [`Condvar`] for every backend.
//!
//! Invariant: [`Receiver::recv`] returns every message sent, in order per sender, and returns
//! `None` only once the queue is empty and every sender is gone; a send fails only once the
//! receiver is gone, and then gives the message back (a rendezvous send too, when the
//! receiver leaves without taking it). That disconnection is what a worker's "end of input"
//! is. A bounded channel never holds more than its bound of messages that no sender is still
//! waiting on: a [`SyncSender::send`] waits for room (bound > 0), or until its message was
//! received (bound 0, where `try_send` only hands a message to a receiver waiting for one).
//!
//! Why not each backend's own `mpsc`: loom 0.7's does not track senders (a `recv` with every
//! sender dropped blocks forever, which loom reports as a deadlock), has no `sync_channel`,
//! and its `recv_timeout` is `unimplemented!`. Built from the facade's lock and condvars, this
//! one behaves the same on every backend, loom and shuttle see all of it, and `recv_timeout`
//! times out through the condvar's timed wait (an explored choice under the checkers). Traces
//! number the messages: `send Channel#1 message 2`, `recv Channel#1 → message 2`.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use super::trace::{self, Object, Op, Value};
use super::{Condvar, Mutex, Primitives};

struct State<T> {
    /// Each message with its number (1 for the first sent).
    queue: VecDeque<(u64, T)>,
    sent: u64,
    /// Messages received so far: a rendezvous sender waits until its number is among them.
    received: u64,
    senders: usize,
    receiver: bool,
    /// Whether the receiver waits in `recv` now: a send or the last sender's drop notifies
    /// `ready` only then (fewer operations for loom, no futex wake per send on std), and a
    /// rendezvous `try_send` needs one.
    receiving: bool,
}

struct Inner<P: Primitives, T: Send> {
    state: Mutex<P, State<T>>,
    /// The receiver waits here for a message, or for the last sender to go.
    ready: Condvar<P>,
    /// Bounded senders wait here for room, for their message to be received, or for the
    /// receiver to go.
    taken: Condvar<P>,
    /// `None`: unbounded.
    bound: Option<usize>,
}

/// The sending half of an unbounded [`channel`]; clone it for more producers.
pub struct Sender<P: Primitives, T: Send> {
    inner: Arc<Inner<P, T>>,
}

/// The sending half of a bounded [`sync_channel`]; clone it for more producers.
pub struct SyncSender<P: Primitives, T: Send> {
    inner: Arc<Inner<P, T>>,
}

/// The receiving half. Like std's, it can move to another thread but not be shared:
///
/// ```
/// fn moved<T: Send>() {}
/// moved::<threadproof::sync::Receiver<threadproof::sync::Std, u32>>();
/// ```
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<threadproof::sync::Receiver<threadproof::sync::Std, u32>>();
/// ```
pub struct Receiver<P: Primitives, T: Send> {
    inner: Arc<Inner<P, T>>,
    /// Not `Sync`, as std's: one thread receives at a time, so the channel notifies at most
    /// one waiter (see `State::receiving`).
    _one_receiver: PhantomData<std::cell::Cell<()>>,
}

/// Why [`Receiver::try_recv`] returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TryRecvError {
    /// None queued now; senders remain.
    Empty,
    /// None queued, and every sender is gone.
    Disconnected,
}

/// Why [`Receiver::recv_timeout`] returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecvTimeoutError {
    Timeout,
    Disconnected,
}

/// Why [`SyncSender::try_send`] did not send: the message comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// No room now (or, at bound 0, no receiver waiting).
    Full(T),
    Disconnected(T),
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Disconnected(_) => "Disconnected(..)",
        })
    }
}

fn new_channel<P: Primitives, T: Send>(bound: Option<usize>) -> Arc<Inner<P, T>> {
    Arc::new(Inner {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            sent: 0,
            received: 0,
            senders: 1,
            receiver: true,
            receiving: false,
        }),
        ready: Condvar::new(),
        taken: Condvar::new(),
        bound,
    })
}

/// A new unbounded channel.
pub fn channel<P: Primitives, T: Send>() -> (Sender<P, T>, Receiver<P, T>) {
    let inner = new_channel(None);
    (
        Sender {
            inner: Arc::clone(&inner),
        },
        Receiver {
            inner,
            _one_receiver: PhantomData,
        },
    )
}

/// A new channel holding at most `bound` messages; at bound 0 every send waits until its
/// message is received (a rendezvous).
pub fn sync_channel<P: Primitives, T: Send>(bound: usize) -> (SyncSender<P, T>, Receiver<P, T>) {
    let inner = new_channel(Some(bound));
    (
        SyncSender {
            inner: Arc::clone(&inner),
        },
        Receiver {
            inner,
            _one_receiver: PhantomData,
        },
    )
}

/// The channel as a trace names it.
fn object<P: Primitives, T: Send>(inner: &Arc<Inner<P, T>>) -> Object<'_> {
    Object::of("Channel", &**inner, None)
}

impl<P: Primitives, T: Send> Inner<P, T> {
    /// Sends `message`, waiting for room (or for its receipt) when `wait` and bounded.
    #[track_caller]
    fn send(
        self: &Arc<Self>,
        message: T,
        wait: bool,
        at: &'static Location<'static>,
    ) -> Result<(), TrySendError<T>> {
        let mut state = self.state.lock();
        if let Some(bound) = self.bound.filter(|b| *b > 0) {
            while state.receiver && state.queue.len() >= bound {
                if !wait {
                    return Err(TrySendError::Full(message));
                }
                state = self.taken.wait(state);
            }
        }
        if !state.receiver {
            drop(state);
            trace::effect::<P>(Op::Send, object(self), Value::Disconnected, at);
            return Err(TrySendError::Disconnected(message));
        }
        let rendezvous = self.bound == Some(0);
        if rendezvous && !wait && !(state.receiving && state.queue.is_empty()) {
            return Err(TrySendError::Full(message));
        }
        state.sent += 1;
        let number = state.sent;
        state.queue.push_back((number, message));
        // Under the lock: where the message went in.
        trace::effect::<P>(Op::Send, object(self), Value::Message(number), at);
        let receiving = state.receiving;
        drop(state);
        if receiving {
            self.ready.notify_one();
        }
        if rendezvous && wait {
            let mut state = self.state.lock();
            while state.receiver && state.received < number {
                state = self.taken.wait(state);
            }
            if state.received < number {
                // The receiver left without taking it: give it back, as std does.
                let mine = state.queue.iter().position(|(n, _)| *n == number);
                if let Some((_, message)) = mine.and_then(|i| state.queue.remove(i)) {
                    drop(state);
                    trace::effect::<P>(Op::Send, object(self), Value::Disconnected, at);
                    return Err(TrySendError::Disconnected(message));
                }
            }
        }
        Ok(())
    }

    fn add_sender(&self) {
        self.state.lock().senders += 1;
    }

    fn drop_sender(&self) {
        if unwinding_in_model::<P>() {
            return;
        }
        let mut state = self.state.lock();
        state.senders -= 1;
        let wake = state.senders == 0 && state.receiving;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }
}

impl<P: Primitives, T: Send> Sender<P, T> {
    /// Queues `message`; gives it back if the receiver is gone.
    #[track_caller]
    pub fn send(&self, message: T) -> Result<(), T> {
        (self.inner.send(message, true, Location::caller())).map_err(|e| match e {
            TrySendError::Full(m) | TrySendError::Disconnected(m) => m,
        })
    }
}

impl<P: Primitives, T: Send> SyncSender<P, T> {
    /// Sends `message`, waiting while the channel is full (at bound 0, until it is received);
    /// gives it back if the receiver is gone.
    #[track_caller]
    pub fn send(&self, message: T) -> Result<(), T> {
        (self.inner.send(message, true, Location::caller())).map_err(|e| match e {
            TrySendError::Full(m) | TrySendError::Disconnected(m) => m,
        })
    }

    /// Sends `message` if there is room now (at bound 0, if the receiver waits for it); never
    /// waits.
    #[track_caller]
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        self.inner.send(message, false, Location::caller())
    }
}

impl<P: Primitives, T: Send> Clone for Sender<P, T> {
    fn clone(&self) -> Self {
        self.inner.add_sender();
        Sender {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: Primitives, T: Send> Clone for SyncSender<P, T> {
    fn clone(&self) -> Self {
        self.inner.add_sender();
        SyncSender {
            inner: Arc::clone(&self.inner),
        }
    }
}

/// Under a model checker, a panic (a deadlock found, a failed assertion) unwinds through our
/// drops: touching a model primitive then would panic again and abort the test process.
fn unwinding_in_model<P: Primitives>() -> bool {
    P::MODEL && std::thread::panicking()
}

impl<P: Primitives, T: Send> Drop for Sender<P, T> {
    fn drop(&mut self) {
        self.inner.drop_sender();
    }
}

impl<P: Primitives, T: Send> Drop for SyncSender<P, T> {
    fn drop(&mut self) {
        self.inner.drop_sender();
    }
}

impl<P: Primitives, T: Send> Receiver<P, T> {
    /// The next message; `None` once the queue is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Option<T> {
        let at = Location::caller();
        let inner = &self.inner;
        let mut state = inner.state.lock();
        state.receiving = true;
        let mut state = (inner.ready).wait_while(state, |s| s.queue.is_empty() && s.senders > 0);
        state.receiving = false;
        self.take(state, Op::Recv, at).ok()
    }

    /// The next message if one is queued now; never waits.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let at = Location::caller();
        let state = self.inner.state.lock();
        self.take(state, Op::TryRecv, at)
    }

    /// The next message, waiting at most `timeout` for one: under the model backends the
    /// timeout is an explored choice, as for [`Condvar::wait_timeout`].
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        let at = Location::caller();
        let inner = &self.inner;
        let mut state = inner.state.lock();
        state.receiving = true;
        let (mut state, _) = (inner.ready)
            .wait_timeout_while(state, timeout, |s| s.queue.is_empty() && s.senders > 0);
        state.receiving = false;
        match self.take(state, Op::Recv, at) {
            Ok(message) => Ok(message),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Takes the next message under the lock `state`, recording where it came out.
    #[track_caller]
    fn take(
        &self,
        mut state: super::MutexGuard<'_, P, State<T>>,
        op: Op,
        at: &'static Location<'static>,
    ) -> Result<T, TryRecvError> {
        let message = state.queue.pop_front();
        let (value, result) = match message {
            Some((number, message)) => {
                state.received = number.max(state.received);
                (Value::Message(number), Ok(message))
            }
            None if state.senders == 0 => (Value::Disconnected, Err(TryRecvError::Disconnected)),
            None if op == Op::Recv => (Value::TimedOut, Err(TryRecvError::Empty)),
            None => (Value::Empty, Err(TryRecvError::Empty)),
        };
        // Under the lock: where the message came out. Waiting for it shows as the wait on
        // the channel's condvar.
        trace::effect::<P>(op, object(&self.inner), value, at);
        drop(state);
        if result.is_ok() && self.inner.bound.is_some() {
            self.inner.taken.notify_all();
        }
        result
    }
}

impl<P: Primitives, T: Send> Drop for Receiver<P, T> {
    fn drop(&mut self) {
        if unwinding_in_model::<P>() {
            return;
        }
        let mut state = self.inner.state.lock();
        state.receiver = false;
        // Messages nobody will read: drop them now, not with the last sender; but a
        // rendezvous sender still waiting takes its own back.
        let unread = match self.inner.bound {
            Some(0) => VecDeque::new(),
            _ => std::mem::take(&mut state.queue),
        };
        drop(state);
        drop(unread);
        if self.inner.bound.is_some() {
            self.inner.taken.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::Std;

    #[test]
    fn recv_ends_when_every_sender_is_gone() {
        let (tx, rx) = channel::<Std, u32>();
        let tx2 = tx.clone();
        tx.send(1).unwrap();
        drop(tx);
        tx2.send(2).unwrap();
        drop(tx2);
        assert_eq!((rx.recv(), rx.recv(), rx.recv()), (Some(1), Some(2), None));
    }

    #[test]
    fn send_fails_when_the_receiver_is_gone() {
        let (tx, rx) = channel::<Std, u32>();
        drop(rx);
        assert_eq!(tx.send(7), Err(7));
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::*;
    use crate::sync::{spawn, Std};

    #[test]
    fn a_full_channel_refuses_try_send_and_a_receive_makes_room() {
        let (tx, rx) = sync_channel::<Std, u32>(1);
        tx.try_send(1).unwrap();
        assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        tx.try_send(3).unwrap();
        drop(tx);
        assert_eq!(
            (rx.recv(), rx.try_recv()),
            (Some(3), Err(TryRecvError::Disconnected))
        );
    }

    #[test]
    fn a_rendezvous_send_returns_once_received() {
        let (tx, rx) = sync_channel::<Std, u32>(0);
        let sender = spawn::<Std, _, _>("sender", move || {
            tx.send(7).unwrap();
            "sent"
        })
        .unwrap();
        assert_eq!(rx.recv(), Some(7));
        assert_eq!(sender.join().unwrap(), "sent");
    }

    #[test]
    fn recv_timeout_times_out_in_production() {
        let (_tx, rx) = channel::<Std, u32>();
        let waited = std::time::Instant::now();
        let result = rx.recv_timeout(Duration::from_millis(20));
        assert_eq!(result, Err(RecvTimeoutError::Timeout));
        assert!(waited.elapsed() >= Duration::from_millis(20));
    }
}
