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

use std::cell::RefCell;
use std::panic::Location;
use std::sync::Arc;

use super::context::with_context;
use crate::sync::Primitives;

mod rows;

pub use self::rows::{Event, Op, Order, Phase, Scalar, Trace, Value};

/// What an operation acts on: a primitive by address (labelled `Kind#n` in order of first
/// appearance, or by the name its creator gave it), or a thread by name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Object<'a> {
    Primitive {
        kind: &'static str,
        address: usize,
        name: Option<&'a str>,
    },
    Thread(&'a Arc<str>),
    /// Something with one name in every execution (`memory`, for fences).
    Global(&'static str),
}

impl<'a> Object<'a> {
    /// The primitive of kind `kind` at `primitive`'s address, with its user-given name.
    pub(crate) fn of<T: ?Sized>(kind: &'static str, primitive: &T, name: Option<&'a str>) -> Self {
        Object::Primitive {
            kind,
            address: primitive as *const T as *const () as usize,
            name,
        }
    }
}

/// An attempt not completed yet.
struct Pending {
    id: u64,
    event: Event,
    /// Its row, once something else was recorded after it.
    row: Option<usize>,
}

#[derive(Default)]
struct Recording {
    events: Vec<Event>,
    pending: Vec<Pending>,
    /// Pending attempts without a row yet.
    unplaced: usize,
    next_id: u64,
    /// Labels of the objects seen: address, kind, label.
    objects: Vec<(usize, &'static str, Arc<str>)>,
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
        recording.events.clear();
        recording.pending.clear();
        recording.unplaced = 0;
        recording.objects.clear();
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
            events: rec.events.len(),
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
        recording.events.truncate(mark.events);
        recording.pending.retain(|p| p.id < mark.next_id);
        for pending in &mut recording.pending {
            if pending.row.is_some_and(|row| row >= mark.events) {
                pending.row = None;
            }
        }
        recording.unplaced = recording.pending.iter().filter(|p| p.row.is_none()).count();
        recording.frozen = true;
    });
}

/// Threads and rows of the current execution so far, if it is being recorded.
pub(crate) fn shape() -> Option<(usize, usize)> {
    RECORDING.with(|r| {
        r.borrow().as_ref().map(|recording| {
            let mut threads: Vec<&str> = Vec::new();
            for event in &recording.events {
                if !threads.contains(&&*event.thread) {
                    threads.push(&event.thread);
                }
            }
            (threads.len(), recording.events.len() + recording.unplaced)
        })
    })
}

/// The rows recorded in the current (or last) execution; attempts that never got a row come
/// last, where the threads that made them were still waiting.
pub(crate) fn take() -> Option<Trace> {
    RECORDING.with(|r| {
        r.borrow_mut().as_mut().map(|recording| {
            let mut events = std::mem::take(&mut recording.events);
            let unplaced = recording.pending.drain(..).filter(|p| p.row.is_none());
            events.extend(unplaced.map(|p| p.event));
            recording.unplaced = 0;
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
    if P::MODEL {
        super::context::step::<P>(op.name(), location);
    }
    if !P::MODEL || !recording() {
        return;
    }
    let thread = with_context::<P, _>(|c| Arc::clone(&c.name));
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let Some(recording) = r.as_mut().filter(|rec| !rec.frozen) else {
            return;
        };
        let object = recording.label(object);
        recording.push(Event {
            thread,
            op,
            object,
            location,
            phase: Phase::Done,
            value,
            order,
        });
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
        Some(recording.label(object))
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
    if P::MODEL {
        super::context::step::<P>(op.name(), location);
    }
    if !P::MODEL || !recording() {
        return Attempt(None);
    }
    let thread = with_context::<P, _>(|c| Arc::clone(&c.name));
    RECORDING
        .with(|r| {
            let mut r = r.borrow_mut();
            let recording = r.as_mut().filter(|rec| !rec.frozen)?;
            let object = recording.label(object);
            let id = recording.next_id;
            recording.next_id += 1;
            recording.unplaced += 1;
            recording.pending.push(Pending {
                id,
                event: Event {
                    thread,
                    op,
                    object,
                    location,
                    phase: Phase::Began,
                    value,
                    order: None,
                },
                row: None,
            });
            Some(id)
        })
        .map_or(Attempt(None), |id| Attempt(Some(id)))
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
            if let Some(row) = pending.row {
                recording.events[row].value = value.clone();
            }
            pending.event.value = value;
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
            let Some(at) = recording.pending.iter().position(|p| p.id == id) else {
                return;
            };
            let pending = recording.pending.remove(at);
            let mut event = pending.event;
            event.value = merge_values(event.value, value);
            event.phase = match pending.row {
                // Nothing happened between: the call is one row.
                None => {
                    recording.unplaced -= 1;
                    Phase::Done
                }
                Some(_) => Phase::Completed,
            };
            recording.push(event);
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
    /// Appends `event`, first giving every pending attempt without a row its row: each began
    /// before this.
    fn push(&mut self, event: Event) {
        if self.unplaced > 0 {
            for pending in self.pending.iter_mut().filter(|p| p.row.is_none()) {
                pending.row = Some(self.events.len());
                self.events.push(pending.event.clone());
            }
            self.unplaced = 0;
        }
        self.events.push(event);
    }

    /// The label of `object`: its user-given name, or `Kind#n`, n counting the objects of that
    /// kind in order of first appearance. A name used twice gets `#2`, `#3` after it.
    fn label(&mut self, object: Object<'_>) -> Arc<str> {
        let (kind, address, name) = match object {
            Object::Thread(name) => return Arc::clone(name),
            Object::Global(name) => return Arc::from(name),
            Object::Primitive {
                kind,
                address,
                name,
            } => (kind, address, name),
        };
        if let Some((_, _, label)) = self
            .objects
            .iter()
            .find(|(a, k, _)| *a == address && *k == kind)
        {
            return Arc::clone(label);
        }
        let label: Arc<str> = match name {
            Some(name) => {
                let taken = |label: &str| self.objects.iter().any(|(_, _, l)| &**l == label);
                if taken(name) {
                    let n = (2..).find(|n| !taken(&format!("{name}#{n}"))).unwrap_or(2);
                    Arc::from(format!("{name}#{n}"))
                } else {
                    Arc::from(name)
                }
            }
            None => {
                let same_kind = self.objects.iter().filter(|(_, k, _)| *k == kind).count();
                Arc::from(format!("{kind}#{}", same_kind + 1))
            }
        };
        self.objects.push((address, kind, Arc::clone(&label)));
        label
    }
}
