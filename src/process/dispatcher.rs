//! The process pool's dispatcher: one thread that owns every worker slot and the queue, and
//! reacts to one stream of [`Event`]s.
//!
//! Invariant: each job is handed to at most one live worker at a time; a reply completes the
//! job it answers (only from the worker's current incarnation); a worker's [`Event::Exited`]
//! fails the job it was running with [`TaskError::WorkerDied`] and starts a replacement. Jobs
//! that no worker can be started for fail with [`TaskError::NoWorkers`]: none waits forever.
//!
//! Known-bad variants ([`Flaw`]) sit beside the crash handling, marked `MUTANT`; only the
//! `process_pool` scenario's mutants construct them.

use std::collections::VecDeque;
use std::sync::Arc;

use super::pool::{PoolStats, Shared, TaskError};
use super::transport::{Event, Job, Link, Reply, Transport, WorkerId};
use super::ExitDesc;
use crate::sync::{Primitives, Receiver, Sender};

/// The dispatcher's crash handling: correct, or a known-bad variant (the `process_pool`
/// scenario's mutants).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// A dead worker's task fails with [`TaskError::WorkerDied`].
    FailsTheTask,
    /// A dead worker's task is forgotten; its future never completes.
    LosesTaskOnCrash,
    /// A dead worker's task is queued again and runs a second time.
    RerunsOnCrash,
}

/// One worker slot as the dispatcher sees it.
struct Slot<L> {
    link: Option<L>,
    generation: u64,
    /// The job it is running.
    busy: Option<Job>,
    /// Its input was closed for shutdown.
    closing: bool,
}

pub(super) struct Dispatcher<P: Primitives, T: Transport<P>> {
    transport: T,
    flaw: Flaw,
    events: Sender<P, Event>,
    shared: Arc<Shared<P>>,
    slots: Vec<Slot<T::Link>>,
    queue: VecDeque<Job>,
    shutting_down: bool,
    last_start_error: String,
    stats: PoolStats,
}

impl<P: Primitives, T: Transport<P>> Dispatcher<P, T> {
    pub(super) fn new(
        transport: T,
        workers: usize,
        flaw: Flaw,
        events: Sender<P, Event>,
        shared: Arc<Shared<P>>,
    ) -> Self {
        let slots = (0..workers)
            .map(|_| Slot {
                link: None,
                generation: 0,
                busy: None,
                closing: false,
            })
            .collect();
        Dispatcher {
            transport,
            flaw,
            events,
            shared,
            slots,
            queue: VecDeque::new(),
            shutting_down: false,
            last_start_error: String::new(),
            stats: PoolStats::default(),
        }
    }

    pub(super) fn run(mut self, inbox: Receiver<P, Event>) -> PoolStats {
        for slot in 0..self.slots.len() {
            self.start(slot);
        }
        loop {
            self.assign();
            let idle = self.queue.is_empty() && self.slots.iter().all(|s| s.busy.is_none());
            if self.shutting_down && idle {
                for slot in &mut self.slots {
                    if let (Some(link), false) = (&mut slot.link, slot.closing) {
                        link.close();
                        slot.closing = true;
                    }
                }
                if self.slots.iter().all(|s| s.link.is_none()) {
                    break;
                }
            }
            let Some(event) = inbox.recv() else { break };
            match event {
                Event::Submit(job) => self.queue.push_back(job),
                Event::Shutdown => self.shutting_down = true,
                Event::Reply { worker, reply } => self.reply(worker, reply),
                Event::Exited { worker, status } => self.exited(worker, status),
            }
        }
        self.stats.completions = self.shared.done.lock().order.clone();
        self.stats
    }

    fn start(&mut self, slot: usize) {
        let worker = WorkerId {
            slot,
            generation: self.slots[slot].generation,
        };
        match self.transport.start(worker, self.events.clone()) {
            Ok(link) => {
                self.stats.workers_started += 1;
                self.slots[slot].link = Some(link);
            }
            Err(e) => self.last_start_error = e,
        }
    }

    /// Hands queued jobs to idle workers; with none alive and jobs waiting, tries to start
    /// workers, and fails the jobs if none starts: a job never waits for a worker that
    /// cannot come.
    fn assign(&mut self) {
        if !self.queue.is_empty() && self.slots.iter().all(|s| s.link.is_none()) {
            for slot in 0..self.slots.len() {
                self.start(slot);
            }
            if self.slots.iter().all(|s| s.link.is_none()) {
                for job in std::mem::take(&mut self.queue) {
                    let error = TaskError::NoWorkers {
                        task: job.task,
                        message: self.last_start_error.clone(),
                    };
                    self.shared.complete(job.id, Err(error));
                }
                return;
            }
        }
        for slot in &mut self.slots {
            if self.queue.is_empty() {
                return;
            }
            if slot.busy.is_some() || slot.closing {
                continue;
            }
            let Some(link) = &mut slot.link else { continue };
            let job = self.queue.pop_front().expect("the queue is not empty");
            *self.stats.dispatched.entry(job.id).or_default() += 1;
            // A failed send means the worker is dying: its Exited event fails the job.
            let _ = link.send(&job);
            slot.busy = Some(job);
        }
    }

    fn reply(&mut self, worker: WorkerId, reply: Reply) {
        let slot = &mut self.slots[worker.slot];
        if slot.generation != worker.generation {
            return;
        }
        match slot.busy.take() {
            Some(job) if job.id == reply.id => {
                let result = reply.result.map_err(|message| TaskError::Failed {
                    task: job.task,
                    message,
                });
                self.shared.complete(job.id, result);
            }
            // A reply to a job it was not given: ignore it, keep waiting for the real one.
            other => slot.busy = other,
        }
    }

    fn exited(&mut self, worker: WorkerId, status: ExitDesc) {
        let slot = &mut self.slots[worker.slot];
        if slot.generation != worker.generation {
            return;
        }
        if let Some(link) = slot.link.take() {
            link.join();
        }
        self.stats.exits.push(status);
        slot.generation += 1;
        slot.closing = false;
        if let Some(job) = slot.busy.take() {
            // A flaw is honoured only under a model backend: production keeps the correct arm.
            let flaw = if P::MODEL {
                self.flaw
            } else {
                Flaw::FailsTheTask
            };
            match flaw {
                Flaw::FailsTheTask => {
                    let error = TaskError::WorkerDied {
                        task: job.task,
                        status,
                    };
                    self.shared.complete(job.id, Err(error));
                }
                // MUTANT loses-task-on-crash: the task is forgotten; its future never completes.
                Flaw::LosesTaskOnCrash => {}
                // MUTANT reruns-on-crash: the task runs again, though its side effects in the
                // dead worker may have happened already.
                Flaw::RerunsOnCrash => self.queue.push_front(job),
            }
        }
        // Replace it, unless the pool is winding down with nothing left to run.
        if !self.shutting_down || !self.queue.is_empty() {
            self.start(worker.slot);
        }
    }
}
