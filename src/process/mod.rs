//! Processes: isolation, a process pool that survives dying workers, and a manager-shared list.
//!
//! Invariant: the parent and its worker processes share nothing but messages (length-prefixed
//! serde frames, [`frame`]) over two pipes per child ([`ipc`]); every child the parent
//! starts is reaped by the parent (`wait`), and every child dies with the parent process
//! (`PR_SET_PDEATHSIG` from a spawner thread that lives as long as the process, and end of
//! input on its channel). No write to a dead child raises `SIGPIPE` in the host program.
//!
//! ```text
//!   parent                                      worker process (same binary, worker mode)
//!   ──────                                      ──────────────
//!   ProcessPool ─ dispatcher thread ─ channel ─► read Job frame ─► Registry::run ─┐
//!                     ▲                                                          │
//!                     └─ reader thread ◄─ channel ── Reply frame ◄───────────────┘
//!                        (EOF: waitpid, then an Exited event with the status)
//! ```
//!
//! The binary re-executes itself ([`std::env::current_exe`]) with [`WORKER_ENV`] set: the
//! analogue of Python's `if __name__ == "__main__":` is [`worker_main_if_worker`], called first
//! thing in `main`. It returns at once in the parent; in a worker it never returns.
//!
//! The coordination logic ([`pool`]'s dispatcher, [`manager`]'s request loop) is written
//! against [`crate::sync::Primitives`], with the transport behind a small interface
//! ([`transport::Transport`], [`manager::Conn`]): [`os`] runs it over real child processes, [`sim`]
//! over threads that share nothing but the facade's channels, which loom and shuttle explore.
//!
//! Limits (see `docs/processes.md`): one frame carries at most [`frame::MAX_FRAME`] bytes of
//! JSON, so a task's arguments, a task's result and one manager append each fit in 1 MiB; a
//! manager's list of any size reads back, in pages.

pub mod frame;
pub mod ipc;
pub mod manager;
pub mod os;
pub mod pool;
pub mod sim;
pub mod task;
pub mod transport;
mod worker;

use std::fmt;

pub use self::pool::{
    as_completed, PoolError, PoolOptions, PoolStats, ProcessPool, TaskError, TaskFuture,
};
pub use self::task::{Death, Globals, Registry};

/// The most worker processes a scenario starts: beyond it, a bad argument, not minutes of
/// failed `fork`s.
pub const MAX_PROCESSES: usize = 256;

/// The environment variable that makes the binary a worker; its value names the role
/// (`pool` or `manager`).
pub const WORKER_ENV: &str = "THREADPROOF_WORKER";
/// The name a pool worker gives itself (`ps`, `/proc/PID/comm`) once it has told its pool it
/// is ready: an operator, or a test that kills workers, can tell a serving worker from one
/// still starting (whose death would count as a startup failure).
pub const READY_WORKER_NAME: &str = "tp-pool-worker";
/// The parent's pid, so that a worker whose parent is already gone exits at once.
pub const PARENT_ENV: &str = "THREADPROOF_PARENT";

/// Call first thing in `main`: in a worker process, serves the [`Registry::builtin`] tasks and
/// exits; in any other process, returns at once.
pub fn worker_main_if_worker() {
    worker_main_if_worker_with(Registry::builtin)
}

/// [`worker_main_if_worker`] with the caller's own tasks (e.g. `Registry::builtin().register(..)`).
pub fn worker_main_if_worker_with(registry: impl FnOnce() -> Registry) {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    std::process::exit(worker::main(registry));
}

/// Where a process scenario's processes live: chosen by the caller and passed down, never
/// guessed from the backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// Real child processes of this binary: production.
    Os,
    /// Threads that share nothing but the facade's channels ([`sim`]): what loom and shuttle
    /// can explore.
    Simulated,
}

/// How a process ended, as the parent saw it in `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitDesc {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// `wait` failed.
    Unknown,
}

impl From<std::process::ExitStatus> for ExitDesc {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitDesc::Exited(code),
            (None, Some(signal)) => ExitDesc::Signaled(signal),
            (None, None) => ExitDesc::Unknown,
        }
    }
}

/// The usual name of a signal, for messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "unknown signal",
    }
}

impl fmt::Display for ExitDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitDesc::Exited(code) => write!(f, "exited with status {code}"),
            ExitDesc::Signaled(signal) => {
                write!(
                    f,
                    "was killed by signal {signal} ({})",
                    signal_name(*signal)
                )
            }
            ExitDesc::Unknown => write!(f, "ended with an unknown status"),
        }
    }
}

/// One child's result (or why there is none) and how its process ended.
pub type ChildResult = (Result<serde_json::Value, TaskError>, ExitDesc);

/// Runs each job in a process of its own, all at once, as `multiprocessing.Process(...)`
/// `.start()` and `.join()` do: one worker per job, whose input is closed after its one job.
/// Returns, job by job, its result (or [`TaskError::WorkerDied`]) and how its process ended.
/// Every process is reaped before this returns.
pub fn run_in_processes<P, T>(
    transport: &mut T,
    jobs: Vec<(String, serde_json::Value)>,
) -> Result<Vec<ChildResult>, String>
where
    P: crate::sync::Primitives,
    T: transport::Transport<P>,
{
    use transport::{Event, Job, Link, WorkerId};

    let (events, inbox) = crate::sync::channel::<P, Event>();
    let mut links = Vec::new();
    let mut tasks = Vec::new();
    let mut started = Ok(());
    for (slot, (task, args)) in jobs.into_iter().enumerate() {
        let worker = WorkerId {
            slot,
            generation: 0,
        };
        match transport.start(worker, events.clone()) {
            Ok(mut link) => {
                let job = Job {
                    id: slot as u64,
                    task: task.clone(),
                    args,
                };
                // A failed send shows as the process's death below.
                let _ = link.send(&job);
                link.close();
                links.push(link);
                tasks.push(task);
            }
            Err(e) => {
                started = Err(e);
                break;
            }
        }
    }
    drop(events);
    let mut results: Vec<Option<Result<serde_json::Value, String>>> = vec![None; links.len()];
    let mut exits = vec![None; links.len()];
    while exits.iter().any(Option::is_none) {
        match inbox.recv() {
            Some(Event::Reply { worker, reply }) => results[worker.slot] = Some(reply.result),
            Some(Event::Exited { worker, status }) => exits[worker.slot] = Some(status),
            Some(_) => {}
            None => break,
        }
    }
    for link in links {
        link.join();
    }
    started?;
    Ok(results
        .into_iter()
        .zip(exits)
        .zip(tasks)
        .map(|((result, exit), task)| {
            let status = exit.unwrap_or(ExitDesc::Unknown);
            let result = match result {
                Some(Ok(value)) => Ok(value),
                Some(Err(message)) => Err(TaskError::Failed { task, message }),
                None => Err(TaskError::WorkerDied { task, status }),
            };
            (result, status)
        })
        .collect())
}
