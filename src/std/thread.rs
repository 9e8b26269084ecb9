//! std's `std::thread`, over the checker running the current execution: `spawn`, `Builder`,
//! `JoinHandle` (`join` returns [`Result`]), `scope`, `park`, `current()` with
//! [`Thread::id`] and [`ThreadId`], `sleep`, `yield_now`, and [`LocalKey`] for
//! [`crate::thread_local!`].
//!
//! Invariant: outside the checkers every call is std's own (so `Builder::stack_size` is
//! honoured); under a checker it is the backend's model thread, traced. A model thread's
//! [`ThreadId`] is its place in the spawn tree (the same thread has the same id in every
//! execution); a `JoinHandle`'s is predicted from the parent's count of the children it
//! spawned through the mirror, which is the spawn tree's own numbering as long as the body
//! spawns only through the mirror (checked by a test).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::time::Duration;

pub use std::thread::{available_parallelism, panicking, AccessError};

pub use super::local::LocalKey;
use super::local::{self, current_key};
use super::rt::{each, engine, By, Engine};
use crate::sync::model::ThreadKey;
use crate::sync::{self, Loom, Shuttle};

/// std's `thread::Result`: a panic's payload as the error.
pub type Result<T> = std::result::Result<T, Box<dyn std::any::Any + Send + 'static>>;

/// std's `ThreadId`: unique among the threads alive at once; a model thread's is its place in
/// the spawn tree.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(NonZeroU64);

impl fmt::Debug for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ThreadId({})", self.0)
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Who {
    Model(ThreadKey),
    Std(std::thread::ThreadId),
}

/// Every thread identity seen, numbered once: ids stay `Copy`, as std's.
static IDS: Mutex<Option<HashMap<Who, NonZeroU64>>> = Mutex::new(None);

fn intern(who: Who) -> ThreadId {
    let mut ids = IDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ids = ids.get_or_insert_with(HashMap::new);
    let next = NonZeroU64::new(ids.len() as u64 + 1).expect("counted from 1");
    ThreadId(*ids.entry(who).or_insert(next))
}

/// std's `Thread`: a handle to a thread, to name it, identify it and unpark it.
#[derive(Clone)]
pub struct Thread {
    raw: By<sync::Thread<Loom>, sync::Thread<Shuttle>, std::thread::Thread>,
    id: ThreadId,
}

// As std's: a handle names, identifies and unparks; a caught panic cannot leave it torn.
impl std::panic::UnwindSafe for Thread {}
impl std::panic::RefUnwindSafe for Thread {}

impl Thread {
    pub fn id(&self) -> ThreadId {
        self.id
    }

    pub fn name(&self) -> Option<&str> {
        each!(&self.raw, t => t.name())
    }

    #[track_caller]
    pub fn unpark(&self) {
        each!(&self.raw, t => t.unpark())
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("id", &self.id)
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

/// The running thread's handle.
pub fn current() -> Thread {
    match engine() {
        Engine::Loom => Thread {
            raw: By::Loom(sync::current::<Loom>()),
            id: intern(Who::Model(current_key().expect("a model thread"))),
        },
        Engine::Shuttle => Thread {
            raw: By::Shuttle(sync::current::<Shuttle>()),
            id: intern(Who::Model(current_key().expect("a model thread"))),
        },
        Engine::Std => {
            let thread = std::thread::current();
            let id = intern(Who::Std(thread.id()));
            Thread {
                raw: By::Std(thread),
                id,
            }
        }
    }
}

/// The id the next child of the running model thread will have.
fn next_child_id() -> ThreadId {
    let key = current_key().expect("a model thread");
    let index = local::next_child();
    intern(Who::Model(key.child(index)))
}

/// Runs a model thread's body, then its thread-locals' destructors.
fn model_body<T>(body: impl FnOnce() -> T) -> impl FnOnce() -> T {
    move || {
        let value = body();
        local::thread_exit();
        value
    }
}

/// std's `JoinHandle`.
pub struct JoinHandle<T: Send + 'static> {
    raw: By<sync::JoinHandle<Loom, T>, sync::JoinHandle<Shuttle, T>, std::thread::JoinHandle<T>>,
    thread: Thread,
}

impl<T: Send + 'static> JoinHandle<T> {
    #[track_caller]
    pub fn join(self) -> Result<T> {
        match self.raw {
            By::Loom(h) => h.join().map_err(|p| Box::new(p.0) as _),
            By::Shuttle(h) => h.join().map_err(|p| Box::new(p.0) as _),
            By::Std(h) => h.join(),
        }
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}

impl<T: Send + 'static> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").finish_non_exhaustive()
    }
}

/// std's `Builder`: a name and a stack size (the stack size is std's in production; the
/// checkers give every model thread their own configured stack).
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    pub fn new() -> Self {
        Builder::default()
    }

    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    fn std(&self) -> std::thread::Builder {
        let mut builder = std::thread::Builder::new();
        if let Some(name) = &self.name {
            builder = builder.name(name.clone());
        }
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        builder
    }

    fn model<P: crate::sync::Primitives>(&self) -> sync::Builder<P> {
        let builder = sync::Builder::<P>::new();
        match &self.name {
            Some(name) => builder.name(name.clone()),
            None => builder,
        }
    }

    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match engine() {
            Engine::Std => {
                let raw = self.std().spawn(f)?;
                let thread = raw.thread().clone();
                let id = intern(Who::Std(thread.id()));
                Ok(JoinHandle {
                    raw: By::Std(raw),
                    thread: Thread {
                        raw: By::Std(thread),
                        id,
                    },
                })
            }
            Engine::Loom => {
                let id = next_child_id();
                let raw = self.model::<Loom>().spawn(model_body(f))?;
                let thread = Thread {
                    raw: By::Loom(raw.thread().clone()),
                    id,
                };
                Ok(JoinHandle {
                    raw: By::Loom(raw),
                    thread,
                })
            }
            Engine::Shuttle => {
                let id = next_child_id();
                let raw = self.model::<Shuttle>().spawn(model_body(f))?;
                let thread = Thread {
                    raw: By::Shuttle(raw.thread().clone()),
                    id,
                };
                Ok(JoinHandle {
                    raw: By::Shuttle(raw),
                    thread,
                })
            }
        }
    }

    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        scope.spawn_with(self, f)
    }
}

/// Spawns a thread.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new().spawn(f).expect("failed to spawn thread")
}

/// std's `Scope`.
pub struct Scope<'scope, 'env: 'scope> {
    raw: By<
        &'scope sync::Scope<'scope, 'env, Loom>,
        &'scope sync::Scope<'scope, 'env, Shuttle>,
        &'scope std::thread::Scope<'scope, 'env>,
    >,
}

/// std's `ScopedJoinHandle`.
pub struct ScopedJoinHandle<'scope, T> {
    raw: By<
        sync::ScopedJoinHandle<'scope, Loom, T>,
        sync::ScopedJoinHandle<'scope, Shuttle, T>,
        std::thread::ScopedJoinHandle<'scope, T>,
    >,
    thread: Thread,
}

/// Runs `f` with a scope whose threads may borrow from the caller; all are joined before
/// `scope` returns.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    // The mirror's scope is leaked: a `&'scope Scope` may be moved into the scope's threads,
    // which outlive `f`. One small box per `scope` call.
    match engine() {
        Engine::Loom => {
            sync::scope::<Loom, _, _>(|s| f(Box::leak(Box::new(Scope { raw: By::Loom(s) }))))
        }
        Engine::Shuttle => sync::scope::<Shuttle, _, _>(|s| {
            f(Box::leak(Box::new(Scope {
                raw: By::Shuttle(s),
            })))
        }),
        Engine::Std => std::thread::scope(|s| f(Box::leak(Box::new(Scope { raw: By::Std(s) })))),
    }
}

impl<'scope, 'env> Scope<'scope, 'env> {
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.spawn_with(Builder::new(), f)
            .expect("failed to spawn thread")
    }

    #[track_caller]
    fn spawn_with<F, T>(
        &'scope self,
        builder: Builder,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        match self.raw {
            By::Std(s) => {
                let raw = builder.std().spawn_scoped(s, f)?;
                let thread = raw.thread().clone();
                let id = intern(Who::Std(thread.id()));
                Ok(ScopedJoinHandle {
                    raw: By::Std(raw),
                    thread: Thread {
                        raw: By::Std(thread),
                        id,
                    },
                })
            }
            By::Loom(s) => {
                let id = next_child_id();
                let raw = builder.model::<Loom>().spawn_scoped(s, model_body(f))?;
                let thread = Thread {
                    raw: By::Loom(raw.thread().clone()),
                    id,
                };
                Ok(ScopedJoinHandle {
                    raw: By::Loom(raw),
                    thread,
                })
            }
            By::Shuttle(s) => {
                let id = next_child_id();
                let raw = builder.model::<Shuttle>().spawn_scoped(s, model_body(f))?;
                let thread = Thread {
                    raw: By::Shuttle(raw.thread().clone()),
                    id,
                };
                Ok(ScopedJoinHandle {
                    raw: By::Shuttle(raw),
                    thread,
                })
            }
        }
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    #[track_caller]
    pub fn join(self) -> Result<T> {
        match self.raw {
            By::Loom(h) => h.join().map_err(|p| Box::new(p.0) as _),
            By::Shuttle(h) => h.join().map_err(|p| Box::new(p.0) as _),
            By::Std(h) => h.join(),
        }
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}

/// Parks until unparked (may return spuriously: an explored fault under the checkers).
#[track_caller]
pub fn park() {
    match engine() {
        Engine::Loom => sync::park::<Loom>(),
        Engine::Shuttle => sync::park::<Shuttle>(),
        Engine::Std => std::thread::park(),
    }
}

/// Parks until unparked or `dur` (an explored choice under the checkers).
#[track_caller]
pub fn park_timeout(dur: Duration) {
    match engine() {
        Engine::Loom => sync::park_timeout::<Loom>(dur),
        Engine::Shuttle => sync::park_timeout::<Shuttle>(dur),
        Engine::Std => std::thread::park_timeout(dur),
    }
}

/// Sleeps; a yield under the checkers, which have no time.
pub fn sleep(dur: Duration) {
    match engine() {
        Engine::Loom => sync::sleep::<Loom>(dur),
        Engine::Shuttle => sync::sleep::<Shuttle>(dur),
        Engine::Std => std::thread::sleep(dur),
    }
}

pub fn yield_now() {
    match engine() {
        Engine::Loom => sync::yield_now::<Loom>(),
        Engine::Shuttle => sync::yield_now::<Shuttle>(),
        Engine::Std => std::thread::yield_now(),
    }
}
