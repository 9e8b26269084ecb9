//! [`BuiltRwLock`]: the model backends' reader-writer lock, on a gate (`sync::gate`), with the
//! policy of std's and parking_lot's locks (writer preference), and under loom's hand-over a
//! lock handed to the head of the queue and write releases that make no event.
//!
//! Invariant: while a write guard lives no other guard does, and read guards only coexist with
//! read guards; every acquisition gets the causality of every release before it, by its entry,
//! a token or the raise that handed it the lock.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};

use super::RawRwLock;
use crate::sync::gate::{Gate, RawToken, Waiter, Wakeups};
use crate::sync::model;
use crate::sync::mutex::release_in_drop;
use crate::sync::Primitives;

/// A writer-preferring reader-writer lock on a gate (`sync::gate::Gate`): the model backends'
/// [`RawRwLock`] (see the module docs for why not the checkers' own). Each acquisition and
/// release is one model event (but for loom's hand-over, below); a thread that cannot have
/// the lock waits on a waiter (`sync::gate::Waiter`) and tries again once raised, so another
/// thread may take the lock first, as in std.
///
/// Under loom, in a run without a preemption bound and until the exploration's first
/// `try_read` or `try_write`, a release hands the lock over instead: to the head of the queue
/// of waiters, in the order they came (its writer, or its run of readers), who then hold it
/// without entering again. Without a try operation this reaches what std's lock reaches: who
/// holds the lock, and in what order threads take it, is all a blocking `read` or `write` can
/// observe; a waiter's place in the queue cannot be seen, so a run where a thread barges in
/// before a raised waiter, or where std's writer preference serves a later writer first, is
/// the run where the waiter came later. Not with the same preemptions, so a bounded run
/// always barges. A failing try operation sees a waiter's place (a `try_read` fails while a
/// writer waits): the first try operation starts the exploration again with raised waiters
/// entering again (`model::needs_barging`), and a replay token found after that says so
/// (`rwlock=barging`).
///
/// With hand-over a write release makes no event of the lock's, as loom's own lock's releases
/// make none (its one loom operation is the send of its token, on a fresh channel that nothing
/// else is ordered against): it commutes with every acquisition that can run beside it (a
/// queued one is handed the lock by it; one that comes after takes the lock, as the queued one
/// is handed it, and no other operation on the lock runs while a writer holds it), in who
/// holds the lock, the order of grants and the causality, though through different events.
/// Its causality goes by a token
/// (`gate::RawToken`) made before it and kept in the lock's state: taken by the next
/// writer (handed it, or taking the lock in its entry), by the next reader that takes the lock
/// in its entry (which holds off the readers that come until it has received the tokens and
/// entered again, and hands them the lock from that entry), while readers handed the lock get
/// it from the releaser's raise. Read releases stay events: a reader that comes before one
/// shares the lock, and one after it gets its causality. Three writers: 414 loom executions,
/// raw loom's own count (4,022 with every release an event; `docs/performance.md`).
pub struct BuiltRwLock<P: Primitives, T> {
    access: Gate<P, Access<P>>,
    /// Whether a release hands the lock to the waiters it raises (who then hold it) rather
    /// than letting them try again: fixed when the lock is made, from the exploration's mode.
    hand_over: bool,
    value: UnsafeCell<T>,
}

/// What a writer is handed with the lock: the write releases' tokens not yet taken (a reader
/// is handed nothing).
type Handed<P> = Vec<<P as Primitives>::Token>;

/// Who holds the lock, and who waits for it.
struct Access<P: Primitives> {
    readers: usize,
    writer: bool,
    /// Writers inside `write` that do not hold the lock yet, waiting or raised (with
    /// hand-over, only waiting: a raised writer holds the lock): while there are any, new
    /// readers wait (writer preference).
    writers_waiting: usize,
    /// The threads waiting now, in the order they came, each with whether it writes.
    queue: VecDeque<(bool, Waiter<P, Handed<P>>)>,
    /// With hand-over: the tokens of the write releases that made no event, not yet taken
    /// by a thread that took the lock after them (see [`BuiltRwLock`]): at most one, as a
    /// writer takes them all.
    releases: Vec<P::Token>,
    /// With hand-over: a reader that took the lock in its entry is taking `releases`, and
    /// the readers that come meanwhile wait for it to pass their causality on.
    absorbing: bool,
}

impl<P: Primitives> Access<P> {
    fn readable(&self) -> bool {
        !self.writer && self.writers_waiting == 0 && !self.absorbing
    }

    fn writable(&self) -> bool {
        !self.writer && self.readers == 0
    }

    /// The lock was released: raise whoever can have it now. Without hand-over, the first
    /// waiting writer, or else every waiting reader, all of which enter again. With
    /// hand-over, the lock goes to the head of the queue: its writer, with the releases'
    /// tokens, or its run of readers.
    fn released<'a>(&mut self, hand_over: bool, wakeups: &mut Wakeups<'a>) {
        if !self.writable() {
            return;
        }
        if !hand_over {
            if let Some(first) = self.queue.iter().position(|(writes, _)| *writes) {
                let (_, writer) = self.queue.remove(first).expect("found");
                wakeups.push(writer);
            } else if self.writers_waiting == 0 {
                for (_, reader) in self.queue.drain(..) {
                    wakeups.push(reader);
                }
            }
            return;
        }
        match self.queue.front() {
            Some((true, _)) => {
                let (_, writer) = self.queue.pop_front().expect("a head");
                self.writers_waiting -= 1;
                self.writer = true;
                writer.hand(std::mem::take(&mut self.releases));
                wakeups.push(writer);
            }
            Some((false, _)) => self.hand_to_readers(wakeups),
            None => {}
        }
    }

    /// With hand-over: the run of readers at the head of the queue take the lock.
    fn hand_to_readers<'a>(&mut self, wakeups: &mut Wakeups<'a>) {
        while let Some((false, _)) = self.queue.front() {
            let (_, reader) = self.queue.pop_front().expect("a head");
            self.readers += 1;
            wakeups.push(reader);
        }
    }
}

// SAFETY: `Access` grants `&T` to readers only while no writer holds the lock, and `&mut T`
// to one writer only while nothing else does: the `RwLock` contract, as for std's.
unsafe impl<P: Primitives, T: Send + Sync> Sync for BuiltRwLock<P, T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<P: Primitives, T: Send> Send for BuiltRwLock<P, T> {}

/// A read guard of a [`BuiltRwLock`].
pub struct BuiltReadGuard<'a, P: Primitives, T> {
    lock: &'a BuiltRwLock<P, T>,
}

/// A write guard of a [`BuiltRwLock`].
pub struct BuiltWriteGuard<'a, P: Primitives, T> {
    lock: &'a BuiltRwLock<P, T>,
}

/// How an acquisition's entry went.
enum Entered<P: Primitives> {
    /// It took the lock, and these tokens of earlier write releases (`absorbing` set if it
    /// is a reader that took any).
    Took(Vec<P::Token>),
    Queued(Waiter<P, Handed<P>>),
}

impl<P: Primitives, T> BuiltRwLock<P, T> {
    /// Takes the lock once `take` says it may (in an entry, where it counts itself in),
    /// waiting between tries; with hand-over, the release that raises a waiter gave it the
    /// lock, and the tokens of the write releases before it.
    fn acquire(&self, writes: bool, take: impl Fn(&mut Access<P>) -> bool) {
        loop {
            let entered = self.access.enter(|access| {
                if take(access) {
                    let tokens = std::mem::take(&mut access.releases);
                    access.absorbing = !writes && !tokens.is_empty();
                    return Entered::Took(tokens);
                }
                let waiter = Waiter::new(false);
                access.queue.push_back((writes, waiter.clone()));
                Entered::Queued(waiter)
            });
            match entered {
                Entered::Took(tokens) => {
                    if tokens.is_empty() {
                        return;
                    }
                    tokens.into_iter().for_each(RawToken::take);
                    if !writes {
                        // Readers that came while the tokens were taken get their causality
                        // from this entry's raise.
                        let mut wakeups = Wakeups::new();
                        self.access.enter(|access| {
                            access.absorbing = false;
                            access.hand_to_readers(&mut wakeups);
                        });
                        wakeups.raise();
                    }
                    return;
                }
                Entered::Queued(waiter) => {
                    waiter.wait();
                    if self.hand_over {
                        waiter.take().into_iter().flatten().for_each(RawToken::take);
                        return;
                    }
                }
            }
        }
    }

    /// Before a `try_read` or `try_write`: with hand-over, the exploration starts again
    /// without it (see [`BuiltRwLock`]).
    fn before_try(&self) {
        if self.hand_over {
            model::needs_barging();
        }
    }

    /// Gives the lock back (`give` in an entry), raising whoever can have it now.
    fn release(&self, give: impl FnOnce(&mut Access<P>)) {
        release_in_drop::<P>(|| {
            let mut wakeups = Wakeups::new();
            self.access.enter(|access| {
                give(access);
                access.released(self.hand_over, &mut wakeups);
            });
            wakeups.raise();
        });
    }

    /// Gives the write lock back. With hand-over, with no event: a token made first carries
    /// the writer's causality to whoever takes the lock after it (see [`BuiltRwLock`]).
    fn release_write(&self) {
        if !self.hand_over {
            return self.release(|access| access.writer = false);
        }
        release_in_drop::<P>(|| {
            let token = P::Token::new();
            let mut wakeups = Wakeups::new();
            self.access.enter_without_event(|access| {
                access.writer = false;
                access.releases.push(token);
                access.released(true, &mut wakeups);
            });
            wakeups.raise();
        });
    }
}

impl<P: Primitives, T: Send + Sync> RawRwLock<T> for BuiltRwLock<P, T> {
    type Read<'a>
        = BuiltReadGuard<'a, P, T>
    where
        T: 'a;
    type Write<'a>
        = BuiltWriteGuard<'a, P, T>
    where
        T: 'a;

    fn new(value: T) -> Self {
        BuiltRwLock {
            access: Gate::new(Access {
                readers: 0,
                writer: false,
                writers_waiting: 0,
                queue: VecDeque::new(),
                releases: Vec::new(),
                absorbing: false,
            }),
            hand_over: P::NAME == "loom" && model::rwlock_hand_over(),
            value: UnsafeCell::new(value),
        }
    }

    fn read(&self) -> Self::Read<'_> {
        self.acquire(false, |access| {
            let readable = access.readable();
            access.readers += usize::from(readable);
            readable
        });
        BuiltReadGuard { lock: self }
    }

    fn try_read(&self) -> Option<Self::Read<'_>> {
        self.before_try();
        let taken = self.access.enter(|access| {
            let readable = access.readable();
            access.readers += usize::from(readable);
            readable
        });
        taken.then(|| BuiltReadGuard { lock: self })
    }

    fn write(&self) -> Self::Write<'_> {
        let counted = std::cell::Cell::new(false);
        self.acquire(true, |access| {
            if !counted.replace(true) {
                access.writers_waiting += 1;
            }
            let writable = access.writable();
            if writable {
                access.writers_waiting -= 1;
                access.writer = true;
            }
            writable
        });
        BuiltWriteGuard { lock: self }
    }

    fn try_write(&self) -> Option<Self::Write<'_>> {
        self.before_try();
        let taken = self.access.enter(|access| {
            let writable = access.writable();
            access.writer |= writable;
            writable
        });
        taken.then(|| BuiltWriteGuard { lock: self })
    }

    fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<P: Primitives, T> Drop for BuiltReadGuard<'_, P, T> {
    fn drop(&mut self) {
        self.lock.release(|access| access.readers -= 1);
    }
}

impl<P: Primitives, T> Drop for BuiltWriteGuard<'_, P, T> {
    fn drop(&mut self) {
        self.lock.release_write();
    }
}

impl<P: Primitives, T> Deref for BuiltReadGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while no writer holds the lock (`Access`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<P: Primitives, T> Deref for BuiltWriteGuard<'_, P, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write guard is the only guard while it lives (`Access`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<P: Primitives, T> DerefMut for BuiltWriteGuard<'_, P, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}
