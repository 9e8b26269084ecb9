//! Processes: isolation, a process pool that survives dying workers, and a manager-shared list.
//!
//! Invariant: the parent and its worker processes share nothing but messages (length-prefixed
//! serde frames, `frame`) over two pipes per child (`ipc`); every child the parent
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
//! ([`transport::Transport`], [`manager::Conn`]): [`OsTransport`] runs it over real child
//! processes, [`sim`] over threads that share nothing but the facade's channels, which loom and shuttle explore.
//!
//! Limits (see `docs/processes.md`): one frame carries at most `frame::MAX_FRAME` bytes of
//! JSON, so a task's arguments, a task's result and one manager append each fit in 1 MiB; a
//! manager's list of any size reads back, in pages.

mod exit;
// The wire format, public for the tests that speak the protocol by hand; not the API.
#[doc(hidden)]
pub mod frame;
pub(crate) mod ipc;
pub mod manager;
mod os;
pub mod pool;
pub mod sim;
mod spawn_each;
pub mod task;
pub mod transport;
mod worker;

pub use self::exit::{signal_name, ExitDesc};
pub use self::os::OsTransport;
pub use self::pool::{
    as_completed, PoolError, PoolOptions, PoolStats, ProcessPool, TaskError, TaskFuture,
};
pub use self::spawn_each::{run_in_processes, ChildResult};
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
