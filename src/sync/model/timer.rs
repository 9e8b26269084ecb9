//! Timeouts under the model backends: a timer thread per execution that can fire any timed wait
//! at any moment, so that "timed out" and "notified" are both explored.
//!
//! Invariant: outside an execution whose timer runs, a wait goes straight to the backend's
//! condvar, and a timed wait raises [`NeedsTimer`](super::execution::NeedsTimer), remembered
//! first so that a body catching it cannot hide it (the explorer then runs the whole
//! exploration again with the timer on, from its first execution). While the timer runs, every
//! wait of the facade's condvars and parkers is registered with it, under its lock, before the
//! waiter's own lock is released, and ends only when a notify reaches it (`Notified`) or, for a
//! timed wait, when the timer fires it (`TimedOut`): no notification is lost, and no timed wait
//! is left to a deadlock that a real timeout would have ended.
//!
//! Neither checker has timeouts of its own (loom's `wait_timeout` is a plain wait and its
//! `recv_timeout` is `unimplemented!`; shuttle's never fire), and a plain wait that never
//! returns would be a false deadlock. The timer is a model thread like any other: loom
//! explores every point where it can fire relative to the other threads (and, through
//! [`super::choice`], which of several timed waits it fires first), shuttle's schedulers pick
//! its turns at random. Its cost: one of loom's four spawn slots (a body that needs all four
//! cannot be checked by loom with timeouts, and the report says so), and its lock around every
//! wait and notify while it runs.
//!
//! Which of several waiters a `notify_one` wakes is a choice of the checker too (loom's own
//! condvar always wakes the longest-waiting one; shuttle's explores it).

use std::any::Any;
use std::cell::RefCell;
use std::sync::Arc;

use super::choice::choose_quietly;
use super::context::{run_as, ThreadContext};
use super::execution::{count_spawn, needs_timer, note_limit, TooManyThreads};
use crate::sync::Primitives;

/// The timer and its waiters, shared by every model thread of one execution.
pub(crate) struct Timer<P: Primitives> {
    waits: P::Mutex<Waits<P>>,
    /// Where the timer thread waits for a timed wait to fire, or for the end.
    work: P::Condvar,
    thread: std::sync::Mutex<Option<P::JoinHandle<()>>>,
}

struct Waits<P: Primitives> {
    waiters: Vec<Waiter<P>>,
    next_id: u64,
    shutdown: bool,
    /// Notifies that reached a waiter so far.
    notifies: u64,
}

struct Waiter<P: Primitives> {
    id: u64,
    /// The address of the condvar it waits on.
    condvar: usize,
    timed: bool,
    state: State,
    /// Where this waiter sleeps, under `waits`' lock.
    wake: Arc<P::Condvar>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Waiting,
    Notified,
    TimedOut,
}

thread_local! {
    /// The running execution's timer (a `Timer<P>` of its backend), while it runs.
    static ACTIVE: RefCell<Option<Arc<dyn Any + Send + Sync>>> = const { RefCell::new(None) };
}

/// The running execution's timer, if it runs.
fn active<P: Primitives>() -> Option<Arc<Timer<P>>> {
    ACTIVE.with(|a| a.borrow().clone()?.downcast::<Timer<P>>().ok())
}

/// Starts the timer of this execution: its state and its thread (one spawn, counted against the
/// checker's cap as [`TooManyThreads`] says).
#[track_caller]
pub(crate) fn start<P: Primitives>() -> Arc<Timer<P>> {
    note_limit(
        "timeout durations: a timed wait may time out at any moment, however long its timeout",
    );
    let spawned = count_spawn();
    if let Some(limit) = P::MAX_SPAWNED.filter(|limit| spawned > *limit) {
        std::panic::panic_any(TooManyThreads {
            spawned,
            limit,
            at: std::panic::Location::caller(),
            timer: true,
        });
    }
    let timer = Arc::new(Timer::<P> {
        waits: P::mutex(Waits {
            waiters: Vec::new(),
            next_id: 0,
            shutdown: false,
            notifies: 0,
        }),
        work: P::condvar(),
        thread: std::sync::Mutex::new(None),
    });
    ACTIVE.with(|a| *a.borrow_mut() = Some(Arc::clone(&timer) as Arc<dyn Any + Send + Sync>));
    let context = ThreadContext::timer();
    let running = Arc::clone(&timer);
    let handle = P::spawn(Some("timer".to_string()), move || {
        run_as(context, || running.run());
    })
    .expect("the checker spawns the timer thread");
    *lock(&timer.thread) = Some(handle);
    timer
}

impl<P: Primitives> Timer<P> {
    /// Stops the timer at the end of the execution: it fires the timed waits still waiting,
    /// then ends, and is joined.
    pub(crate) fn finish(&self) {
        P::lock(&self.waits).shutdown = true;
        P::notify_all(&self.work);
        if let Some(handle) = lock(&self.thread).take() {
            let _ = P::join(handle);
        }
        ACTIVE.with(|a| *a.borrow_mut() = None);
    }

    /// The timer thread: whenever it runs while timed waits wait, it fires one of them, chosen
    /// by the checker.
    fn run(&self) {
        let mut waits = P::lock(&self.waits);
        let mut yielded = false;
        // The count of notifies when the timer last fired.
        let mut fired_at = None;
        loop {
            let timed: Vec<usize> = (waits.waiters.iter().enumerate())
                .filter(|(_, w)| w.timed && w.state == State::Waiting)
                .map(|(i, _)| i)
                .collect();
            if timed.is_empty() {
                if waits.shutdown {
                    return;
                }
                waits = P::wait(&self.work, waits);
                continue;
            }
            let again = fired_at == Some(waits.notifies);
            if P::NAME == "shuttle" && again && !yielded && !waits.shutdown {
                // A firing again with no notify since the last: yield first, and PCT then
                // ranks the timer below every thread that can run, so a thread looping on a
                // timed wait cannot keep the timer and itself ahead of the thread that would
                // end its loop (it starved it to the step limit). A first firing still races
                // every notify as before.
                drop(waits);
                P::yield_now();
                waits = P::lock(&self.waits);
                yielded = true;
                continue;
            }
            yielded = false;
            fired_at = Some(waits.notifies);
            let fired = timed[choose_quietly::<P>(timed.len())];
            let waiter = &mut waits.waiters[fired];
            waiter.state = State::TimedOut;
            P::notify_one(&waiter.wake);
            // Let the other threads run before the next firing.
            drop(waits);
            waits = P::lock(&self.waits);
        }
    }

    /// See [`wait`].
    fn wait<'a, T: Send>(
        &self,
        condvar: usize,
        mutex: &'a P::Mutex<T>,
        guard: P::Guard<'a, T>,
        timed: bool,
    ) -> (P::Guard<'a, T>, bool) {
        let mut waits = P::lock(&self.waits);
        let id = waits.next_id;
        waits.next_id += 1;
        let wake = Arc::new(P::condvar());
        waits.waiters.push(Waiter {
            id,
            condvar,
            timed,
            state: State::Waiting,
            wake: Arc::clone(&wake),
        });
        // Registered under the timer's lock before the waiter's own lock is released: a
        // notifier needs the timer's lock to reach any waiter, so none is lost in between.
        drop(guard);
        if timed {
            P::notify_all(&self.work);
        }
        let state = loop {
            let at = waits.waiters.iter().position(|w| w.id == id);
            let state = at.map_or(State::Notified, |at| waits.waiters[at].state);
            if state != State::Waiting {
                if let Some(at) = at {
                    waits.waiters.remove(at);
                }
                break state;
            }
            waits = P::wait(&wake, waits);
        };
        drop(waits);
        (P::lock(mutex), state == State::TimedOut)
    }

    /// See [`notify`].
    fn notify(&self, condvar: usize, all: bool) {
        let mut waits = P::lock(&self.waits);
        let waiting: Vec<usize> = (waits.waiters.iter().enumerate())
            .filter(|(_, w)| w.condvar == condvar && w.state == State::Waiting)
            .map(|(i, _)| i)
            .collect();
        let woken = match waiting.len() {
            0 => return,
            _ if all => waiting,
            1 => waiting,
            // Which waiter a notify_one wakes is the checker's choice, as on a real condvar.
            n => vec![waiting[choose_quietly::<P>(n)]],
        };
        waits.notifies += 1;
        for index in woken {
            let waiter = &mut waits.waiters[index];
            waiter.state = State::Notified;
            P::notify_one(&waiter.wake);
        }
    }
}

/// Unlocks `guard` (a lock of `mutex`), waits on `condvar` until notified or, if `timed`, until
/// the wait times out, and relocks: the guard, and whether it timed out. Under a model backend
/// without the timer, a timed wait raises [`NeedsTimer`](super::execution::NeedsTimer)
/// ([`needs_timer`]).
pub(crate) fn wait<'a, P: Primitives, T: Send>(
    condvar: &P::Condvar,
    mutex: &'a P::Mutex<T>,
    guard: P::Guard<'a, T>,
    timed: bool,
) -> (P::Guard<'a, T>, bool) {
    match active::<P>() {
        Some(timer) => timer.wait(address(condvar), mutex, guard, timed),
        None if timed => {
            needs_timer();
            // Reached only while unwinding, where the request cannot be raised. A step, so that
            // a loop that waits again is stopped under shuttle (the stop takes effect at a
            // step); under loom the pass is abandoned at its next execution.
            P::yield_now();
            (guard, true)
        }
        None => (P::wait(condvar, guard), false),
    }
}

/// Wakes one waiter (or all) of `condvar`: through the timer while it runs, since every wait
/// is registered with it then.
pub(crate) fn notify<P: Primitives>(condvar: &P::Condvar, all: bool) {
    match active::<P>() {
        Some(timer) => timer.notify(address(condvar), all),
        None if all => P::notify_all(condvar),
        None => P::notify_one(condvar),
    }
}

/// Whether the running execution's timer runs.
pub(crate) fn running() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// Forgets the timer of an execution that ended without finishing it (a failure stopped it):
/// its checker objects belong to that execution and must not be touched again, not even to
/// drop them.
pub(crate) fn reset() {
    if let Some(stale) = ACTIVE.with(|a| a.borrow_mut().take()) {
        std::mem::forget(stale);
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn address<T>(object: &T) -> usize {
    object as *const T as usize
}
