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
//! against [`Primitives`] and a [`Transport`]: real child processes ([`crate::process::OsTransport`]) or
//! simulated ones ([`crate::process::sim`]) for loom and shuttle.
//!
//! The dispatcher's known-bad variants live beside its crash handling (`dispatcher`),
//! reachable only from the `process_pool` scenario.

mod completion;
mod dispatcher;
mod types;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use self::completion::{as_completed, AsCompleted, TaskFuture};
#[doc(hidden)]
pub(crate) use self::dispatcher::OnCrash;
pub use self::types::{PoolError, PoolOptions, PoolStats, TaskError};

use self::completion::Shared;
use self::dispatcher::Dispatcher;
use super::frame::{encoded_len, MAX_FRAME};
use super::os::OsTransport;
use super::transport::{Event, Job, Transport};
use crate::sync::{channel, Sender};
use crate::sync::{spawn, JoinHandle, Primitives, Std};

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
        Self::start(workers, transport, options, OnCrash::Fail)
    }

    /// The pool with a known-bad dispatcher: for the `process_pool` scenario's mutants, which
    /// read the per-task history.
    pub(crate) fn with_flaw<T: Transport<P>>(
        workers: usize,
        transport: T,
        flaw: OnCrash,
    ) -> Result<Self, PoolError> {
        Self::start(workers, transport, PoolOptions { history: true }, flaw)
    }

    fn start<T: Transport<P>>(
        workers: usize,
        transport: T,
        options: PoolOptions,
        flaw: OnCrash,
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
        mutant: dispatcher::TestMutant,
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
        let shared = Arc::new(Shared::new());
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
        // Measured with the id it is sent with: a longer id is a longer frame, and a frame the
        // worker refuses would kill every worker it is given to.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            id,
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
        if self.events.send(Event::Submit(job)).is_err() {
            return Err(PoolError::Dispatcher("the dispatcher is gone".into()));
        }
        Ok(TaskFuture::new(
            id,
            task.to_string(),
            Arc::clone(&self.shared),
        ))
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
