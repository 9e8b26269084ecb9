//! The real transport: worker processes of a program (this binary by default) in worker mode,
//! spoken to over two pipes ([`super::ipc`]).
//!
//! Invariant: every child started here is waited for by the reader thread that owns it, which
//! then reports [`Event::Exited`] with the status `wait` gave: no zombies. Every child dies
//! with this process (`ipc::spawn_child`: `PR_SET_PDEATHSIG` from a thread that
//! lives as long as the process, and end of input on its channel): no orphans. Nothing the
//! parent writes to a dead worker raises `SIGPIPE`, and a worker is killed through its pidfd,
//! so a kill can never reach a process that merely reuses its pid.
//!
//! A reader thread that reads something other than a reply frame (a worker gone mad) kills
//! its worker, so the dispatcher never waits on a worker it cannot understand.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Condvar as StdCondvar, Mutex as StdMutex};
use std::time::Duration;

use super::frame::{read_frame, write_frame, MAX_FRAME};
use super::ipc::{spawn_child, NoSigpipe, Spawned};
use super::transport::{Event, Job, Link, Reply, Transport, WorkerId, READY};
use super::ExitDesc;
use crate::sync::Sender;
use crate::sync::{spawn, JoinHandle, Primitives};

/// Starts worker processes of `program`.
#[derive(Debug)]
pub struct OsTransport {
    program: PathBuf,
    args: Vec<OsString>,
    timers: Timers,
}

impl Clone for OsTransport {
    /// A transport for another pool: same program, timers of its own.
    fn clone(&self) -> Self {
        OsTransport {
            program: self.program.clone(),
            args: self.args.clone(),
            timers: Timers::default(),
        }
    }
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
        Ok(OsTransport {
            program,
            args: Vec::new(),
            timers: Timers::default(),
        })
    }

    /// Starts the program with these arguments (a test harness, say, that needs a filter to
    /// reach its `main`'s worker check).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn path(&self) -> &std::path::Path {
        &self.program
    }

    /// Starts the program in worker mode `role`: the child and our ends of its channel.
    pub(crate) fn spawn(&self, role: &str) -> io::Result<Spawned> {
        spawn_child(&self.program, &self.args, role)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", self.program.display())))
    }
}

/// Events sent later ([`Transport::send_later`]): each timer is a thread that sleeps until its
/// time or until the transport is dropped, whichever comes first, so that no timer outlives
/// the pool that set it.
#[derive(Debug, Default)]
struct Timers {
    stopped: Arc<(StdMutex<bool>, StdCondvar)>,
}

impl Drop for Timers {
    fn drop(&mut self) {
        let (stopped, changed) = &*self.stopped;
        *stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        changed.notify_all();
    }
}

/// The parent's end of one worker process.
pub struct OsLink<P: Primitives> {
    jobs: Option<NoSigpipe<File>>,
    reader: Option<JoinHandle<P, ()>>,
    pid: u32,
    pidfd: Option<OwnedFd>,
}

impl<P: Primitives> OsLink<P> {
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl<P: Primitives> Transport<P> for OsTransport {
    type Link = OsLink<P>;

    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<OsLink<P>, String> {
        let Spawned {
            child,
            to_child,
            from_child,
        } = self.spawn("pool").map_err(|e| e.to_string())?;
        let pid = child.id();
        // Opened before anyone waits for the child, so it names this process and no other.
        let pidfd = rustix::process::Pid::from_child(&child);
        let pidfd = rustix::process::pidfd_open(pidfd, rustix::process::PidfdFlags::empty()).ok();
        let reader = spawn::<P, _, _>(format!("worker-{}-reader", worker.slot), move || {
            read_replies(child, from_child, worker, events)
        });
        match reader {
            Ok(reader) => Ok(OsLink {
                jobs: Some(NoSigpipe(to_child)),
                reader: Some(reader),
                pid,
                pidfd,
            }),
            // The reader owned the child and its output; dropping `to_child` here ends the
            // worker's input, so it exits; its pdeathsig covers the rest.
            Err(e) => Err(format!("could not start a reader thread: {e}")),
        }
    }

    fn handshake(&self) -> bool {
        true
    }

    fn adopt_thread(&mut self) {
        // The dispatcher writes every job: one mask call for its life, not three per job.
        super::ipc::block_sigpipe_in_this_thread();
    }

    fn send_later(&mut self, delay: Duration, events: Sender<P, Event>, event: Event) {
        let stopped = Arc::clone(&self.timers.stopped);
        let timer = std::thread::Builder::new()
            .name("pool-timer".into())
            .spawn(move || {
                let (flag, changed) = &*stopped;
                let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
                let (guard, _) = changed
                    .wait_timeout_while(guard, delay, |stopped| !*stopped)
                    .unwrap_or_else(|e| e.into_inner());
                if !*guard {
                    drop(guard);
                    let _ = events.send(event);
                }
            });
        if let Err(e) = timer {
            // No thread for the timer: better early than never.
            eprintln!("threadproof: no timer thread ({e}); sending at once");
        }
    }
}

/// Forwards the worker's replies; at its end of output (or on garbage), reaps it and reports
/// how it ended.
fn read_replies<P: Primitives>(
    mut child: Child,
    replies: File,
    worker: WorkerId,
    events: Sender<P, Event>,
) {
    let mut replies = BufReader::new(replies);
    loop {
        match read_frame::<_, Reply>(&mut replies, MAX_FRAME) {
            Ok(Some(reply)) => {
                let event = if reply.id == READY {
                    Event::Ready { worker }
                } else {
                    Event::Reply { worker, reply }
                };
                if events.send(event).is_err() {
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
        let jobs = self.jobs.as_mut().ok_or("the worker's input is closed")?;
        write_frame(jobs, job).map_err(|e| e.to_string())
    }

    fn close(&mut self) {
        self.jobs = None;
    }

    fn kill(&mut self) {
        if let Some(pidfd) = &self.pidfd {
            let _ = rustix::process::pidfd_send_signal(pidfd, rustix::process::Signal::KILL);
        }
        self.close();
    }

    fn join(mut self) {
        self.close();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
