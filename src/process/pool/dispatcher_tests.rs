//! Model checks of the dispatcher logic added for issues 11 and 20 (startup-failure give-up
//! and retry, deaths of ready workers, terminate, a failed hand-over), over simulated workers,
//! each with the test-only mutant it catches.

use super::*;
use crate::explore::{Checker, FailureKind, LoomConfig, Report, ShuttleConfig};
use crate::process::pool::ProcessPool;
use crate::process::sim::{SimLink, SimTransport};
use crate::process::task::{Death, Registry, DIE};
use crate::sync::{Loom, Shuttle};

/// Workers whose first `deaths` starts die before they are ready (exited with status 1,
/// reported at once); a job handed to a dead one is lost with it, or refused if `refuses`.
/// Later starts are healthy simulated workers, ready at once.
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
    fn handshake(&self) -> bool {
        // Without one, a dead start is taken as ready and handed a job: the hand-over case.
        !self.refuses
    }
    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<Self::Link, String> {
        if self.deaths == 0 {
            if !self.refuses {
                let _ = events.send(Event::Ready { worker });
            }
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

/// Workers without threads of their own (loom allows 4 threads): each is ready at once and
/// answers on the dispatcher's thread; the [`DIE`] task ends it (`SIGKILL`) with no reply.
struct Inline;

struct InlineLink<P: Primitives> {
    worker: WorkerId,
    events: Sender<P, Event>,
    dead: bool,
}

impl<P: Primitives> InlineLink<P> {
    fn end(&mut self, status: ExitDesc) {
        if !std::mem::replace(&mut self.dead, true) {
            let worker = self.worker;
            let _ = self.events.send(Event::Exited { worker, status });
        }
    }
}

impl<P: Primitives> Link for InlineLink<P> {
    fn send(&mut self, job: &Job) -> Result<(), String> {
        if self.dead {
            return Err("the worker is gone".into());
        }
        if job.task == DIE {
            self.end(ExitDesc::Signaled(libc::SIGKILL));
        } else {
            let (worker, id) = (self.worker, job.id);
            let reply = Reply {
                id,
                result: Ok(job.args.clone()),
            };
            let _ = self.events.send(Event::Reply { worker, reply });
        }
        Ok(())
    }
    fn close(&mut self) {
        self.end(ExitDesc::Exited(0));
    }
    fn kill(&mut self) {
        self.end(ExitDesc::Signaled(libc::SIGKILL));
    }
    fn join(self) {}
}

impl<P: Primitives> Transport<P> for Inline {
    type Link = InlineLink<P>;
    fn handshake(&self) -> bool {
        true
    }
    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<Self::Link, String> {
        let _ = events.send(Event::Ready { worker });
        Ok(InlineLink {
            worker,
            events,
            dead: false,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum Case {
    /// 1 worker whose every start dies before it is ready; 6 tasks: none is handed to a
    /// dead worker, each fails as given up, after at least 5 starts.
    GivesUp,
    /// 1 healthy worker, 3 tasks, then terminate: each task returns or is cancelled.
    Terminates,
    /// 1 inline worker; 6 tasks that each kill their worker, then `echo`: the 6 fail with
    /// their worker, the echo returns (deaths of ready workers never give a slot up).
    CrashesInTasks,
    /// 1 worker whose first start is gone before its first job arrives (the hand-over
    /// fails: no handshake, so it counts as ready at once); 2 tasks: both run, once each,
    /// on the replacement.
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
        Case::CrashesInTasks => (0, false, 7),
    };
    let transport = StartupDeaths {
        deaths,
        refuses,
        healthy,
    };
    let pool = match case {
        Case::CrashesInTasks => ProcessPool::<P>::with_test_mutant(1, Inline, mutant),
        _ => ProcessPool::<P>::with_test_mutant(1, transport, mutant),
    }
    .unwrap();
    let futures: Vec<_> = (0..tasks)
        .map(|i| match case {
            Case::CrashesInTasks if i < 6 => pool.submit(DIE, Death::Kill).unwrap(),
            _ => pool.submit("echo", i).unwrap(),
        })
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
                    exited with status 1 before it could take any task, ";
    for (i, result) in results.iter().enumerate() {
        let fine = match case {
            Case::GivesUp => {
                result.contains(given_up)
                    && result.ends_with(" times in a row; the pool tries again later")
            }
            Case::Terminates => {
                *result == format!("ok {i}")
                    || *result == "task `echo` was cancelled: the pool was terminated before it ran"
            }
            Case::HandOverFails => *result == format!("ok {i}"),
            Case::CrashesInTasks if i < 6 => {
                result
                    == "task `die` failed: its worker process was killed by signal 9 \
                               (SIGKILL) while running it"
            }
            Case::CrashesInTasks => *result == format!("ok {i}"),
        };
        if !fine {
            return Err(format!("task {i}: {result}"));
        }
    }
    if let Case::GivesUp = case {
        if *started < MAX_STARTUP_FAILURES as usize {
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
    for case in [
        Case::GivesUp,
        Case::Terminates,
        Case::HandOverFails,
        Case::CrashesInTasks,
    ] {
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

/// The bug of issue 20: six tasks that crash their fresh workers gave up a one-worker
/// pool, and the next task failed for want of workers. Every interleaving shows it.
#[test]
fn counting_ready_deaths_is_caught_by_both_checkers() {
    let (case, mutant) = (Case::CrashesInTasks, TestMutant::CountsReadyDeaths);
    for report in [loom_check(case, mutant), shuttle_check(case, mutant)] {
        println!("{}", report.summary());
        assert_eq!(
            report.failure_kind(),
            Some(FailureKind::InvariantViolated),
            "{}",
            report.summary()
        );
        assert!(
            report
                .summary()
                .contains("could not run: no worker process"),
            "{}",
            report.summary()
        );
    }
}
