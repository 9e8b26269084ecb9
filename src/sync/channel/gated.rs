//! The channel under the model backends: each operation is one entry of a gate
//! (`crate::sync::gate`), one model event, as the checkers' own channels are (under loom,
//! besides, the messages of its causality tokens, which loom orders against nothing else).
//!
//! Invariant: whatever an operation decides, it decides in its entry. A message meets a
//! waiting receiver there and is handed to it (the receiver waits only while the queue is
//! empty, so nothing it could take is queued meanwhile), and so is the disconnection when the
//! last sender goes; a rendezvous message's receipt is handed to its waiting sender, or the
//! message itself when the receiver goes. Those waiters finish without a second entry. A
//! bounded sender waiting for room is raised (first come, first raised) when a receive makes
//! room, and tries again: another sender may take the room first, as in std.
//!
//! An unbounded channel's blocking `recv` enters by the gate's commuting event: against any
//! send, either order ends with the same message received and the same queue (a receiver
//! waiting on an empty queue is handed what the other order would have queued for it), and the
//! count of senders reaches zero in an entry whose outcome commutes the same way. So loom
//! interleaves a receive with receives only, and sends with sends, as it does its own channel.
//! Each message carries the [`RawToken`] its sender made, taken by whoever takes the message:
//! the causality the receive's entry no longer gets from the send's. So does each sender's drop,
//! taken by the receive that finds every sender gone: in std every drop is a read-modify-write
//! of the count, so each is ordered before the last one and that before the receive, where here
//! only the last drop has an entry.

use std::collections::VecDeque;
use std::panic::Location;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{object, Inner, TryRecvError, TrySendError};
use crate::sync::gate::{Gate, RawToken, Waiter, Wakeups};
use crate::sync::trace::{self, Attempt, Op, Value};
use crate::sync::Primitives;

/// A rendezvous sender's wait for its message's receipt: `Ok` once received, the message
/// back if the receiver goes first.
type Receipt<P, T> = Waiter<P, Result<(), T>>;

/// A message as the channel holds it: its number (1 for the first sent), and its sender's
/// causality.
type Entry<P, T> = (u64, T, <P as Primitives>::Token);

struct State<P: Primitives, T> {
    queue: VecDeque<Entry<P, T>>,
    sent: u64,
    receiver: bool,
    /// The receiver, waiting for a message (handed `Some`) or the last sender's drop (`None`).
    /// The queue is empty while it is here. A timed receiver that timed out stays until its
    /// next entry.
    receiving: Option<Waiter<P, Option<Entry<P, T>>>>,
    /// Bounded senders waiting for room, in the order they came.
    room: VecDeque<Waiter<P, ()>>,
    /// Rendezvous senders waiting for their message's receipt: handed `Ok` once it is
    /// received, the message back if the receiver goes first.
    receipts: Vec<(u64, Receipt<P, T>)>,
}

/// The gated channel.
pub(super) struct Gated<P: Primitives, T: Send> {
    gate: Gate<P, State<P, T>>,
    /// The causality of each sender's drop, for the receive that finds every sender gone. A
    /// plain mutex, never held across a model event: a drop that is not the last has no entry.
    dropped: Mutex<Vec<P::Token>>,
}

/// What a send's entry decided.
enum Sent<P: Primitives, T> {
    Done(Result<u64, TrySendError<T>>),
    /// Wait for room, then try again.
    Room(T, Waiter<P, ()>),
    /// Queued: wait for its receipt.
    Receipt(u64, Receipt<P, T>),
}

/// What a receive's entry decided.
enum Received<P: Primitives, T> {
    /// A message, or `None`: every sender is gone.
    Got(Option<Entry<P, T>>),
    Empty,
    Wait(Waiter<P, Option<Entry<P, T>>>),
}

impl<P: Primitives, T: Send> Gated<P, T> {
    pub(super) fn new() -> Self {
        Gated {
            gate: Gate::new(State {
                queue: VecDeque::new(),
                sent: 0,
                receiver: true,
                receiving: None,
                room: VecDeque::new(),
                receipts: Vec::new(),
            }),
            dropped: Mutex::new(Vec::new()),
        }
    }

    /// A sender is about to leave: its causality so far, kept for the receive that finds every
    /// sender gone. Called before the count changes, as making a token is a model event.
    pub(super) fn sender_leaving(&self) {
        let token = P::Token::new();
        self.dropped().push(token);
    }

    fn dropped(&self) -> std::sync::MutexGuard<'_, Vec<P::Token>> {
        self.dropped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `message`, waiting for room (or for its receipt) when `wait` and bounded.
    pub(super) fn send(
        &self,
        inner: &Arc<Inner<P, T>>,
        mut message: T,
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
        // Made before any entry, which must make no model event; dropped after them if the
        // message never went in.
        let mut token = Some(P::Token::new());
        loop {
            let mut wakeups = Wakeups::new();
            let sent = self.gate.enter(|s| {
                if !s.receiver {
                    return Sent::Done(Err(TrySendError::Disconnected(message)));
                }
                if let Some(receiver) = s.receiving.take() {
                    s.sent += 1;
                    receiver.hand(Some((s.sent, message, taken(&mut token))));
                    wakeups.push(receiver);
                    return Sent::Done(Ok(s.sent));
                }
                match inner.bound {
                    // A rendezvous `try_send` only hands a message to a waiting receiver.
                    Some(0) if !wait => Sent::Done(Err(TrySendError::Full(message))),
                    Some(0) => {
                        s.sent += 1;
                        s.queue.push_back((s.sent, message, taken(&mut token)));
                        let waiter = Waiter::new(false);
                        s.receipts.push((s.sent, waiter.clone()));
                        Sent::Receipt(s.sent, waiter)
                    }
                    Some(bound) if s.queue.len() >= bound && !wait => {
                        Sent::Done(Err(TrySendError::Full(message)))
                    }
                    Some(bound) if s.queue.len() >= bound => {
                        let waiter = Waiter::new(false);
                        s.room.push_back(waiter.clone());
                        Sent::Room(message, waiter)
                    }
                    _ => {
                        s.sent += 1;
                        s.queue.push_back((s.sent, message, taken(&mut token)));
                        Sent::Done(Ok(s.sent))
                    }
                }
            });
            match sent {
                Sent::Done(result) => {
                    match &result {
                        // Right after the entry: where the message went in.
                        Ok(number) => finish(attempt, Value::Message(*number)),
                        Err(TrySendError::Disconnected(_)) => finish(attempt, Value::Disconnected),
                        Err(TrySendError::Full(_)) => {}
                    }
                    wakeups.raise();
                    return result.map(|_| ());
                }
                Sent::Room(back, waiter) => {
                    if let Some(attempt) = &attempt {
                        let capacity = inner.bound.unwrap_or_default();
                        attempt.waits(Value::Full { capacity });
                    }
                    waiter.wait();
                    message = back;
                }
                Sent::Receipt(number, waiter) => {
                    if let Some(attempt) = &attempt {
                        attempt.waits(Value::Full { capacity: 0 });
                    }
                    waiter.wait();
                    return match waiter.take() {
                        Some(Ok(())) => {
                            finish(attempt, Value::Message(number));
                            Ok(())
                        }
                        Some(Err(message)) => {
                            // The receiver left without taking it: given back, as std does.
                            finish(attempt, Value::Disconnected);
                            Err(TrySendError::Disconnected(message))
                        }
                        None => unreachable!("a rendezvous sender is raised with its outcome"),
                    };
                }
            }
        }
    }

    /// The last sender is gone: the count reaches zero in an entry, where the receiver reads
    /// it, and a waiting receiver is handed the disconnection.
    pub(super) fn last_sender_gone(&self, inner: &Inner<P, T>) {
        let mut wakeups = Wakeups::new();
        self.gate.enter(|s| {
            inner.senders_gone();
            if let Some(receiver) = s.receiving.take() {
                receiver.hand(None);
                wakeups.push(receiver);
            }
        });
        wakeups.raise();
    }

    /// The receive of `op`: never waiting (`wait` is `None`), until a message or the last
    /// sender's drop (`Some(None)`), or until the model timer fires (`Some(Some(_))`: the
    /// model backends have no time, and any timeout may elapse before any step).
    pub(super) fn receive(
        &self,
        inner: &Arc<Inner<P, T>>,
        op: Op,
        wait: Option<Option<Duration>>,
        at: &'static Location<'static>,
    ) -> Result<T, TryRecvError> {
        let attempt = wait.map(|_| trace::attempt::<P>(op, object(inner), at));
        // A timed waiter holds model objects: made before the entry, which must make none.
        let timed = matches!(wait, Some(Some(_))).then(|| Waiter::new(true));
        let mut registered: Option<Waiter<P, Option<Entry<P, T>>>> = None;
        // Only the untimed wait of an unbounded channel commutes with every send (the
        // module's invariant): a timed one may time out in one order only, `try_recv` may find
        // the queue empty in one order only, and a bounded receive makes room.
        let commuting = inner.bound.is_none() && wait == Some(None);
        let mut timed_out = false;
        let mut wakeups = Wakeups::new();
        let got = loop {
            let state = |s: &mut State<P, T>| {
                // A timed wait that timed out is still registered, and may have been handed
                // a message since.
                s.receiving = None;
                if let Some(handed) = registered.as_ref().and_then(Waiter::take) {
                    return Received::Got(handed);
                }
                if let Some((number, message, token)) = s.queue.pop_front() {
                    let receipt = s.receipts.iter().position(|(n, _)| *n == number);
                    if let Some((_, sender)) = receipt.map(|i| s.receipts.swap_remove(i)) {
                        sender.hand(Ok(()));
                        wakeups.push(sender);
                    }
                    if let Some(sender) = s.room.pop_front() {
                        wakeups.push(sender);
                    }
                    return Received::Got(Some((number, message, token)));
                }
                if inner.disconnected() {
                    return Received::Got(None);
                }
                if wait.is_none() || timed_out {
                    return Received::Empty;
                }
                let waiter = timed.clone().unwrap_or_else(|| Waiter::new(false));
                s.receiving = Some(waiter.clone());
                Received::Wait(waiter)
            };
            let received = if commuting {
                self.gate.enter_commuting(state)
            } else {
                self.gate.enter(state)
            };
            match received {
                Received::Got(got) => break Some(got),
                Received::Empty => break None,
                Received::Wait(waiter) => {
                    if let Some(attempt) = &attempt {
                        attempt.waits(Value::Empty);
                    }
                    timed_out = waiter.wait();
                    if let Some(handed) = waiter.take() {
                        break Some(handed);
                    }
                    // Timed out: the next entry takes the registration out.
                    registered = Some(waiter);
                }
            }
        };
        let mut token = None;
        let (value, result) = match got {
            Some(Some((number, message, carried))) => {
                token = Some(carried);
                (Value::Message(number), Ok(message))
            }
            Some(None) => (Value::Disconnected, Err(TryRecvError::Disconnected)),
            None if wait.is_some() => (Value::TimedOut, Err(TryRecvError::Empty)),
            None => (Value::Empty, Err(TryRecvError::Empty)),
        };
        // Right after the entry (or the hand-off): where the message came out.
        match attempt {
            Some(attempt) => attempt.took_effect(value),
            None => trace::effect::<P>(op, object(inner), value, at),
        }
        wakeups.raise();
        if let Some(token) = token {
            token.take();
        }
        if matches!(result, Err(TryRecvError::Disconnected)) {
            // Taken out first: taking a token is a model event, where another thread may drop.
            let dropped = std::mem::take(&mut *self.dropped());
            dropped.into_iter().for_each(RawToken::take);
        }
        result
    }

    /// The receiver is gone: unread messages are dropped now (after the entry: their drops
    /// are the user's code), each waiting rendezvous sender is handed its own back, and the
    /// senders waiting for room are raised to find the channel disconnected.
    pub(super) fn receiver_gone(&self) {
        let mut wakeups = Wakeups::new();
        let mut given_back = Vec::new();
        let unread = self.gate.enter(|s| {
            s.receiver = false;
            for (number, sender) in s.receipts.drain(..) {
                let mine = s.queue.iter().position(|(n, _, _)| *n == number);
                if let Some((_, message, token)) = mine.and_then(|i| s.queue.remove(i)) {
                    sender.hand(Err(message));
                    given_back.push(token);
                }
                wakeups.push(sender);
            }
            for sender in s.room.drain(..) {
                wakeups.push(sender);
            }
            std::mem::take(&mut s.queue)
        });
        wakeups.raise();
        drop(unread);
        drop(given_back);
    }
}

/// The send's token, moved into the state with its message (it is there exactly once).
fn taken<Token>(token: &mut Option<Token>) -> Token {
    token.take().expect("a message goes in once")
}
