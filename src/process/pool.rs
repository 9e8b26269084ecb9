//! A process pool that survives dying workers: `submit` gives a future, [`as_completed`] yields
//! each finished future once, a worker that dies mid-task fails only that task's future.
//!
//! Invariant: every submitted task is dispatched to a worker at most once and completed
//! exactly once: with its value, with its own error (an error return or a panic, after which
//! its worker lives on), or with [`TaskError::WorkerDied`] naming the task and the worker's
//! exit status or signal. A dead worker is replaced; the other tasks go on. Shutdown waits for
//! every submitted task and for every worker's exit; [`ProcessPool::terminate`] and
//! [`ProcessPool::shutdown_timeout`] end tasks that never return, failing them.
//!
//! Memory stays flat however many tasks run: a result is held only until its future is
//! dropped, and [`as_completed`] learns of completions through a mailbox of its own instead of
//! a log of every completion. Only [`PoolOptions::history`] keeps per-task records.
//!
//! ```text
//!   submit ─Submit─►┌────────────┐─Job─► worker 0 ─Reply─┐
//!   shutdown ──────►│ dispatcher │─Job─► worker 1 ─Reply─┤  (worker death: Exited{status})
//!                   │  (1 thread)│◄──────── events ──────┘
//!                   └─────┬──────┘
//!        complete(id, result): Mutex<Done> + Condvar ──► TaskFuture::result, as_completed
//! ```
//!
//! The dispatcher is one thread that owns all pool state and reacts to one stream of
//! [`Event`]s, so crash handling is one `match` arm, not a race between threads. It is written
//! against [`Primitives`] and a [`Transport`]: real child processes ([`super::os`]) or
//! simulated ones ([`super::sim`]) for loom and shuttle.
//!
//! The dispatcher's known-bad variants live beside its crash handling ([`super::dispatcher`]),
//! reachable only from the `process_pool` scenario.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::dispatcher::{Dispatcher, Flaw};
use super::frame::{encoded_len, MAX_FRAME};
use super::os::OsTransport;
use super::transport::{Event, Job, Transport};
use super::ExitDesc;
use crate::sync::{channel, Sender};
use crate::sync::{spawn, Condvar, JoinHandle, Mutex, Primitives, Std};

/// Why a task's future holds no value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TaskError {
    /// The task returned an error or panicked; its worker lives on.
    Failed { task: String, message: String },
    /// Its worker process ended while running it.
    WorkerDied { task: String, status: ExitDesc },
    /// No worker process could be started to run it.
    NoWorkers { task: String, message: String },
    /// The pool was terminated before the task ran.
    Cancelled { task: String },
    /// The pool was terminated while the task ran: its worker was killed.
    Terminated { task: String },
}

impl TaskError {
    pub fn task(&self) -> &str {
        match self {
            TaskError::Failed { task, .. }
            | TaskError::WorkerDied { task, .. }
            | TaskError::NoWorkers { task, .. }
            | TaskError::Cancelled { task }
            | TaskError::Terminated { task } => task,
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Failed { task, message } => write!(f, "task `{task}` failed: {message}"),
            TaskError::WorkerDied { task, status } => write!(
                f,
                "task `{task}` failed: its worker process {status} while running it"
            ),
            TaskError::NoWorkers { task, message } => write!(
                f,
                "task `{task}` could not run: no worker process could be started: {message}"
            ),
            TaskError::Cancelled { task } => write!(
                f,
                "task `{task}` was cancelled: the pool was terminated before it ran"
            ),
            TaskError::Terminated { task } => write!(
                f,
                "task `{task}` was terminated: the pool killed its worker at shutdown"
            ),
        }
    }
}

impl std::error::Error for TaskError {}

/// Why the pool refused.
#[derive(Debug)]
pub enum PoolError {
    /// A pool needs at least one worker.
    ZeroWorkers,
    /// The worker program or the dispatcher thread could not be set up.
    Start(String),
    /// The arguments do not serialize.
    Args(String),
    /// The task's request would not fit in one frame.
    TooLarge {
        task: String,
        size: usize,
        max: usize,
    },
    /// The dispatcher thread panicked (a bug).
    Dispatcher(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ZeroWorkers => f.write_str("a process pool needs at least 1 worker"),
            PoolError::Start(e) => write!(f, "could not start the pool: {e}"),
            PoolError::Args(e) => write!(f, "arguments do not serialize: {e}"),
            PoolError::TooLarge { task, size, max } => write!(
                f,
                "task `{task}` not submitted: its request of {size} bytes exceeds the frame \
                 limit of {max} bytes"
            ),
            PoolError::Dispatcher(e) => write!(f, "the pool's dispatcher failed: {e}"),
        }
    }
}

impl std::error::Error for PoolError {}

/// How a pool runs, beyond its workers and transport.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolOptions {
    /// Keep per-task records in [`PoolStats`] (how often each task was dispatched, the order
    /// of completions). They grow with every task: for tests and audits, not for long runs.
    pub history: bool,
}

/// What a pool did, returned by [`ProcessPool::shutdown`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// How many times each task id was handed to a worker (with [`PoolOptions::history`]).
    pub dispatched: BTreeMap<u64, usize>,
    /// Task ids in the order their futures completed (with [`PoolOptions::history`]).
    pub completions: Vec<u64>,
    /// Tasks completed, whatever the outcome.
    pub tasks_completed: u64,
    /// Workers started, replacements included.
    pub workers_started: usize,
    /// How each worker ended, in the order the dispatcher learned it.
    pub exits: Vec<ExitDesc>,
}

/// Where a completion goes for an [`as_completed`] that waits on the future.
struct Watcher<P: Primitives> {
    /// The pool whose lock guards the iterator's mailbox: `None` for this pool.
    home: Option<Arc<Shared<P>>>,
    /// The iterator's mailbox.
    key: u64,
    /// The future's place in the iterator's slice.
    index: usize,
}

pub(super) struct Done<P: Primitives> {
    /// Completed tasks whose future is still alive: when each completed (a count), and how.
    results: HashMap<u64, (u64, Result<Value, TaskError>)>,
    completions: u64,
    /// Tasks whose future was dropped before they completed: their result is not kept.
    abandoned: HashSet<u64>,
    /// The [`as_completed`] iterators waiting on each task.
    watchers: HashMap<u64, Vec<Watcher<P>>>,
    /// Each [`as_completed`] iterator's completions not yet yielded (slice indexes), in order.
    mailboxes: HashMap<u64, VecDeque<usize>>,
    next_key: u64,
}

impl<P: Primitives> Default for Done<P> {
    fn default() -> Self {
        Done {
            results: HashMap::new(),
            abandoned: HashSet::new(),
            watchers: HashMap::new(),
            mailboxes: HashMap::new(),
            completions: 0,
            next_key: 0,
        }
    }
}

pub(super) struct Shared<P: Primitives> {
    done: Mutex<P, Done<P>>,
    completed: Condvar<P>,
}

impl<P: Primitives> Shared<P> {
    /// Completes task `id`, once: keeps its result for its future (if it is still alive) and
    /// tells the iterators waiting on it.
    pub(super) fn complete(&self, id: u64, result: Result<Value, TaskError>) {
        let mut done = self.done.lock();
        if !done.abandoned.remove(&id) {
            let when = done.completions;
            done.results.insert(id, (when, result));
        }
        done.completions += 1;
        let mut elsewhere = Vec::new();
        for watcher in done.watchers.remove(&id).unwrap_or_default() {
            match watcher.home {
                None => {
                    if let Some(mailbox) = done.mailboxes.get_mut(&watcher.key) {
                        mailbox.push_back(watcher.index);
                    }
                }
                Some(home) => elsewhere.push((home, watcher.key, watcher.index)),
            }
        }
        drop(done);
        self.completed.notify_all();
        // Another pool's lock is taken only after ours is released: no lock order to keep.
        for (home, key, index) in elsewhere {
            home.deliver(key, index);
        }
    }

    /// Puts a completion in mailbox `key` of this pool and wakes its iterator.
    fn deliver(&self, key: u64, index: usize) {
        let mut done = self.done.lock();
        if let Some(mailbox) = done.mailboxes.get_mut(&key) {
            mailbox.push_back(index);
        }
        drop(done);
        self.completed.notify_all();
    }
}

/// A pool of worker processes (or simulated ones).
pub struct ProcessPool<P: Primitives = Std> {
    events: Sender<P, Event>,
    shared: Arc<Shared<P>>,
    dispatcher: Option<JoinHandle<P, PoolStats>>,
    next_id: AtomicU64,
}

impl ProcessPool<Std> {
    /// `workers` processes of this very binary, which must call
    /// [`super::worker_main_if_worker`] first thing in `main`.
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        let transport = OsTransport::current_exe().map_err(|e| PoolError::Start(e.to_string()))?;
        Self::with_transport(workers, transport)
    }

    /// `workers` processes of `program`, which must call [`super::worker_main_if_worker`]
    /// first thing in `main` (tests use the built `threadproof` binary).
    pub fn with_program(
        workers: usize,
        program: impl Into<std::path::PathBuf>,
    ) -> Result<Self, PoolError> {
        let transport =
            OsTransport::program(program).map_err(|e| PoolError::Start(e.to_string()))?;
        Self::with_transport(workers, transport)
    }
}

impl<P: Primitives> ProcessPool<P> {
    /// A pool of `workers` started by `transport`: real processes ([`OsTransport`]) or
    /// simulated ones ([`super::sim::SimTransport`]).
    pub fn with_transport<T: Transport<P>>(
        workers: usize,
        transport: T,
    ) -> Result<Self, PoolError> {
        Self::with_options(workers, transport, PoolOptions::default())
    }

    /// [`ProcessPool::with_transport`], with `options`.
    pub fn with_options<T: Transport<P>>(
        workers: usize,
        transport: T,
        options: PoolOptions,
    ) -> Result<Self, PoolError> {
        Self::start(workers, transport, options, Flaw::FailsTheTask)
    }

    /// The pool with a known-bad dispatcher: for the `process_pool` scenario's mutants, which
    /// read the per-task history.
    pub(crate) fn with_flaw<T: Transport<P>>(
        workers: usize,
        transport: T,
        flaw: Flaw,
    ) -> Result<Self, PoolError> {
        Self::start(workers, transport, PoolOptions { history: true }, flaw)
    }

    fn start<T: Transport<P>>(
        workers: usize,
        transport: T,
        options: PoolOptions,
        flaw: Flaw,
    ) -> Result<Self, PoolError> {
        Self::start_with(workers, transport, options, move |mut dispatcher| {
            dispatcher.flaw = flaw;
            dispatcher
        })
    }

    /// The pool with one of the dispatcher's test-only mutants ([`TestMutant`]).
    #[cfg(test)]
    pub(crate) fn with_test_mutant<T: Transport<P>>(
        workers: usize,
        transport: T,
        mutant: super::dispatcher::TestMutant,
    ) -> Result<Self, PoolError> {
        let options = PoolOptions { history: true };
        Self::start_with(workers, transport, options, move |mut dispatcher| {
            dispatcher.mutant = mutant;
            dispatcher
        })
    }

    fn start_with<T: Transport<P>>(
        workers: usize,
        transport: T,
        options: PoolOptions,
        tweak: impl FnOnce(Dispatcher<P, T>) -> Dispatcher<P, T> + Send + 'static,
    ) -> Result<Self, PoolError> {
        if workers == 0 {
            return Err(PoolError::ZeroWorkers);
        }
        let shared = Arc::new(Shared {
            done: Mutex::new(Done::default()),
            completed: Condvar::new(),
        });
        let (events, inbox) = channel::<P, Event>();
        let (events_in, shared_in) = (events.clone(), Arc::clone(&shared));
        let dispatcher = spawn::<P, _, _>("dispatcher", move || {
            tweak(Dispatcher::new(
                transport, workers, options, events_in, shared_in,
            ))
            .run(inbox)
        })
        .map_err(|e| PoolError::Start(e.to_string()))?;
        Ok(ProcessPool {
            events,
            shared,
            dispatcher: Some(dispatcher),
            next_id: AtomicU64::new(0),
        })
    }

    /// Queues `task(args)` and returns its future. A request over the frame limit is refused
    /// here, naming its size and the limit: it is never sent.
    pub fn submit<A: Serialize>(&self, task: &str, args: A) -> Result<TaskFuture<P>, PoolError> {
        let args = serde_json::to_value(args).map_err(|e| PoolError::Args(e.to_string()))?;
        let mut job = Job {
            id: 0,
            task: task.to_string(),
            args,
        };
        let size = encoded_len(&job);
        if size > MAX_FRAME {
            return Err(PoolError::TooLarge {
                task: job.task,
                size,
                max: MAX_FRAME,
            });
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        job.id = id;
        if self.events.send(Event::Submit(job)).is_err() {
            return Err(PoolError::Dispatcher("the dispatcher is gone".into()));
        }
        Ok(TaskFuture {
            id,
            task: task.to_string(),
            shared: Arc::clone(&self.shared),
        })
    }

    /// Waits for every submitted task and every worker's exit; says what the pool did.
    pub fn shutdown(mut self) -> Result<PoolStats, PoolError> {
        self.stop(Event::Shutdown)
    }

    /// [`ProcessPool::shutdown`], but whatever still runs after `timeout` is terminated
    /// ([`ProcessPool::terminate`]): a task that never returns cannot hold the pool forever.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Result<PoolStats, PoolError> {
        self.stop(Event::ShutdownWithin(timeout))
    }

    /// Stops now: queued tasks fail with [`TaskError::Cancelled`], workers running a task are
    /// killed and their tasks fail with [`TaskError::Terminated`] (unless the answer came
    /// first); then every worker is reaped.
    pub fn terminate(mut self) -> Result<PoolStats, PoolError> {
        self.stop(Event::Terminate)
    }

    fn stop(&mut self, how: Event) -> Result<PoolStats, PoolError> {
        let Some(dispatcher) = self.dispatcher.take() else {
            return Ok(PoolStats::default());
        };
        let _ = self.events.send(how);
        dispatcher
            .join()
            .map_err(|p| PoolError::Dispatcher(p.to_string()))
    }
}

impl<P: Primitives> fmt::Debug for ProcessPool<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProcessPool<{}>", P::NAME)
    }
}

impl<P: Primitives> Drop for ProcessPool<P> {
    fn drop(&mut self) {
        // Under a model checker a panic is the end of the execution: no shutdown (see
        // `channel`). In production a panic through the pool's scope still waits for it.
        if P::MODEL && std::thread::panicking() {
            return;
        }
        let _ = self.stop(Event::Shutdown);
    }
}

/// The eventual result of a submitted task. Its result is kept until the future is dropped.
pub struct TaskFuture<P: Primitives = Std> {
    id: u64,
    task: String,
    shared: Arc<Shared<P>>,
}

impl<P: Primitives> fmt::Debug for TaskFuture<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskFuture({} `{}`)", self.id, self.task)
    }
}

impl<P: Primitives> TaskFuture<P> {
    /// The id the pool gave the task, in submission order from 0.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn task(&self) -> &str {
        &self.task
    }

    /// Waits for the task: its value, or why there is none.
    pub fn result(&self) -> Result<Value, TaskError> {
        let done = self.shared.done.lock();
        let done = self
            .shared
            .completed
            .wait_while(done, |d| !d.results.contains_key(&self.id));
        done.results[&self.id].1.clone()
    }

    /// [`TaskFuture::result`], decoded as `R`.
    pub fn result_as<R: DeserializeOwned>(&self) -> Result<R, TaskError> {
        let value = self.result()?;
        serde_json::from_value(value).map_err(|e| TaskError::Failed {
            task: self.task.clone(),
            message: format!("unexpected result: {e}"),
        })
    }

    /// Whether the task has completed.
    pub fn done(&self) -> bool {
        self.shared.done.lock().results.contains_key(&self.id)
    }
}

impl<P: Primitives> Drop for TaskFuture<P> {
    /// Releases the result, or tells the pool not to keep it when it comes.
    fn drop(&mut self) {
        if P::MODEL && std::thread::panicking() {
            return;
        }
        let mut done = self.shared.done.lock();
        if done.results.remove(&self.id).is_none() {
            done.abandoned.insert(self.id);
        }
    }
}

/// Yields each of `futures` once, as it completes (Python's `as_completed`); the futures may
/// come from several pools.
pub fn as_completed<P: Primitives>(futures: &[TaskFuture<P>]) -> AsCompleted<'_, P> {
    let Some(first) = futures.first() else {
        return AsCompleted {
            futures,
            home: None,
            key: 0,
            remaining: 0,
        };
    };
    let home = Arc::clone(&first.shared);
    let mut done = home.done.lock();
    let key = done.next_key;
    done.next_key += 1;
    let mut ready = Vec::new();
    let mut foreign = Vec::new();
    for (index, future) in futures.iter().enumerate() {
        if !Arc::ptr_eq(&future.shared, &home) {
            foreign.push(index);
        } else if let Some((when, _)) = done.results.get(&future.id) {
            ready.push((*when, index));
        } else {
            let watcher = Watcher {
                home: None,
                key,
                index,
            };
            done.watchers.entry(future.id).or_default().push(watcher);
        }
    }
    // Those already done come first, in the order they completed.
    ready.sort_unstable();
    done.mailboxes
        .insert(key, ready.into_iter().map(|(_, index)| index).collect());
    drop(done);
    // Futures of other pools: each pool's lock alone, then ours for the ones already done.
    let mut ready = Vec::new();
    for index in foreign {
        let future = &futures[index];
        let mut done = future.shared.done.lock();
        if done.results.contains_key(&future.id) {
            ready.push(index);
        } else {
            let watcher = Watcher {
                home: Some(Arc::clone(&home)),
                key,
                index,
            };
            done.watchers.entry(future.id).or_default().push(watcher);
        }
    }
    for index in ready {
        home.deliver(key, index);
    }
    AsCompleted {
        futures,
        remaining: futures.len(),
        home: Some(home),
        key,
    }
}

/// The iterator of [`as_completed`].
pub struct AsCompleted<'a, P: Primitives> {
    futures: &'a [TaskFuture<P>],
    /// The pool whose lock guards this iterator's mailbox (the first future's).
    home: Option<Arc<Shared<P>>>,
    key: u64,
    /// Futures not yet yielded.
    remaining: usize,
}

impl<'a, P: Primitives> Iterator for AsCompleted<'a, P> {
    type Item = &'a TaskFuture<P>;

    fn next(&mut self) -> Option<&'a TaskFuture<P>> {
        if self.remaining == 0 {
            return None;
        }
        let home = self.home.as_ref()?;
        let mut done = home.done.lock();
        loop {
            let mailbox = done.mailboxes.get_mut(&self.key)?;
            if let Some(index) = mailbox.pop_front() {
                self.remaining -= 1;
                if self.remaining == 0 {
                    done.mailboxes.remove(&self.key);
                }
                return Some(&self.futures[index]);
            }
            done = home.completed.wait(done);
        }
    }
}

impl<P: Primitives> Drop for AsCompleted<'_, P> {
    /// An iterator left before its end unregisters, so no completion is kept for it.
    fn drop(&mut self) {
        if self.remaining == 0 || (P::MODEL && std::thread::panicking()) {
            return;
        }
        let Some(home) = &self.home else { return };
        home.done.lock().mailboxes.remove(&self.key);
        for future in self.futures {
            let mut done = future.shared.done.lock();
            if let Some(watchers) = done.watchers.get_mut(&future.id) {
                watchers.retain(|w| {
                    w.key != self.key
                        || !w
                            .home
                            .as_ref()
                            .map_or(Arc::ptr_eq(&future.shared, home), |h| Arc::ptr_eq(h, home))
                });
                if watchers.is_empty() {
                    done.watchers.remove(&future.id);
                }
            }
        }
    }
}
