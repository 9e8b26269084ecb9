//! One model event per operation of a built primitive under the model backends (the channels,
//! the checkers' `RwLock`), as the checkers' own primitives have, or none for an operation that
//! commutes with every other: a [`Gate`] holds the primitive's state, and a thread that must
//! wait blocks on a [`Waiter`].
//!
//! Invariant: a gate's state is touched only inside [`Gate::enter`] or
//! [`Gate::enter_commuting`], right after the entry's one model event, an `AcqRel`
//! read-modify-write of one of the gate's two model atomics: loom's and shuttle's scheduling
//! point, and loom's happens-before edge from every earlier entry by the same atomic (a
//! read-modify-write reads the last one); or inside [`Gate::enter_without_event`], which makes
//! no event, for an operation that commutes with every operation another thread can run
//! beside it, whose causality a [`RawToken`] carries. Nothing inside an entry calls into the
//! checker, and loom and shuttle switch threads only at their own operations, so an entry is
//! atomic to the model: the state needs no model object of its own, and every decision an
//! operation takes is taken at its event, where the checker orders it against the others, or,
//! for an operation with no event, where no order against the others would change it.
//!
//! Loom's reduction takes two entries by different atomics to commute: it explores one order of
//! the two where nothing else orders them. So an operation enters by the second atomic only when
//! its outcome, and the state it leaves, are the same in either order with every operation that
//! another thread can run beside it by the first (the channel's blocking `recv` against sends
//! and senders' drops; its receiver's own `try_recv` or drop never runs beside it, as a
//! `Receiver` is not `Sync`). The causality such an entry misses is carried apart, by
//! [`RawToken`]s (a channel's: one per message, one per sender's drop).
//!
//! A thread that must wait registers a [`Waiter`] in the state inside its entry, then blocks
//! on it. Whoever makes it runnable takes it out of the state inside its own entry (handing it
//! its outcome when that is decided there, so that it needs no second event) and raises it
//! after the entry ([`Wakeups`]): each registration is raised at most once, and a waiter never
//! wakes spuriously. Only the model backends use gates: production keeps std's locks.

use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use super::atomic::{RawAtomic, Rmw};
use super::{timer, Primitives};

/// A one-shot signal, made by the thread that will wait on it: each backend's cheapest
/// block (`backend::signal`), never returning spuriously, raised with no scheduling point.
pub trait RawSignal: Send + Sync + 'static {
    /// A signal for the running thread to wait on.
    fn new() -> Self;
    /// Blocks until the signal is raised; returns at once if it was.
    fn wait(&self);
    /// Wakes the waiter: at most once per signal.
    fn raise(&self);
}

/// What carries a sender's causality to whoever takes its message, or finds every sender gone,
/// where their entries do not order them (see `Gate::enter_commuting`), and an `RwLock` write
/// release's to the next writer, or the next reader that takes the lock in its entry, where the
/// release makes no event (see
/// `Gate::enter_without_event`): under loom, a message on a channel of loom's own, whose sends
/// loom orders only against sends, and receives against receives (loom's own channel's
/// reduction); nothing on the other backends (shuttle's executions are sequentially
/// consistent, and production keeps std's locks).
///
/// Invariant: a token is made by the sender before its entry (or before the count of senders
/// changes, for a drop; before the release changes the state, for an `RwLock`), and taken, or
/// dropped, outside any entry (either is a model event under loom). Loom counts a token never
/// received as a leaked message: what a body leaves in a channel it never dropped is received
/// by the harness once the body has returned with every thread finished.
pub trait RawToken: Send + 'static {
    /// A token carrying the running thread's causality so far.
    fn new() -> Self;
    /// Joins the token's causality into the running thread's.
    fn take(self);
}

/// The token of the backends that need none.
pub struct NoToken;

impl RawToken for NoToken {
    fn new() -> Self {
        NoToken
    }
    fn take(self) {}
}

/// A built primitive's state behind its one model event per operation (none for one that
/// commutes with every other).
pub(crate) struct Gate<P: Primitives, S> {
    event: P::Atomic<usize>,
    /// The event of the operations that commute with those entering by `event`.
    commuting_event: P::Atomic<usize>,
    state: UnsafeCell<S>,
    /// Whether an entry runs: a nested one would alias the state.
    entered: Cell<bool>,
}

// SAFETY: only the model backends make gates (`Gate::new`), whose threads run one at a time
// and switch only at a checker's operation, never inside an entry: the state is never
// accessed by two threads at once, and moves between them with the primitive's operations.
unsafe impl<P: Primitives, S: Send> Sync for Gate<P, S> {}
// SAFETY: as above.
unsafe impl<P: Primitives, S: Send> Send for Gate<P, S> {}

impl<P: Primitives, S> Gate<P, S> {
    pub(crate) fn new(state: S) -> Self {
        assert!(P::MODEL, "a gate is the model backends' alone");
        Gate {
            event: P::Atomic::<usize>::new(0),
            commuting_event: P::Atomic::<usize>::new(0),
            state: UnsafeCell::new(state),
            entered: Cell::new(false),
        }
    }

    /// The operation's one model event, then `f` on the state. `f` must not call into the
    /// checker (no lock, atomic, wait or raise: collect those in [`Wakeups`] and raise them
    /// after), nor run the user's code (drop the user's values after the entry).
    pub(crate) fn enter<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        self.event.fetch(Rmw::Add, 1, Ordering::AcqRel);
        self.enter_state(f)
    }

    /// As [`Gate::enter`], by the second event: for an operation whose outcome, and the state
    /// it leaves, are the same whichever of it and any operation entering by `enter` goes first
    /// (the module's invariant). Loom then does not interleave the two: it gets none of their
    /// causality from this entry either, which the primitive carries by [`RawToken`]s.
    pub(crate) fn enter_commuting<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        self.commuting_event.fetch(Rmw::Add, 1, Ordering::AcqRel);
        self.enter_state(f)
    }

    /// `f` on the state with no model event of its own: for an operation that commutes with
    /// every other operation of the primitive that another thread can run beside it, in the
    /// holder, order and causality it leaves, though not always the same state (the
    /// `RwLock`'s write release under hand-over, `super::rwlock::BuiltRwLock`), whose
    /// causality a [`RawToken`] made just before carries. Loom and shuttle switch threads
    /// only at their own operations, and `f` makes none, so the state is still touched by one
    /// thread at a time.
    pub(crate) fn enter_without_event<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        self.enter_state(f)
    }

    fn enter_state<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        assert!(!self.entered.replace(true), "a gate entered twice at once");
        // SAFETY: see `Sync`: no other thread runs until this one's next checker operation,
        // which `f` does not make, and `entered` rules out a nested entry.
        let result = f(unsafe { &mut *self.state.get() });
        self.entered.set(false);
        result
    }
}

/// A thread waiting in a gated primitive, and what it is handed when it is raised.
pub(crate) struct Waiter<P: Primitives, V>(Arc<Slot<P, V>>);

struct Slot<P: Primitives, V> {
    wake: Wake<P>,
    /// The outcome, when the raiser decides it (a message, a lock): a plain mutex, locked
    /// once by each side.
    handed: Mutex<Option<V>>,
}

enum Wake<P: Primitives> {
    Signal(P::Signal),
    /// A timed wait, which the model timer can end first (see [`timer`]).
    Timed {
        raised: P::Mutex<bool>,
        condvar: P::Condvar,
    },
}

impl<P: Primitives, V> Clone for Waiter<P, V> {
    fn clone(&self) -> Self {
        Waiter(Arc::clone(&self.0))
    }
}

impl<P: Primitives, V> Waiter<P, V> {
    /// A waiter for the running thread: timed when the model timer may end the wait.
    pub(crate) fn new(timed: bool) -> Self {
        let wake = if timed {
            Wake::Timed {
                raised: P::mutex(false),
                condvar: P::condvar(),
            }
        } else {
            Wake::Signal(P::Signal::new())
        };
        Waiter(Arc::new(Slot {
            wake,
            handed: Mutex::new(None),
        }))
    }

    /// Hands the waiter its outcome (inside the raiser's entry).
    pub(crate) fn hand(&self, value: V) {
        *self.handed() = Some(value);
    }

    /// The outcome it was handed, if any.
    pub(crate) fn take(&self) -> Option<V> {
        self.handed().take()
    }

    fn handed(&self) -> std::sync::MutexGuard<'_, Option<V>> {
        self.0.handed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until raised, or (a timed waiter) until the timer ends the wait: whether it
    /// timed out. A waiter that timed out is still registered: its next entry takes it out.
    pub(crate) fn wait(&self) -> bool {
        match &self.0.wake {
            Wake::Signal(signal) => {
                signal.wait();
                false
            }
            Wake::Timed { raised, condvar } => {
                let mut guard = P::lock(raised);
                while !*guard {
                    let (relocked, timed_out) =
                        timer::wait::<P, bool>(condvar, raised, guard, true);
                    guard = relocked;
                    if timed_out {
                        return !*guard;
                    }
                }
                false
            }
        }
    }
}

/// What a [`Wakeups`] list raises, whatever the waiter is handed.
trait Raise {
    fn raise(&self);
}

impl<P: Primitives, V> Raise for Slot<P, V> {
    fn raise(&self) {
        match &self.wake {
            Wake::Signal(signal) => signal.raise(),
            Wake::Timed { raised, condvar } => {
                *P::lock(raised) = true;
                timer::notify::<P>(condvar, false);
            }
        }
    }
}

/// The waiters an entry took out of the state, to raise once it is over (a timed waiter's
/// raise is a model event).
#[must_use = "the waiters are raised by `raise`"]
pub(crate) struct Wakeups<'a>(Vec<Arc<dyn Raise + 'a>>);

impl<'a> Wakeups<'a> {
    pub(crate) fn new() -> Self {
        Wakeups(Vec::new())
    }

    pub(crate) fn push<P: Primitives, V: 'a>(&mut self, waiter: Waiter<P, V>) {
        self.0.push(waiter.0);
    }

    pub(crate) fn raise(self) {
        for waiter in self.0 {
            waiter.raise();
        }
    }
}
