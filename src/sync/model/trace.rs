//! Recording the primitive operations of a model execution, for failure reports: the recorder
//! (the rows' data is in `rows`). What a trace means in words (who waits on whom, who woke
//! whom, the columns a report prints) is read off this data by `explore::explain`, above the
//! runtime.
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
use std::panic::Location;
use std::sync::Arc;

use self::tables::Tables;
pub(crate) use self::tables::{Identity, Object};
use super::context::with_context;
use crate::sync::Primitives;

mod rows;

pub use self::rows::{Event, Op, Order, Phase, Scalar, Trace, Value};

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
    order: Option<Order>,
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
                    order: row.order,
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
    effect_ordered::<P>(op, object, value, None, location)
}

/// [`effect`] of an atomic call, with the ordering the user's code gave it.
pub(crate) fn effect_ordered<P: Primitives>(
    op: Op,
    object: Object<'_>,
    value: Value,
    order: Option<Order>,
    location: &'static Location<'static>,
) {
    if !P::MODEL {
        return;
    }
    if !recording() {
        super::context::step::<P>(op.name_ref(), location);
        return;
    }
    with_context::<P, _>(|c| {
        super::context::step_by::<P>(op.name_ref(), location, Some(&c.name));
        RECORDING.with(|r| {
            let mut r = r.borrow_mut();
            // `recording()` said so, and a step records nothing: it still is.
            let Some(recording) = r.as_mut() else { return };
            let thread = recording.seen.thread(&c.name);
            let object = recording.seen.object(object);
            recording.push(Row {
                thread,
                op,
                object,
                location,
                phase: Phase::Done,
                value,
                order,
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
        super::context::step::<P>(op.name_ref(), location);
        return Attempt(None);
    }
    let id = with_context::<P, _>(|c| {
        super::context::step_by::<P>(op.name_ref(), location, Some(&c.name));
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
                    order: None,
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
    /// The call is about to wait, for the reason `value` says (a channel full or empty): the
    /// attempt's row says so, placed already or not. Only on the path that waits.
    pub(crate) fn waits(&self, value: Value) {
        let Some(id) = self.0 else { return };
        RECORDING.with(|r| {
            let mut r = r.borrow_mut();
            let Some(recording) = r.as_mut().filter(|rec| !rec.frozen) else {
                return;
            };
            let Some(pending) = recording.pending.iter_mut().find(|p| p.id == id) else {
                return;
            };
            if let Some(placed) = pending.placed {
                recording.rows[placed].value = value.clone();
            }
            pending.row.value = value;
        });
    }

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
