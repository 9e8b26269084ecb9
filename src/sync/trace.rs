//! Recording the primitive operations of a model execution, for failure reports.
//!
//! Invariant: nothing is recorded unless an exploration on this OS thread has called
//! [`start`], and never for the production backends (their calls compile to nothing: the
//! check is on the constant [`super::Primitives::MODEL`]). Once the execution's first panic
//! is seen, [`freeze`] keeps the trace as it was at the failure: teardown after it adds
//! nothing.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Arc;

/// An operation on a primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Spawn,
    Join,
    Lock,
    Unlock,
    /// Unlocks, sleeps, relocks: done once woken and relocked.
    Wait,
    /// A wait that woke without a notification (injected).
    SpuriousWake,
    NotifyOne,
    NotifyAll,
    Send,
    Recv,
    Load,
    Store,
    Swap,
    FetchAdd,
    CompareExchange,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Spawn => "spawn",
            Op::Join => "join",
            Op::Lock => "lock",
            Op::Unlock => "unlock",
            Op::Wait => "wait",
            Op::SpuriousWake => "spurious wake",
            Op::NotifyOne => "notify_one",
            Op::NotifyAll => "notify_all",
            Op::Send => "send",
            Op::Recv => "recv",
            Op::Load => "load",
            Op::Store => "store",
            Op::Swap => "swap",
            Op::FetchAdd => "fetch_add",
            Op::CompareExchange => "compare_exchange",
        }
    }
}

/// What an operation acts on: a primitive by address (numbered `Kind#n` in order of first
/// appearance), or a thread by name.
#[derive(Clone, Debug)]
pub(crate) enum Object {
    At(&'static str, usize),
    Named(std::sync::Arc<str>),
}

/// One recorded step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub thread: Arc<str>,
    pub op: Op,
    /// The object, as `Kind#n` numbered by first appearance in the execution.
    pub object: Arc<str>,
    /// The scenario's line that made the call.
    pub location: &'static Location<'static>,
    /// False while the operation blocks (a lock not yet acquired, a wait not yet woken, a
    /// join not yet returned): at a deadlock, these are what the threads wait on.
    pub done: bool,
}

/// The steps of one execution, in the order the scheduler ran them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<Event>,
}

#[derive(Default)]
struct Recording {
    events: Vec<Event>,
    /// Blocking steps begun but not yet taken effect (a lock not yet acquired), by step id.
    pending: Vec<(usize, Event)>,
    next_id: usize,
    /// Labels of the objects seen, with their addresses and kinds.
    objects: Vec<(usize, &'static str, Arc<str>)>,
    /// The threads seen, in order of first appearance.
    threads: Vec<Arc<str>>,
    frozen: bool,
}

/// A recorded step that may still be blocking, to mark done when it returns.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// A wait: recorded where it began, by index in the events.
    InPlace(usize),
    /// A lock, join or receive: recorded where it takes effect, by pending id.
    Pending(usize),
}

thread_local! {
    static RECORDING: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Starts recording a new execution (discarding the previous one's steps, keeping their
/// buffers: this runs once per execution).
pub(crate) fn start() {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let recording = r.get_or_insert_with(Recording::default);
        recording.events.clear();
        recording.pending.clear();
        recording.objects.clear();
        recording.threads.clear();
        recording.frozen = false;
    });
}

/// Stops recording on this OS thread.
pub(crate) fn stop() {
    RECORDING.with(|r| *r.borrow_mut() = None);
}

/// Keeps the steps recorded so far and ignores any later ones.
pub(crate) fn freeze() {
    RECORDING.with(|r| {
        if let Some(recording) = r.borrow_mut().as_mut() {
            recording.frozen = true;
        }
    });
}

/// The current execution's threads and steps so far, if it is being recorded.
pub(crate) fn shape() -> Option<(usize, usize)> {
    RECORDING.with(|r| {
        r.borrow().as_ref().map(|recording| {
            (
                recording.threads.len(),
                recording.events.len() + recording.pending.len(),
            )
        })
    })
}

/// The steps recorded in the current (or last) execution; steps still blocked come last.
pub(crate) fn take() -> Option<Trace> {
    RECORDING.with(|r| {
        r.borrow_mut().as_mut().map(|recording| {
            let mut events = std::mem::take(&mut recording.events);
            events.extend(recording.pending.drain(..).map(|(_, event)| event));
            Trace { events }
        })
    })
}

/// Records `op` on `object`; for a step that may block (`done` false), returns what to mark
/// done when it returns.
pub(crate) fn begin(
    thread: impl FnOnce() -> Option<String>,
    op: Op,
    object: Object,
    location: &'static Location<'static>,
    done: bool,
) -> Option<Step> {
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let recording = r.as_mut().filter(|rec| !rec.frozen)?;
        let object = match object {
            Object::Named(name) => name,
            Object::At(kind, address) => recording.label(kind, address),
        };
        let thread = recording.thread(thread().as_deref().unwrap_or("main"));
        let event = Event {
            thread,
            op,
            object,
            location,
            done,
        };
        if done || op == Op::Wait {
            recording.events.push(event);
            return (!done).then(|| Step::InPlace(recording.events.len() - 1));
        }
        let id = recording.next_id;
        recording.next_id += 1;
        recording.pending.push((id, event));
        Some(Step::Pending(id))
    })
}

impl Recording {
    /// `Kind#n`, n counting the objects of that kind in order of first appearance.
    fn label(&mut self, kind: &'static str, address: usize) -> Arc<str> {
        if let Some((_, _, label)) = self
            .objects
            .iter()
            .find(|(a, k, _)| *a == address && *k == kind)
        {
            return Arc::clone(label);
        }
        let same_kind = self.objects.iter().filter(|(_, k, _)| *k == kind).count();
        let label: Arc<str> = Arc::from(format!("{kind}#{}", same_kind + 1));
        self.objects.push((address, kind, Arc::clone(&label)));
        label
    }

    /// The shared name of thread `name`, first seen now or before.
    fn thread(&mut self, name: &str) -> Arc<str> {
        if let Some(thread) = self.threads.iter().find(|t| ***t == *name) {
            return Arc::clone(thread);
        }
        let thread: Arc<str> = Arc::from(name);
        self.threads.push(Arc::clone(&thread));
        thread
    }
}

/// Marks `step` done: a wait stays where it began (the thread went to sleep there); a lock,
/// join or receive is recorded now, where it took effect, so the trace shows acquisitions in
/// the order they happened.
pub(crate) fn done(step: Option<Step>) {
    let Some(step) = step else { return };
    RECORDING.with(|r| {
        let mut r = r.borrow_mut();
        let Some(recording) = r.as_mut().filter(|rec| !rec.frozen) else {
            return;
        };
        match step {
            Step::InPlace(index) => {
                if let Some(event) = recording.events.get_mut(index) {
                    event.done = true;
                }
            }
            Step::Pending(id) => {
                if let Some(at) = recording.pending.iter().position(|(p, _)| *p == id) {
                    let (_, mut event) = recording.pending.remove(at);
                    event.done = true;
                    recording.events.push(event);
                }
            }
        }
    });
}

/// `src/scenarios/turns.rs` for a path inside this crate; the file name elsewhere.
fn short_file(file: &str) -> &str {
    match file.find("src/") {
        Some(i) => &file[i..],
        None => file.rsplit('/').next().unwrap_or(file),
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

    /// The interleaving with one column per thread, one step per row, in the style of
    /// lincheck: reading down a column gives one thread's story, across rows the schedule.
    pub fn columns(&self) -> String {
        let threads = self.threads();
        let cells: Vec<String> = self.events.iter().map(Event::cell).collect();
        let width = cells
            .iter()
            .map(String::len)
            .chain(threads.iter().map(|t| t.len()))
            .max()
            .unwrap_or(0)
            .min(60);
        let mut out = String::new();
        let row = |out: &mut String, column: Option<usize>, text: &str, headers: bool| {
            out.push('|');
            for (i, thread) in threads.iter().enumerate() {
                let cell = if headers {
                    thread
                } else if Some(i) == column {
                    text
                } else {
                    ""
                };
                let _ = write!(out, " {cell:<width$} |");
            }
            out.push('\n');
        };
        row(&mut out, None, "", true);
        out.push('|');
        for _ in &threads {
            let _ = write!(out, "{}|", "-".repeat(width + 2));
        }
        out.push('\n');
        for (event, cell) in self.events.iter().zip(&cells) {
            let column = threads.iter().position(|t| **t == *event.thread);
            row(&mut out, column, cell, false);
        }
        out
    }

    /// For a deadlock: what each blocked thread waits on, and who holds it.
    pub fn blocked(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for thread in self.threads() {
            let Some(last) = self.events.iter().rev().find(|e| *e.thread == *thread) else {
                continue;
            };
            if last.done {
                continue;
            }
            let line = match last.op {
                Op::Lock => match self.holder(&last.object) {
                    Some(holder) => format!(
                        "{thread} waits to lock {} ({}), held by {holder}",
                        last.object,
                        last.place()
                    ),
                    None => format!("{thread} waits to lock {} ({})", last.object, last.place()),
                },
                Op::Wait => format!(
                    "{thread} waits on {} ({}) for a notification that never comes",
                    last.object,
                    last.place()
                ),
                Op::Join => format!("{thread} waits to join {} ({})", last.object, last.place()),
                op => format!(
                    "{thread} blocked in {} on {} ({})",
                    op.name(),
                    last.object,
                    last.place()
                ),
            };
            lines.push(line);
        }
        lines
    }

    /// The thread holding mutex `object` at the end of the trace.
    fn holder(&self, object: &str) -> Option<&str> {
        let mut holder = None;
        for event in self
            .events
            .iter()
            .filter(|e| *e.object == *object && e.done)
        {
            match event.op {
                Op::Lock => holder = Some(&*event.thread),
                Op::Unlock => holder = None,
                _ => {}
            }
        }
        holder
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

    fn cell(&self) -> String {
        let blocked = if self.done { "" } else { " (blocked)" };
        format!(
            "{} {}{blocked} @{}",
            self.op.name(),
            self.object,
            self.place()
        )
    }
}
