//! Threads over any backend, as `std::thread`: [`spawn`] (named, or through a [`Builder`]),
//! [`JoinHandle::join`] (a panic comes back as an error, never as a panic in the joiner),
//! [`scope`]d threads, [`current`] and its [`Thread`] handle, [`park`], [`park_timeout`],
//! `unpark`, [`sleep`] (a yield under the checkers, which have no time) and [`yield_now`].
//!
//! Invariant: a thread's name is the one it was spawned with on every backend, so traces,
//! outputs and reports name the same threads. Under the model backends a spawned thread gets
//! its [`model::ThreadContext`] before its body runs, a spawn past the checker's thread cap
//! raises [`model::TooManyThreads`] instead of spawning, and a panic in a thread's body ends
//! the execution as the explorer asked ([`model::thread_panicked`]).

use std::any::Any;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;
use std::time::Duration;

use super::model::{self, panic_message};
use super::park::{Parked, RawThread};
use super::trace::{self, Object, Op, Value};
use super::Primitives;

/// An owned permission to join a spawned thread.
pub struct JoinHandle<P: Primitives, T: Send + 'static> {
    raw: P::JoinHandle<T>,
    /// Its name in traces: the name it was spawned with, else its key (model backends).
    name: Arc<str>,
    thread: Thread<P>,
}

/// A thread ended by a panic; carries the panic's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread panicked: {}", self.0)
    }
}

impl ::std::error::Error for Panicked {}

impl<P: Primitives, T: Send + 'static> JoinHandle<P, T> {
    /// Waits for the thread; its panic comes back as an error, never as a panic here.
    #[track_caller]
    pub fn join(self) -> Result<T, Panicked> {
        let attempt = trace::attempt::<P>(Op::Join, Object::Thread(&self.name), Location::caller());
        let joined = P::join(self.raw).map_err(|payload| Panicked(panic_message(&*payload)));
        attempt.took_effect(Value::Joined {
            panicked: joined.is_err(),
        });
        joined
    }

    /// Its name in traces: the name it was spawned with, or for a thread spawned without one
    /// its place in the spawn tree (`t0.1`) under the model backends.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The thread's handle, to `unpark` it.
    pub fn thread(&self) -> &Thread<P> {
        &self.thread
    }
}

/// A handle to a thread, as `std::thread::Thread`: its name, and `unpark`.
pub struct Thread<P: Primitives> {
    raw: P::Thread,
}

impl<P: Primitives> Clone for Thread<P> {
    fn clone(&self) -> Self {
        Thread {
            raw: self.raw.clone(),
        }
    }
}

impl<P: Primitives> Thread<P> {
    /// The name it was spawned with; `main` for the main thread on every backend.
    pub fn name(&self) -> Option<&str> {
        self.raw.name()
    }

    /// Wakes the thread from `park`, or makes its next `park` return at once.
    #[track_caller]
    pub fn unpark(&self) {
        self.raw.unpark();
        if P::MODEL {
            let label = self.raw.name().unwrap_or("a thread");
            let label: Arc<str> = Arc::from(label);
            let object = Object::Thread(&label);
            trace::effect::<P>(Op::Unpark, object, Value::None, Location::caller());
        }
    }
}

impl<P: Primitives> fmt::Debug for Thread<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thread")
            .field("name", &self.name())
            .finish()
    }
}

/// The running thread's handle.
pub fn current<P: Primitives>() -> Thread<P> {
    Thread {
        raw: P::Thread::current(),
    }
}

/// Thread factory, as `std::thread::Builder`: a name, and a stack size (honoured by every
/// backend: loom's and shuttle's model threads get it too, as raw loom's and raw shuttle's
/// builders give it; without one, a checker's model thread has its checker's small default
/// stack).
#[derive(Debug, Default)]
pub struct Builder<P: Primitives> {
    name: Option<String>,
    stack_size: Option<usize>,
    backend: PhantomData<P>,
}

impl<P: Primitives> Builder<P> {
    pub fn new() -> Self {
        Builder {
            name: None,
            stack_size: None,
            backend: PhantomData,
        }
    }

    /// The thread's name: in `current().name()`, and in traces and reports.
    pub fn name(mut self, name: String) -> Self {
        self.name = Some(name);
        self
    }

    /// The thread's stack, in bytes.
    pub fn stack_size(mut self, size: usize) -> Self {
        self.stack_size = Some(size);
        self
    }

    #[track_caller]
    pub fn spawn<T, F>(self, body: F) -> io::Result<JoinHandle<P, T>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        spawn_at(self.name, self.stack_size, body, Location::caller())
    }

    /// Spawns a thread in `scope` (see [`scope`]).
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, T, F>(
        self,
        scope: &'scope Scope<'scope, 'env, P>,
        body: F,
    ) -> io::Result<ScopedJoinHandle<'scope, P, T>>
    where
        T: Send + 'scope,
        F: FnOnce() -> T + Send + 'scope,
    {
        scope.spawn_at(self.name, self.stack_size, body, Location::caller())
    }
}

/// Spawns a named thread of backend `P`.
#[track_caller]
pub fn spawn<P, T, F>(name: impl Into<String>, body: F) -> io::Result<JoinHandle<P, T>>
where
    P: Primitives,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    spawn_at(Some(name.into()), None, body, Location::caller())
}

fn spawn_at<P, T, F>(
    name: Option<String>,
    stack_size: Option<usize>,
    body: F,
    at: &'static Location<'static>,
) -> io::Result<JoinHandle<P, T>>
where
    P: Primitives,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    if !P::MODEL {
        let label: Arc<str> = Arc::from(name.as_deref().unwrap_or("<unnamed>"));
        let raw = P::spawn_sized(name, stack_size, body)?;
        let thread = Thread {
            raw: P::thread_of(&raw, None),
        };
        return Ok(JoinHandle {
            raw,
            name: label,
            thread,
        });
    }
    let spawned = model::count_spawn();
    if let Some(limit) = P::MAX_SPAWNED.filter(|limit| spawned > *limit) {
        panic::panic_any(model::TooManyThreads {
            spawned,
            limit,
            at,
            timer: super::timer::running(),
        });
    }
    let context = model::with_context::<P, _>(|c| c.next_child(name.as_deref().map(Arc::from)));
    let label = Arc::clone(&context.name);
    // The child's parker, made here so that the parent can unpark it before it runs.
    let parker: Arc<dyn Any + Send + Sync> = super::park::parker_of::<P>(&context);
    model::thread_started();
    let raw = P::spawn_sized(name, stack_size, move || {
        model::run_as(context, || {
            let ran = panic::catch_unwind(AssertUnwindSafe(body));
            model::thread_finished();
            ran.unwrap_or_else(|payload| model::thread_panicked(payload, P::yield_now))
        })
    })
    .inspect_err(|_| model::thread_finished())?;
    // Neither checker switches threads inside a spawn: the child has not run yet.
    trace::effect::<P>(Op::Spawn, Object::Thread(&label), Value::None, at);
    let thread = Thread {
        raw: P::thread_of(&raw, Some(parker)),
    };
    Ok(JoinHandle {
        raw,
        name: label,
        thread,
    })
}

/// The name the current thread was spawned with, if any (`main` for the main thread).
pub fn current_thread_name<P: Primitives>() -> Option<String> {
    if P::MODEL {
        model::with_context::<P, _>(|c| c.named.then(|| c.name.to_string()))
    } else {
        P::Thread::current().name().map(str::to_owned)
    }
}

/// Offers the scheduler a chance to run another thread.
pub fn yield_now<P: Primitives>() {
    P::yield_now()
}

/// Sleeps for `duration` in production; yields under the checkers, which have no time.
pub fn sleep<P: Primitives>(duration: Duration) {
    P::sleep(duration)
}

/// Blocks until the thread's handle is `unpark`ed (a token left by an earlier `unpark` is
/// taken at once); may return spuriously, as std's may: under the model backends that is an
/// explored fault.
#[track_caller]
pub fn park<P: Primitives>() {
    park_for::<P>(None, Location::caller());
}

/// [`park`], giving up after `timeout` at the latest: under the model backends the timeout is
/// an explored choice (it fires at any moment, or not at all if an unpark comes first).
#[track_caller]
pub fn park_timeout<P: Primitives>(timeout: Duration) {
    park_for::<P>(Some(timeout), Location::caller());
}

fn park_for<P: Primitives>(timeout: Option<Duration>, at: &'static Location<'static>) {
    if !P::MODEL {
        P::Thread::park(timeout);
        return;
    }
    let label = model::with_context::<P, _>(|c| Arc::clone(&c.name));
    let attempt = trace::attempt::<P>(Op::Park, Object::Thread(&label), at);
    let parked = P::Thread::park(timeout);
    attempt.took_effect(match parked {
        Parked::Unparked => Value::None,
        Parked::Spuriously => Value::Spuriously,
        Parked::TimedOut => Value::TimedOut,
    });
}

/// A scope for threads that may borrow from the caller's stack, as `std::thread::scope`.
pub struct Scope<'scope, 'env: 'scope, P: Primitives> {
    /// The threads spawned in it, to join before the scope ends (their lifetime erased: see
    /// `spawn_at`).
    pending: std::sync::Mutex<Vec<Arc<dyn Joinable>>>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
    backend: PhantomData<P>,
}

/// A handle to join a scoped thread.
pub struct ScopedJoinHandle<'scope, P: Primitives, T> {
    state: Arc<Scoped<P, T>>,
    scope: PhantomData<&'scope ()>,
}

/// A scoped thread's handle and result.
struct Scoped<P: Primitives, T> {
    handle: std::sync::Mutex<Option<JoinHandle<P, ()>>>,
    thread: Thread<P>,
    result: Arc<std::sync::Mutex<Option<T>>>,
}

/// A scoped thread, whatever its result type: what the scope joins at its end.
trait Joinable: Send + Sync {
    /// Joins the thread if no one has: whether it panicked.
    fn join_if_pending(&self) -> bool;
}

impl<P: Primitives, T: Send> Joinable for Scoped<P, T> {
    fn join_if_pending(&self) -> bool {
        let handle = lock(&self.handle).take();
        handle.is_some_and(|h| h.join().is_err())
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `f` with a [`Scope`] whose threads may borrow what outlives the call; every thread
/// spawned in it is joined before `scope` returns, and a panic in one that nobody joined
/// panics here, as in std. The threads count against loom's cap like any others.
#[track_caller]
pub fn scope<'env, P, F, T>(f: F) -> T
where
    P: Primitives,
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env, P>) -> T,
{
    let scope = Scope {
        pending: std::sync::Mutex::new(Vec::new()),
        scope: PhantomData,
        env: PhantomData,
        backend: PhantomData,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    if result.is_err() && P::MODEL {
        // The execution has failed, and its threads will not run again: nothing of the
        // scope's can be touched after it.
        if let Err(payload) = result {
            panic::resume_unwind(payload);
        }
    }
    let pending = std::mem::take(&mut *lock(&scope.pending));
    // Every thread is joined, whether or not an earlier one panicked.
    let panicked = pending.iter().filter(|t| t.join_if_pending()).count() > 0;
    match result {
        Err(payload) => panic::resume_unwind(payload),
        Ok(_) if panicked => panic!("a scoped thread panicked"),
        Ok(value) => value,
    }
}

impl<'scope, 'env, P: Primitives> Scope<'scope, 'env, P> {
    /// Spawns a thread that may borrow from outside the scope.
    #[track_caller]
    pub fn spawn<T, F>(&'scope self, body: F) -> ScopedJoinHandle<'scope, P, T>
    where
        T: Send + 'scope,
        F: FnOnce() -> T + Send + 'scope,
    {
        self.spawn_at(None, None, body, Location::caller())
            .expect("the backend failed to spawn a thread")
    }

    fn spawn_at<T, F>(
        &'scope self,
        name: Option<String>,
        stack_size: Option<usize>,
        body: F,
        at: &'static Location<'static>,
    ) -> io::Result<ScopedJoinHandle<'scope, P, T>>
    where
        T: Send + 'scope,
        F: FnOnce() -> T + Send + 'scope,
    {
        let result: Arc<std::sync::Mutex<Option<T>>> = Arc::new(std::sync::Mutex::new(None));
        let slot = Arc::clone(&result);
        let run: Box<dyn FnOnce() + Send + 'scope> = Box::new(move || {
            let value = body();
            *lock(&slot) = Some(value);
        });
        // SAFETY: the scope joins this thread before `scope` returns (or, under a model
        // backend whose execution failed, never runs it again), so nothing it borrows for
        // 'scope is used after 'scope ends.
        let run: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(run) };
        let handle = spawn_at::<P, (), _>(name, stack_size, run, at)?;
        let state = Arc::new(Scoped {
            thread: handle.thread().clone(),
            handle: std::sync::Mutex::new(Some(handle)),
            result,
        });
        let joinable: Arc<dyn Joinable + 'scope> = Arc::clone(&state) as _;
        // SAFETY: as for `run`: `scope` joins and drops it before 'scope ends.
        let joinable: Arc<dyn Joinable> = unsafe { std::mem::transmute(joinable) };
        lock(&self.pending).push(joinable);
        Ok(ScopedJoinHandle {
            state,
            scope: PhantomData,
        })
    }
}

impl<'scope, P: Primitives, T> ScopedJoinHandle<'scope, P, T> {
    /// Waits for the thread: its result, or its panic as an error.
    #[track_caller]
    pub fn join(self) -> Result<T, Panicked> {
        let handle = lock(&self.state.handle).take();
        let handle = handle.expect("a scoped thread is joined once");
        handle.join()?;
        Ok(lock(&self.state.result)
            .take()
            .expect("a scoped thread that returned left its result"))
    }

    pub fn thread(&self) -> &Thread<P> {
        &self.state.thread
    }
}
