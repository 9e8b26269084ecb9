//! An unbounded multi-producer, single-consumer channel, built once on the facade's
//! [`Mutex`] and [`Condvar`] for every backend.
//!
//! Invariant: [`Receiver::recv`] returns every message sent, in order per sender, and returns
//! `None` only once the queue is empty and every [`Sender`] is gone; [`Sender::send`] fails
//! only once the receiver is gone. That disconnection is what a worker's "end of input" is.
//!
//! Why not each backend's own `mpsc`: loom 0.7's does not track senders (a `recv` with every
//! sender dropped blocks forever, which loom reports as a deadlock). Built from the facade's
//! lock and condvar, this one behaves the same on every backend, and loom and shuttle see all
//! of it. Traces number the messages: `send Channel#1 message 2`, `recv Channel#1 → message 2`.

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::Arc;

use super::trace::{self, Object, Op, Value};
use super::{Condvar, Mutex, Primitives};

struct State<T> {
    /// Each message with its number (1 for the first sent).
    queue: VecDeque<(u64, T)>,
    sent: u64,
    senders: usize,
    receiver: bool,
}

struct Inner<P: Primitives, T: Send> {
    state: Mutex<P, State<T>>,
    ready: Condvar<P>,
}

/// The sending half; clone it for more producers.
pub struct Sender<P: Primitives, T: Send> {
    inner: Arc<Inner<P, T>>,
}

/// The receiving half.
pub struct Receiver<P: Primitives, T: Send> {
    inner: Arc<Inner<P, T>>,
}

/// A new channel.
pub fn channel<P: Primitives, T: Send>() -> (Sender<P, T>, Receiver<P, T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            sent: 0,
            senders: 1,
            receiver: true,
        }),
        ready: Condvar::new(),
    });
    (
        Sender {
            inner: Arc::clone(&inner),
        },
        Receiver { inner },
    )
}

/// The channel as a trace names it.
fn object<P: Primitives, T: Send>(inner: &Arc<Inner<P, T>>) -> Object<'_> {
    Object::of("Channel", &**inner, None)
}

impl<P: Primitives, T: Send> Sender<P, T> {
    /// Queues `message`; gives it back if the receiver is gone.
    #[track_caller]
    pub fn send(&self, message: T) -> Result<(), T> {
        let at = Location::caller();
        let mut state = self.inner.state.lock();
        if !state.receiver {
            drop(state);
            trace::effect::<P>(Op::Send, object(&self.inner), Value::Disconnected, at);
            return Err(message);
        }
        state.sent += 1;
        let number = state.sent;
        state.queue.push_back((number, message));
        // Under the lock: where the message went in.
        trace::effect::<P>(Op::Send, object(&self.inner), Value::Message(number), at);
        drop(state);
        self.inner.ready.notify_one();
        Ok(())
    }
}

impl<P: Primitives, T: Send> Clone for Sender<P, T> {
    fn clone(&self) -> Self {
        self.inner.state.lock().senders += 1;
        Sender {
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
        if unwinding_in_model::<P>() {
            return;
        }
        let mut state = self.inner.state.lock();
        state.senders -= 1;
        let last = state.senders == 0;
        drop(state);
        if last {
            self.inner.ready.notify_one();
        }
    }
}

impl<P: Primitives, T: Send> Receiver<P, T> {
    /// The next message; `None` once the queue is empty and every sender is gone.
    #[track_caller]
    pub fn recv(&self) -> Option<T> {
        let state = self.inner.state.lock();
        let mut state = self
            .inner
            .ready
            .wait_while(state, |s| s.queue.is_empty() && s.senders > 0);
        let message = state.queue.pop_front();
        // Under the lock: where the message came out. Waiting for it shows as the wait on
        // the channel's condvar.
        let value = match &message {
            Some((number, _)) => Value::Message(*number),
            None => Value::Disconnected,
        };
        trace::effect::<P>(Op::Recv, object(&self.inner), value, Location::caller());
        message.map(|(_, message)| message)
    }
}

impl<P: Primitives, T: Send> Drop for Receiver<P, T> {
    fn drop(&mut self) {
        if unwinding_in_model::<P>() {
            return;
        }
        let mut state = self.inner.state.lock();
        state.receiver = false;
        // Messages nobody will read: drop them now, not with the last sender.
        let unread = std::mem::take(&mut state.queue);
        drop(state);
        drop(unread);
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
