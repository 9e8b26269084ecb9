//! What the model backends know about the execution that is running: each model thread's
//! context (its name and its place in the spawn tree), and the execution's control (how many
//! threads it spawned and has alive, whether it must stop, and the failure that stopped it).
//!
//! Invariant: outside an exploration, or on a production backend, none of this is consulted:
//! the wrappers read it only when `P::MODEL` holds, and `begin` resets the execution's state
//! at the start of every execution. A thread's context is a function of its spawn path, never
//! of the interleaving: the same thread has the same [`ThreadKey`] in every execution.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// A thread's place in the spawn tree: the index of each ancestor among its parent's children,
/// from the main thread down. Independent of the interleaving, unlike the checkers' thread ids
/// (which count threads in the order they were created).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadKey(Arc<[u32]>);

impl ThreadKey {
    /// The main thread's key.
    pub fn main() -> Self {
        ThreadKey(Arc::from([]))
    }

    /// The key of this thread's `index`-th child (0-based).
    pub fn child(&self, index: u32) -> Self {
        let mut path = self.0.to_vec();
        path.push(index);
        ThreadKey(Arc::from(path))
    }

    /// The key of the timer thread that models timeouts ([`super::timer`]): outside the tree.
    pub fn timer() -> Self {
        ThreadKey(Arc::from([u32::MAX]))
    }

    /// Parses [`ThreadKey`]'s display form: `t` for main, `t0.2` for main's first child's third
    /// child, `timer` for the timer.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "timer" {
            return Some(Self::timer());
        }
        let path = text.strip_prefix('t')?;
        if path.is_empty() {
            return Some(Self::main());
        }
        let path: Option<Vec<u32>> = path.split('.').map(|p| p.parse().ok()).collect();
        Some(ThreadKey(Arc::from(path?)))
    }
}

impl fmt::Display for ThreadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::timer() {
            return f.write_str("timer");
        }
        f.write_str("t")?;
        for (i, index) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{index}")?;
        }
        Ok(())
    }
}

/// One model thread's context: under threadproof's shuttle scheduler in a table by running task
/// (see `with_context`), otherwise in the backend's own thread-local storage (which loom gives
/// each model thread, afresh in every execution). Every model thread has one, in every
/// exploration: explored choices (`choose`, faults, the timer's) are keyed by it, `park` and
/// `current()` find the thread's parker and name in it, and traces name threads by it.
pub struct ThreadContext {
    /// Its name in traces: the name it was spawned with, its key for a thread spawned without
    /// one; `main` for the model's main thread, on every backend.
    pub(crate) name: Arc<str>,
    /// Whether it was given a name (`main` counts as one, as in std).
    pub(crate) named: bool,
    pub(crate) key: ThreadKey,
    /// Its parker ([`super::park`]), made on first use, as `Arc<Parker<P>>`.
    pub(crate) parker: std::cell::OnceCell<Arc<dyn Any + Send + Sync>>,
    /// Children spawned so far, to key the next one.
    children: Cell<u32>,
    /// Explored choices (spurious wakeups) made so far, to key the next one.
    choices: Cell<u32>,
}

impl fmt::Debug for ThreadContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadContext")
            .field("name", &self.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl ThreadContext {
    pub(crate) fn main() -> Self {
        Self::new(Some(Arc::from("main")), ThreadKey::main())
    }

    /// The context of the timer thread ([`super::timer`]).
    pub(crate) fn timer() -> Self {
        Self::new(Some(Arc::from("timer")), ThreadKey::timer())
    }

    fn new(name: Option<Arc<str>>, key: ThreadKey) -> Self {
        ThreadContext {
            named: name.is_some(),
            name: name.unwrap_or_else(|| Arc::from(key.to_string())),
            key,
            parker: std::cell::OnceCell::new(),
            children: Cell::new(0),
            choices: Cell::new(0),
        }
    }

    /// The context of the next child this thread spawns, named `name` or, without one, by its
    /// key.
    pub(crate) fn next_child(&self, name: Option<Arc<str>>) -> Self {
        let index = self.children.get();
        self.children.set(index + 1);
        Self::new(name, self.key.child(index))
    }

    /// The ordinal of this thread's next explored choice.
    pub(crate) fn next_choice(&self) -> u32 {
        let ordinal = self.choices.get();
        self.choices.set(ordinal + 1);
        ordinal
    }
}

/// The running thread's context on backend `P`, created for the main thread on first use.
///
/// Where threadproof's scheduler runs the execution (shuttle), it says which thread runs, and
/// contexts live in a table here, by that thread's index: much cheaper than the backend's
/// thread-local storage, which is the fallback.
pub(crate) fn with_context<P: super::Primitives, R>(f: impl FnOnce(&ThreadContext) -> R) -> R {
    if let Some(index) = RUNNING.with(Cell::get) {
        return CONTEXTS.with(|contexts| {
            let mut contexts = contexts.borrow_mut();
            if contexts.len() <= index {
                contexts.resize_with(index + 1, || None);
            }
            f(contexts[index].get_or_insert_with(ThreadContext::main))
        });
    }
    P::with_thread_context(|slot| {
        if let Some(context) = slot.borrow().as_ref() {
            return f(context);
        }
        let context = ThreadContext::main();
        let result = f(&context);
        *slot.borrow_mut() = Some(context);
        result
    })
}

/// Gives the running thread (just spawned) its context.
pub(crate) fn install_context<P: super::Primitives>(context: ThreadContext) {
    match RUNNING.with(Cell::get) {
        Some(index) => CONTEXTS.with(|contexts| {
            let mut contexts = contexts.borrow_mut();
            if contexts.len() <= index {
                contexts.resize_with(index + 1, || None);
            }
            contexts[index] = Some(context);
        }),
        None => P::with_thread_context(|slot| *slot.borrow_mut() = Some(context)),
    }
}

/// Tells the wrappers which thread runs now, by index (threadproof's shuttle scheduler does,
/// at every scheduling decision); `None` for none known.
pub(crate) fn set_running(index: Option<usize>) {
    RUNNING.with(|r| r.set(index));
}

/// A panic payload: the body spawned more threads than the checker can model. Raised by
/// [`super::spawn`] before the checker's own assertion would fire, so that the explorer can
/// tell a limit of the checker from a bug in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooManyThreads {
    /// How many threads the body had spawned, this one included, when it hit the limit.
    pub spawned: usize,
    /// How many the checker allows besides the main thread.
    pub limit: usize,
    /// The `spawn` call that went past the limit.
    pub at: &'static Location<'static>,
    /// Whether one of the threads is the timer that models timeouts ([`super::timer`]).
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
    /// A timed wait needs the timer, which this execution does not run ([`super::timer`]).
    NeedsTimer,
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
}

/// A panic seen by the panic hook in a model execution.
#[derive(Clone, Debug)]
pub(crate) struct Panic {
    pub message: String,
    pub location: String,
    /// The trace's length when it was raised: what was recorded after it is unwinding.
    pub trace_mark: super::trace::Mark,
}

thread_local! {
    static EXECUTION: RefCell<Execution> = RefCell::new(Execution::default());
    /// The running model thread, when the scheduler says (see [`set_running`]).
    static RUNNING: Cell<Option<usize>> = const { Cell::new(None) };
    /// The contexts of this execution's threads, by index, when the scheduler says which runs.
    static CONTEXTS: RefCell<Vec<Option<ThreadContext>>> = const { RefCell::new(Vec::new()) };
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

/// Starts a new execution: nothing spawned, nothing stopped. `quiet_stops` says how failures
/// end it (see [`Execution::quiet_stops`]).
pub(crate) fn begin(quiet_stops: bool) {
    // Quiet stops are shuttle's (threadproof's scheduler), unwinding ones loom's.
    let engine = [
        crate::std::rt::Engine::Loom,
        crate::std::rt::Engine::Shuttle,
    ];
    crate::std::rt::begin_execution(engine[usize::from(quiet_stops)]);
    super::timer::reset();
    CONTEXTS.with(|c| c.borrow_mut().clear());
    EXECUTION.with(|e| {
        *e.borrow_mut() = Execution {
            quiet_stops,
            ..Execution::default()
        }
    });
}

/// Counts a spawn; the count so far, this one included.
pub(crate) fn count_spawn() -> usize {
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        e.spawned += 1;
        e.spawned
    })
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
    super::trace::freeze();
    EXECUTION.with(|e| {
        let mut e = e.borrow_mut();
        if e.stop.is_none() {
            e.stop = Some(why);
        }
    });
}

/// Notes a panic raised in this execution (called by the explorer's panic hook).
pub(crate) fn note_panic(message: String, location: String) {
    let trace_mark = super::trace::mark();
    EXECUTION.with(|e| {
        e.borrow_mut().panics.push(Panic {
            message,
            location,
            trace_mark,
        })
    });
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

/// Whether the execution must stop.
pub(crate) fn stop_requested() -> bool {
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

/// How a panic with `payload` ends an execution: what it says and where it was raised, with the
/// trace cut back to its moment.
pub(crate) fn stop_for_panic(payload: &(dyn Any + Send)) -> Stop {
    if payload.is::<super::timer::NeedsTimer>() {
        return Stop::NeedsTimer;
    }
    let message = super::panic_message(payload);
    let panic = panic_with_message(&message);
    if let Some(panic) = &panic {
        super::trace::truncate(panic.trace_mark);
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
