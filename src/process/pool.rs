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
//! Mutants ([`PoolVariant`]): `loses-task-on-crash` drops the dead worker's task (its future
//! never completes: a hang, which the checkers report as a deadlock); `reruns-on-crash`
//! queues it again (it runs twice: its side effects in the dead worker happened already).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::os::OsTransport;
use super::ExitDesc;
use crate::sync::{channel, Receiver, Sender};
use crate::sync::{spawn, Condvar, JoinHandle, Mutex, Primitives, Std};

/// A request to a worker: run `task` with `args`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub task: String,
    pub args: Value,
}

/// A worker's answer to the [`Job`] with the same `id`: the task's value or its error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u64,
    pub result: Result<Value, String>,
}

/// Which worker: its slot in the pool, and which incarnation of that slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId {
    pub slot: usize,
    pub generation: u64,
}

/// What the dispatcher reacts to.
#[derive(Debug)]
pub enum Event {
    Submit(Job),
    Shutdown,
    Reply {
        worker: WorkerId,
        reply: Reply,
    },
    /// The worker is gone and reaped: the last event about it.
    Exited {
        worker: WorkerId,
        status: ExitDesc,
    },
}

/// How the dispatcher starts workers. A worker reports through `events`: a
/// [`Event::Reply`] per job, then exactly one [`Event::Exited`] when it is gone.
pub trait Transport<P: Primitives>: Send + 'static {
    type Link: Link;
    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<Self::Link, String>;
}

/// The parent's end of one worker.
pub trait Link: Send + 'static {
    /// Hands the worker a job. An error means the worker is unreachable; its
    /// [`Event::Exited`] follows.
    fn send(&mut self, job: &Job) -> Result<(), String>;
    /// Ends the worker's input: it finishes and exits.
    fn close(&mut self);
    /// After its [`Event::Exited`]: waits for the transport's helpers (threads) to end.
    fn join(self);
}

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

/// The dispatcher's version: correct, or a mutant of its crash handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolVariant {
    /// A dead worker's task fails with [`TaskError::WorkerDied`].
    FailsTheTask,
    /// Mutant: a dead worker's task is forgotten; its future never completes.
    LosesTaskOnCrash,
    /// Mutant: a dead worker's task is queued again and runs a second time.
    RerunsOnCrash,
}

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
struct Done {
    results: BTreeMap<u64, Result<Value, TaskError>>,
    order: Vec<u64>,
}

struct Shared<P: Primitives> {
    done: Mutex<P, Done>,
    completed: Condvar<P>,
}

impl<P: Primitives> Shared<P> {
    fn complete(&self, id: u64, result: Result<Value, TaskError>) {
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
        Self::with_transport(workers, transport, PoolVariant::FailsTheTask)
    }

    /// `workers` processes of `program`, which must call [`super::worker_main_if_worker`]
    /// first thing in `main` (tests use the built `threadproof` binary).
    pub fn with_program(
        workers: usize,
        program: impl Into<std::path::PathBuf>,
    ) -> Result<Self, PoolError> {
        let transport =
            OsTransport::program(program).map_err(|e| PoolError::Start(e.to_string()))?;
        Self::with_transport(workers, transport, PoolVariant::FailsTheTask)
    }
}

impl<P: Primitives> ProcessPool<P> {
    /// A pool of `workers` started by `transport`, with the dispatcher `variant`.
    pub fn with_transport<T: Transport<P>>(
        workers: usize,
        transport: T,
        variant: PoolVariant,
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
            Dispatcher::new(transport, workers, variant, events_in, shared_in).run(inbox)
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

/// One worker slot as the dispatcher sees it.
struct Slot<L> {
    link: Option<L>,
    generation: u64,
    /// The job it is running.
    busy: Option<Job>,
    /// Its input was closed for shutdown.
    closing: bool,
}

struct Dispatcher<P: Primitives, T: Transport<P>> {
    transport: T,
    variant: PoolVariant,
    events: Sender<P, Event>,
    shared: Arc<Shared<P>>,
    slots: Vec<Slot<T::Link>>,
    queue: VecDeque<Job>,
    shutting_down: bool,
    last_start_error: String,
    stats: PoolStats,
}

impl<P: Primitives, T: Transport<P>> Dispatcher<P, T> {
    fn new(
        transport: T,
        workers: usize,
        variant: PoolVariant,
        events: Sender<P, Event>,
        shared: Arc<Shared<P>>,
    ) -> Self {
        let slots = (0..workers)
            .map(|_| Slot {
                link: None,
                generation: 0,
                busy: None,
                closing: false,
            })
            .collect();
        Dispatcher {
            transport,
            variant,
            events,
            shared,
            slots,
            queue: VecDeque::new(),
            shutting_down: false,
            last_start_error: String::new(),
            stats: PoolStats::default(),
        }
    }

    fn run(mut self, inbox: Receiver<P, Event>) -> PoolStats {
        for slot in 0..self.slots.len() {
            self.start(slot);
        }
        loop {
            self.assign();
            let idle = self.queue.is_empty() && self.slots.iter().all(|s| s.busy.is_none());
            if self.shutting_down && idle {
                for slot in &mut self.slots {
                    if let (Some(link), false) = (&mut slot.link, slot.closing) {
                        link.close();
                        slot.closing = true;
                    }
                }
                if self.slots.iter().all(|s| s.link.is_none()) {
                    break;
                }
            }
            let Some(event) = inbox.recv() else { break };
            match event {
                Event::Submit(job) => self.queue.push_back(job),
                Event::Shutdown => self.shutting_down = true,
                Event::Reply { worker, reply } => self.reply(worker, reply),
                Event::Exited { worker, status } => self.exited(worker, status),
            }
        }
        self.stats.completions = self.shared.done.lock().order.clone();
        self.stats
    }

    fn start(&mut self, slot: usize) {
        let worker = WorkerId {
            slot,
            generation: self.slots[slot].generation,
        };
        match self.transport.start(worker, self.events.clone()) {
            Ok(link) => {
                self.stats.workers_started += 1;
                self.slots[slot].link = Some(link);
            }
            Err(e) => self.last_start_error = e,
        }
    }

    /// Hands queued jobs to idle workers; with none alive and jobs waiting, tries to start
    /// workers, and fails the jobs if none starts: a job never waits for a worker that
    /// cannot come.
    fn assign(&mut self) {
        if !self.queue.is_empty() && self.slots.iter().all(|s| s.link.is_none()) {
            for slot in 0..self.slots.len() {
                self.start(slot);
            }
            if self.slots.iter().all(|s| s.link.is_none()) {
                for job in std::mem::take(&mut self.queue) {
                    let error = TaskError::NoWorkers {
                        task: job.task,
                        message: self.last_start_error.clone(),
                    };
                    self.shared.complete(job.id, Err(error));
                }
                return;
            }
        }
        for slot in &mut self.slots {
            if self.queue.is_empty() {
                return;
            }
            if slot.busy.is_some() || slot.closing {
                continue;
            }
            let Some(link) = &mut slot.link else { continue };
            let job = self.queue.pop_front().expect("the queue is not empty");
            *self.stats.dispatched.entry(job.id).or_default() += 1;
            // A failed send means the worker is dying: its Exited event fails the job.
            let _ = link.send(&job);
            slot.busy = Some(job);
        }
    }

    fn reply(&mut self, worker: WorkerId, reply: Reply) {
        let slot = &mut self.slots[worker.slot];
        if slot.generation != worker.generation {
            return;
        }
        match slot.busy.take() {
            Some(job) if job.id == reply.id => {
                let result = reply.result.map_err(|message| TaskError::Failed {
                    task: job.task,
                    message,
                });
                self.shared.complete(job.id, result);
            }
            // A reply to a job it was not given: ignore it, keep waiting for the real one.
            other => slot.busy = other,
        }
    }

    fn exited(&mut self, worker: WorkerId, status: ExitDesc) {
        let slot = &mut self.slots[worker.slot];
        if slot.generation != worker.generation {
            return;
        }
        if let Some(link) = slot.link.take() {
            link.join();
        }
        self.stats.exits.push(status);
        slot.generation += 1;
        slot.closing = false;
        if let Some(job) = slot.busy.take() {
            match self.variant {
                PoolVariant::FailsTheTask => {
                    let error = TaskError::WorkerDied {
                        task: job.task,
                        status,
                    };
                    self.shared.complete(job.id, Err(error));
                }
                PoolVariant::LosesTaskOnCrash => {}
                PoolVariant::RerunsOnCrash => self.queue.push_front(job),
            }
        }
        // Replace it, unless the pool is winding down with nothing left to run.
        if !self.shutting_down || !self.queue.is_empty() {
            self.start(worker.slot);
        }
    }
}
