//! Worker mode: what the binary does when its parent started it as a worker.
//!
//! Invariant: a worker never outlives its parent and never writes anything but reply frames
//! to its reply pipe. It exits at end of input, when its parent's pid is not the one it was
//! started by (checked at startup, with `PR_SET_PDEATHSIG` set too), and when its reply pipe
//! breaks. Whatever its tasks print to stdout goes to stderr instead: fd 1 is moved aside for
//! replies and replaced by fd 2 before any task runs.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::os::fd::FromRawFd;

use super::frame::{read_frame, write_frame, MAX_FRAME};
use super::task::{Death, Globals, Registry, DIE};
use super::transport::{Job, Reply};
use super::{manager, PARENT_ENV, WORKER_ENV};

/// Runs the worker role named by [`WORKER_ENV`]; returns the exit code.
pub(super) fn main(registry: impl FnOnce() -> Registry) -> i32 {
    let role = std::env::var(WORKER_ENV).unwrap_or_default();
    // Tasks may start processes of their own: those are not workers unless they say so.
    std::env::remove_var(WORKER_ENV);
    if !parent_alive() {
        return 1;
    }
    // Panics are caught per task and travel in the reply; the default hook would also print
    // them to stderr, from every worker.
    std::panic::set_hook(Box::new(|_| {}));
    match role.as_str() {
        "pool" => pool_worker(&registry()),
        "manager" => manager::server_main(),
        other => {
            eprintln!("threadproof: unknown worker role {other:?}");
            2
        }
    }
}

/// Whether the process that started us is still our parent (it set [`PARENT_ENV`]); also
/// asks the kernel to kill us when it goes.
fn parent_alive() -> bool {
    // SAFETY: prctl with PR_SET_PDEATHSIG and a valid signal; getppid cannot fail.
    unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        );
    }
    let parent = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok());
    // SAFETY: getppid has no preconditions.
    parent.is_none_or(|p| p == unsafe { libc::getppid() })
}

/// Moves fd 1 aside for replies and points fd 1 at stderr.
fn take_stdout_for_replies() -> std::io::Result<File> {
    // SAFETY: dup and dup2 on the standard descriptors, which are open; the duplicate is owned
    // by the returned File alone.
    unsafe {
        let replies = libc::dup(1);
        if replies < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(File::from_raw_fd(replies))
    }
}

/// Runs jobs from stdin, one at a time, until end of input.
fn pool_worker(registry: &Registry) -> i32 {
    let replies = match take_stdout_for_replies() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("threadproof worker: {e}");
            return 3;
        }
    };
    let mut replies = BufWriter::new(replies);
    let mut jobs = BufReader::new(std::io::stdin().lock());
    let mut globals = Globals::default();
    loop {
        let job: Job = match read_frame(&mut jobs, MAX_FRAME) {
            Ok(Some(job)) => job,
            Ok(None) => return 0,
            Err(e) => {
                eprintln!("threadproof worker: bad request: {e}");
                return 3;
            }
        };
        if job.task == DIE {
            serde_json::from_value::<Death>(job.args)
                .unwrap_or(Death::Kill)
                .now();
        }
        let result = registry.run(&mut globals, &job.task, job.args);
        if write_frame(&mut replies, &Reply { id: job.id, result }).is_err() {
            return 0;
        }
    }
}
