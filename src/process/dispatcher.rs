//! The process pool's dispatcher: one thread that owns every worker slot and the queue, and
//! reacts to one stream of [`Event`]s.
//!
//! Invariant: each job is handed to at most one live worker at a time; a reply completes the
//! job it answers (only from the worker's current incarnation); a worker's [`Event::Exited`]
//! fails the job it was running with [`TaskError::WorkerDied`] and starts a replacement. A job
//! whose hand-over failed (the worker was already gone) was never delivered and goes back to
//! the queue. Jobs that no worker can be started for fail with [`TaskError::NoWorkers`]: none
//! waits forever.
//!
//! A worker that dies before answering anything, [`MAX_STARTUP_FAILURES`] times in a row in
//! one slot, is a broken program, not bad luck: the slot is restarted at once after the first
//! such death, then after a doubling wait ([`backoff`]), and given up after the last; once
//! every slot is given up, queued and new jobs fail with [`TaskError::NoWorkers`] naming the
//! exit status. On [`Event::Terminate`] queued jobs fail as cancelled and running ones'
//! workers are killed, their jobs failing as terminated.
//!
//! Known-bad variants ([`Flaw`]) sit beside the crash handling, marked `MUTANT`; only the
//! `process_pool` scenario's mutants construct them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::pool::{PoolOptions, PoolStats, Shared, TaskError};
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
}

/// Deaths before answering anything, in a row in one slot, after which the slot is given up.
pub(crate) const MAX_STARTUP_FAILURES: u32 = 5;

/// How long to wait before restarting a slot whose worker died `failures` times in a row
/// before answering anything: not at all after the first (a task may kill a fresh worker),
/// then 50 ms, doubling.
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
    /// This incarnation has answered a job.
    answered: bool,
    /// Incarnations in a row that died before answering anything.
    failures: u32,
    /// A restart is due later ([`backoff`]).
    restarting: bool,
    /// Given up after [`MAX_STARTUP_FAILURES`].
    broken: bool,
}

impl<L> Slot<L> {
    /// Whether a job can be handed to it now.
    fn idle(&self) -> bool {
        self.link.is_some() && self.busy.is_none() && !self.closing && !self.unreachable
    }
}

pub(super) struct Dispatcher<P: Primitives, T: Transport<P>> {
    transport: T,
    pub(super) flaw: Flaw,
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
                answered: false,
                failures: 0,
                restarting: false,
                broken: false,
            })
            .collect();
        Dispatcher {
            transport,
            flaw: Flaw::FailsTheTask,
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
                Event::Submit(job) => self.queue.push_back(job),
                Event::Shutdown => self.shutting_down = true,
                Event::ShutdownWithin(timeout) => {
                    self.shutting_down = true;
                    let events = self.events.clone();
                    self.transport.send_later(timeout, events, Event::Terminate);
                }
                Event::Terminate => self.terminate(),
                Event::Restart { slot } => self.restart(slot),
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
                self.slots[slot].link = Some(link);
            }
            Err(e) => self.last_start_error = e,
        }
    }

    /// Whether a slot's worker that is gone is to be replaced: not while winding down with
    /// nothing left to run.
    fn wants_workers(&self) -> bool {
        !self.terminating && (!self.shutting_down || !self.queue.is_empty())
    }

    fn restart(&mut self, slot: usize) {
        let s = &mut self.slots[slot];
        s.restarting = false;
        if s.link.is_none() && !s.broken && self.wants_workers() {
            self.start(slot);
        }
    }

    /// Hands queued jobs to idle workers; with none alive or coming and jobs waiting, tries to
    /// start workers, and fails the jobs if none starts: a job never waits for a worker that
    /// cannot come.
    fn assign(&mut self) {
        let coming =
            |slots: &[Slot<T::Link>]| slots.iter().any(|s| s.link.is_some() || s.restarting);
        if !self.queue.is_empty() && !coming(&self.slots) && !self.terminating {
            for slot in 0..self.slots.len() {
                if !self.slots[slot].broken {
                    self.start(slot);
                }
            }
            if !coming(&self.slots) {
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
                slot.answered = true;
                slot.failures = 0;
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
        // A worker that ends unasked, having answered nothing, failed to start.
        let asked_to_end = slot.closing || slot.killed;
        if !slot.answered && !asked_to_end {
            slot.failures += 1;
        }
        slot.closing = false;
        slot.unreachable = false;
        slot.answered = false;
        let killed = std::mem::take(&mut slot.killed);
        let failures = slot.failures;
        if let Some(job) = slot.busy.take() {
            // A flaw is honoured only under a model backend: production keeps the correct arm.
            let flaw = if P::MODEL {
                self.flaw
            } else {
                Flaw::FailsTheTask
            };
            match flaw {
                _ if killed => {
                    let error = TaskError::Terminated { task: job.task };
                    self.complete(job.id, Err(error));
                }
                Flaw::FailsTheTask => {
                    let error = TaskError::WorkerDied {
                        task: job.task,
                        status,
                    };
                    self.complete(job.id, Err(error));
                }
                // MUTANT loses-task-on-crash: the task is forgotten; its future never completes.
                Flaw::LosesTaskOnCrash => {}
                // MUTANT reruns-on-crash: the task runs again, though its side effects in the
                // dead worker may have happened already.
                Flaw::RerunsOnCrash => self.queue.push_front(job),
            }
        }
        if !self.wants_workers() {
            return;
        }
        if failures >= MAX_STARTUP_FAILURES {
            self.slots[worker.slot].broken = true;
            self.last_start_error = format!(
                "the worker process {status} before answering any task, \
                 {MAX_STARTUP_FAILURES} times in a row"
            );
            return;
        }
        match backoff(failures) {
            None => self.start(worker.slot),
            Some(delay) => {
                self.slots[worker.slot].restarting = true;
                let events = self.events.clone();
                let restart = Event::Restart { slot: worker.slot };
                self.transport.send_later(delay, events, restart);
            }
        }
    }
}

/// Model checks of the logic added for issue 11 (startup-failure give-up, terminate, a failed
/// hand-over), over simulated workers, each with the test-only mutant it catches.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::{Checker, FailureKind, LoomConfig, Report, ShuttleConfig};
    use crate::process::pool::ProcessPool;
    use crate::process::sim::{SimLink, SimTransport};
    use crate::process::task::Registry;
    use crate::sync::{Loom, Shuttle};

    /// Workers whose first `deaths` starts die before answering anything (exited with status
    /// 1, reported at once); a job handed to a dead one is lost with it, or refused if
    /// `refuses`. Later starts are healthy simulated workers.
    struct StartupDeaths {
        deaths: usize,
        refuses: bool,
        healthy: SimTransport,
    }

    struct MaybeDead<P: Primitives> {
        refuses: bool,
        alive: Option<SimLink<P>>,
    }

    impl<P: Primitives> Link for MaybeDead<P> {
        fn send(&mut self, job: &Job) -> Result<(), String> {
            match &mut self.alive {
                Some(link) => link.send(job),
                None if self.refuses => Err("the worker is gone".into()),
                None => Ok(()),
            }
        }
        fn close(&mut self) {
            if let Some(link) = &mut self.alive {
                link.close();
            }
        }
        fn join(self) {
            if let Some(link) = self.alive {
                link.join();
            }
        }
    }

    impl<P: Primitives> Transport<P> for StartupDeaths {
        type Link = MaybeDead<P>;
        fn start(
            &mut self,
            worker: WorkerId,
            events: Sender<P, Event>,
        ) -> Result<Self::Link, String> {
            if self.deaths == 0 {
                let alive = self.healthy.start(worker, events)?;
                return Ok(MaybeDead {
                    refuses: self.refuses,
                    alive: Some(alive),
                });
            }
            self.deaths -= 1;
            let status = ExitDesc::Exited(1);
            let _ = events.send(Event::Exited { worker, status });
            Ok(MaybeDead {
                refuses: self.refuses,
                alive: None,
            })
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Case {
        /// 1 worker whose every start dies; 6 tasks: at most 5 die with a worker, the rest
        /// fail as given up.
        GivesUp,
        /// 1 healthy worker, 3 tasks, then terminate: each task returns or is cancelled.
        Terminates,
        /// 1 worker whose first start is gone before its first job arrives (the hand-over
        /// fails); 2 tasks: both run, once each, on the replacement.
        HandOverFails,
    }

    /// What the futures returned (in submission order) and how many workers were started.
    type Outcome = (Vec<String>, usize);

    fn run<P: Primitives>(case: Case, mutant: TestMutant) -> Outcome {
        let healthy = SimTransport::new(Registry::builtin());
        let (deaths, refuses, tasks) = match case {
            Case::GivesUp => (usize::MAX, false, 6),
            Case::Terminates => (0, false, 3),
            Case::HandOverFails => (1, true, 2),
        };
        let transport = StartupDeaths {
            deaths,
            refuses,
            healthy,
        };
        let pool = ProcessPool::<P>::with_test_mutant(1, transport, mutant).unwrap();
        let futures: Vec<_> = (0..tasks)
            .map(|i| pool.submit("echo", i).unwrap())
            .collect();
        let stats = match case {
            Case::Terminates => pool.terminate().unwrap(),
            _ => pool.shutdown().unwrap(),
        };
        let results = futures
            .iter()
            .map(|f| match f.result() {
                Ok(v) => format!("ok {v}"),
                Err(e) => e.to_string(),
            })
            .collect();
        assert!(
            stats.dispatched.values().all(|&n| n == 1),
            "dispatched twice"
        );
        assert_eq!(stats.tasks_completed, tasks);
        (results, stats.workers_started)
    }

    fn invariant(case: Case, (results, started): &Outcome) -> Result<(), String> {
        let given_up = "could not run: no worker process could be started: the worker process \
                        exited with status 1 before answering any task, 5 times in a row";
        for (i, result) in results.iter().enumerate() {
            let fine =
                match case {
                    Case::GivesUp => {
                        result.contains("its worker process exited with status 1")
                            || result.contains(given_up)
                    }
                    Case::Terminates => *result == format!("ok {i}")
                        || *result
                            == "task `echo` was cancelled: the pool was terminated before it ran",
                    Case::HandOverFails => *result == format!("ok {i}"),
                };
            if !fine {
                return Err(format!("task {i}: {result}"));
            }
        }
        if let Case::GivesUp = case {
            if *started != MAX_STARTUP_FAILURES as usize || !results[5].contains(given_up) {
                return Err(format!("{started} starts, {results:?}"));
            }
        }
        Ok(())
    }

    fn loom_check(case: Case, mutant: TestMutant) -> Report<Outcome> {
        Checker::Loom(LoomConfig::exhaustive().preemption_bound(2)).explore(
            move || run::<Loom>(case, mutant),
            move |o| invariant(case, o),
        )
    }

    fn shuttle_check(case: Case, mutant: TestMutant) -> Report<Outcome> {
        Checker::Shuttle(ShuttleConfig::random(300)).explore(
            move || run::<Shuttle>(case, mutant),
            move |o| invariant(case, o),
        )
    }

    #[test]
    fn correct_give_up_terminate_and_hand_over_pass_both_checkers() {
        for case in [Case::GivesUp, Case::Terminates, Case::HandOverFails] {
            for report in [
                loom_check(case, TestMutant::None),
                shuttle_check(case, TestMutant::None),
            ] {
                println!("{case:?}: {}", report.summary());
                assert!(report.passed(), "{case:?}: {}", report.summary());
                assert!(report.executions > 1, "{case:?}: {}", report.summary());
            }
        }
    }

    #[test]
    fn each_mutant_is_caught_as_a_deadlock_by_both_checkers() {
        for (case, mutant) in [
            (Case::GivesUp, TestMutant::ForgetsQueueOnGiveUp),
            (Case::Terminates, TestMutant::TerminateKeepsQueue),
            (Case::HandOverFails, TestMutant::DropsUndeliveredJob),
        ] {
            for report in [loom_check(case, mutant), shuttle_check(case, mutant)] {
                println!("{mutant:?}: {}", report.summary());
                assert_eq!(
                    report.failure_kind(),
                    Some(FailureKind::Deadlock),
                    "{mutant:?}: {}",
                    report.summary()
                );
            }
        }
    }
}
