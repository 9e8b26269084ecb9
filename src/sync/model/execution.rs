//! The control of the execution that is running: how many threads it spawned and has alive,
//! whether it must stop and why, the panics it raised, and what its bodies used that the
//! checker sees only in part.
//!
//! Invariant: [`begin`] resets all of it at the start of every execution (except the limits,
//! which the explorers take per exploration); the first reason given to [`request_stop`] is
//! the one the harness reports, and from then on the trace is frozen as it was.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};

use super::context::{self, forget_contexts};
use super::trace;

/// A panic payload: a timed wait began in an execution without the timer. The explorer then
/// runs the whole exploration again with the timer on, from its first execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsTimer;

/// A panic payload: under loom, a `threadproof::std` object needs the atomics that order
/// first uses after makings, which this exploration's executions do not make (they are made
/// only once an exploration has shown it needs them: see `crate::std::rt`). The explorer
/// then runs the whole exploration again with them, from its first execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsMirrorMakers;

/// A panic payload: under loom, a `try_read` or `try_write` on an `RwLock` whose releases hand
/// the lock over (`sync::rwlock::BuiltRwLock`). The explorer then runs the whole exploration
/// again with raised waiters entering again, from its first execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeedsBarging;

thread_local! {
    /// Whether the `RwLock`s that loom executions on this OS thread make hand their lock over
    /// on release (the loom explorer's mode; off elsewhere).
    static HAND_OVER: Cell<bool> = const { Cell::new(false) };
    /// Whether an execution on this OS thread raised [`NeedsBarging`] since the last
    /// [`take_barging_restart`], caught by the body or not.
    static BARGING_NEEDED: Cell<bool> = const { Cell::new(false) };
    /// Whether an execution on this OS thread raised [`NeedsTimer`] since the last
    /// [`take_timer_restart`], caught by the body or not.
    static TIMER_NEEDED: Cell<bool> = const { Cell::new(false) };
}

/// A timed wait in an execution without the timer: the exploration must start again with
/// it. Remembered before it is raised as [`NeedsTimer`], so that a body that catches the
/// panic cannot hide it: where the scheduler stops executions (shuttle), this one stops at
/// its next step; under loom the next execution raises it at its start
/// ([`raise_pending_restart`]), and the explorer reads [`take_timer_restart`] when the pass
/// ends. Not raised while the thread already unwinds (a second panic would abort).
pub(crate) fn needs_timer() {
    TIMER_NEEDED.with(|t| t.set(true));
    if quiet_stops() {
        request_stop(Stop::Restart);
    }
    if !std::thread::panicking() {
        std::panic::panic_any(NeedsTimer);
    }
}

/// Raises the request of a start again that an earlier execution of this pass made and its
/// body caught ([`NeedsTimer`], [`NeedsBarging`]): the pass is abandoned at the next
/// execution's start, not explored to its end and charged to the budget for nothing. Called
/// by the loom explorer, whose executions go on after a caught request (shuttle's stop).
pub(crate) fn raise_pending_restart() {
    if TIMER_NEEDED.with(Cell::get) {
        std::panic::panic_any(NeedsTimer);
    }
    if BARGING_NEEDED.with(Cell::get) {
        std::panic::panic_any(NeedsBarging);
    }
}

/// Whether an execution needed the timer since the last call (see [`needs_timer`]); clears it.
pub(crate) fn take_timer_restart() -> bool {
    TIMER_NEEDED.with(|t| t.replace(false))
}

/// Sets whether the `RwLock`s made from now on on this OS thread hand their lock over (see
/// [`NeedsBarging`]); what it was.
pub(crate) fn set_rwlock_hand_over(on: bool) -> bool {
    HAND_OVER.with(|h| h.replace(on))
}

/// Whether an `RwLock` made now hands its lock over on release.
pub(crate) fn rwlock_hand_over() -> bool {
    HAND_OVER.with(Cell::get)
}

/// A try operation on an `RwLock` that hands its lock over: the exploration must start again
/// without hand-over. Raises [`NeedsBarging`], unless the thread is already unwinding (a
/// second panic would abort): the explorer then learns it from [`take_barging_restart`].
pub(crate) fn needs_barging() {
    BARGING_NEEDED.with(|b| b.set(true));
    if !std::thread::panicking() {
        std::panic::panic_any(NeedsBarging);
    }
}

/// Whether an execution needed raised waiters to enter again since the last call (see
/// [`NeedsBarging`]); clears it.
pub(crate) fn take_barging_restart() -> bool {
    BARGING_NEEDED.with(|b| b.replace(false))
}

/// A panic payload: the body spawned more threads than the checker can model. Raised by
/// `sync::spawn` before the checker's own assertion would fire, so that the explorer can
/// tell a limit of the checker from a bug in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooManyThreads {
    /// How many threads the body had spawned, this one included, when it hit the limit.
    pub spawned: usize,
    /// How many the checker allows besides the main thread.
    pub limit: usize,
    /// The `spawn` call that went past the limit.
    pub at: &'static Location<'static>,
    /// Whether one of the threads is the timer that models timeouts (`model::timer`).
    pub timer: bool,
}

/// How an execution of a model stopped early, as the wrappers found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A model thread panicked: its message and where.
    Panicked {
        message: String,
        location: Option<String>,
    },
    /// Every live thread was blocked.
    Deadlock,
    /// The outcome broke the invariant.
    Invariant(String),
    /// The exploration must start again from its first execution, with the timer
    /// ([`NeedsTimer`]) or the mirror's makers ([`NeedsMirrorMakers`]) on, or the `RwLock`'s
    /// hand-over off ([`NeedsBarging`]).
    Restart,
    /// The exploration's time ran out inside this execution ([`context::step`]): a budget
    /// cut, not a failure.
    OutOfTime,
}

#[derive(Default)]
struct Execution {
    /// Threads spawned in this execution, besides the main one.
    spawned: usize,
    /// Model threads (main included) whose body has not returned yet.
    live: usize,
    /// Whether panics in model threads stop the execution quietly (shuttle, driven by
    /// threadproof's scheduler) or unwind into the checker (loom, which needs them to).
    quiet_stops: bool,
    /// Why the execution must stop, once it must.
    stop: Option<Stop>,
    /// The panics seen in this execution (a body may catch some): message, where, and how long
    /// the trace was then.
    panics: Vec<Panic>,
    /// Where the first mutex guard dropped while a panic unwound was locked (see
    /// [`note_guard_dropped_unwinding`]).
    guard_dropped_unwinding: Option<&'static Location<'static>>,
    /// Threads inside loom's `try_lock` now (see [`trying_lock`]).
    trying: usize,
    /// This execution's number in the process: a [`TokenId`] of another execution names
    /// nothing here.
    serial: u64,
    /// The receipts of the causality tokens made in this execution, `None` once received (see
    /// [`keep_token`]).
    tokens: Vec<Option<Receipt>>,
}

/// How a causality token is received: a model event of the backend's.
pub(crate) type Receipt = Box<dyn FnOnce()>;

/// A causality token kept by its execution (see [`keep_token`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenId {
    serial: u64,
    index: usize,
}

/// A panic seen by the panic hook in a model execution.
#[derive(Clone, Debug)]
pub(crate) struct Panic {
    pub message: String,
    pub location: String,
    /// The trace's length when it was raised: what was recorded after it is unwinding.
    pub trace_mark: trace::Mark,
}

thread_local! {
    static EXECUTION: RefCell<Execution> = const {
        RefCell::new(Execution {
            spawned: 0,
            live: 0,
            quiet_stops: false,
            stop: None,
            panics: Vec::new(),
            guard_dropped_unwinding: None,
            trying: 0,
            serial: 0,
            tokens: Vec::new(),
        })
    };
    /// What the bodies of the running exploration used that its checker sees only in part.
    static LIMITS: RefCell<std::collections::BTreeSet<&'static str>> =
        const { RefCell::new(std::collections::BTreeSet::new()) };
}

/// Notes that the body used something its checker sees only in part, for the report to say so
/// (see [`take_limits`]).
pub(crate) fn note_limit(limit: &'static str) {
    LIMITS.with(|l| {
        l.borrow_mut().insert(limit);
    });
}

/// The limits noted since the last call: the explorers take them at the start of an
/// exploration (to forget any left over) and at its end (for the report).
pub(crate) fn take_limits() -> Vec<String> {
    LIMITS
        .with(|l| std::mem::take(&mut *l.borrow_mut()))
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Starts a new execution: nothing spawned, nothing stopped, no thread known. `quiet_stops`
/// says how failures end it (see [`Execution::quiet_stops`]). The timer of a stopped
/// execution is the harness's to forget (`timer::reset`): the timer sits above this module.
pub(crate) fn begin(quiet_stops: bool) {
    forget_contexts();
    context::progressed();
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        // Unique in the process: a token kept past its execution may be dropped on another
        // thread. Each thread counts in a range of its own, drawn at its first execution.
        let serial = match e.serial {
            0 => {
                static RANGES: AtomicU64 = AtomicU64::new(0);
                RANGES.fetch_add(1 << 32, Ordering::Relaxed) + 1
            }
            serial => serial + 1,
        };
        *e = Execution {
            quiet_stops,
            serial,
            ..Execution::default()
        }
    });
}

/// Counts a spawn; the count so far, this one included.
pub(crate) fn count_spawn() -> usize {
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        e.spawned += 1;
        context::note_spawned();
        e.spawned
    })
}

/// Threads spawned in this execution so far, besides the main one.
pub(crate) fn spawned_so_far() -> usize {
    EXECUTION.with(|e| e.borrow().spawned)
}

/// A model thread's body started (`+1`) or returned (`-1`).
pub(crate) fn thread_started() {
    EXECUTION.with(|e| e.borrow_mut().live += 1);
}

pub(crate) fn thread_finished() {
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        e.live = e.live.saturating_sub(1);
    });
}

/// Model threads whose body has not returned.
pub(crate) fn live_threads() -> usize {
    EXECUTION.with(|e| e.borrow().live)
}

/// Whether failures stop this execution quietly (see [`begin`]).
pub(crate) fn quiet_stops() -> bool {
    EXECUTION.with(|e| e.borrow().quiet_stops)
}

/// Asks the scheduler to stop this execution for `why`; the first reason given is kept.
pub(crate) fn request_stop(why: Stop) {
    trace::freeze();
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        if e.stop.is_none() {
            e.stop = Some(why);
        }
    });
}

/// Notes a panic raised in this execution (called by the explorer's panic hook).
pub(crate) fn note_panic(message: String, location: String) {
    let trace_mark = trace::mark();
    EXECUTION.with(|e| {
        e.borrow_mut().panics.push(Panic {
            message,
            location,
            trace_mark,
        })
    });
}

/// Notes that a mutex guard, locked at `at`, was dropped while a panic unwound. Loom's mutex
/// then stays poisoned, and the next thread to take it panics inside loom: the explorer reads
/// this to tell that panic from a failure of the body (`explore::unseen::loom_poisoned`).
pub(crate) fn note_guard_dropped_unwinding(at: &'static Location<'static>) {
    EXECUTION.with(|e| {
        e.borrow_mut().guard_dropped_unwinding.get_or_insert(at);
    });
}

/// Where the first mutex guard dropped while a panic unwound in this execution was locked.
pub(crate) fn guard_dropped_unwinding() -> Option<&'static Location<'static>> {
    EXECUTION.with(|e| e.borrow().guard_dropped_unwinding)
}

/// Counts the running thread as inside loom's `try_lock` until the count is dropped. Loom blocks
/// a thread waiting at its `try_lock` when another thread takes that lock first, and unblocks it
/// only at the release, where std's `try_lock` returns at once: a deadlock with a thread so
/// blocked is loom's, not the body's (`explore::unseen::loom_blocked_try`).
pub(crate) fn trying_lock() -> TryingLock {
    EXECUTION.with(|e| e.borrow_mut().trying += 1);
    TryingLock(())
}

/// Keeps a causality token's receipt (under loom, the receive of a message on a channel of
/// loom's own, see `backend::LoomToken`) until the token is taken ([`take_token`]), or the
/// execution ends with every model thread finished ([`receive_tokens_left`]). Loom fails an
/// execution that ends with a message of its channels never received, and a body may keep a
/// channel past its end (a receiver forgotten, leaked, in a cycle or a static): the harness
/// receives what is left, and the explorer reads the count of tokens never received to tell
/// loom's leak check, should it still trip, from a failure of the body
/// (`explore::unseen::loom_leaked`).
pub(crate) fn keep_token(receipt: Receipt) -> TokenId {
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        e.tokens.push(Some(receipt));
        TokenId {
            serial: e.serial,
            index: e.tokens.len() - 1,
        }
    })
}

/// The receipt of token `id`, once: `None` if it was received already, or was made in another
/// execution (a token kept past its execution, in an outcome or a static, is dropped later).
pub(crate) fn take_token(id: TokenId) -> Option<Receipt> {
    EXECUTION
        .try_with(|e| {
            let mut e = e.borrow_mut();
            if e.serial != id.serial {
                return None;
            }
            e.tokens.get_mut(id.index).and_then(Option::take)
        })
        .ok()
        .flatten()
}

/// The receipts of the tokens not yet received, taken: for the harness to run once the body
/// has returned and every model thread has finished, when nothing can take them any more.
pub(crate) fn receive_tokens_left() {
    if live_threads() > 0 {
        return;
    }
    let left: Vec<Receipt> = EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        e.tokens.iter_mut().filter_map(Option::take).collect()
    });
    left.into_iter().for_each(|receive| receive());
}

/// Causality tokens made in this execution and never received.
pub(crate) fn tokens_unreceived() -> usize {
    EXECUTION.with(|e| e.borrow().tokens.iter().flatten().count())
}

/// A thread's count inside loom's `try_lock` ([`trying_lock`]).
pub(crate) struct TryingLock(());

impl Drop for TryingLock {
    fn drop(&mut self) {
        let _ = EXECUTION.try_with(|e| {
            let mut e = e.borrow_mut();
            e.trying = e.trying.saturating_sub(1);
        });
    }
}

/// Whether a thread of this execution is inside loom's `try_lock` now.
pub(crate) fn in_try_lock() -> bool {
    EXECUTION.with(|e| e.borrow().trying > 0)
}

/// The last panic of this execution whose message is `message`: the one a caught payload
/// carries (a body may have caught others before it).
pub(crate) fn panic_with_message(message: &str) -> Option<Panic> {
    EXECUTION.with(|e| {
        e.borrow()
            .panics
            .iter()
            .rev()
            .find(|p| p.message == message)
            .cloned()
    })
}

/// Whether the execution must stop: it failed, or the exploration's time ran out in it.
pub(crate) fn stop_requested() -> bool {
    if context::out_of_time() {
        request_stop(Stop::OutOfTime);
    }
    EXECUTION.with(|e| e.borrow().stop.is_some())
}

/// Why this execution stopped, if it did.
pub(crate) fn take_stop() -> Option<Stop> {
    EXECUTION.with(|e| e.borrow_mut().stop.take())
}

/// A model thread's body panicked with `payload`. Under quiet stops the execution stops here,
/// and the trace as it was at the panic is kept (the unwinding after it recorded only
/// drops); the thread then yields with `park` to the scheduler, which ends the execution, so
/// this never returns. Otherwise the panic goes on unwinding into the checker.
pub(crate) fn thread_panicked(payload: Box<dyn Any + Send>, park: impl Fn()) -> ! {
    if !quiet_stops() {
        std::panic::resume_unwind(payload);
    }
    request_stop(stop_for_panic(&*payload));
    loop {
        park();
    }
}

/// Whether a panic with `payload` asks for the exploration to start again: a timed wait
/// without the timer ([`NeedsTimer`]), a mirror object without its makers
/// ([`NeedsMirrorMakers`]), or a try operation on an `RwLock` that hands over
/// ([`NeedsBarging`]).
pub(crate) fn is_restart(payload: &(dyn Any + Send)) -> bool {
    payload.is::<NeedsTimer>() || payload.is::<NeedsMirrorMakers>() || payload.is::<NeedsBarging>()
}

/// How a panic with `payload` ends an execution: what it says and where it was raised, with the
/// trace cut back to its moment.
pub(crate) fn stop_for_panic(payload: &(dyn Any + Send)) -> Stop {
    if is_restart(payload) {
        return Stop::Restart;
    }
    let message = panic_message(payload);
    let panic = panic_with_message(&message);
    if let Some(panic) = &panic {
        trace::truncate(panic.trace_mark);
    }
    if message.starts_with("deadlock") {
        // Loom's "deadlock; threads = ...", shuttle's "tried to acquire a Mutex it already
        // holds": the trace's wait-for lines say more than their thread lists.
        return Stop::Deadlock;
    }
    Stop::Panicked {
        message,
        location: panic.map(|p| p.location),
    }
}

/// The message of a panic payload, for errors and reports.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(too_many) = payload.downcast_ref::<TooManyThreads>() {
        format!(
            "too many threads: {} spawned at {}, the checker allows {} besides main",
            too_many.spawned, too_many.at, too_many.limit
        )
    } else if payload.is::<NeedsTimer>() {
        "a timed wait in an execution without the timer".to_string()
    } else if payload.is::<NeedsMirrorMakers>() {
        "a threadproof::std object first used across threads in an execution without the \
         atomics that order it"
            .to_string()
    } else if payload.is::<NeedsBarging>() {
        "a try_read or try_write on an RwLock whose releases hand the lock over".to_string()
    } else if payload.is::<Box<dyn Any + Send>>() {
        "a panic whose payload is another panic's payload (not a string)".to_string()
    } else {
        // Neither checker says what its own non-string payloads are (loom's stack overflow
        // unwinds with one), so the message names the likely causes.
        "a panic with a payload that is not a string: `std::panic::panic_any` of another \
         type, or, under loom, a model thread that overflowed its stack (give it a larger \
         one with `Builder::stack_size`)"
            .to_string()
    }
}
