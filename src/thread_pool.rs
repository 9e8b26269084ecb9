//! A thread pool executor: Python's `concurrent.futures.ThreadPoolExecutor`, written once
//! against [`crate::sync::Primitives`] so that loom and shuttle check this very code.
//!
//! Invariant: every task submitted before [`ThreadPool::shutdown`] runs exactly once, on one of
//! a fixed number of workers, and completes its [`Future`] exactly once, with the task's value
//! or its panic; [`as_completed`] yields each future it is given exactly once, in completion
//! order; leaving the pool (drop or `shutdown`) returns only after every submitted task has run.
//!
//! ```text
//!   submit ──lock queue──push──[notify_one if a worker idles]──► Future
//!                               │
//!   worker i: loop { lock queue; while empty && open: wait(work) ; pop ; run task ; complete }
//!                                                                            │
//!   complete: lock slot; store outcome; take listener ──► as_completed's ready queue
//!                                  └── notify the one result() waiter, if any
//!   shutdown: lock queue; close; wake one idle worker, which wakes the next as it leaves;
//!             join every worker
//! ```
//!
//! The state space is kept small on purpose, so that loom can go deep: one condvar per purpose
//! (idle workers, one per future for `result()`, one per `as_completed` call), a notification
//! only when someone is known to be waiting on it, and at shutdown one idle worker woken at a
//! time rather than all at once (loom explores about half the executions at the notes' size).
//!
//! Spurious wakeups are harmless: every wait re-checks its condition in a loop.
//!
//! Known-bad variants of this code (`Flaw`) live next to the correct paths, marked `MUTANT`;
//! they are reachable only from the `pool` scenario's mutants, never from the public API, and
//! are honoured only under the model backends (`P::MODEL`): on `Std` and `ParkingLot` the
//! compiler sees a constant `false` and production runs the correct path alone.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use crate::sync::{panic_message, spawn, Condvar, JoinHandle, Mutex, Primitives};

/// Why a [`Future`] has no value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskError {
    /// The task panicked; carries the panic's message.
    Panicked(String),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Panicked(message) => write!(f, "task panicked: {message}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// A task was submitted to a pool that has been shut down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutDown;

impl fmt::Display for ShutDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the pool has been shut down: it takes no more tasks")
    }
}

impl std::error::Error for ShutDown {}

/// Why a pool could not be built.
#[derive(Debug)]
pub enum PoolError {
    /// A pool needs at least one worker.
    ZeroWorkers,
    /// The OS refused a worker thread.
    Spawn(io::Error),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::ZeroWorkers => f.write_str("a pool needs at least 1 worker"),
            PoolError::Spawn(e) => write!(f, "could not spawn a worker: {e}"),
        }
    }
}

impl std::error::Error for PoolError {}

/// A known-bad code path of the pool (the `pool` scenario's mutants); `None` is the correct
/// pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
// Only the scenarios plant these mutants.
#[cfg_attr(not(feature = "patterns"), allow(dead_code))]
pub(crate) enum Flaw {
    /// A worker looks at the queue, lets go of the lock, and takes it again to sleep, trusting
    /// what it saw: a task submitted in the gap notifies nobody.
    MissedWakeup,
    /// `as_completed` checks whether a future is done and registers for its completion under
    /// two separate lock acquisitions: a completion in between is never yielded.
    LostCompletion,
    /// `as_completed` registers for a future's completion and then checks whether it is done,
    /// under two separate lock acquisitions: a completion in between is yielded twice.
    DoubleCompletion,
}

type Job = Box<dyn FnOnce() + Send>;

/// What the workers share, under one lock.
struct Queue {
    jobs: VecDeque<Job>,
    /// Set once by `shutdown`: no more submissions; workers leave once `jobs` is empty.
    shut_down: bool,
    /// Workers asleep on `work` (or woken and not yet back): a submission notifies only if
    /// there is one.
    idle: usize,
}

struct Shared<P: Primitives> {
    queue: Mutex<P, Queue>,
    /// Idle workers sleep here.
    work: Condvar<P>,
    flaw: Option<Flaw>,
}

impl<P: Primitives> Shared<P> {
    /// Whether this pool runs `flaw`: only ever under a model backend.
    fn has(&self, flaw: Flaw) -> bool {
        P::MODEL && self.flaw == Some(flaw)
    }
}

/// A fixed number of worker threads running submitted tasks in submission order.
///
/// Dropping the pool shuts it down and waits for every submitted task, as leaving Python's
/// `with ThreadPoolExecutor(...)` block does.
pub struct ThreadPool<P: Primitives> {
    shared: Arc<Shared<P>>,
    /// Taken (and joined) by the first `shutdown`; held while joining, so that a concurrent
    /// `shutdown` also returns only once every worker is done.
    workers: Mutex<P, Vec<JoinHandle<P, ()>>>,
    size: usize,
}

impl<P: Primitives> ThreadPool<P> {
    /// A pool of `workers` threads; zero workers is [`PoolError::ZeroWorkers`] (nobody would
    /// ever run a task).
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        Self::with_flaw(workers, None)
    }

    /// The pool with a known-bad worker loop: for the `pool` scenario's mutants.
    pub(crate) fn with_flaw(workers: usize, flaw: Option<Flaw>) -> Result<Self, PoolError> {
        if workers == 0 {
            return Err(PoolError::ZeroWorkers);
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                shut_down: false,
                idle: 0,
            }),
            work: Condvar::new(),
            flaw,
        });
        let mut handles = Vec::with_capacity(workers);
        let mut refused = None;
        for i in 0..workers {
            let shared = Arc::clone(&shared);
            match spawn::<P, _, _>(format!("pool-worker-{i}"), move || shared.work()) {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        let pool = ThreadPool {
            shared,
            workers: Mutex::new(handles),
            size: workers,
        };
        match refused {
            // Dropping the pool shuts down and joins the workers spawned so far.
            Some(e) => Err(PoolError::Spawn(e)),
            None => Ok(pool),
        }
    }

    /// How many workers the pool runs.
    pub fn workers(&self) -> usize {
        self.size
    }

    /// Queues `task` to run on a worker; its value (or its panic) comes back through the
    /// returned future. A pool that has been shut down refuses the task.
    pub fn submit<T, F>(&self, task: F) -> Result<Future<P, T>, ShutDown>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let slot = Arc::new(Slot::new());
        let completer = Arc::clone(&slot);
        let job: Job = Box::new(move || {
            // A panicking task fails its future, not the worker: the pool survives it.
            let outcome = panic::catch_unwind(AssertUnwindSafe(task)).map_err(|payload| {
                let message = panic_message(&*payload);
                drop_quietly(payload);
                TaskError::Panicked(message)
            });
            completer.complete(outcome);
            // The value is dropped here if its future was: the task's too.
            drop_quietly(completer);
        });
        let wake = {
            let mut queue = self.shared.queue.lock();
            if queue.shut_down {
                return Err(ShutDown);
            }
            queue.jobs.push_back(job);
            queue.idle > 0
        };
        if wake {
            self.shared.work.notify_one();
        }
        Ok(Future { slot })
    }

    /// Runs `f` on every input; the results come back in input order (Python's
    /// `executor.map`). Every input is submitted before this returns.
    pub fn map<A, T, F>(
        &self,
        f: F,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<impl Iterator<Item = Result<T, TaskError>>, ShutDown>
    where
        A: Send + 'static,
        T: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let futures = inputs
            .into_iter()
            .map(|input| {
                let f = Arc::clone(&f);
                self.submit(move || f(input))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(futures.into_iter().map(Future::result))
    }

    /// Refuses further tasks and waits until every task submitted so far has run and every
    /// worker has left. Idempotent; a second caller also waits. Must not be called from a task
    /// of this pool (its worker would wait for itself).
    pub fn shutdown(&self) {
        let idle = {
            let mut queue = self.shared.queue.lock();
            queue.shut_down = true;
            queue.idle
        };
        if idle > 0 {
            // Every idle worker must see the closed, empty queue and leave: each one that does
            // wakes the next (below), so that they leave one at a time.
            self.shared.work.notify_one();
        }
        let mut workers = self.workers.lock();
        for worker in workers.drain(..) {
            // Workers never panic: a task's panic is caught and stored in its future.
            let _ = worker.join();
        }
    }

    /// Whether `shutdown` has begun.
    pub fn is_shut_down(&self) -> bool {
        self.shared.queue.lock().shut_down
    }
}

impl<P: Primitives> Drop for ThreadPool<P> {
    fn drop(&mut self) {
        if P::MODEL && std::thread::panicking() {
            // A model checker is unwinding a failed execution (a deadlock, a panic): any
            // further primitive operation would panic again and abort the process, and the
            // execution is over anyway. Production backends still wait, as `thread::scope` does.
            return;
        }
        self.shutdown();
    }
}

impl<P: Primitives> fmt::Debug for ThreadPool<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadPool")
            .field("backend", &P::NAME)
            .field("workers", &self.size)
            .finish_non_exhaustive()
    }
}

/// Drops `value`, which a task made (its panic's payload, or its value once nobody can take
/// it): a panic in that drop is the task's business, and must not end the worker, which
/// would leave every queued task unrun. That panic's own payload is leaked, not dropped.
fn drop_quietly<T>(value: T) {
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| drop(value))) {
        std::mem::forget(payload);
    }
}

impl<P: Primitives> Shared<P> {
    /// A worker's life: run jobs until the pool is shut down and the queue is empty.
    fn work(&self) {
        while let Some(job) = self.next_job() {
            job();
        }
    }

    /// The next job, waiting for one; `None` once the pool is shut down and drained.
    fn next_job(&self) -> Option<Job> {
        let mut queue = self.queue.lock();
        loop {
            if let Some(job) = queue.jobs.pop_front() {
                return Some(job);
            }
            if queue.shut_down {
                if queue.idle > 0 {
                    drop(queue);
                    self.work.notify_one();
                }
                return None;
            }
            if self.has(Flaw::MissedWakeup) {
                // MUTANT missed-wakeup: the worker lets go of the lock between seeing the empty
                // queue and going to sleep. A `submit` in the gap finds no idle worker and
                // notifies nobody; the worker then sleeps with a task in the queue.
                drop(queue);
                queue = self.queue.lock();
            }
            queue.idle += 1;
            queue = self.work.wait(queue);
            queue.idle -= 1;
        }
    }
}

/// One task's completion: its outcome and who is waiting for it.
struct Slot<P: Primitives, T: Send> {
    state: Mutex<P, SlotState<P, T>>,
    /// The future's owner sleeps here in `result()`.
    done: Condvar<P>,
}

struct SlotState<P: Primitives, T> {
    finished: bool,
    /// Set on completion, taken by `result()`.
    outcome: Option<Result<T, TaskError>>,
    /// The owner sleeps on `done`: completion notifies only then.
    waiting: bool,
    /// The `as_completed` call to tell on completion.
    listener: Option<Listener<P>>,
}

impl<P: Primitives, T: Send> Slot<P, T> {
    fn new() -> Self {
        Slot {
            state: Mutex::new(SlotState {
                finished: false,
                outcome: None,
                waiting: false,
                listener: None,
            }),
            done: Condvar::new(),
        }
    }

    /// Stores the outcome (once) and tells whoever waits for it.
    fn complete(&self, outcome: Result<T, TaskError>) {
        let (waiting, listener) = {
            let mut state = self.state.lock();
            state.finished = true;
            state.outcome = Some(outcome);
            (state.waiting, state.listener.take())
        };
        if waiting {
            self.done.notify_one();
        }
        if let Some(listener) = listener {
            listener.tell();
        }
    }

    /// Makes sure `listener` hears of the completion exactly once: now, through `early`, if
    /// the task is already done, or later, from `complete`.
    fn listen(&self, listener: Listener<P>, early: &mut VecDeque<usize>, flaw: Option<Flaw>) {
        match flaw {
            Some(Flaw::LostCompletion) => {
                // MUTANT lost-completion: check, let go of the lock, then register. A task that
                // completes in the gap finds no listener, and the check said "not done".
                let finished = self.state.lock().finished;
                if finished {
                    early.push_back(listener.index);
                } else {
                    self.state.lock().listener = Some(listener);
                }
            }
            Some(Flaw::DoubleCompletion) => {
                // MUTANT double-completion: register, let go of the lock, then check. A task
                // that completes in the gap tells the listener, and the check says "done" too.
                let index = listener.index;
                self.state.lock().listener = Some(listener);
                if self.state.lock().finished {
                    early.push_back(index);
                }
            }
            None | Some(Flaw::MissedWakeup) => {
                // Check and register under one lock: `complete` runs entirely before (we see
                // `finished`) or entirely after (it finds the listener).
                let mut state = self.state.lock();
                if state.finished {
                    early.push_back(listener.index);
                } else {
                    state.listener = Some(listener);
                }
            }
        }
    }
}

/// The handle of a submitted task: Python's `concurrent.futures.Future` (not an async future).
pub struct Future<P: Primitives, T: Send + 'static> {
    slot: Arc<Slot<P, T>>,
}

impl<P: Primitives, T: Send + 'static> Future<P, T> {
    /// Waits for the task; its value, or its panic as [`TaskError::Panicked`].
    pub fn result(self) -> Result<T, TaskError> {
        let mut state = self.slot.state.lock();
        while !state.finished {
            state.waiting = true;
            state = self.slot.done.wait(state);
            state.waiting = false;
        }
        state
            .outcome
            .take()
            .expect("a finished future keeps its outcome until result() takes it")
    }

    /// Whether the task has finished (with a value or a panic).
    pub fn is_done(&self) -> bool {
        self.slot.state.lock().finished
    }
}

impl<P: Primitives, T: Send + 'static> fmt::Debug for Future<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("done", &self.is_done())
            .finish()
    }
}

/// Where one `as_completed` call learns of completions: indices in completion order.
struct Completions<P: Primitives> {
    state: Mutex<P, CompletionsState>,
    /// The `as_completed` iterator sleeps here.
    arrived: Condvar<P>,
}

struct CompletionsState {
    ready: VecDeque<usize>,
    /// The iterator sleeps on `arrived`: a completion notifies only then.
    waiting: bool,
}

impl<P: Primitives> Completions<P> {
    /// The next completed index, waiting for one.
    fn next(&self) -> usize {
        let mut state = self.state.lock();
        loop {
            if let Some(index) = state.ready.pop_front() {
                return index;
            }
            state.waiting = true;
            state = self.arrived.wait(state);
            state.waiting = false;
        }
    }
}

/// A registration of one future with one `as_completed` call.
struct Listener<P: Primitives> {
    completions: Arc<Completions<P>>,
    index: usize,
}

impl<P: Primitives> Listener<P> {
    fn tell(self) {
        let waiting = {
            let mut state = self.completions.state.lock();
            state.ready.push_back(self.index);
            state.waiting
        };
        if waiting {
            self.completions.arrived.notify_one();
        }
    }
}

/// Yields `futures` as they complete, each exactly once (Python's `as_completed`): those
/// already done first, then the others in the order they finish.
pub fn as_completed<P: Primitives, T: Send + 'static>(
    futures: impl IntoIterator<Item = Future<P, T>>,
) -> AsCompleted<P, T> {
    as_completed_with_flaw(futures, None)
}

/// [`as_completed`] with a known-bad registration: for the `pool` scenario's mutants. Like
/// every flaw, honoured only under a model backend.
pub(crate) fn as_completed_with_flaw<P: Primitives, T: Send + 'static>(
    futures: impl IntoIterator<Item = Future<P, T>>,
    flaw: Option<Flaw>,
) -> AsCompleted<P, T> {
    let flaw = flaw.filter(|_| P::MODEL);
    let futures: Vec<Option<Future<P, T>>> = futures.into_iter().map(Some).collect();
    let completions = Arc::new(Completions {
        state: Mutex::new(CompletionsState {
            ready: VecDeque::new(),
            waiting: false,
        }),
        arrived: Condvar::new(),
    });
    let mut early = VecDeque::new();
    for (index, future) in futures.iter().enumerate() {
        let slot = &future.as_ref().expect("every future is present").slot;
        let listener = Listener {
            completions: Arc::clone(&completions),
            index,
        };
        slot.listen(listener, &mut early, flaw);
    }
    AsCompleted {
        remaining: futures.len(),
        futures,
        early,
        completions,
    }
}

/// The iterator of [`as_completed`].
pub struct AsCompleted<P: Primitives, T: Send + 'static> {
    futures: Vec<Option<Future<P, T>>>,
    /// Indices of futures done before registration, in index order.
    early: VecDeque<usize>,
    completions: Arc<Completions<P>>,
    remaining: usize,
}

impl<P: Primitives, T: Send + 'static> Iterator for AsCompleted<P, T> {
    type Item = Future<P, T>;

    fn next(&mut self) -> Option<Future<P, T>> {
        if self.remaining == 0 {
            return None;
        }
        let index = match self.early.pop_front() {
            Some(index) => index,
            None => self.completions.next(),
        };
        self.remaining -= 1;
        let future = self.futures[index].take().unwrap_or_else(|| {
            // Unreachable for the correct pool: each future registers exactly one way.
            panic!("as_completed: future {index} was reported complete twice")
        });
        Some(future)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<P: Primitives, T: Send + 'static> ExactSizeIterator for AsCompleted<P, T> {}
