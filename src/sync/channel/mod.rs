//! Channels, as `std::sync::mpsc`: unbounded ([`channel`]) and bounded ([`sync_channel`],
//! a rendezvous at bound 0), with `try_recv` and `recv_timeout`; built once for every
//! backend, on the production backends' mutex and condvars (`locked`) and, under the model
//! backends, on a gate (`gated`, see `crate::sync::gate`).
//!
//! Invariant: [`Receiver::recv`] returns every message sent, in order per sender, and returns
//! `None` only once the queue is empty and every sender is gone; a send fails only once the
//! receiver is gone, and then gives the message back (a rendezvous send too, when the
//! receiver leaves without taking it). That disconnection is what a worker's "end of input"
//! is, and a dropped sender always counts toward it, even one dropped while a panic unwinds.
//! A bounded channel never holds more than its bound of messages that no sender is still
//! waiting on: a [`SyncSender::send`] waits for room (bound > 0), or until its message was
//! received (bound 0, where `try_send` only hands a message to a receiver waiting for one).
//!
//! Why not each backend's own `mpsc`: loom 0.7's does not track senders (a `recv` with every
//! sender dropped blocks forever, which loom reports as a deadlock), has no `sync_channel`,
//! and its `recv_timeout` is `unimplemented!`. Built here, it behaves the same on every
//! backend, and `recv_timeout` times out through the model timer (an explored choice under
//! the checkers).
//!
//! Why so few model events: a checker explores every step it sees, so under the model
//! backends each operation is one model event (and under loom the messages of causality
//! tokens, which loom orders against nothing else), as in loom's own channel (a lock round trip
//! and condvar events each, before: two senders and a receiver cost loom 170 times its own
//! channel's executions), and internal waits never wake spuriously (a spurious wakeup inside
//! `recv` is invisible to its caller). Loom orders a blocking receive of an unbounded channel
//! against receives only, as its own channel's (see `gated`): two senders and a receiver cost
//! loom its own channel's executions. The count of senders is a plain atomic whose only
//! transition anyone observes (to zero) happens where the receiver reads it. Traces show the
//! channel's operations only, numbering messages: `send Channel#1 message 2`,
//! `recv Channel#1 → message 2`; a blocked operation is the row that began and never
//! completed.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::mutex::release_in_drop;
use super::trace::{Identity, Object, Op};
use super::Primitives;

mod gated;
mod locked;

/// A channel: its senders and bound, and its state as the backend builds it.
struct Inner<P: Primitives, T: Send> {
    /// Live senders. Nobody observes the count while it stays above zero, so a clone, or the
    /// drop of any sender but the last, touches only this (no entry); the last drop sets it to
    /// zero where the receiver reads it (under the lock, in the gate's entry). Under the model
    /// backends each drop's causality goes by a token instead (`Gated::sender_leaving`).
    senders: AtomicUsize,
    /// `None`: unbounded.
    bound: Option<usize>,
    flavor: Flavor<P, T>,
    identity: Identity,
}

enum Flavor<P: Primitives, T: Send> {
    /// Production: std's and parking_lot's mutex and condvars.
    Locked(locked::Locked<P, T>),
    /// The model backends: one model event per operation.
    Gated(gated::Gated<P, T>),
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
        senders: AtomicUsize::new(1),
        bound,
        flavor: if P::MODEL {
            Flavor::Gated(gated::Gated::new())
        } else {
            Flavor::Locked(locked::Locked::new())
        },
        identity: Identity::new::<P>(None),
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
    inner.identity.object("Channel")
}

impl<P: Primitives, T: Send> Inner<P, T> {
    /// Whether every sender is gone: read where the count reaches zero (under the lock, in
    /// the gate's entry).
    fn disconnected(&self) -> bool {
        self.senders.load(Ordering::SeqCst) == 0
    }

    /// The count reaches zero (called where the receiver reads it).
    fn senders_gone(&self) {
        self.senders.store(0, Ordering::SeqCst);
    }

    fn send(
        self: &Arc<Self>,
        message: T,
        wait: bool,
        at: &'static Location<'static>,
    ) -> Result<(), TrySendError<T>> {
        match &self.flavor {
            Flavor::Locked(locked) => locked.send(self, message, wait, at),
            Flavor::Gated(gated) => gated.send(self, message, wait, at),
        }
    }

    fn add_sender(&self) {
        self.senders.fetch_add(1, Ordering::SeqCst);
    }

    /// A sender is gone: every time, even while a panic unwinds (a body that catches it goes
    /// on, and its receiver must see the disconnection).
    fn drop_sender(&self) {
        if let Flavor::Gated(gated) = &self.flavor {
            release_in_drop::<P>(|| gated.sender_leaving());
        }
        let mut count = self.senders.load(Ordering::SeqCst);
        while count > 1 {
            // Not the last: nobody can tell, so no entry.
            match (self.senders).compare_exchange(
                count,
                count - 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return,
                Err(now) => count = now,
            }
        }
        // The last one (no other sender is left to clone it meanwhile).
        release_in_drop::<P>(|| match &self.flavor {
            Flavor::Locked(locked) => locked.last_sender_gone(self),
            Flavor::Gated(gated) => gated.last_sender_gone(self),
        });
    }

    /// The receive of `op`: never waiting (`wait` is `None`), until a message or the last
    /// sender's drop (`Some(None)`), or at most `timeout` (`Some(Some(timeout))`).
    fn receive(
        self: &Arc<Self>,
        op: Op,
        wait: Option<Option<Duration>>,
        at: &'static Location<'static>,
    ) -> Result<T, TryRecvError> {
        match &self.flavor {
            Flavor::Locked(locked) => locked.receive(self, op, wait, at),
            Flavor::Gated(gated) => gated.receive(self, op, wait, at),
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
        (self.inner.receive(Op::Recv, Some(None), Location::caller())).ok()
    }

    /// The next message if one is queued now; never waits.
    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.receive(Op::TryRecv, None, Location::caller())
    }

    /// The next message, waiting at most `timeout` for one: under the model backends the
    /// timeout is an explored choice, as for [`super::Condvar::wait_timeout`].
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match (self.inner).receive(Op::Recv, Some(Some(timeout)), Location::caller()) {
            Ok(message) => Ok(message),
            Err(TryRecvError::Disconnected) => Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => Err(RecvTimeoutError::Timeout),
        }
    }
}

impl<P: Primitives, T: Send> Drop for Receiver<P, T> {
    fn drop(&mut self) {
        let inner = &self.inner;
        release_in_drop::<P>(|| match &inner.flavor {
            Flavor::Locked(locked) => locked.receiver_gone(inner),
            Flavor::Gated(gated) => gated.receiver_gone(),
        });
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
