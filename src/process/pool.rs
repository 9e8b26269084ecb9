//! A process pool that survives dying workers: `submit` gives a future, [`as_completed`] yields
//! each finished future once, a worker that dies mid-task fails only that task's future.
//!
//! Invariant: every submitted task is dispatched to a worker at most once and completed
//! exactly once: with its value, with its own error (an error return or a panic, after which
//! its worker lives on), or with [`TaskError::WorkerDied`] naming the task and the worker's
//! exit status or signal. A dead worker is replaced; the other tasks go on. Shutdown waits for
//! every submitted task and for every worker's exit.
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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::dispatcher::{Dispatcher, Flaw};
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
}

impl TaskError {
    pub fn task(&self) -> &str {
        match self {
            TaskError::Failed { task, .. }
            | TaskError::WorkerDied { task, .. }
            | TaskError::NoWorkers { task, .. } => task,
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
    /// The dispatcher thread panicked (a bug).
    Dispatcher(String),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ZeroWorkers => f.write_str("a process pool needs at least 1 worker"),
            PoolError::Start(e) => write!(f, "could not start the pool: {e}"),
            PoolError::Args(e) => write!(f, "arguments do not serialize: {e}"),
            PoolError::Dispatcher(e) => write!(f, "the pool's dispatcher failed: {e}"),
        }
    }
}

impl std::error::Error for PoolError {}
/// What a pool did, returned by [`ProcessPool::shutdown`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// How many times each task id was handed to a worker.
    pub dispatched: BTreeMap<u64, usize>,
    /// Task ids in the order their futures completed.
    pub completions: Vec<u64>,
    /// Workers started, replacements included.
    pub workers_started: usize,
    /// How each worker ended, in the order the dispatcher learned it.
    pub exits: Vec<ExitDesc>,
}

#[derive(Default)]
pub(super) struct Done {
    results: BTreeMap<u64, Result<Value, TaskError>>,
    pub(super) order: Vec<u64>,
}

pub(super) struct Shared<P: Primitives> {
    pub(super) done: Mutex<P, Done>,
    completed: Condvar<P>,
}

impl<P: Primitives> Shared<P> {
    pub(super) fn complete(&self, id: u64, result: Result<Value, TaskError>) {
        let mut done = self.done.lock();
        done.results.insert(id, result);
        done.order.push(id);
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
        Self::with_flaw(workers, transport, Flaw::FailsTheTask)
    }

    /// The pool with a known-bad dispatcher: for the `process_pool` scenario's mutants.
    pub(crate) fn with_flaw<T: Transport<P>>(
        workers: usize,
        transport: T,
        flaw: Flaw,
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
        // Every worker is started from this thread: PR_SET_PDEATHSIG fires when the thread
        // that forked the child ends, and this one lives until every worker is reaped.
        let dispatcher = spawn::<P, _, _>("dispatcher", move || {
            Dispatcher::new(transport, workers, flaw, events_in, shared_in).run(inbox)
        })
        .map_err(|e| PoolError::Start(e.to_string()))?;
        Ok(ProcessPool {
            events,
            shared,
            dispatcher: Some(dispatcher),
            next_id: AtomicU64::new(0),
        })
    }

    /// Queues `task(args)` and returns its future.
    pub fn submit<A: Serialize>(&self, task: &str, args: A) -> Result<TaskFuture<P>, PoolError> {
        let args = serde_json::to_value(args).map_err(|e| PoolError::Args(e.to_string()))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            id,
            task: task.to_string(),
            args,
        };
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
        self.stop()
    }

    fn stop(&mut self) -> Result<PoolStats, PoolError> {
        let Some(dispatcher) = self.dispatcher.take() else {
            return Ok(PoolStats::default());
        };
        let _ = self.events.send(Event::Shutdown);
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
        let _ = self.stop();
    }
}

/// The eventual result of a submitted task.
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
        done.results[&self.id].clone()
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

/// Yields each of `futures` once, as it completes (Python's `as_completed`).
pub fn as_completed<P: Primitives>(futures: &[TaskFuture<P>]) -> AsCompleted<'_, P> {
    AsCompleted {
        pending: futures.iter().map(|f| f.id).collect(),
        futures,
        cursor: 0,
    }
}

/// The iterator of [`as_completed`].
pub struct AsCompleted<'a, P: Primitives> {
    futures: &'a [TaskFuture<P>],
    pending: BTreeSet<u64>,
    /// How far into the completion order this iterator has looked.
    cursor: usize,
}

impl<'a, P: Primitives> Iterator for AsCompleted<'a, P> {
    type Item = &'a TaskFuture<P>;

    fn next(&mut self) -> Option<&'a TaskFuture<P>> {
        let first = self.futures.first()?;
        if self.pending.is_empty() {
            return None;
        }
        let shared = &first.shared;
        let mut done = shared.done.lock();
        loop {
            while self.cursor < done.order.len() {
                let id = done.order[self.cursor];
                self.cursor += 1;
                if self.pending.remove(&id) {
                    return self.futures.iter().find(|f| f.id == id);
                }
            }
            done = shared.completed.wait(done);
        }
    }
}
