//! [`CarriedRwLock`]: the `RwLock` under loom, carried by loom's own `RwLock<()>`, so that
//! loom's reduction sees each acquisition as one event of loom's own lock and each release as
//! none. On a gate (`super::gate`), as under shuttle, both were events, each ordered against
//! every other: three writers cost loom 6,191 executions there, and 414 here, as on raw loom.
//!
//! Invariant: the carrier is held exactly as the lock is: one carrier write guard while a
//! writer holds the lock, and one carrier read guard per thread holding read guards (loom
//! counts a thread's reads as one, so a thread's nested read takes none, and its last read
//! guard gives the carrier's back). On top of loom's lock, std's writer preference: a writer
//! that finds the lock taken counts itself waiting right after its failed `try_write`, an
//! event on the carrier that loom orders against every reader's, and a reader that takes the
//! carrier while a writer waits gives it back and waits for a writer's release. The state
//! beside the carrier is plain memory, touched only right after a carrier event or in a
//! release, which loom never interrupts (it switches threads only at its own operations).
//!
//! A write guard dropped while a panic unwinds poisons the carrier (loom keeps std's poison
//! flag inside, and its next acquisition panics): the carrier is then renewed, unless a thread
//! waits on it, which loom cannot take (the loom row says so: `explore::unseen`).

use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use ::loom::sync::{RwLock as Carrier, RwLockReadGuard, RwLockWriteGuard};
use ::loom::thread::ThreadId;

use super::gate::{Waiter, Wakeups};
use super::mutex::release_in_drop;
use super::rwlock::RawRwLock;
use super::Loom;

/// A writer-preferring reader-writer lock on loom's own: the loom backend's [`RawRwLock`].
pub struct CarriedRwLock<T> {
    /// Dropped before the carriers its guards borrow (fields drop in order).
    state: UnsafeCell<State>,
    carrier: UnsafeCell<Box<Carrier<()>>>,
    /// Carriers a panic poisoned, kept while the lock lives: a guard may have borrowed them,
    /// so each stays boxed where it was (a `Vec` of carriers would move them as it grows).
    #[allow(clippy::vec_box)]
    retired: UnsafeCell<Vec<Box<Carrier<()>>>>,
    value: UnsafeCell<T>,
}

/// The carrier's guards, borrowing a carrier this lock keeps until it is dropped.
type ReadCarrier = ManuallyDrop<RwLockReadGuard<'static, ()>>;
type WriteCarrier = ManuallyDrop<RwLockWriteGuard<'static, ()>>;

#[derive(Default)]
struct State {
    /// Writers inside `write` that do not hold the lock yet: new readers wait while any do.
    writers_waiting: usize,
    /// Readers that gave the carrier back to a waiting writer, raised by a writer's release.
    backed_off: Vec<Waiter<Loom, ()>>,
    writer: Option<WriteCarrier>,
    /// Each thread holding read guards: how many, and its carrier read guard.
    readers: Vec<(ThreadId, usize, ReadCarrier)>,
    /// Threads blocked in the carrier's `read` or `write`: a poisoned carrier is renewed only
    /// while there are none.
    inside: usize,
}

// SAFETY: as `BuiltRwLock`: readers share `&T` only while no writer holds the lock, and one
// writer has `&mut T` only while nothing else does. The state and carriers are touched only
// by the running loom thread, between two of its loom operations.
unsafe impl<T: Send + Sync> Sync for CarriedRwLock<T> {}
// SAFETY: moving the lock moves the `T` it owns.
unsafe impl<T: Send> Send for CarriedRwLock<T> {}

/// A read guard of a [`CarriedRwLock`], on the thread that took it.
pub struct CarriedReadGuard<'a, T> {
    lock: &'a CarriedRwLock<T>,
    thread: ThreadId,
}

/// A write guard of a [`CarriedRwLock`].
pub struct CarriedWriteGuard<'a, T> {
    lock: &'a CarriedRwLock<T>,
}

impl<T> CarriedRwLock<T> {
    #[allow(clippy::mut_from_ref)]
    fn state(&self) -> &mut State {
        // SAFETY: see `Sync`; no caller holds the borrow across a loom operation.
        unsafe { &mut *self.state.get() }
    }

    fn carrier(&self) -> &'static Carrier<()> {
        // SAFETY: a carrier is boxed and kept until the lock is dropped, after every guard
        // (which borrows the lock): `'static` stands for "while the lock lives".
        unsafe { &*(&**self.carrier.get() as *const Carrier<()>) }
    }

    /// Whether the running thread holds read guards: its entry.
    fn reading(&self, thread: ThreadId) -> Option<usize> {
        self.state()
            .readers
            .iter()
            .position(|(t, _, _)| *t == thread)
    }

    /// Waits for a writer's release, raised by it.
    fn back_off(&self) {
        let waiter = Waiter::<Loom, ()>::new(false);
        self.state().backed_off.push(waiter.clone());
        waiter.wait();
    }

    /// A nested read by a thread that holds the carrier's read already: no carrier guard, but
    /// an event on the carrier (a `try_write` that fails, as the thread reads), where loom
    /// orders it against the writers it must give way to.
    fn nested_read(&self, entry: usize) -> bool {
        let _ = self.carrier().try_write();
        let state = self.state();
        if state.writers_waiting > 0 {
            return false;
        }
        state.readers[entry].1 += 1;
        true
    }

    /// A read guard for the running thread's carrier read guard `carrier`, unless a writer
    /// waits (then `carrier` goes back, and `None`).
    fn first_read(
        &self,
        thread: ThreadId,
        carrier: RwLockReadGuard<'static, ()>,
    ) -> Option<CarriedReadGuard<'_, T>> {
        let state = self.state();
        if state.writers_waiting > 0 {
            drop(carrier);
            return None;
        }
        state.readers.push((thread, 1, ManuallyDrop::new(carrier)));
        Some(CarriedReadGuard { lock: self, thread })
    }

    fn write_guard(&self, carrier: RwLockWriteGuard<'static, ()>) -> CarriedWriteGuard<'_, T> {
        self.state().writer = Some(ManuallyDrop::new(carrier));
        CarriedWriteGuard { lock: self }
    }

    /// After a write guard was dropped while a panic unwound: a fresh carrier for the next
    /// acquisition, if no thread waits on the poisoned one.
    fn renew(&self) {
        if self.state().inside > 0 {
            return;
        }
        // Loom may refuse to make an object while an execution it stopped unwinds: the
        // failure under way is the one to report.
        let Ok(fresh) = std::panic::catch_unwind(|| Box::new(Carrier::new(()))) else {
            return;
        };
        // SAFETY: see `Sync`; no guard borrows the poisoned carrier (its writer just let go).
        let poisoned = std::mem::replace(unsafe { &mut *self.carrier.get() }, fresh);
        // SAFETY: as above.
        unsafe { &mut *self.retired.get() }.push(poisoned);
    }
}

fn running_thread() -> ThreadId {
    ::loom::thread::current().id()
}

impl<T: Send + Sync> RawRwLock<T> for CarriedRwLock<T> {
    type Read<'a>
        = CarriedReadGuard<'a, T>
    where
        T: 'a;
    type Write<'a>
        = CarriedWriteGuard<'a, T>
    where
        T: 'a;

    fn new(value: T) -> Self {
        CarriedRwLock {
            state: UnsafeCell::new(State::default()),
            carrier: UnsafeCell::new(Box::new(Carrier::new(()))),
            retired: UnsafeCell::new(Vec::new()),
            value: UnsafeCell::new(value),
        }
    }

    fn read(&self) -> Self::Read<'_> {
        let thread = running_thread();
        loop {
            if let Some(entry) = self.reading(thread) {
                if self.nested_read(entry) {
                    return CarriedReadGuard { lock: self, thread };
                }
                // A writer waits for this thread's own reads: std's deadlock.
                self.back_off();
                continue;
            }
            self.state().inside += 1;
            let carrier = self.carrier().read();
            self.state().inside -= 1;
            let carrier = carrier.unwrap_or_else(std::sync::PoisonError::into_inner);
            match self.first_read(thread, carrier) {
                Some(guard) => return guard,
                None => self.back_off(),
            }
        }
    }

    fn try_read(&self) -> Option<Self::Read<'_>> {
        let thread = running_thread();
        if let Some(entry) = self.reading(thread) {
            return self
                .nested_read(entry)
                .then_some(CarriedReadGuard { lock: self, thread });
        }
        let carrier = self.carrier().try_read().ok()?;
        self.first_read(thread, carrier)
    }

    fn write(&self) -> Self::Write<'_> {
        // Uncontended, one event; contended, the failed try counts the writer in before it
        // blocks, so readers coming after give way.
        if let Ok(carrier) = self.carrier().try_write() {
            return self.write_guard(carrier);
        }
        let state = self.state();
        state.writers_waiting += 1;
        state.inside += 1;
        let carrier = self.carrier().write();
        let state = self.state();
        state.inside -= 1;
        state.writers_waiting -= 1;
        self.write_guard(carrier.unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    fn try_write(&self) -> Option<Self::Write<'_>> {
        let carrier = self.carrier().try_write().ok()?;
        Some(self.write_guard(carrier))
    }

    fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T> Drop for CarriedReadGuard<'_, T> {
    fn drop(&mut self) {
        release_in_drop::<Loom>(|| {
            let state = self.lock.state();
            let Some(entry) = self.lock.reading(self.thread) else {
                unreachable!("a read guard's thread is among the readers");
            };
            state.readers[entry].1 -= 1;
            if state.readers[entry].1 == 0 {
                let (_, _, mut carrier) = state.readers.swap_remove(entry);
                // SAFETY: taken out of the state, dropped once. A read guard never poisons.
                unsafe { ManuallyDrop::drop(&mut carrier) }
            }
        });
    }
}

impl<T> Drop for CarriedWriteGuard<'_, T> {
    fn drop(&mut self) {
        release_in_drop::<Loom>(|| {
            let state = self.lock.state();
            let Some(mut carrier) = state.writer.take() else {
                unreachable!("a write guard's carrier guard is in the state");
            };
            // SAFETY: taken out of the state, dropped once.
            unsafe { ManuallyDrop::drop(&mut carrier) }
            if std::thread::panicking() {
                self.lock.renew();
            }
            let state = self.lock.state();
            if state.writers_waiting == 0 {
                let mut wakeups = Wakeups::new();
                for reader in state.backed_off.drain(..) {
                    wakeups.push(reader);
                }
                wakeups.raise();
            }
        });
    }
}

impl<T> Deref for CarriedReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard exists only while no writer holds the lock (the carrier).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Deref for CarriedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the write guard is the only guard while it lives (the carrier).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for CarriedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.value.get() }
    }
}
