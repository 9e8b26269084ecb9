//! Recording the primitive operations of a model execution, for failure reports: the rows'
//! data and the recorder. What a trace means in words (who waits on whom, who woke whom, the
//! columns a report prints) is read off this data by `explore::explain`, above the runtime.
//!
//! Invariant: each row of a trace sits where its operation took effect, and says what it read,
//! wrote or returned; two executions that differ in what any thread saw differ in their traces.
//! Nothing is recorded unless an exploration on this OS thread has called `start`, and never
//! for the production backends (their calls compile to nothing: the check is on the constant
//! [`Primitives::MODEL`]). Once the execution has failed, `freeze` (or `truncate`,
//! back to the moment of a panic) keeps the trace as it was then: teardown adds nothing.
//!
//! # Recording from a wrapper
//!
//! Loom and shuttle may switch threads at the *start* of every operation, never between its
//! effect and its return. So a wrapper records after the backend's call returns:
//!
//! ```text
//! // An operation that cannot block: one row, after the call, with its value.
//! let seen = self.raw.load(order);
//! trace::effect::<P>(Op::Load, self.object(), Value::Read(seen.into()), Location::caller());
//!
//! // An operation that can block: the attempt before the call, the completion after it.
//! let attempt = trace::attempt::<P>(Op::Lock, self.object(), Location::caller());
//! let guard = P::lock(&self.raw);
//! attempt.took_effect(Value::None);
//! ```
//!
//! An attempt whose completion follows with nothing recorded between is one row (the thread
//! did not wait); otherwise the attempt keeps its row, where the call began, and the
//! completion gets a row of its own where the thread went on. At a deadlock, the attempts that
//! never completed are what each thread waits on. `Object` names what an operation acts on;
//! a user's name for it (`Mutex::named`) replaces the `Kind#n` label.

mod tables;

use std::cell::RefCell;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use std::sync::atomic::Ordering;

pub(crate) use self::tables::Object;
use self::tables::Tables;
use super::context::with_context;
use crate::sync::backend::Rmw;
use crate::sync::Primitives;

/// An operation on a primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Spawn,
    Join,
    Lock,
    /// A `try_lock`: it took the lock, or found it held ([`Value::Acquired`]).
    TryLock,
    Unlock,
    /// An `RwLock`'s `read`, `write`, `try_read` and `try_write` (released by [`Op::Unlock`]).
    ReadLock,
    WriteLock,
    TryReadLock,
    TryWriteLock,
    /// Unlocks, sleeps, relocks.
    Wait,
    NotifyOne,
    NotifyAll,
    /// A barrier's `wait`: done once the generation's last thread arrived.
    BarrierWait,
    /// A semaphore's `acquire`, `try_acquire` and `release`.
    Acquire,
    TryAcquire,
    Release,
    /// Sleeps until unparked (or woken spuriously, or timed out).
    Park,
    Unpark,
    Send,
    Recv,
    TryRecv,
    Load,
    Store,
    Swap,
    /// A `fetch_*` read-modify-write.
    Fetch(Rmw),
    CompareExchange,
    CompareExchangeWeak,
    Fence,
    /// A read of a `sync::UnsafeCell`.
    Read,
    /// A write of a `sync::UnsafeCell`.
    Write,
    /// A value chosen by the checker (`sync::choose`).
    Choose,
}

impl Op {
    /// The method's name, as the user's code calls it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Spawn => "spawn",
            Op::Join => "join",
            Op::Lock => "lock",
            Op::TryLock => "try_lock",
            Op::Unlock => "unlock",
            Op::ReadLock => "read",
            Op::WriteLock => "write",
            Op::TryReadLock => "try_read",
            Op::TryWriteLock => "try_write",
            Op::Wait | Op::BarrierWait => "wait",
            Op::NotifyOne => "notify_one",
            Op::NotifyAll => "notify_all",
            Op::Acquire => "acquire",
            Op::TryAcquire => "try_acquire",
            Op::Release => "release",
            Op::Park => "park",
            Op::Unpark => "unpark",
            Op::Send => "send",
            Op::Recv => "recv",
            Op::TryRecv => "try_recv",
            Op::Load => "load",
            Op::Store => "store",
            Op::Swap => "swap",
            Op::Fetch(rmw) => rmw.name(),
            Op::CompareExchange => "compare_exchange",
            Op::CompareExchangeWeak => "compare_exchange_weak",
            Op::Fence => "fence",
            Op::Read => "read",
            Op::Write => "write",
            Op::Choose => "choose",
        }
    }
}

/// A value an atomic held, read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Usize(usize),
    /// Any other integer.
    Int(i128),
    Bool(bool),
    /// A pointer's address (null shows as `null`).
    Ptr(usize),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Usize(v) => write!(f, "{v}"),
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Bool(v) => write!(f, "{v}"),
            Scalar::Ptr(0) => write!(f, "null"),
            Scalar::Ptr(v) => write!(f, "{v:#x}"),
        }
    }
}

/// What an operation read, wrote or returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing to say beyond the operation (a lock, an unlock, a spawn, a cell access).
    None,
    /// A load saw this.
    Read(Scalar),
    /// A store wrote this.
    Wrote(Scalar),
    /// A swap or fetch_add: the value was `old` and is now `new`.
    Updated { old: Scalar, new: Scalar },
    /// A compare_exchange that found `expected` and wrote `new`.
    Exchanged { expected: Scalar, new: Scalar },
    /// A compare_exchange that expected `expected` and found `saw`: nothing written.
    NotExchanged {
        expected: Scalar,
        new: Scalar,
        saw: Scalar,
    },
    /// A compare_exchange_weak that failed spuriously (an explored fault), having read `saw`.
    FailedSpuriously {
        expected: Scalar,
        new: Scalar,
        saw: Scalar,
    },
    /// A fence's ordering.
    Ordering(Ordering),
    /// A `try_*` call: it acquired, or found no way to without waiting.
    Acquired(bool),
    /// A timed wait (a `park_timeout`, `recv_timeout`) that timed out.
    TimedOut,
    /// A condvar's timed wait that timed out, and relocked this mutex.
    TimedOutRelocked(Arc<str>),
    /// A park that returned with no unpark (an explored fault).
    Spuriously,
    /// A barrier wait: whether this thread was the generation's leader (the last to arrive).
    Leader(bool),
    /// `choose(of)` returned `value`.
    Chose { value: usize, of: usize },
    /// A `try_recv` that found nothing to receive.
    Empty,
    /// A wait began, unlocking this mutex.
    Unlocking(Arc<str>),
    /// A wait ended, woken by a notify (`spurious` false) or not, and relocked this mutex.
    Woke { spurious: bool, relocked: Arc<str> },
    /// The channel's message with this number (1 for the first sent) went in or came out.
    Message(u64),
    /// A receive found every sender gone, or a send found the receiver gone.
    Disconnected,
    /// A join returned: the thread ended by returning, or by panicking.
    Joined { panicked: bool },
}

/// Where a row stands in its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The whole call: it took effect without waiting.
    Done,
    /// A call that had to wait began here; its completion is the thread's next
    /// [`Phase::Completed`] row, and without one the thread was still waiting at the end.
    Began,
    /// The call the thread began earlier took effect here.
    Completed,
}

/// One recorded row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub thread: Arc<str>,
    pub op: Op,
    /// `Kind#n` numbered by first appearance in the execution, or the user's name for it.
    pub object: Arc<str>,
    /// The user's line that made the call.
    pub location: &'static Location<'static>,
    pub phase: Phase,
    pub value: Value,
}

/// The rows of one execution, in the order their operations took effect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<Event>,
}

/// A row as recorded: the thread and the object by their index in the recording's tables, so
/// that recording one costs no allocation and no reference count; [`take`] builds the
/// [`Event`]s (labels, names) once, for the execution that is reported.
#[derive(Clone)]
struct Row {
    thread: u32,
    op: Op,
    object: u32,
    location: &'static Location<'static>,
    phase: Phase,
    value: Value,
}

/// An attempt not completed yet.
struct Pending {
    id: u64,
    row: Row,
    /// Its place among the rows, once something else was recorded after it.
    placed: Option<usize>,
}

#[derive(Default)]
struct Recording {
    rows: Vec<Row>,
    pending: Vec<Pending>,
    /// Pending attempts without a place among the rows yet.
    unplaced: usize,
    next_id: u64,
    /// The threads and objects seen in this execution.
    seen: Tables,
    frozen: bool,
}

/// A place in a recording, to cut it back to (see [`truncate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Mark {
    events: usize,
    next_id: u64,
}

thread_local! {
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Starts recording a new execution (discarding the previous one's rows, keeping their
/// buffers: this runs once per execution).
pub(crate) fn start() {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let recording = r.get_or_insert_with(Recording::default);
        recording.rows.clear();
        recording.pending.clear();
        recording.unplaced = 0;
        recording.seen.clear();
        recording.frozen = false;
    });
}

/// Stops recording on this OS thread.
pub(crate) fn stop() {
    RECORDING.with(|r| *r.borrow_mut() = None);
}

/// Keeps the rows recorded so far and ignores any later ones.
pub(crate) fn freeze() {
    RECORDING.with(|r| {
        if let Some(recording) = r.borrow_mut().as_mut() {
            recording.frozen = true;
        }
    });
}

/// Where the recording stands now.
pub(crate) fn mark() -> Mark {
    RECORDING.with(|r| {
        r.borrow().as_ref().map_or(Mark::default(), |rec| Mark {
            events: rec.rows.len(),
            next_id: rec.next_id,
        })
    })
}

/// Cuts the recording back to `mark` and freezes it: what came after was the unwinding of a
/// panic, not the execution.
pub(crate) fn truncate(mark: Mark) {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let Some(recording) = r.as_mut() else { return };
        if recording.frozen {
            return;
        }
        recording.rows.truncate(mark.events);
        recording.pending.retain(|p| p.id < mark.next_id);
        for pending in &mut recording.pending {
            if pending.placed.is_some_and(|row| row >= mark.events) {
                pending.placed = None;
            }
        }
        recording.unplaced = recording
            .pending
            .iter()
            .filter(|p| p.placed.is_none())
            .count();
        recording.frozen = true;
    });
}

/// Threads and rows of the current execution so far, if it is being recorded.
pub(crate) fn shape() -> Option<(usize, usize)> {
    RECORDING.with(|r| {
        r.borrow().as_ref().map(|recording| {
            // Threads count by name, as a trace shows them: those with a row, each name once
            // (the table is a handful of threads, so no allocation for it).
            let threads = recording.seen.threads();
            let has_row = |index: usize| {
                recording
                    .rows
                    .iter()
                    .any(|row| row.thread as usize == index)
            };
            let counted = (0..threads.len())
                .filter(|&i| has_row(i))
                .filter(|&i| !(0..i).any(|j| threads[j] == threads[i] && has_row(j)))
                .count();
            (counted, recording.rows.len() + recording.unplaced)
        })
    })
}

/// The rows recorded in the current (or last) execution; attempts that never got a row come
/// last, where the threads that made them were still waiting.
pub(crate) fn take() -> Option<Trace> {
    RECORDING.with(|r| {
        r.borrow_mut().as_mut().map(|recording| {
            let mut rows = std::mem::take(&mut recording.rows);
            let unplaced = recording.pending.drain(..).filter(|p| p.placed.is_none());
            rows.extend(unplaced.map(|p| p.row));
            recording.unplaced = 0;
            let events = rows
                .into_iter()
                .map(|row| Event {
                    thread: Arc::clone(&recording.seen.threads()[row.thread as usize]),
                    op: row.op,
                    object: recording.seen.label(row.object),
                    location: row.location,
                    phase: row.phase,
                    value: row.value,
                })
                .collect();
            Trace { events }
        })
    })
}

/// Whether rows are being recorded on this OS thread now: not while a panic unwinds (what it
/// drops is not the execution, and a checker's thread-locals may be gone by then).
fn recording() -> bool {
    !std::thread::panicking()
        && RECORDING.with(|r| r.borrow().as_ref().is_some_and(|rec| !rec.frozen))
}

/// Records `op` on `object`, which took effect just now with `value`: call it right after the
/// backend's call returned.
pub(crate) fn effect<P: Primitives>(
    op: Op,
    object: Object<'_>,
    value: Value,
    location: &'static Location<'static>,
) {
    if !P::MODEL {
        return;
    }
    if !recording() {
        super::context::step::<P>(op.name(), location);
        return;
    }
    with_context::<P, _>(|c| {
        super::context::step_by::<P>(op.name(), location, Some(&c.name));
        RECORDING.with(|r| {
            let mut r = r.borrow_mut();
            let Some(recording) = r.as_mut().filter(|rec| !rec.frozen) else {
                return;
            };
            let thread = recording.seen.thread(&c.name);
            let object = recording.seen.object(object);
            recording.push(Row {
                thread,
                op,
                object,
                location,
                phase: Phase::Done,
                value,
            });
        })
    });
}

/// Records that `choose(of)` returned `value`.
pub(crate) fn chose<P: Primitives>(value: usize, of: usize, location: &'static Location<'static>) {
    let value = Value::Chose { value, of };
    effect::<P>(Op::Choose, Object::Global("choice"), value, location);
}

/// The label `object` has (or gets now) in the recording, if one is being recorded.
pub(crate) fn label<P: Primitives>(object: Object<'_>) -> Option<Arc<str>> {
    if !P::MODEL {
        return None;
    }
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let recording = r.as_mut().filter(|rec| !rec.frozen)?;
        let index = recording.seen.object(object);
        Some(recording.seen.label(index))
    })
}

/// Records the start of a call that may block; complete it with [`Attempt::took_effect`] when
/// the call returns.
pub(crate) fn attempt<P: Primitives>(
    op: Op,
    object: Object<'_>,
    location: &'static Location<'static>,
) -> Attempt {
    attempt_with::<P>(op, object, Value::None, location)
}

/// [`attempt`], with a value the attempt itself carries (a wait names the mutex it unlocks).
pub(crate) fn attempt_with<P: Primitives>(
    op: Op,
    object: Object<'_>,
    value: Value,
    location: &'static Location<'static>,
) -> Attempt {
    if !P::MODEL {
        return Attempt(None);
    }
    if !recording() {
        super::context::step::<P>(op.name(), location);
        return Attempt(None);
    }
    let id = with_context::<P, _>(|c| {
        super::context::step_by::<P>(op.name(), location, Some(&c.name));
        RECORDING.with(|r| {
            let mut r = r.borrow_mut();
            let recording = r.as_mut().filter(|rec| !rec.frozen)?;
            let thread = recording.seen.thread(&c.name);
            let object = recording.seen.object(object);
            let id = recording.next_id;
            recording.next_id += 1;
            recording.unplaced += 1;
            recording.pending.push(Pending {
                id,
                row: Row {
                    thread,
                    op,
                    object,
                    location,
                    phase: Phase::Began,
                    value,
                },
                placed: None,
            });
            Some(id)
        })
    });
    Attempt(id)
}

/// A call that may block, recorded where it began (see [`attempt`]).
#[must_use = "an attempt is completed with `took_effect`"]
pub(crate) struct Attempt(Option<u64>);

impl Attempt {
    /// The call returned, having taken effect just now with `value`.
    pub(crate) fn took_effect(self, value: Value) {
        let Some(id) = self.0 else { return };
        RECORDING.with(|r| {
            let mut r = r.borrow_mut();
            let Some(recording) = r.as_mut().filter(|rec| !rec.frozen) else {
                return;
            };
            let Some(at) = recording.pending.iter().rposition(|p| p.id == id) else {
                return;
            };
            let pending = recording.pending.remove(at);
            let mut row = pending.row;
            row.value = merge_values(row.value, value);
            row.phase = match pending.placed {
                // Nothing happened between: the call is one row.
                None => {
                    recording.unplaced -= 1;
                    Phase::Done
                }
                Some(_) => Phase::Completed,
            };
            recording.push(row);
        });
    }
}

/// The value a completed call reports: what it returned, or what its attempt said if it
/// returned nothing of note.
fn merge_values(attempt: Value, completion: Value) -> Value {
    match completion {
        Value::None => attempt,
        completion => completion,
    }
}

impl Recording {
    /// Appends `row`, first giving every pending attempt without a place its place: each began
    /// before this.
    fn push(&mut self, row: Row) {
        if self.unplaced > 0 {
            for pending in self.pending.iter_mut().filter(|p| p.placed.is_none()) {
                pending.placed = Some(self.rows.len());
                self.rows.push(pending.row.clone());
            }
            self.unplaced = 0;
        }
        self.rows.push(row);
    }
}

impl Trace {
    /// The threads in order of first appearance.
    pub fn threads(&self) -> Vec<&str> {
        let mut threads: Vec<&str> = Vec::new();
        for event in &self.events {
            if !threads.contains(&&*event.thread) {
                threads.push(&event.thread);
            }
        }
        threads
    }
}
