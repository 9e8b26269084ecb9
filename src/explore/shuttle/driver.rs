//! threadproof's shuttle scheduler, [`Driver`]: in exploration an inner Random, PCT or URW
//! scheduler decides and every decision that differs from the default schedule is recorded; in
//! replay the recorded differences decide. Also the runs of one body under it ([`Runs`]).
//!
//! Invariant: a replay of the decisions an execution recorded runs that execution again, and
//! every execution ends quietly (a failure stops it through the scheduler).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use ::shuttle::scheduler::{
    PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId, UrwRandomScheduler,
};
use ::shuttle::{Config, FailurePersistence, MaxSteps, Runner};

use super::{Decisions, Switch};
use crate::explore::{run_checker, with_timer, Recorder, RunEnd};
use crate::sync::choice::{self, Drawing, Kind};
use crate::sync::model::{self, Stop};
use crate::sync::Shuttle;

/// How simple an execution's schedule was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Simplicity {
    pub(super) preemptions: usize,
    pub(super) context_switches: usize,
    pub(super) spurious_wakeups: usize,
}

/// The schedulers threadproof drives shuttle with.
pub(super) enum Inner {
    Random(RandomScheduler),
    Pct(PctScheduler),
    Urw(UrwRandomScheduler),
}

impl Inner {
    fn scheduler(&mut self) -> &mut dyn Scheduler {
        match self {
            Inner::Random(s) => s,
            Inner::Pct(s) => s,
            Inner::Urw(s) => s,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // shuttle's RandomScheduler prints a "failing seed" to stderr when dropped before it
        // ran out of iterations: run it out (each new execution is a reseed, nothing more).
        if let Inner::Random(scheduler) = self {
            while scheduler.new_execution().is_some() {}
        }
    }
}

pub(super) enum Mode {
    Explore {
        inner: Inner,
        /// PCT panics when no step of the first execution had a choice: it then runs the one
        /// schedule there is.
        single_schedule: bool,
        iterations_left: usize,
        pct: bool,
    },
    Replay {
        decisions: Decisions,
        started: bool,
        /// Where the decisions say nothing and the running thread cannot go on, pick the next
        /// thread with this random state instead of the default (xorshift; `None`: default).
        fill: Option<u64>,
    },
}

/// threadproof's shuttle scheduler (see the module docs).
pub(super) struct Driver {
    mode: Mode,
    over_budget: Box<dyn Fn() -> bool>,
    out_of_budget: bool,
    /// Each task's scheduling points so far in this execution, by task id.
    points: Vec<usize>,
    /// This execution's differences from the default schedule.
    pub(super) decisions: Decisions,
    pub(super) simplicity: Simplicity,
    /// Steps with a choice between threads, in this execution and at most in any.
    pub(super) choice_steps: usize,
    pub(super) most_choice_steps: usize,
    /// The threads seen runnable in this execution (by task id), how many, and the most
    /// in any execution.
    threads_seen: Vec<bool>,
    pub(super) threads: usize,
    pub(super) most_threads: usize,
    /// The points where a preemption could have happened in this execution: the running
    /// task, its scheduling point, and the other tasks that could run there.
    preemptible: Vec<(usize, usize, Vec<usize>)>,
    /// For each of this execution's switches in `decisions`, whether it preempted.
    pub(super) preempting: Vec<bool>,
    /// A buffer for the runnable threads' ids, kept between calls.
    ids: Vec<usize>,
    /// The steps an execution may take ([`super::ShuttleConfig::max_steps`]), the steps of
    /// this one, and the executions cut at the limit so far.
    pub(super) max_steps: usize,
    steps: usize,
    pub(super) cut: u64,
    /// In replay, the recorded switches that took place, by index: a switch that never did
    /// names a thread this run did not have (the timer's, when the token was found with it).
    pub(super) applied: Vec<usize>,
}

/// The watchdog's task id: each execution spawns it first, after main (task 0).
const WATCHDOG: usize = 1;

fn task_id(task: &Task) -> usize {
    usize::from(task.id())
}

impl Driver {
    pub(super) fn new(mode: Mode, over_budget: Box<dyn Fn() -> bool>) -> Self {
        Driver {
            mode,
            over_budget,
            out_of_budget: false,
            points: Vec::new(),
            decisions: Decisions::default(),
            simplicity: Simplicity::default(),
            choice_steps: 0,
            most_choice_steps: 0,
            threads_seen: Vec::new(),
            threads: 0,
            most_threads: 0,
            preemptible: Vec::new(),
            preempting: Vec::new(),
            ids: Vec::new(),
            max_steps: super::MAX_STEPS,
            steps: 0,
            cut: 0,
            applied: Vec::new(),
        }
    }

    /// The default choice: stay on the running thread if it can go on and did not yield, else
    /// the next runnable thread after it in id order.
    fn default_choice(runnable: &[usize], current: Option<usize>, yielding: bool) -> usize {
        if let Some(current) = current {
            if !yielding && runnable.contains(&current) {
                return current;
            }
            let others = runnable.iter().copied().filter(|t| *t != current);
            if let Some(next) = others.clone().find(|t| *t > current).or(others.min()) {
                return next;
            }
        }
        runnable[0]
    }
}

impl Scheduler for Driver {
    fn new_execution(&mut self) -> Option<Schedule> {
        if model::stop_requested() {
            // The last execution failed: the exploration ends with it.
            return None;
        }
        let schedule = match &mut self.mode {
            Mode::Replay { started, .. } => {
                if std::mem::replace(started, true) {
                    // One execution only; what it did stays readable.
                    return None;
                }
                Schedule::new(0)
            }
            Mode::Explore {
                inner,
                single_schedule,
                iterations_left,
                pct,
            } => {
                if *iterations_left == 0 {
                    return None;
                }
                if (self.over_budget)() {
                    self.out_of_budget = true;
                    return None;
                }
                *iterations_left -= 1;
                let ran_once = self.most_threads.max(self.threads) > 0;
                let no_choice_yet = self.most_choice_steps.max(self.choice_steps) == 0;
                if *pct && ran_once && no_choice_yet {
                    *single_schedule = true;
                }
                if *single_schedule {
                    Schedule::new(0)
                } else {
                    inner.scheduler().new_execution()?
                }
            }
        };
        self.most_choice_steps = self.most_choice_steps.max(self.choice_steps);
        self.most_threads = self.most_threads.max(self.threads);
        self.threads_seen.clear();
        self.threads = 0;
        self.points.clear();
        self.preemptible.clear();
        self.preempting.clear();
        self.choice_steps = 0;
        self.steps = 0;
        self.decisions.switches.clear();
        self.decisions.draws.clear();
        self.simplicity = Simplicity::default();
        Some(schedule)
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        if model::stop_requested() {
            return None;
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            // Stopped here, the execution ends quietly (shuttle may still ask while it tears
            // the execution down), and the exploration goes on.
            if self.steps == self.max_steps + 1 {
                self.cut += 1;
            }
            return None;
        }
        // The model threads that can run (all but the watchdog), without allocating for the
        // usual handful.
        let is_thread = |t: &&&Task| task_id(t) != WATCHDOG;
        let mut inline = [runnable[0]; 8];
        let spilled: Vec<&Task>;
        let threads: &[&Task] = if runnable.len() <= inline.len() {
            let mut n = 0;
            for task in runnable.iter().filter(is_thread) {
                inline[n] = task;
                n += 1;
            }
            &inline[..n]
        } else {
            spilled = runnable.iter().filter(is_thread).copied().collect();
            &spilled
        };
        if threads.is_empty() {
            if model::live_threads() > 0 {
                // Only the watchdog can run: every model thread is blocked.
                model::request_stop(Stop::Deadlock);
                return None;
            }
            // Every model thread is done: let the watchdog finish too.
            return runnable.first().map(|t| t.id());
        }
        let mut ids = std::mem::take(&mut self.ids);
        ids.clear();
        ids.extend(threads.iter().map(|t| task_id(t)));
        // The count of threads: PCT's bound, and the report's largest execution.
        for &id in &ids {
            if self.threads_seen.len() <= id {
                self.threads_seen.resize(id + 1, false);
            }
            if !std::mem::replace(&mut self.threads_seen[id], true) {
                self.threads += 1;
            }
        }
        let current_id = current.map(usize::from);
        let default = Self::default_choice(&ids, current_id, is_yielding);
        if ids.len() > 1 {
            self.choice_steps += 1;
        }
        // Where the running task is in its own program: its how-manieth scheduling point.
        let at = current_id.map(|c| {
            if self.points.len() <= c {
                self.points.resize(c + 1, 0);
            }
            self.points[c] += 1;
            self.points[c] - 1
        });
        let could_go_on = current_id.is_some_and(|c| ids.contains(&c)) && !is_yielding;
        let chosen = match &mut self.mode {
            Mode::Explore {
                inner,
                single_schedule,
                pct,
                ..
            } => {
                if *single_schedule {
                    default
                } else if *pct && at == Some(0) && could_go_on {
                    // A thread's first scheduling point comes before its first visible step:
                    // a priority change there would demote a just-spawned thread before it did
                    // anything. PCT's change points fall on its early steps of small bodies
                    // (shuttle samples them below the longest execution it saw), so counting
                    // this point made PCT at depth >= 2 never let a spawned thread act before
                    // its spawner. Not counted, the thread's random priority decides.
                    default
                } else if let Inner::Urw(urw) = inner {
                    // URW counts every task from its spawn, in id order, so it must see the
                    // watchdog too; it is never run while another thread can be, so URW is
                    // asked again when it draws it (its weight is one step among many).
                    let chosen = (0..16)
                        .filter_map(|_| urw.next_task(runnable, current, is_yielding))
                        .map(usize::from)
                        .find(|t| *t != WATCHDOG);
                    chosen.unwrap_or(default)
                } else {
                    let chosen = inner.scheduler().next_task(threads, current, is_yielding);
                    chosen.map_or(default, usize::from)
                }
            }
            Mode::Replay {
                decisions, fill, ..
            } => {
                let index = decisions.switches.iter().position(|s| {
                    Some(s.from) == current_id && Some(s.at) == at && ids.contains(&s.to)
                });
                if let Some(index) = index.filter(|i| !self.applied.contains(i)) {
                    self.applied.push(index);
                }
                let decided = index.map(|i| &decisions.switches[i]);
                let could_go_on = current_id.is_some_and(|c| ids.contains(&c)) && !is_yielding;
                match (decided, fill) {
                    (Some(switch), _) => switch.to,
                    (None, Some(state)) if !could_go_on => {
                        *state ^= *state << 13;
                        *state ^= *state >> 7;
                        *state ^= *state << 17;
                        ids[(*state % ids.len() as u64) as usize]
                    }
                    (None, _) => default,
                }
            }
        };
        if let (Some(from), Some(at)) = (current_id, at) {
            // Only replays (shrinking) look for where a preemption could go.
            if could_go_on && ids.len() > 1 && matches!(self.mode, Mode::Replay { .. }) {
                let others = ids.iter().copied().filter(|t| *t != from).collect();
                self.preemptible.push((from, at, others));
            }
            if chosen != default {
                self.decisions.switches.push(Switch {
                    from,
                    at,
                    to: chosen,
                });
                self.preempting.push(could_go_on);
            }
        }
        if current_id.is_some_and(|c| c != chosen) {
            self.simplicity.context_switches += 1;
            if could_go_on {
                self.simplicity.preemptions += 1;
            }
        }
        self.ids = ids;
        model::set_running(Some(chosen));
        Some(TaskId::from(chosen))
    }

    fn next_u64(&mut self) -> u64 {
        let Some(Drawing {
            choice,
            values,
            kind,
        }) = choice::choosing()
        else {
            // Not a choice of ours: shuttle's own randomness, never replayed.
            return match &mut self.mode {
                Mode::Explore { inner, .. } => inner.scheduler().next_u64(),
                Mode::Replay { .. } => 0,
            };
        };
        let value = match &mut self.mode {
            // With a single schedule (PCT on a body without a choice of threads) the values
            // are still drawn: they are the body's only nondeterminism.
            Mode::Explore { inner, .. } => inner.scheduler().next_u64() % values,
            Mode::Replay { decisions, .. } => decisions
                .draws
                .iter()
                .find(|(c, _)| *c == choice)
                .map_or(0, |(_, v)| *v),
        };
        if value != 0 {
            self.decisions.draws.push((choice, value));
        }
        if kind == Kind::Fault && value == values - 1 {
            self.simplicity.spurious_wakeups += 1;
        }
        value
    }
}

/// Given the driver of a chunk that ran all its schedules, the driver of the next chunk to run
/// in the same shuttle run; `None` ends the run.
pub(super) type NextChunk = Box<dyn FnMut(&Driver) -> Option<Driver>>;

/// A [`Driver`] shared with the runner that owns it, and what follows it in the same run.
///
/// Chunks run back to back in one shuttle run because shuttle keeps its pool of coroutine
/// stacks per run: a run per chunk of 64 made each chunk map and fault in fresh stacks, a fifth
/// of the wall time of a small body.
struct Shared {
    driver: Rc<RefCell<Driver>>,
    next: Option<NextChunk>,
}

impl Scheduler for Shared {
    fn new_execution(&mut self) -> Option<Schedule> {
        loop {
            let schedule = self.driver.borrow_mut().new_execution();
            if schedule.is_some() {
                return schedule;
            }
            // Only a chunk that ran all its schedules hands on: a stop or a budget ends the
            // run, and is read from the driver and the model when it has.
            let next = self.next.as_mut()?;
            let mut driver = self.driver.borrow_mut();
            if model::stop_requested() || driver.out_of_budget {
                return None;
            }
            *driver = next(&driver)?;
        }
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        self.driver
            .borrow_mut()
            .next_task(runnable, current, yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.driver.borrow_mut().next_u64()
    }
}

/// The body and invariant of one exploration, and what records their executions.
pub(super) struct Runs<O, B, I> {
    pub(super) recorder: Arc<Recorder<O>>,
    pub(super) checked: Arc<(B, I)>,
    /// Whether each execution runs the timer of timed waits ([`crate::sync::timer`]).
    pub(super) timer: bool,
    /// The steps an execution may take ([`super::ShuttleConfig::max_steps`]): a replay cuts
    /// where the exploration did.
    pub(super) max_steps: usize,
}

impl<O, B, I> Runs<O, B, I>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    /// Runs shuttle with `driver`, and then with each driver `next` gives, until it stops;
    /// each execution first starts the watchdog. How the last driver's run ended.
    pub(super) fn run(&self, driver: &Rc<RefCell<Driver>>, next: Option<NextChunk>) -> RunEnd {
        let mut config = Config::new();
        // Failures come back in the report, with a replay token of our own.
        config.failure_persistence = FailurePersistence::None;
        config.silence_warnings = true;
        // The driver cuts an execution at its own step limit, as a budget: shuttle's would
        // fail it as a panic in the user's code.
        config.max_steps = MaxSteps::None;
        let (recorder, checked) = (Arc::clone(&self.recorder), Arc::clone(&self.checked));
        let timer = self.timer;
        let execution = move || {
            let watchdog = ::shuttle::thread::spawn(|| {});
            assert_eq!(usize::from(watchdog.thread().id()), WATCHDOG);
            let body = || with_timer::<Shuttle, O>(timer, &checked.0);
            recorder.execute_quietly(&body, &checked.1);
        };
        let shared = Shared {
            driver: Rc::clone(driver),
            next,
        };
        let runner = Runner::new(shared, config);
        let end = run_checker(|| {
            runner.run(execution);
        });
        model::set_running(None);
        if let RunEnd::Completed = end {
            if driver.borrow().out_of_budget {
                return RunEnd::OutOfBudget;
            }
        }
        end
    }

    /// Replays `decisions` once, with the choices they leave free at blocking points drawn
    /// from `fill` rather than the default: what happened, the schedule it really ran, how
    /// simple, and where it could have been preempted.
    pub(super) fn replay_filling(&self, decisions: &Decisions, fill: Option<u64>) -> Replayed {
        let mode = Mode::Replay {
            decisions: decisions.clone(),
            started: false,
            fill,
        };
        let mut driver = Driver::new(mode, Box::new(|| false));
        driver.max_steps = self.max_steps;
        let driver = Rc::new(RefCell::new(driver));
        let end = self.run(&driver, None);
        let driver = driver.borrow();
        Replayed {
            end,
            decisions: driver.decisions.clone(),
            simplicity: driver.simplicity,
            preemptible: driver.preemptible.clone(),
            preempting: driver.preempting.clone(),
        }
    }
}

/// One replayed execution (see [`Runs::replay_filling`]).
pub(super) struct Replayed {
    pub(super) end: RunEnd,
    pub(super) decisions: Decisions,
    pub(super) simplicity: Simplicity,
    pub(super) preemptible: Vec<(usize, usize, Vec<usize>)>,
    pub(super) preempting: Vec<bool>,
}
