//! The real transport: worker processes of a program (this binary by default) in worker mode,
//! spoken to over their stdin and stdout pipes.
//!
//! Invariant: every child started here is waited for by the reader thread that owns it, which
//! then reports [`Event::Exited`] with the status `wait` gave: no zombies. Every child has
//! `PR_SET_PDEATHSIG = SIGKILL` set before it runs a line of our code, exits when its parent's
//! pid is not the one it was started by, and exits at end of input on its stdin: no orphans.
//!
//! A reader thread that reads something other than a reply frame (a worker gone mad) kills
//! its worker, so the dispatcher never waits on a worker it cannot understand.

use std::io::{self, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use super::frame::{read_frame, write_frame, MAX_FRAME};
use super::transport::{Event, Job, Link, Reply, Transport, WorkerId};
use super::{ExitDesc, PARENT_ENV, WORKER_ENV};
use crate::sync::Sender;
use crate::sync::{spawn, JoinHandle, Primitives};

/// Starts worker processes of `program`.
#[derive(Clone, Debug)]
pub struct OsTransport {
    program: PathBuf,
}

impl OsTransport {
    /// Workers of this very binary.
    pub fn current_exe() -> io::Result<Self> {
        Self::program(std::env::current_exe()?)
    }

    /// Workers of `program`, which must call [`super::worker_main_if_worker`] first in `main`.
    pub fn program(program: impl Into<PathBuf>) -> io::Result<Self> {
        let program = program.into();
        let meta = std::fs::metadata(&program)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", program.display())))?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a file", program.display()),
            ));
        }
        Ok(OsTransport { program })
    }

    pub fn path(&self) -> &std::path::Path {
        &self.program
    }
}

/// Starts `program` in worker mode `role`, with piped stdin and stdout and the parent's stderr.
pub(crate) fn spawn_worker(
    program: &std::path::Path,
    role: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> io::Result<Child> {
    let parent = std::process::id();
    let mut command = Command::new(program);
    command
        .env(WORKER_ENV, role)
        .env(PARENT_ENV, parent.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, value) in env {
        command.env(key, value);
    }
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid, _exit).
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl: then nobody would send the signal.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    command.spawn()
}

/// The parent's end of one worker process.
pub struct OsLink<P: Primitives> {
    stdin: Option<ChildStdin>,
    reader: Option<JoinHandle<P, ()>>,
    pid: u32,
}

impl<P: Primitives> OsLink<P> {
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl<P: Primitives> Transport<P> for OsTransport {
    type Link = OsLink<P>;

    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<OsLink<P>, String> {
        let mut child = spawn_worker(&self.program, "pool", &[])
            .map_err(|e| format!("{}: {e}", self.program.display()))?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let reader = spawn::<P, _, _>(format!("worker-{}-reader", worker.slot), move || {
            read_replies(child, stdout, worker, events)
        });
        match reader {
            Ok(reader) => Ok(OsLink {
                stdin,
                reader: Some(reader),
                pid,
            }),
            Err(e) => Err(format!("could not start a reader thread: {e}")),
        }
    }
}

/// Forwards the worker's replies; at its end of output (or on garbage), reaps it and reports
/// how it ended.
fn read_replies<P: Primitives>(
    mut child: Child,
    stdout: std::process::ChildStdout,
    worker: WorkerId,
    events: Sender<P, Event>,
) {
    let mut stdout = BufReader::new(stdout);
    loop {
        match read_frame::<_, Reply>(&mut stdout, MAX_FRAME) {
            Ok(Some(reply)) => {
                if events.send(Event::Reply { worker, reply }).is_err() {
                    let _ = child.kill();
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                eprintln!(
                    "threadproof: worker {} sent garbage ({e}); killing it",
                    child.id()
                );
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child.wait().map_or(ExitDesc::Unknown, ExitDesc::from);
    let _ = events.send(Event::Exited { worker, status });
}

impl<P: Primitives> Link for OsLink<P> {
    fn send(&mut self, job: &Job) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("the worker's input is closed")?;
        write_frame(stdin, job).map_err(|e| e.to_string())
    }

    fn close(&mut self) {
        self.stdin = None;
    }

    fn join(mut self) {
        self.stdin = None;
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
