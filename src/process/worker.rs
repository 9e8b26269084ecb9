//! Worker mode: what the binary does when its parent started it as a worker.
//!
//! Invariant: a worker never outlives its parent and never writes anything but reply frames
//! to its channel. It exits at end of input, when its parent's pid is not the one it was
//! started by (checked at startup, with `PR_SET_PDEATHSIG` set too), and when its channel
//! breaks. A process that has [`WORKER_ENV`] set but was not started as a worker (no channel
//! from a parent) says so and exits with status 2: it never serves, and never exits silently.
//!
//! The channel's two pipes are the only descriptors the parent gave it, close-on-exec from the
//! first line, so a task that starts a process of its own does not hand them on: the parent sees
//! the worker's end of output when the worker ends, whatever its tasks left running. A task's
//! stdin is `/dev/null` and its stdout goes to the parent's stderr ([`super::ipc`]).

use std::fs::File;
use std::io::BufReader;

use super::frame::{encode, read_frame, MAX_FRAME};
use super::ipc::channel_from_env;
use super::task::{Globals, Registry};
use super::transport::{Job, Reply, READY};
use super::{manager, PARENT_ENV, READY_WORKER_NAME, WORKER_ENV};

/// Runs the worker role named by [`WORKER_ENV`]; returns the exit code.
pub(super) fn main(registry: impl FnOnce() -> Registry) -> i32 {
    let role = std::env::var(WORKER_ENV).unwrap_or_default();
    // Tasks may start processes of their own: those are not workers unless they say so.
    std::env::remove_var(WORKER_ENV);
    let channel = match channel_from_env() {
        Ok(channel) => channel,
        Err(e) => {
            eprintln!(
                "error: {WORKER_ENV}={role:?} is set in the environment, but {e}. \
                 {WORKER_ENV} is for the worker processes that a process pool or a manager \
                 starts; unset it to run this program normally."
            );
            return 2;
        }
    };
    if !parent_alive() {
        return 1;
    }
    // Panics are caught per task and travel in the reply; the default hook would also print
    // them to stderr, from every worker.
    std::panic::set_hook(Box::new(|_| {}));
    match role.as_str() {
        "pool" => pool_worker(&registry(), channel),
        "manager" => manager::server_main(channel),
        other => {
            eprintln!("error: unknown worker role {WORKER_ENV}={other:?}");
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

/// The reply frame for `reply`, or, if it is over the frame limit, a frame saying so: the
/// task fails with an error naming the size and the limit, and the worker lives on.
fn reply_frame(reply: Reply) -> Vec<u8> {
    let id = reply.id;
    match encode(&reply) {
        Ok(bytes) if bytes.len() - 4 <= MAX_FRAME => bytes,
        too_large => {
            let message = match too_large {
                Ok(bytes) => format!(
                    "its result of {} bytes exceeds the frame limit of {MAX_FRAME} bytes",
                    bytes.len() - 4
                ),
                Err(e) => format!("its result cannot be sent: {e}"),
            };
            let error = Reply {
                id,
                result: Err(message),
            };
            encode(&error).expect("an error reply encodes")
        }
    }
}

/// Writes a reply frame. A plain write: a worker raises `SIGPIPE` only when its parent is
/// gone, and then there is nobody left to answer (Rust's runtime ignores `SIGPIPE` anyway).
fn write_reply(replies: &File, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(replies, bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Says it is ready, then runs jobs from the channel, one at a time, until end of input.
fn pool_worker(registry: &Registry, (jobs, replies): (File, File)) -> i32 {
    let ready = Reply {
        id: READY,
        result: Ok(serde_json::Value::Null),
    };
    if write_reply(&replies, &reply_frame(ready)).is_err() {
        return 0;
    }
    let name = std::ffi::CString::new(READY_WORKER_NAME).expect("no NUL in the name");
    // SAFETY: prctl with PR_SET_NAME and a NUL-terminated string that outlives the call.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
    let mut jobs = BufReader::new(jobs);
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
        let result = registry.run(&mut globals, &job.task, job.args);
        if write_reply(&replies, &reply_frame(Reply { id: job.id, result })).is_err() {
            return 0;
        }
    }
}
