//! Recording the primitive operations of a model execution, for failure reports.
//!
//! Invariant: each row of a trace sits where its operation took effect, and says what it read,
//! wrote or returned; two executions that differ in what any thread saw differ in their traces.
//! Nothing is recorded unless an exploration on this OS thread has called `start`, and never
//! for the production backends (their calls compile to nothing: the check is on the constant
//! [`super::Primitives::MODEL`]). Once the execution has failed, `freeze` (or `truncate`,
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
use std::fmt::{self, Write as _};
use std::panic::Location;
use std::sync::Arc;

use std::sync::atomic::Ordering;

use super::{model, Primitives, Rmw};

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
    /// A read of a [`super::Cell`].
    Read,
    /// A write of a [`super::Cell`].
    Write,
    /// A value chosen by the checker ([`super::choose`]).
    Choose,
}

impl Op {
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

    /// A label of a letter or two, for a step in a swimlane (the full text is its tooltip).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Spawn => "sp",
            Op::Join => "jn",
            Op::Lock => "L",
            Op::TryLock => "tL",
            Op::Unlock => "U",
            Op::ReadLock => "R",
            Op::WriteLock => "W",
            Op::TryReadLock => "tR",
            Op::TryWriteLock => "tW",
            Op::Wait => "W",
            Op::NotifyOne => "n1",
            Op::NotifyAll => "nA",
            Op::BarrierWait => "B",
            Op::Acquire => "P",
            Op::TryAcquire => "tP",
            Op::Release => "V",
            Op::Park => "pk",
            Op::Unpark => "up",
            Op::Send => "tx",
            Op::Recv => "rx",
            Op::TryRecv => "tr",
            Op::Load => "ld",
            Op::Store => "st",
            Op::Swap => "sw",
            Op::Fetch(_) => "fa",
            Op::CompareExchange => "cx",
            Op::CompareExchangeWeak => "cw",
            Op::Fence => "fn",
            Op::Read => "rd",
            Op::Write => "wr",
            Op::Choose => "ch",
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
    if !P::MODEL || !recording() {
        return;
    }
    let thread = model::with_context::<P, _>(|c| Arc::clone(&c.name));
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
    if !P::MODEL || !recording() {
        return Attempt(None);
    }
    let thread = model::with_context::<P, _>(|c| Arc::clone(&c.name));
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

/// A source file as a trace names it: relative to its crate (`src/scenarios/turns.rs`,
/// `models/truth.rs`) for the crate being built, whose paths the compiler gives relative; from
/// `src/` on for a dependency's absolute path; the file name otherwise.
pub fn short_file(file: &str) -> &str {
    if !file.starts_with('/') {
        return file;
    }
    match file.find("/src/") {
        Some(i) => &file[i + 1..],
        None => file.rsplit('/').next().unwrap_or(file),
    }
}

/// At most this many thread columns in a failing interleaving; the other threads' rows fold.
pub const MAX_COLUMNS: usize = 6;

/// Who woke a wait, as far as the trace can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Waker {
    /// The notify at this row (the only one that could have).
    Row(usize),
    /// One of the notifies at these rows.
    OneOf(Vec<usize>),
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

    /// The index of each thread's last row.
    fn last_rows(&self) -> Vec<(&str, usize)> {
        let mut last: Vec<(&str, usize)> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            match last.iter_mut().find(|(t, _)| *t == &*event.thread) {
                Some(entry) => entry.1 = i,
                None => last.push((&event.thread, i)),
            }
        }
        last
    }

    /// The threads still waiting at the end: their last row is a call that never completed.
    pub fn waiting(&self) -> Vec<&str> {
        self.last_rows()
            .into_iter()
            .filter(|(_, i)| self.events[*i].phase == Phase::Began)
            .map(|(t, _)| t)
            .collect()
    }

    /// For a deadlock: what each blocked thread waits on, and who holds it. Threads waiting on
    /// the same thing at the same line share a line.
    pub fn blocked(&self) -> Vec<String> {
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for (thread, i) in self.last_rows() {
            let last = &self.events[i];
            if last.phase != Phase::Began {
                continue;
            }
            let what = match last.op {
                Op::Lock => match self.holder(&last.object) {
                    Some(holder) => format!(
                        "to lock {} ({}), held by {holder}",
                        last.object,
                        last.place()
                    ),
                    None => format!("to lock {} ({})", last.object, last.place()),
                },
                Op::Wait => format!(
                    "on {} ({}) for a notification that never comes",
                    last.object,
                    last.place()
                ),
                Op::Join => format!("to join {} ({})", last.object, last.place()),
                Op::ReadLock => format!("to read {} ({})", last.object, last.place()),
                Op::WriteLock => format!("to write {} ({})", last.object, last.place()),
                Op::Acquire => format!("to acquire {} ({})", last.object, last.place()),
                Op::BarrierWait => format!(
                    "at {} ({}) for threads that never arrive",
                    last.object,
                    last.place()
                ),
                Op::Park => format!("in park ({}) for an unpark that never comes", last.place()),
                Op::Recv => format!("to receive from {} ({})", last.object, last.place()),
                op => format!("in {} on {} ({})", op.name(), last.object, last.place()),
            };
            match groups.iter_mut().find(|(w, _)| *w == what) {
                Some((_, threads)) => threads.push(thread),
                None => groups.push((what, vec![thread])),
            }
        }
        groups
            .into_iter()
            .map(|(what, threads)| {
                let who = match threads.as_slice() {
                    [one] => one.to_string(),
                    [rest @ .., last] if rest.len() < 3 => {
                        format!("{} and {last}", rest.join(", "))
                    }
                    [first, second, rest @ ..] => {
                        format!("{first}, {second} and {} other threads", rest.len())
                    }
                    [] => String::new(),
                };
                let verb = if threads.len() == 1 { "waits" } else { "wait" };
                format!("{who} {verb} {what}")
            })
            .collect()
    }

    /// The thread holding mutex `object` at the end of the trace.
    fn holder(&self, object: &str) -> Option<&str> {
        self.holder_before(object, self.events.len())
    }

    /// The thread holding mutex `object` just before row `row` (0-based).
    fn holder_before(&self, object: &str, row: usize) -> Option<&str> {
        let mut holder = None;
        for event in &self.events[..row] {
            let acquired = event.phase != Phase::Began;
            match (&event.op, &event.value) {
                (Op::Lock, _) if acquired && *event.object == *object => {
                    holder = Some(&*event.thread)
                }
                (Op::Unlock, _) if *event.object == *object => holder = None,
                (Op::Wait, Value::Unlocking(mutex)) if **mutex == *object => holder = None,
                (Op::Wait, Value::Woke { relocked, .. } | Value::TimedOutRelocked(relocked))
                    if **relocked == *object =>
                {
                    holder = Some(&*event.thread)
                }
                _ => {}
            }
        }
        holder
    }

    /// The threads a failure is about, most telling first: those still waiting, those holding
    /// what they wait on, the thread of the last row (the one that failed, or `main` judging
    /// the outcome), then each thread that was preempted and the thread that ran instead.
    pub fn involved(&self) -> Vec<&str> {
        fn push<'t>(involved: &mut Vec<&'t str>, threads: &[&'t str], thread: &str) {
            if let Some(t) = threads.iter().find(|t| **t == thread) {
                if !involved.contains(t) {
                    involved.push(t);
                }
            }
        }
        let threads = self.threads();
        let mut involved: Vec<&str> = Vec::new();

        for thread in self.waiting() {
            push(&mut involved, &threads, thread);
        }
        let last_rows = self.last_rows();
        for (_, i) in &last_rows {
            let last = &self.events[*i];
            if last.phase == Phase::Began && last.op == Op::Lock {
                if let Some(holder) = self.holder(&last.object) {
                    push(&mut involved, &threads, holder);
                }
            }
        }
        if let Some(last) = self.events.last() {
            push(&mut involved, &threads, &last.thread);
        }
        for i in 1..self.events.len() {
            let (before, after) = (&self.events[i - 1], &self.events[i]);
            if before.thread == after.thread {
                continue;
            }
            // `before`'s thread could go on (it was not waiting: a lock attempt on a free
            // mutex does not wait) and did, later: it was preempted.
            let could_go_on = match (before.phase, before.op) {
                (Phase::Began, Op::Lock) => self.holder_before(&before.object, i).is_none(),
                (Phase::Began, _) => false,
                _ => true,
            };
            let went_on = last_rows
                .iter()
                .any(|(t, last)| *t == &*before.thread && *last >= i);
            if could_go_on && went_on {
                push(&mut involved, &threads, &before.thread);
                push(&mut involved, &threads, &after.thread);
            }
        }
        push(&mut involved, &threads, "main");
        involved
    }

    /// The threads shown in columns: all of them when they fit, else the involved ones.
    pub fn shown_threads(&self) -> Vec<&str> {
        let threads = self.threads();
        if threads.len() <= MAX_COLUMNS {
            return threads;
        }
        let mut shown = self.involved();
        shown.truncate(MAX_COLUMNS);
        // In order of first appearance, as when all are shown.
        threads.into_iter().filter(|t| shown.contains(t)).collect()
    }

    /// Who woke each wait that ended notified, by the row of its completion.
    fn wakers(&self) -> Vec<(usize, Waker)> {
        let mut wakers = Vec::new();
        // notify_one rows already known to have woken someone.
        let mut spent: Vec<usize> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            if event.op != Op::Wait
                || !matches!(
                    event.value,
                    Value::Woke {
                        spurious: false,
                        ..
                    }
                )
                || event.phase == Phase::Began
            {
                continue;
            }
            // The wait began at the thread's last `Began` wait on this condvar before here.
            let Some(began) = self.events[..i].iter().rposition(|e| {
                e.thread == event.thread
                    && e.op == Op::Wait
                    && e.object == event.object
                    && e.phase == Phase::Began
            }) else {
                continue;
            };
            let candidates: Vec<usize> = (began + 1..i)
                .filter(|&j| {
                    let e = &self.events[j];
                    e.object == event.object
                        && e.thread != event.thread
                        && (e.op == Op::NotifyAll || (e.op == Op::NotifyOne && !spent.contains(&j)))
                })
                .collect();
            match candidates.as_slice() {
                [] => {}
                [only] => {
                    if self.events[*only].op == Op::NotifyOne {
                        spent.push(*only);
                    }
                    wakers.push((i, Waker::Row(*only)));
                }
                several => wakers.push((i, Waker::OneOf(several.to_vec()))),
            }
        }
        wakers
    }

    /// Each row's text, as the columns show it (step numbers are 1-based).
    pub fn texts(&self) -> Vec<String> {
        let wakers = self.wakers();
        let last_rows = self.last_rows();
        let woke_by: Vec<(usize, &str)> = wakers
            .iter()
            .filter_map(|(i, w)| match w {
                Waker::Row(row) => Some((*row, &*self.events[*i].thread)),
                Waker::OneOf(_) => None,
            })
            .collect();
        self.events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let still_waiting = event.phase == Phase::Began
                    && last_rows
                        .iter()
                        .any(|(t, last)| *t == &*event.thread && *last == i);
                let mut text = event.describe(still_waiting);
                match event.op {
                    Op::Wait if event.phase != Phase::Began => {
                        if let Some((_, waker)) = wakers.iter().find(|(row, _)| *row == i) {
                            let by = match waker {
                                Waker::Row(row) => format!(
                                    "woken by {}'s {} (step {})",
                                    self.events[*row].thread,
                                    self.events[*row].op.name(),
                                    row + 1
                                ),
                                Waker::OneOf(rows) => {
                                    let steps: Vec<String> =
                                        rows.iter().map(|r| (r + 1).to_string()).collect();
                                    format!("woken by the notify at step {}", steps.join(" or "))
                                }
                            };
                            text = text.replacen("woken by a notify", &by, 1);
                        }
                    }
                    Op::NotifyOne | Op::NotifyAll => {
                        let woke: Vec<&str> = woke_by
                            .iter()
                            .filter(|(row, _)| *row == i)
                            .map(|(_, t)| *t)
                            .collect();
                        if !woke.is_empty() {
                            text += &format!(", woke {}", woke.join(", "));
                        } else if self.waiters_at(i, &event.object) == 0 {
                            text += ", nobody waiting";
                        }
                    }
                    _ => {}
                }
                format!("{text} @{}", event.place())
            })
            .collect()
    }

    /// How many threads had begun a wait on `condvar`, not yet ended, before row `row`.
    fn waiters_at(&self, row: usize, condvar: &str) -> usize {
        self.threads()
            .into_iter()
            .filter(|thread| {
                self.events[..row]
                    .iter()
                    .rev()
                    .find(|e| *e.thread == **thread)
                    .is_some_and(|e| {
                        e.op == Op::Wait && *e.object == *condvar && e.phase == Phase::Began
                    })
            })
            .count()
    }

    /// The interleaving with one column per thread, one step per row, in the style of
    /// lincheck: reading down a column gives one thread's story, across rows the schedule.
    /// With more than [`MAX_COLUMNS`] threads, only the involved ones get columns (see
    /// [`Trace::involved`]); the others' consecutive steps fold into one row that counts them.
    pub fn columns(&self) -> String {
        let threads = self.shown_threads();
        let all = self.threads().len();
        let folded = all - threads.len();
        let texts = self.texts();
        let mut headers: Vec<String> = threads.iter().map(|t| t.to_string()).collect();
        if folded > 0 {
            headers.push(format!("{folded} other threads"));
        }
        // The rows: a step of a shown thread, or a run of the others' steps.
        enum Row<'t> {
            Step(usize, usize),
            Folded(usize, usize, Vec<&'t str>),
        }
        let mut rows: Vec<Row> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            match threads.iter().position(|t| **t == *event.thread) {
                Some(column) => rows.push(Row::Step(i, column)),
                None => match rows.last_mut() {
                    Some(Row::Folded(_, count, who)) => {
                        *count += 1;
                        if !who.contains(&&*event.thread) {
                            who.push(&event.thread);
                        }
                    }
                    _ => rows.push(Row::Folded(i, 1, vec![&event.thread])),
                },
            }
        }
        let fold_text = |count: usize, who: &[&str]| {
            let names = match who {
                [one] => one.to_string(),
                [first, second] => format!("{first}, {second}"),
                [first, rest @ ..] => format!("{first} and {} others", rest.len()),
                [] => String::new(),
            };
            let steps = if count == 1 { "step" } else { "steps" };
            format!("{count} {steps} of {names}")
        };
        let width = texts
            .iter()
            .map(String::len)
            .chain(headers.iter().map(String::len))
            .max()
            .unwrap_or(0)
            .min(60);
        let number_width = self.events.len().to_string().len().max(1);
        let mut out = String::new();
        let line = |out: &mut String, number: &str, cells: &[(usize, String)]| {
            let _ = write!(out, "| {number:>number_width$} |");
            for column in 0..headers.len() {
                let cell = cells
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map_or("", |(_, text)| text.as_str());
                let _ = write!(out, " {cell:<width$} |");
            }
            out.push('\n');
        };
        let header_cells: Vec<(usize, String)> = headers.iter().cloned().enumerate().collect();
        line(&mut out, "#", &header_cells);
        let _ = write!(out, "|{}|", "-".repeat(number_width + 2));
        for _ in &headers {
            let _ = write!(out, "{}|", "-".repeat(width + 2));
        }
        out.push('\n');
        for row in rows {
            match row {
                Row::Step(i, column) => line(
                    &mut out,
                    &(i + 1).to_string(),
                    &[(column, texts[i].clone())],
                ),
                Row::Folded(i, count, who) => line(
                    &mut out,
                    &(i + 1).to_string(),
                    &[(headers.len() - 1, fold_text(count, &who))],
                ),
            }
        }
        out
    }
}

impl Event {
    /// `file:line` of the call, the file relative to the crate for this crate's sources.
    pub fn place(&self) -> String {
        format!(
            "{}:{}",
            short_file(self.location.file()),
            self.location.line()
        )
    }

    /// The operation in words, with its value; `still_waiting` for an attempt that never
    /// completed.
    fn describe(&self, still_waiting: bool) -> String {
        let (op, object) = (self.op.name(), &self.object);
        let waiting = if still_waiting { " (blocked)" } else { " ..." };
        match (self.phase, self.op, &self.value) {
            (_, Op::Load, Value::Read(v)) => format!("load {object} → {v}"),
            (_, Op::Store, Value::Wrote(v)) => format!("store {object} ← {v}"),
            (_, Op::Swap | Op::Fetch(_), Value::Updated { old, new }) => {
                format!("{op} {object} {old} → {new}")
            }
            (
                _,
                Op::CompareExchange | Op::CompareExchangeWeak,
                Value::Exchanged { expected, new },
            ) => {
                format!("{op} {object} {expected} → {new} ok")
            }
            (_, Op::CompareExchangeWeak, Value::NotExchanged { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed, saw {saw}")
            }
            (_, Op::CompareExchangeWeak, Value::FailedSpuriously { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed spuriously, saw {saw}")
            }
            (_, Op::Fence, Value::Ordering(order)) => format!("fence {order:?}"),
            (_, Op::Choose, Value::Chose { value, of }) => format!("choose({of}) → {value}"),
            (_, _, Value::Acquired(true)) => format!("{op} {object} → acquired"),
            (_, _, Value::Acquired(false)) => format!("{op} {object} → would block"),
            (_, Op::TryRecv, Value::Empty) => format!("try_recv {object} → empty"),
            (_, Op::TryRecv, Value::Message(n)) => format!("try_recv {object} → message {n}"),
            (Phase::Done, Op::Wait, Value::TimedOutRelocked(relocked)) => {
                format!("wait {object}: timed out, relocked {relocked}")
            }
            (_, Op::Wait, Value::TimedOutRelocked(relocked)) => {
                format!("... timed out on {object}, relocked {relocked}")
            }
            (Phase::Done, _, Value::Spuriously) => format!("{op} {object}: woke spuriously"),
            (_, _, Value::Spuriously) => format!("... {op} {object} woke spuriously"),
            (Phase::Completed, _, Value::TimedOut) => format!("... {op} {object} timed out"),
            (_, _, Value::TimedOut) => format!("{op} {object}: timed out"),
            (Phase::Completed, Op::BarrierWait, Value::Leader(leader)) => {
                format!("... released from {object}{}", leader_suffix(*leader))
            }
            (_, Op::BarrierWait, Value::Leader(leader)) => {
                format!("wait {object}{}", leader_suffix(*leader))
            }
            (Phase::Completed, Op::ReadLock | Op::WriteLock | Op::Acquire | Op::Park, _) => {
                format!("... {op} {object} done")
            }
            (_, Op::CompareExchange, Value::NotExchanged { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed, saw {saw}")
            }
            (Phase::Began, Op::Wait, Value::Unlocking(mutex)) => {
                format!("wait {object}, unlocking {mutex}{waiting}")
            }
            (_, Op::Wait, Value::Woke { spurious, relocked }) => {
                let how = if *spurious {
                    "woke spuriously"
                } else {
                    "woken by a notify"
                };
                match self.phase {
                    Phase::Done => format!("wait {object}: {how}, relocked {relocked}"),
                    _ => format!("... {how} on {object}, relocked {relocked}"),
                }
            }
            (Phase::Began, _, _) => format!("{op} {object}{waiting}"),
            (Phase::Completed, Op::Lock, _) => format!("... locked {object}"),
            (Phase::Completed, Op::Join, Value::Joined { panicked }) => {
                format!("... joined {object}{}", panicked_suffix(*panicked))
            }
            (Phase::Done, Op::Join, Value::Joined { panicked }) => {
                format!("join {object}{}", panicked_suffix(*panicked))
            }
            (Phase::Completed, Op::Recv, Value::Message(n)) => {
                format!("... received message {n} from {object}")
            }
            (_, Op::Recv, Value::Message(n)) => format!("recv {object} → message {n}"),
            (_, Op::Recv, Value::Disconnected) => format!("recv {object} → disconnected"),
            (_, Op::Send, Value::Message(n)) => format!("send {object} message {n}"),
            (_, Op::Send, Value::Disconnected) => format!("send {object} failed: receiver gone"),
            (Phase::Completed, _, _) => format!("... {op} {object} done"),
            _ => format!("{op} {object}"),
        }
    }
}

fn leader_suffix(leader: bool) -> &'static str {
    if leader {
        " (the last to arrive: leader)"
    } else {
        ""
    }
}

fn panicked_suffix(panicked: bool) -> &'static str {
    if panicked {
        " (it panicked)"
    } else {
        ""
    }
}
