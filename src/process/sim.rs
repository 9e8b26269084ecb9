//! The simulated transport: each worker "process" is a thread that shares nothing with the
//! parent but the facade's channels, so that loom and shuttle can explore the pool's
//! coordination logic, which cannot run real processes.
//!
//! Invariant: a simulated worker owns its [`Globals`] (its own memory, as a process does), gets
//! jobs only from its job channel, and reports only by [`Event`]s: a [`Event::Reply`] per job,
//! then one [`Event::Exited`]. The [`DIE`] task ends it mid-task with the status its
//! [`Death`] names, without a reply, as a real worker does; and [`SimTransport::crash_on`]
//! kills the worker first handed a given job, as `kill -9` from outside would. Which job's
//! worker dies is the model's choice (the scenario's config, enumerated by the tests); the
//! checkers explore every interleaving around it.
//!
//! What it does not model: partial frames, pipe buffers, and `wait`; a simulated death is
//! reported at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::task::{Death, Globals, Registry, DIE};
use super::transport::{Event, Job, Link, Reply, Transport, WorkerId};
use super::ExitDesc;
use crate::sync::{channel, Receiver, Sender};
use crate::sync::{spawn, JoinHandle, Primitives};

/// Starts simulated workers that run tasks of `registry`.
#[derive(Clone)]
pub struct SimTransport {
    registry: Arc<Registry>,
    crash: Option<Crash>,
}

/// A worker is killed the first time it is handed job `job`.
#[derive(Clone)]
struct Crash {
    job: u64,
    death: Death,
    /// The simulator's own state, not a process's: whether the crash has happened.
    done: Arc<AtomicBool>,
}

impl SimTransport {
    pub fn new(registry: Registry) -> Self {
        SimTransport {
            registry: Arc::new(registry),
            crash: None,
        }
    }

    /// The worker that is first handed job `job` dies mid-task, as `death` says; a second
    /// delivery of the job (a dispatcher that retries) runs it normally.
    pub fn crash_on(mut self, job: u64, death: Death) -> Self {
        self.crash = Some(Crash {
            job,
            death,
            done: Arc::new(AtomicBool::new(false)),
        });
        self
    }
}

/// The parent's end of a simulated worker.
pub struct SimLink<P: Primitives> {
    jobs: Option<Sender<P, Job>>,
    thread: Option<JoinHandle<P, ()>>,
}

impl<P: Primitives> Transport<P> for SimTransport {
    type Link = SimLink<P>;

    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<SimLink<P>, String> {
        let (jobs, inbox) = channel::<P, Job>();
        let registry = Arc::clone(&self.registry);
        let crash = self.crash.clone();
        let thread = spawn::<P, _, _>(format!("worker-{}", worker.slot), move || {
            let status = serve(&registry, crash.as_ref(), worker, &inbox, &events);
            drop(inbox);
            let _ = events.send(Event::Exited { worker, status });
        })
        .map_err(|e| e.to_string())?;
        Ok(SimLink {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }
}

/// A simulated worker's life: run jobs until its input ends or a job kills it.
fn serve<P: Primitives>(
    registry: &Registry,
    crash: Option<&Crash>,
    worker: WorkerId,
    inbox: &Receiver<P, Job>,
    events: &Sender<P, Event>,
) -> ExitDesc {
    let mut globals = Globals::default();
    while let Some(job) = inbox.recv() {
        if job.task == DIE {
            let death: Death = serde_json::from_value(job.args).unwrap_or(Death::Kill);
            return death.status();
        }
        if let Some(crash) = crash {
            if crash.job == job.id && !crash.done.swap(true, Ordering::Relaxed) {
                return crash.death.status();
            }
        }
        let result = registry.run(&mut globals, &job.task, job.args);
        let reply = Reply { id: job.id, result };
        if events.send(Event::Reply { worker, reply }).is_err() {
            break;
        }
    }
    ExitDesc::Exited(0)
}

impl<P: Primitives> Link for SimLink<P> {
    fn send(&mut self, job: &Job) -> Result<(), String> {
        let jobs = self.jobs.as_ref().ok_or("the worker's input is closed")?;
        jobs.send(job.clone())
            .map_err(|_| "the worker is gone".to_string())
    }

    fn close(&mut self) {
        self.jobs = None;
    }

    fn join(mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
