//! Which model thread is running: each model thread's context (its name, its place in the
//! spawn tree, its parker, its count of children and choices) and how the wrappers find the
//! running thread's. The leaf of the model runtime: it uses nothing else of it.
//!
//! Also the exploration's model steps ([`step`]): counted, checked against the exploration's
//! deadline, and shown to a [`Watch`] on another OS thread, which tells a body blocked outside
//! the model (on std's own primitives, on I/O) from one that is making progress.
//!
//! Invariant: outside an exploration, or on a production backend, none of this is consulted
//! (the wrappers read it only when `P::MODEL` holds), and [`forget_contexts`] clears the
//! scheduler's table at the start of every execution. Under loom every model thread threadproof
//! runs (main, spawned, the timer) runs inside [`run_as`], so the table by stack holds each
//! live one's context, found from any depth of its stack. A thread spawned with loom's own API
//! is not one of them, and was never supported: it is taken for whichever run's base lies
//! nearest above its stack, or, with none, for main.
//! A thread's context is a function of its spawn path, never of the interleaving: the same
//! thread has the same [`ThreadKey`] in every execution.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::sync::Primitives;

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
        // Collected from an iterator of known length: one allocation, no Vec in between.
        ThreadKey(self.0.iter().copied().chain([index]).collect())
    }

    /// The key of the timer thread that models timeouts (`model::timer`): outside the tree.
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

/// One model thread's context: under threadproof's shuttle scheduler in a table by running task,
/// under loom in a table by the stack it runs on (see `with_context`), otherwise (a thread
/// no run of ours started) in the backend's own thread-local storage. Every model thread has
/// one, in every
/// exploration: explored choices (`choose`, faults, the timer's) are keyed by it, `park` and
/// `current()` find the thread's parker and name in it, and traces name threads by it.
pub struct ThreadContext {
    /// Its name in traces: the name it was spawned with, its key for a thread spawned without
    /// one; `main` for the model's main thread, on every backend.
    pub(crate) name: Arc<str>,
    /// Whether it was given a name (`main` counts as one, as in std).
    pub(crate) named: bool,
    pub(crate) key: ThreadKey,
    /// Its parker (`sync::park`), made on first use, as `Arc<Parker<P>>`.
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

    /// The context of the timer thread (`model::timer`).
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
/// contexts live in a table here, by that thread's index. Under loom, which says nothing of
/// which thread runs but runs each on a stack of its own, they live in a table by the base of
/// the thread's run on its stack ([`run_as`]). Both are much cheaper than the backend's
/// thread-local storage (loom's hashes its key on every access: about 750 instructions a lookup),
/// which is the fallback.
pub(crate) fn with_context<P: Primitives, R>(f: impl FnOnce(&ThreadContext) -> R) -> R {
    if let Some(index) = RUNNING.with(Cell::get) {
        return CONTEXTS.with(|contexts| {
            let mut contexts = contexts.borrow_mut();
            if contexts.len() <= index {
                contexts.resize_with(index + 1, || None);
            }
            f(contexts[index].get_or_insert_with(ThreadContext::main))
        });
    }
    let here = frame_address();
    let on_stack = STACKS.with(|stacks| {
        // The run whose base is nearest above this frame is the running thread's: every
        // other base lies on another thread's stack, which never overlaps this one's.
        let stacks = stacks.borrow();
        let nearest = (stacks.iter())
            .filter(|(base, _)| *base >= here)
            .min_by_key(|(base, _)| *base);
        nearest.map(|(_, context)| Rc::clone(context))
    });
    // Called with the table released: a thread that waited inside `f` would otherwise hold
    // it while another thread starts or ends its run.
    if let Some(context) = on_stack {
        return f(&context);
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

/// Runs `run` as the running model thread (just spawned), with `context`: the base of this
/// frame marks its stack for [`with_context`] under loom, until `run` returns or unwinds
/// (when the context is dropped, on the thread itself, within its execution).
pub(crate) fn run_as<R>(context: ThreadContext, run: impl FnOnce() -> R) -> R {
    if let Some(index) = RUNNING.with(Cell::get) {
        // Shuttle's: the scheduler's table, by the index of the thread it runs.
        CONTEXTS.with(|contexts| {
            let mut contexts = contexts.borrow_mut();
            if contexts.len() <= index {
                contexts.resize_with(index + 1, || None);
            }
            contexts[index] = Some(context);
        });
        return run();
    }
    /// Takes the run's context out of the table when the run ends, and drops it there.
    struct Leaving(usize);
    impl Drop for Leaving {
        fn drop(&mut self) {
            let base = self.0;
            let left = STACKS.try_with(|stacks| {
                let mut stacks = stacks.borrow_mut();
                let index = stacks.iter().position(|(b, _)| *b == base)?;
                Some(stacks.swap_remove(index).1)
            });
            if let Ok(Some(context)) = left {
                drop(ManuallyDrop::into_inner(context));
            }
        }
    }
    // This frame's own address: `run`'s frames, and with them every lookup's (a frame of
    // its own, `frame_address`), lie below it.
    let marker = 0u8;
    let base = std::hint::black_box(&marker) as *const u8 as usize;
    let context = ManuallyDrop::new(Rc::new(context));
    STACKS.with(|stacks| stacks.borrow_mut().push((base, context)));
    let _leaving = Leaving(base);
    run()
}

/// [`run_as`] for an execution's main thread, called first thing in each execution: forgets
/// what an earlier execution left in the table (one stopped by a failure, whose threads never
/// left). Leaked, never dropped (the table holds them as `ManuallyDrop`, to the end of the OS
/// thread too): their contexts hold that execution's checker objects.
pub(crate) fn run_as_main<R>(run: impl FnOnce() -> R) -> R {
    STACKS.with(|stacks| stacks.borrow_mut().clear());
    run_as(ThreadContext::main(), run)
}

/// The address of a local of a frame of its own, below its caller's: so below the base of
/// the running thread's run, however the compiler inlined the frames between.
#[inline(never)]
fn frame_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Tells the wrappers which thread runs now, by index (threadproof's shuttle scheduler does,
/// at every scheduling decision); `None` for none known.
pub(crate) fn set_running(index: Option<usize>) {
    RUNNING.with(|r| r.set(index));
    // A scheduling decision is progress, whether or not the thread then does anything.
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        let Some(watching) = w.as_mut() else { return };
        watching.watch.steps.fetch_add(1, Ordering::Relaxed);
        // Most decisions let the same thread go on: its name is on the watch already.
        let Some(index) = index.filter(|i| Some(*i) != watching.running_index) else {
            return;
        };
        CONTEXTS.with(|c| {
            if let Some(Some(context)) = c.borrow().get(index) {
                watching.publish_running(&context.name);
                watching.running_index = Some(index);
            }
        });
    });
}

/// Forgets the contexts of the last execution's threads (the start of every execution).
pub(crate) fn forget_contexts() {
    CONTEXTS.with(|c| c.borrow_mut().clear());
    WATCH.with(|w| {
        if let Some(watching) = w.borrow_mut().as_mut() {
            watching.running_index = None;
        }
    });
}

thread_local! {
    /// The running model thread, when the scheduler says (see [`set_running`]).
    static RUNNING: Cell<Option<usize>> = const { Cell::new(None) };
    /// The contexts of this execution's threads, by index, when the scheduler says which runs.
    static CONTEXTS: RefCell<Vec<Option<ThreadContext>>> = const { RefCell::new(Vec::new()) };
    /// Otherwise (loom) the contexts of the threads running now, by the base of each one's
    /// run on its own stack ([`run_as`]).
    static STACKS: RefCell<Vec<(usize, ManuallyDrop<Rc<ThreadContext>>)>> =
        const { RefCell::new(Vec::new()) };
}

/// A panic payload: the exploration's time ran out inside an execution, at a model step, under
/// a checker whose executions end by unwinding (loom). The harness reports it as a budget cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfTime;

/// The last model step a thread made: which thread, which operation, where.
#[derive(Clone, Debug)]
pub(crate) struct LastStep {
    pub thread: Arc<str>,
    pub op: &'static str,
    pub at: &'static Location<'static>,
}

/// What another OS thread sees of an exploration's progress (see [`watch`]). Written at every
/// model step, read only when the exploration seems stuck: the step's operation and place are
/// plain copies, and a thread's name is cloned in only when it differs from the one there.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// Model steps, scheduling decisions and executions begun so far: progress.
    pub steps: AtomicU64,
    /// The last model step's operation and place (null: none yet). Atomics, not a lock: this
    /// is written at every model step. The two may come from neighbouring steps when read
    /// while the body moves on, but a body that moves on is not the stuck one they describe.
    step_op: AtomicPtr<&'static str>,
    step_at: AtomicPtr<Location<'static>>,
    /// The thread that made the last model step.
    stepped: Mutex<Option<Arc<str>>>,
    /// The thread the scheduler last chose to run (shuttle says; loom does not).
    running: Mutex<Option<Arc<str>>>,
}

impl Watch {
    /// The last model step, if any.
    pub(crate) fn last(&self) -> Option<LastStep> {
        let (op, at) = self.step()?;
        let thread = self
            .stepped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some(LastStep { thread, op, at })
    }

    /// The last model step's operation and place, if any.
    fn step(&self) -> Option<(&'static str, &'static Location<'static>)> {
        let op = self.step_op.load(Ordering::Acquire);
        let at = self.step_at.load(Ordering::Acquire);
        // SAFETY: both are null or came from `&'static` references (`set_step`).
        unsafe { Some((*op.cast_const().as_ref()?, at.cast_const().as_ref()?)) }
    }

    fn set_step(&self, op: &'static &'static str, at: &'static Location<'static>) {
        self.step_op
            .store(std::ptr::from_ref(op).cast_mut(), Ordering::Release);
        self.step_at
            .store(std::ptr::from_ref(at).cast_mut(), Ordering::Release);
    }

    /// The thread the scheduler last chose to run, if it says.
    pub(crate) fn running(&self) -> Option<Arc<str>> {
        self.running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Shows `other`'s last step and running thread here too (a worker's, on its explorer's
    /// watch).
    pub(crate) fn show(&self, other: &Watch) {
        self.step_op
            .store(other.step_op.load(Ordering::Acquire), Ordering::Release);
        self.step_at
            .store(other.step_at.load(Ordering::Acquire), Ordering::Release);
        let stepped = other
            .stepped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        *self.stepped.lock().unwrap_or_else(|e| e.into_inner()) = stepped;
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = other.running();
    }
}

/// The watch of this OS thread's exploration, and which names it holds now (by address: the
/// watch keeps the `Arc` alive, so an address it holds is never reused for another name).
struct Watching {
    watch: Arc<Watch>,
    stepped: *const u8,
    running: *const u8,
    /// The index of the thread whose name `running` holds, in this execution.
    running_index: Option<usize>,
}

impl Watching {
    fn publish_stepped(&mut self, name: &Arc<str>) {
        let address = Arc::as_ptr(name) as *const u8;
        if address != self.stepped {
            self.stepped = address;
            *self.watch.stepped.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(name));
        }
    }

    fn publish_running(&mut self, name: &Arc<str>) {
        let address = Arc::as_ptr(name) as *const u8;
        if address != self.running {
            self.running = address;
            *self.watch.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(name));
        }
    }
}

/// This OS thread's exploration: its model steps, and when its time runs out.
#[derive(Clone, Copy, Default)]
struct Steps {
    /// Model operations since [`begin_exploration`].
    count: u64,
    /// Whether some execution spawned a model thread since [`begin_exploration`].
    spawned: bool,
    /// When the exploration's time runs out, and whether executions end quietly (shuttle: the
    /// scheduler stops at [`out_of_time`]) or by unwinding (loom: [`OutOfTime`]).
    deadline: Option<(Instant, bool)>,
    /// The deadline passed in a quiet execution: the scheduler is to stop it.
    over: bool,
}

thread_local! {
    static STEPS: Cell<Steps> = const {
        Cell::new(Steps { count: 0, spawned: false, deadline: None, over: false })
    };
    static WATCH: RefCell<Option<Watching>> = const { RefCell::new(None) };
}

/// Shows this OS thread's progress to `watch` from now on (`None`: to nobody).
pub(crate) fn watch(watch: Option<Arc<Watch>>) {
    let watching = watch.map(|watch| Watching {
        watch,
        stepped: std::ptr::null(),
        running: std::ptr::null(),
        running_index: None,
    });
    WATCH.with(|w| *w.borrow_mut() = watching);
}

/// The watch this OS thread shows its progress to, for a worker thread of the same
/// exploration to show its own there too.
pub(crate) fn watching() -> Option<Arc<Watch>> {
    WATCH.with(|w| w.borrow().as_ref().map(|w| Arc::clone(&w.watch)))
}

/// Counts as progress without a model step (an execution begins).
pub(crate) fn progressed() {
    WATCH.with(|w| {
        if let Some(watching) = w.borrow().as_ref() {
            watching.watch.steps.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// Starts counting an exploration's model steps and spawns from zero.
pub(crate) fn begin_exploration() {
    STEPS.with(|s| s.set(Steps::default()));
}

/// The model operations made since [`begin_exploration`], and whether a model thread was
/// spawned.
pub(crate) fn exploration_steps() -> (u64, bool) {
    STEPS.with(|s| (s.get().count, s.get().spawned))
}

/// Adds what a worker thread of this exploration counted (its [`exploration_steps`]) to this
/// OS thread's own.
pub(crate) fn add_exploration_steps(count: u64, spawned: bool) {
    STEPS.with(|s| {
        let steps = s.get();
        s.set(Steps {
            count: steps.count + count,
            spawned: steps.spawned || spawned,
            ..steps
        })
    });
}

/// Notes that an execution spawned a model thread.
pub(crate) fn note_spawned() {
    STEPS.with(|s| {
        s.set(Steps {
            spawned: true,
            ..s.get()
        })
    });
}

/// Sets the deadline of the running exploration (`None`: no time limit) for [`step`] to check;
/// `quiet`: executions end through the scheduler, not by unwinding.
pub(crate) fn set_deadline(deadline: Option<Instant>, quiet: bool) {
    STEPS.with(|s| {
        s.set(Steps {
            deadline: deadline.map(|d| (d, quiet)),
            over: false,
            ..s.get()
        })
    });
}

/// Whether the deadline passed in a quiet execution (and forgets it: asked once per stop).
pub(crate) fn out_of_time() -> bool {
    STEPS.with(|s| {
        let steps = s.get();
        s.set(Steps {
            over: false,
            ..steps
        });
        steps.over
    })
}

/// A model operation `op` at `at`, by the running thread: counted, shown to the watch, and
/// checked against the deadline every few steps, so that one long execution ends at the
/// exploration's time limit, as a budget cut (see [`OutOfTime`]).
pub(crate) fn step<P: Primitives>(op: &'static &'static str, at: &'static Location<'static>) {
    step_by::<P>(op, at, None);
}

/// [`step`], by the thread named `thread` when the caller has its name at hand (the trace
/// recorder does), which spares a second look-up of the running thread's context.
pub(crate) fn step_by<P: Primitives>(
    op: &'static &'static str,
    at: &'static Location<'static>,
    thread: Option<&Arc<str>>,
) {
    if std::thread::panicking() {
        return;
    }
    let mut steps = STEPS.with(Cell::get);
    steps.count += 1;
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        let Some(watching) = w.as_mut() else { return };
        watching.watch.set_step(op, at);
        match thread {
            Some(thread) => watching.publish_stepped(thread),
            None => with_context::<P, _>(|c| watching.publish_stepped(&c.name)),
        }
        watching.watch.steps.fetch_add(1, Ordering::Relaxed);
    });
    let mut out_of_time = false;
    if steps.count.is_multiple_of(64) {
        if let Some((deadline, quiet)) = steps.deadline {
            if Instant::now() >= deadline {
                steps.deadline = None;
                steps.over = quiet;
                out_of_time = !quiet;
            }
        }
    }
    STEPS.with(|s| s.set(steps));
    if out_of_time {
        std::panic::panic_any(OutOfTime);
    }
}
