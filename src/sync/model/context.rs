//! Which model thread is running: each model thread's context (its name, its place in the
//! spawn tree, its parker, its count of children and choices) and how the wrappers find the
//! running thread's. The leaf of the model runtime: it uses nothing else of it.
//!
//! Invariant: outside an exploration, or on a production backend, none of this is consulted
//! (the wrappers read it only when `P::MODEL` holds), and [`forget_contexts`] clears the
//! scheduler's table at the start of every execution. A thread's context is a function of its
//! spawn path, never of the interleaving: the same thread has the same [`ThreadKey`] in every
//! execution.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::Arc;

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
        let mut path = self.0.to_vec();
        path.push(index);
        ThreadKey(Arc::from(path))
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
/// contexts live in a table here, by that thread's index: much cheaper than the backend's
/// thread-local storage, which is the fallback.
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
pub(crate) fn install_context<P: Primitives>(context: ThreadContext) {
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

/// Forgets the contexts of the last execution's threads (the start of every execution).
pub(crate) fn forget_contexts() {
    CONTEXTS.with(|c| c.borrow_mut().clear());
}

thread_local! {
    /// The running model thread, when the scheduler says (see [`set_running`]).
    static RUNNING: Cell<Option<usize>> = const { Cell::new(None) };
    /// The contexts of this execution's threads, by index, when the scheduler says which runs.
    static CONTEXTS: RefCell<Vec<Option<ThreadContext>>> = const { RefCell::new(Vec::new()) };
}
