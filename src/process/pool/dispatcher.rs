//! The process pool's dispatcher: one thread that owns every worker slot and the queue, and
//! reacts to one stream of [`Event`]s.
//!
//! Invariant: each job is handed to at most one live, ready worker at a time; a reply completes
//! the job it answers (only from the worker's current incarnation); a worker's
//! [`Event::Exited`] fails the job it was running with [`TaskError::WorkerDied`], and nothing
//! else, and starts a replacement. A job whose hand-over failed (the worker was already gone)
//! was never delivered and goes back to the queue. Jobs fail with [`TaskError::NoWorkers`]
//! only while no slot can start a worker: none waits forever, none fails while a worker may
//! still come.
//!
//! Only a worker that dies before it is ready to take a task (before [`Event::Ready`]: a broken
//! program, a bad environment) counts as a startup failure; a death while running a task, or
//! idle after it was ready, never does, however often. A slot is restarted at once after the
//! first startup failure, then after a doubling wait ([`backoff`]); after
//! [`MAX_STARTUP_FAILURES`] in a row it is given up, and tried again, with the backoff, when a
//! new job comes, so a transient cause (out of memory, an operator's kill) heals. While every
//! slot is given up, queued and new jobs fail with [`TaskError::NoWorkers`] saying why. On
//! [`Event::Terminate`] queued jobs fail as cancelled, running ones' workers are killed (their
//! jobs failing as terminated) and idle ones' input is closed; whatever is still alive
//! [`STRAGGLER_GRACE`] later is killed, so a stopped worker cannot hold the pool.
//!
//! Known-bad variants ([`OnCrash`]) sit beside the crash handling, marked `MUTANT`; only the
//! `process_pool` scenario's mutants construct them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::completion::Shared;
use super::types::{PoolOptions, PoolStats, TaskError};
use crate::process::transport::{Event, Job, Link, Reply, Transport, WorkerId};
use crate::process::ExitDesc;
use crate::sync::{Primitives, Receiver, Sender};

/// What the dispatcher does with a dead worker's task: the correct handling, or a known-bad one
/// (the `process_pool` scenario's mutants).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnCrash {
    /// A dead worker's task fails with [`TaskError::WorkerDied`].
    Fail,
    /// A dead worker's task is forgotten; its future never completes.
    Lose,
    /// A dead worker's task is queued again and runs a second time.
    Rerun,
}

/// Known-bad variants of the logic added for issue 11, for this module's own model checks
/// (below): the `process_pool` scenario's config never reaches it, so they are not its
/// variants. Compiled only into unit tests.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TestMutant {
    None,
    /// Once every slot is given up, queued jobs are left in the queue.
    ForgetsQueueOnGiveUp,
    /// Terminate leaves queued jobs in the queue.
    TerminateKeepsQueue,
    /// A job whose hand-over failed is dropped instead of queued again.
    DropsUndeliveredJob,
    /// Every death of a worker that has answered nothing counts toward giving up its slot,
    /// ready or not (the bug of issue 20: tasks that crash their worker kill the pool).
    CountsReadyDeaths,
}

/// Deaths before ready, in a row in one slot, after which the slot is given up for a while.
pub(crate) const MAX_STARTUP_FAILURES: u32 = 5;

/// How long after [`Event::Terminate`] a worker that has not exited is killed, idle or not.
pub(crate) const STRAGGLER_GRACE: Duration = Duration::from_secs(1);

/// How long to wait before restarting a slot whose worker died `failures` times in a row
/// before it was ready: not at all after the first (bad luck), then 50 ms, doubling up to
/// 3.2 s (the pace of a given-up slot's retries).
pub(crate) fn backoff(failures: u32) -> Option<Duration> {
    match failures {
        0 | 1 => None,
        f => Some(Duration::from_millis(50 << (f - 2).min(6))),
    }
}

/// One worker slot as the dispatcher sees it.
struct Slot<L> {
    link: Option<L>,
    generation: u64,
    /// The job it is running.
    busy: Option<Job>,
    /// Its input was closed for shutdown.
    closing: bool,
    /// A hand-over failed: the worker is gone, its `Exited` is on the way.
    unreachable: bool,
    /// Killed by [`Event::Terminate`]: its job fails as terminated.
    killed: bool,
    /// This incarnation is ready to take tasks ([`Event::Ready`]).
    ready: bool,
    /// This incarnation has answered a job (only the test mutant reads it).
    #[cfg(test)]
    answered: bool,
    /// Incarnations in a row that died before they were ready.
    failures: u32,
    /// A restart is due later ([`backoff`]).
    restarting: bool,
    /// Given up after [`MAX_STARTUP_FAILURES`]: started again when a job comes after its
    /// backoff is over (`restarting` is false).
    broken: bool,
}

impl<L> Slot<L> {
    /// Whether a job can be handed to it now.
    fn idle(&self) -> bool {
        self.link.is_some()
            && self.ready
            && self.busy.is_none()
            && !self.closing
            && !self.unreachable
    }

    /// Whether a worker is alive in it or due without waiting for work: a job may wait for it.
    fn coming(&self) -> bool {
        self.link.is_some() || (self.restarting && !self.broken)
    }
}

pub(super) struct Dispatcher<P: Primitives, T: Transport<P>> {
    transport: T,
    pub(super) flaw: OnCrash,
    options: PoolOptions,
    events: Sender<P, Event>,
    shared: Arc<Shared<P>>,
    slots: Vec<Slot<T::Link>>,
    queue: VecDeque<Job>,
    shutting_down: bool,
    terminating: bool,
    last_start_error: String,
    stats: PoolStats,
    #[cfg(test)]
    pub(super) mutant: TestMutant,
}

impl<P: Primitives, T: Transport<P>> Dispatcher<P, T> {
    pub(super) fn new(
        transport: T,
        workers: usize,
        options: PoolOptions,
        events: Sender<P, Event>,
        shared: Arc<Shared<P>>,
    ) -> Self {
        let slots = (0..workers)
            .map(|_| Slot {
                link: None,
                generation: 0,
                busy: None,
                closing: false,
                unreachable: false,
                killed: false,
                ready: false,
                #[cfg(test)]
                answered: false,
                failures: 0,
                restarting: false,
                broken: false,
            })
            .collect();
        Dispatcher {
            transport,
            flaw: OnCrash::Fail,
            options,
            events,
            shared,
            slots,
            queue: VecDeque::new(),
            shutting_down: false,
            terminating: false,
            last_start_error: String::new(),
            stats: PoolStats::default(),
            #[cfg(test)]
            mutant: TestMutant::None,
        }
    }

    pub(super) fn run(mut self, inbox: Receiver<P, Event>) -> PoolStats {
        self.transport.adopt_thread();
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
                Event::Submit(job) if self.terminating => {
                    let error = TaskError::Cancelled { task: job.task };
                    self.complete(job.id, Err(error));
                }
                Event::Submit(job) => {
                    self.queue.push_back(job);
                    self.retry_given_up();
                }
                Event::Shutdown => self.shutting_down = true,
                Event::ShutdownWithin(timeout) => {
                    self.shutting_down = true;
                    let events = self.events.clone();
                    self.transport.send_later(timeout, events, Event::Terminate);
                }
                Event::Terminate => self.terminate(),
                Event::Restart { slot } => self.restart(slot),
                Event::KillStragglers => self.kill_stragglers(),
                Event::Ready { worker } => self.ready(worker),
                Event::Reply { worker, reply } => self.reply(worker, reply),
                Event::Exited { worker, status } => self.exited(worker, status),
            }
        }
        self.stats
    }

    fn complete(&mut self, id: u64, result: Result<Value, TaskError>) {
        self.stats.tasks_completed += 1;
        if self.options.history {
            self.stats.completions.push(id);
        }
        self.shared.complete(id, result);
    }

    fn start(&mut self, slot: usize) {
        let worker = WorkerId {
            slot,
            generation: self.slots[slot].generation,
        };
        match self.transport.start(worker, self.events.clone()) {
            Ok(link) => {
                self.stats.workers_started += 1;
                let s = &mut self.slots[slot];
                s.link = Some(link);
                s.ready = !self.transport.handshake();
            }
            Err(e) => self.startup_failed(slot, e),
        }
    }

    /// Slot `slot`'s worker could not start, or died before it was ready: restart it now, later
    /// ([`backoff`]), or, after [`MAX_STARTUP_FAILURES`] in a row, give it up until its backoff
    /// is over and a job comes.
    fn startup_failed(&mut self, slot: usize, why: String) {
        let s = &mut self.slots[slot];
        s.failures += 1;
        let failures = s.failures;
        if failures >= MAX_STARTUP_FAILURES {
            s.broken = true;
            self.last_start_error =
                format!("{why}, {failures} times in a row; the pool tries again later");
        }
        if !self.wants_workers() {
            return;
        }
        match backoff(failures) {
            None => self.start(slot),
            Some(delay) => {
                self.slots[slot].restarting = true;
                let events = self.events.clone();
                self.transport
                    .send_later(delay, events, Event::Restart { slot });
            }
        }
    }

    fn ready(&mut self, worker: WorkerId) {
        let slot = &mut self.slots[worker.slot];
        // TEST MUTANT counts-ready-deaths: only an answer resets the count.
        #[cfg(test)]
        if self.mutant == TestMutant::CountsReadyDeaths {
            if slot.generation == worker.generation {
                slot.ready = true;
            }
            return;
        }
        if slot.generation == worker.generation {
            slot.ready = true;
            slot.failures = 0;
            slot.broken = false;
        }
    }

    /// After [`STRAGGLER_GRACE`] past [`Event::Terminate`]: kills every worker still alive.
    fn kill_stragglers(&mut self) {
        for slot in &mut self.slots {
            if let Some(link) = &mut slot.link {
                link.kill();
            }
        }
    }

    /// Whether a slot's worker that is gone is to be replaced: not while winding down with
    /// nothing left to run.
    fn wants_workers(&self) -> bool {
        !self.terminating && (!self.shutting_down || !self.queue.is_empty())
    }

    /// A slot's backoff is over: a slot not given up starts now; a given-up one when the next
    /// job comes ([`Dispatcher::retry_given_up`]), so an idle pool does not keep starting a
    /// broken program.
    fn restart(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        s.restarting = false;
        if s.link.is_none() && !s.broken && self.wants_workers() {
            self.start(slot);
        }
    }

    /// A new job came: each given-up slot whose backoff is over is tried again. Only a new job
    /// triggers it, so jobs that failed at the give-up are not what keeps a broken program
    /// restarting.
    fn retry_given_up(&mut self) {
        for slot in 0..self.slots.len() {
            let s = &self.slots[slot];
            if s.broken && s.link.is_none() && !s.restarting && self.wants_workers() {
                self.start(slot);
            }
        }
    }

    /// Hands queued jobs to ready idle workers. With jobs waiting, starts every slot that has
    /// no worker, is not given up and has no backoff to sit out; fails the jobs if still no
    /// worker is alive or coming: a job never waits for a worker that cannot come.
    fn assign(&mut self) {
        if !self.queue.is_empty() && !self.terminating {
            for slot in 0..self.slots.len() {
                let s = &self.slots[slot];
                if s.link.is_none() && !s.restarting && !s.broken {
                    self.start(slot);
                }
            }
            if !self.slots.iter().any(Slot::coming) {
                // TEST MUTANT forgets-queue-on-give-up.
                #[cfg(test)]
                if self.mutant == TestMutant::ForgetsQueueOnGiveUp {
                    return;
                }
                for job in std::mem::take(&mut self.queue) {
                    let error = TaskError::NoWorkers {
                        task: job.task,
                        message: self.last_start_error.clone(),
                    };
                    self.complete(job.id, Err(error));
                }
                return;
            }
        }
        for slot in &mut self.slots {
            if self.queue.is_empty() {
                return;
            }
            if !slot.idle() {
                continue;
            }
            let Some(link) = &mut slot.link else { continue };
            let job = self.queue.pop_front().expect("the queue is not empty");
            match link.send(&job) {
                Ok(()) => {
                    if self.options.history {
                        *self.stats.dispatched.entry(job.id).or_default() += 1;
                    }
                    slot.busy = Some(job);
                }
                // Not delivered: the worker is gone (its Exited follows). The job never ran;
                // another worker takes it.
                Err(_) => {
                    slot.unreachable = true;
                    // TEST MUTANT drops-undelivered-job.
                    #[cfg(test)]
                    if self.mutant == TestMutant::DropsUndeliveredJob {
                        continue;
                    }
                    self.queue.push_front(job);
                }
            }
        }
    }

    fn reply(&mut self, worker: WorkerId, reply: Reply) {
        let slot = &mut self.slots[worker.slot];
        if slot.generation != worker.generation {
            return;
        }
        match slot.busy.take() {
            Some(job) if job.id == reply.id => {
                #[cfg(test)]
                {
                    slot.answered = true;
                    if self.mutant == TestMutant::CountsReadyDeaths {
                        slot.failures = 0;
                    }
                }
                let result = reply.result.map_err(|message| TaskError::Failed {
                    task: job.task,
                    message,
                });
                self.complete(job.id, result);
            }
            // A reply to a job it was not given: ignore it, keep waiting for the real one.
            other => slot.busy = other,
        }
    }

    /// Cancels the queue, kills the workers running jobs, closes the idle ones.
    fn terminate(&mut self) {
        self.shutting_down = true;
        self.terminating = true;
        #[allow(unused_mut)]
        let mut queue = std::mem::take(&mut self.queue);
        // TEST MUTANT terminate-keeps-queue.
        #[cfg(test)]
        if self.mutant == TestMutant::TerminateKeepsQueue {
            self.queue = std::mem::take(&mut queue);
        }
        for job in queue {
            let error = TaskError::Cancelled { task: job.task };
            self.complete(job.id, Err(error));
        }
        for slot in &mut self.slots {
            let Some(link) = &mut slot.link else { continue };
            if slot.busy.is_some() {
                link.kill();
                slot.killed = true;
            } else if !slot.closing {
                link.close();
            }
            slot.closing = true;
        }
        let events = self.events.clone();
        self.transport
            .send_later(STRAGGLER_GRACE, events, Event::KillStragglers);
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
        // Only a worker that ends unasked before it was ready failed to start; one that dies
        // later fails its task, if it had one, and is replaced at once.
        let asked_to_end = slot.closing || slot.killed;
        #[allow(unused_mut)]
        let mut startup_failure = !slot.ready && !asked_to_end;
        // TEST MUTANT counts-ready-deaths (the answered-nothing test of 790787c).
        #[cfg(test)]
        if self.mutant == TestMutant::CountsReadyDeaths {
            startup_failure = !asked_to_end && !slot.answered;
        }
        slot.closing = false;
        slot.unreachable = false;
        slot.ready = false;
        #[cfg(test)]
        {
            slot.answered = false;
        }
        let killed = std::mem::take(&mut slot.killed);
        if let Some(job) = slot.busy.take() {
            // A flaw is honoured only under a model backend: production keeps the correct arm.
            let flaw = if P::MODEL { self.flaw } else { OnCrash::Fail };
            match flaw {
                _ if killed => {
                    let error = TaskError::Terminated { task: job.task };
                    self.complete(job.id, Err(error));
                }
                OnCrash::Fail => {
                    let error = TaskError::WorkerDied {
                        task: job.task,
                        status,
                    };
                    self.complete(job.id, Err(error));
                }
                // MUTANT loses-task-on-crash: the task is forgotten; its future never completes.
                OnCrash::Lose => {}
                // MUTANT reruns-on-crash: the task runs again, though its side effects in the
                // dead worker may have happened already.
                OnCrash::Rerun => self.queue.push_front(job),
            }
        }
        if startup_failure {
            let why = format!("the worker process {status} before it could take any task");
            self.startup_failed(worker.slot, why);
        } else if self.wants_workers() {
            self.start(worker.slot);
        }
    }
}

/// Model checks of the logic added for issues 11 and 20, with the test-only mutants each
/// catches.
#[cfg(test)]
#[path = "dispatcher_tests.rs"]
mod tests;
