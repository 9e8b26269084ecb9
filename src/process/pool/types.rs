//! The pool's public vocabulary: why a task has no value ([`TaskError`]), why the pool
//! refused ([`PoolError`]), how it runs ([`PoolOptions`]) and what it did ([`PoolStats`]).
//!
//! Invariant: plain data, no behaviour beyond formatting: every other part of the pool may
//! use it, and it uses none of them.

use std::collections::BTreeMap;
use std::fmt;

use crate::process::ExitDesc;

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

/// What a pool did, returned by [`super::ProcessPool::shutdown`].
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
