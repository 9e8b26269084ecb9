//! Randomised exploration with shuttle: uniformly random schedules, PCT (probabilistic
//! concurrency testing, which finds a bug of depth d with a probability it bounds from below)
//! or a uniform random walk over interleavings (URW),
//! driven by threadproof's own scheduler, which records every choice, replays a recorded
//! schedule exactly, and shrinks a failing one.
//!
//! Invariant: runs are reproducible: the same config (seed included) explores the same
//! schedules and the same spurious wakeups. Every execution ends quietly: a failure stops it
//! through the scheduler, so shuttle prints nothing of its own (no "failing seed", no "test
//! panicked in task", no deadlock hint), and the report's replay token, not shuttle's, is what
//! reproduces it. A failure is shrunk before it is reported, as dejafu does: choices are taken
//! out of its schedule while it still fails the same way, fewest preemptions first.
//!
//! ```text
//!   Driver (shuttle's Scheduler)
//!     explore: inner Random/PCT decides; each decision that differs from the default
//!              (stay on the running thread, else the next runnable one) is recorded
//!     replay:  the recorded differences decide; everything else is the default
//! ```
//!
//! Deadlocks: every execution also has an idle watchdog thread, which the driver never runs
//! while another thread can run. When it is the only runnable thread and a model thread is
//! alive, every model thread is blocked: the driver stops the execution as a deadlock before
//! shuttle sees one.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::shuttle::scheduler::{
    PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId, UrwRandomScheduler,
};
use ::shuttle::{Config, FailurePersistence, Runner};

use super::{
    run_checker, with_timer, Budget, Checker, Coverage, Failure, FailureKind, Found, Minimal,
    Minimality, PctBound, Recorder, Report, RunEnd, Schedule as Token, Shape, Unsupported,
};
use crate::sync::choice::{self, Choice, Drawing, Kind, Policy};
use crate::sync::model::{self, Stop, ThreadKey};
use crate::sync::Shuttle;

/// Which schedules shuttle draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedules {
    /// Each step picks a runnable thread uniformly at random.
    Random,
    /// PCT with bug depth `depth`: random thread priorities and `depth - 1` priority changes.
    Pct { depth: usize },
    /// Uniform random walk (shuttle's `UrwRandomScheduler`): each step picks a thread with
    /// probability proportional to the steps it has left (estimated from earlier executions),
    /// so that every interleaving is about equally likely, not every step's choice.
    Urw,
}

/// How shuttle explores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShuttleConfig {
    pub schedules: Schedules,
    pub iterations: usize,
    pub seed: u64,
    /// Each wait wakes spuriously with probability `1/spurious_one_in`; 0 turns them off.
    pub spurious_one_in: u32,
    pub budget: Budget,
    /// Record each execution's primitive operations, so a failure comes with its trace.
    pub record_traces: bool,
    /// Replay: run this one schedule and nothing else (a failure's replay token sets it).
    pub replay: Option<Decisions>,
}

/// The variable shuttle's Random and PCT schedulers read a seed from, replacing the one given.
pub const SEED_ENV: &str = "SHUTTLE_RANDOM_SEED";

/// The seed `SHUTTLE_RANDOM_SEED` sets, if set: it is honoured (and named in the report).
pub fn environment_seed() -> Option<Result<u64, Unsupported>> {
    let value = std::env::var(SEED_ENV).ok()?;
    Some(value.trim().parse().map_err(|_| Unsupported {
        reason: format!("refused: {SEED_ENV}={value:?} is not a seed"),
        detail: Some("shuttle reads it as a decimal u64, in place of the run's own seed".into()),
        instead: Some(format!("unset {SEED_ENV} or give it a number")),
    }))
}

impl ShuttleConfig {
    pub fn random(iterations: usize) -> Self {
        ShuttleConfig {
            schedules: Schedules::Random,
            iterations,
            seed: 0x7468_7265_6164,
            spurious_one_in: 0,
            budget: Budget::UNLIMITED,
            record_traces: true,
            replay: None,
        }
    }

    pub fn pct(depth: usize, iterations: usize) -> Self {
        ShuttleConfig {
            schedules: Schedules::Pct { depth },
            ..Self::random(iterations)
        }
    }

    pub fn urw(iterations: usize) -> Self {
        ShuttleConfig {
            schedules: Schedules::Urw,
            ..Self::random(iterations)
        }
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turns faults on: each wait (or park) wakes, and each weak exchange fails, spuriously
    /// with probability `1/one_in`.
    pub fn spurious_one_in(mut self, one_in: u32) -> Self {
        self.spurious_one_in = one_in;
        self
    }

    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The config that replays `decisions`: seed and iterations play no part in it.
    pub fn replaying(&self, decisions: Decisions) -> ShuttleConfig {
        ShuttleConfig {
            schedules: self.schedules,
            spurious_one_in: self.spurious_one_in,
            record_traces: self.record_traces,
            replay: Some(decisions),
            ..ShuttleConfig::random(1)
        }
    }

    /// The seed the run uses: the config's, or `SHUTTLE_RANDOM_SEED`'s when that is set.
    fn effective_seed(&self) -> Result<(u64, bool), Unsupported> {
        match environment_seed() {
            Some(Ok(seed)) => Ok((seed, true)),
            Some(Err(refusal)) => Err(refusal),
            None => Ok((self.seed, false)),
        }
    }

    /// The settings as a report names them.
    pub fn describe(&self) -> String {
        let schedules = match self.schedules {
            Schedules::Random => "random".to_string(),
            Schedules::Pct { depth } => format!("pct depth {depth}"),
            Schedules::Urw => "urw".to_string(),
        };
        let spurious = match self.spurious_one_in {
            0 => "spurious wakeups and failures off".to_string(),
            n => format!("spurious wakeups and failures 1/{n}"),
        };
        if let Some(decisions) = &self.replay {
            return format!("shuttle (replaying the {schedules} schedule {decisions}, {spurious})");
        }
        let seed = match self.effective_seed() {
            Ok((seed, true)) => format!("seed {seed:#x} from {SEED_ENV}"),
            _ => format!("seed {:#x}", self.seed),
        };
        format!(
            "shuttle ({schedules}, {} iterations, {seed}, {spurious})",
            self.iterations
        )
    }

    /// What shuttle cannot see.
    pub fn blind_spots(&self) -> Vec<String> {
        let mut spots = vec![
            "weak memory (every atomic runs SeqCst)".to_string(),
            "data races on plain memory (Cell accesses interleave, but a race is not detected)"
                .to_string(),
        ];
        if self.replay.is_none() {
            spots.push("schedules it did not sample".to_string());
        }
        spots
    }
}

/// A schedule as the ways it differs from the default one (stay on the running thread, else
/// the next runnable one in id order; every choice 0). Each difference is keyed by the thread
/// it concerns and that thread's own progress, not by the global step count, so that taking
/// one out disturbs the others as little as possible: when task `t` is at its `k`-th
/// scheduling point, run task `u` instead (`s2k5t3`); the `k`-th choice (wait) of the thread
/// at spawn path `t0` takes value `v` (`dt0#2v3`). Items are joined by `_`; the default
/// schedule is `-`. Safe in a shell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decisions {
    pub switches: Vec<Switch>,
    pub draws: Vec<(Choice, u64)>,
}

/// Run task `to` when task `from` is at its `at`-th scheduling point (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    pub from: usize,
    pub at: usize,
    pub to: usize,
}

impl Decisions {
    pub fn parse(text: &str) -> Option<Decisions> {
        let mut decisions = Decisions::default();
        if text == "-" {
            return Some(decisions);
        }
        for item in text.split('_') {
            if let Some(switch) = item.strip_prefix('s') {
                let (from, rest) = switch.split_once('k')?;
                let (at, to) = rest.split_once('t')?;
                decisions.switches.push(Switch {
                    from: from.parse().ok()?,
                    at: at.parse().ok()?,
                    to: to.parse().ok()?,
                });
            } else if let Some(draw) = item.strip_prefix('d') {
                let (choice, value) = draw.rsplit_once('v')?;
                let (thread, ordinal) = choice.split_once('#')?;
                let choice = Choice {
                    thread: ThreadKey::parse(thread)?,
                    ordinal: ordinal.parse().ok()?,
                };
                decisions.draws.push((choice, value.parse().ok()?));
            } else {
                return None;
            }
        }
        Some(decisions)
    }

    fn len(&self) -> usize {
        self.switches.len() + self.draws.len()
    }

    /// The same decisions without the ones whose index (switches first, then draws) is in
    /// `removed`.
    fn without(&self, removed: &[usize]) -> Decisions {
        let switches = self.switches.len();
        Decisions {
            switches: (self.switches.iter().enumerate())
                .filter(|(i, _)| !removed.contains(i))
                .map(|(_, s)| *s)
                .collect(),
            draws: (self.draws.iter().enumerate())
                .filter(|(i, _)| !removed.contains(&(switches + i)))
                .map(|(_, d)| d.clone())
                .collect(),
        }
    }
}

impl fmt::Display for Decisions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.switches.is_empty() && self.draws.is_empty() {
            return f.write_str("-");
        }
        let switches = (self.switches.iter()).map(|s| format!("s{}k{}t{}", s.from, s.at, s.to));
        let draws = (self.draws.iter()).map(|(choice, value)| format!("d{choice}v{value}"));
        f.write_str(&switches.chain(draws).collect::<Vec<_>>().join("_"))
    }
}

/// How simple an execution's schedule was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Simplicity {
    preemptions: usize,
    context_switches: usize,
    spurious_wakeups: usize,
}

/// The schedulers threadproof drives shuttle with.
enum Inner {
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

enum Mode {
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
struct Driver {
    mode: Mode,
    over_budget: Box<dyn Fn() -> bool>,
    out_of_budget: bool,
    /// Each task's scheduling points so far in this execution, by task id.
    points: Vec<usize>,
    /// This execution's differences from the default schedule.
    decisions: Decisions,
    simplicity: Simplicity,
    /// Steps with a choice between threads, in this execution and at most in any.
    choice_steps: usize,
    most_choice_steps: usize,
    /// The threads seen runnable in this execution, and at most in any.
    threads_seen: Vec<usize>,
    most_threads: usize,
    /// The points where a preemption could have happened in this execution: the running
    /// task, its scheduling point, and the other tasks that could run there.
    preemptible: Vec<(usize, usize, Vec<usize>)>,
    /// For each of this execution's switches in `decisions`, whether it preempted.
    preempting: Vec<bool>,
    /// A buffer for the runnable threads' ids, kept between calls.
    ids: Vec<usize>,
}

thread_local! {
    /// The watchdog task of the running execution.
    static WATCHDOG: Cell<Option<usize>> = const { Cell::new(None) };
}

fn task_id(task: &Task) -> usize {
    usize::from(task.id())
}

impl Driver {
    fn new(mode: Mode, over_budget: Box<dyn Fn() -> bool>) -> Self {
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
            most_threads: 0,
            preemptible: Vec::new(),
            preempting: Vec::new(),
            ids: Vec::new(),
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
                let ran_once = self.most_threads > 0 || !self.threads_seen.is_empty();
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
        self.most_threads = self.most_threads.max(self.threads_seen.len());
        self.threads_seen.clear();
        self.points.clear();
        self.preemptible.clear();
        self.preempting.clear();
        self.choice_steps = 0;
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
        let watchdog = WATCHDOG.with(Cell::get);
        // The model threads that can run (all but the watchdog), without allocating for the
        // usual handful.
        let is_thread = |t: &&&Task| Some(task_id(t)) != watchdog;
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
        // Only PCT's bound needs the count of threads.
        if matches!(self.mode, Mode::Explore { pct: true, .. }) {
            for id in &ids {
                if !self.threads_seen.contains(id) {
                    self.threads_seen.push(*id);
                }
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
        let chosen = match &mut self.mode {
            Mode::Explore {
                inner,
                single_schedule,
                ..
            } => {
                if *single_schedule {
                    default
                } else if let Inner::Urw(urw) = inner {
                    // URW counts every task from its spawn, in id order, so it must see the
                    // watchdog too; it is never run while another thread can be, so URW is
                    // asked again when it draws it (its weight is one step among many).
                    let chosen = (0..16)
                        .filter_map(|_| urw.next_task(runnable, current, is_yielding))
                        .map(usize::from)
                        .find(|t| Some(*t) != watchdog);
                    chosen.unwrap_or(default)
                } else {
                    let chosen = inner.scheduler().next_task(threads, current, is_yielding);
                    chosen.map_or(default, usize::from)
                }
            }
            Mode::Replay {
                decisions, fill, ..
            } => {
                let decided = decisions.switches.iter().find(|s| {
                    Some(s.from) == current_id && Some(s.at) == at && ids.contains(&s.to)
                });
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
        let could_go_on = current_id.is_some_and(|c| ids.contains(&c)) && !is_yielding;
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

/// A [`Driver`] shared with the runner that owns it.
struct Shared(Rc<RefCell<Driver>>);

impl Scheduler for Shared {
    fn new_execution(&mut self) -> Option<Schedule> {
        self.0.borrow_mut().new_execution()
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        yielding: bool,
    ) -> Option<TaskId> {
        self.0.borrow_mut().next_task(runnable, current, yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.0.borrow_mut().next_u64()
    }
}

/// The body and invariant of one exploration, and what records their executions.
struct Runs<O, B, I> {
    recorder: Arc<Recorder<O>>,
    checked: Arc<(B, I)>,
    /// Whether each execution runs the timer of timed waits ([`crate::sync::timer`]).
    timer: bool,
}

impl<O, B, I> Runs<O, B, I>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    /// Runs shuttle with `driver` until it stops; each execution first starts the watchdog.
    fn run(&self, driver: &Rc<RefCell<Driver>>) -> RunEnd {
        let mut config = Config::new();
        // Failures come back in the report, with a replay token of our own.
        config.failure_persistence = FailurePersistence::None;
        config.silence_warnings = true;
        let (recorder, checked) = (Arc::clone(&self.recorder), Arc::clone(&self.checked));
        let timer = self.timer;
        let execution = move || {
            let watchdog = ::shuttle::thread::spawn(|| {});
            WATCHDOG.with(|w| w.set(Some(usize::from(watchdog.thread().id()))));
            let body = || with_timer::<Shuttle, O>(timer, &checked.0);
            recorder.execute_quietly(&body, &checked.1);
        };
        let runner = Runner::new(Shared(Rc::clone(driver)), config);
        let end = run_checker(|| {
            runner.run(execution);
        });
        WATCHDOG.with(|w| w.set(None));
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
    fn replay_filling(&self, decisions: &Decisions, fill: Option<u64>) -> Replayed {
        let mode = Mode::Replay {
            decisions: decisions.clone(),
            started: false,
            fill,
        };
        let driver = Rc::new(RefCell::new(Driver::new(mode, Box::new(|| false))));
        let end = self.run(&driver);
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

/// One replayed execution (see [`Runs::replay`]).
struct Replayed {
    end: RunEnd,
    decisions: Decisions,
    simplicity: Simplicity,
    preemptible: Vec<(usize, usize, Vec<usize>)>,
    preempting: Vec<bool>,
}

/// A failing schedule while shrinking.
struct Shrunk {
    found: Found,
    decisions: Decisions,
    simplicity: Simplicity,
    /// For each switch of `decisions`, whether it preempted.
    preempting: Vec<bool>,
}

/// How many random fillings of the blocking points each single-preemption candidate gets.
const FILLS: u64 = 6;

/// At most this many replays shrink one failure.
const MAX_SHRINK_REPLAYS: u64 = 2_000;

/// At most this long shrinking one failure.
const MAX_SHRINK_TIME: Duration = Duration::from_secs(10);

/// Explores `body` under shuttle. `body` runs once per execution, inside the model, and must
/// use the [`crate::sync::Shuttle`] primitives; `invariant` judges each outcome.
pub fn explore<O, B, I>(config: &ShuttleConfig, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let started = Instant::now();
    let seed = match config.effective_seed() {
        Ok((seed, _)) => seed,
        Err(refusal) => return Report::not_run(config.describe(), refusal, 0),
    };
    let checked = Arc::new((body, invariant));
    // Without the timer first; the whole exploration again with it once a timed wait needs
    // it, so that every execution of it runs the same threads.
    explore_checked(config, seed, Arc::clone(&checked), false, started).unwrap_or_else(|| {
        explore_checked(config, seed, checked, true, started).expect("the timer runs")
    })
}

/// [`explore`], with or without the timer of timed waits: `None` if a timed wait needed it.
fn explore_checked<O, B, I>(
    config: &ShuttleConfig,
    seed: u64,
    checked: Arc<(B, I)>,
    timer: bool,
    started: Instant,
) -> Option<Report<O>>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    model::take_limits();
    let recorder = Arc::new(Recorder::new(config.budget, config.record_traces));
    let policy = Policy::Coin {
        one_in: config.spurious_one_in,
    };
    let _installed = choice::install(policy);
    let runs = Runs {
        recorder: Arc::clone(&recorder),
        checked,
        timer,
    };
    let mode = match &config.replay {
        Some(decisions) => Mode::Replay {
            decisions: decisions.clone(),
            started: false,
            fill: None,
        },
        None => Mode::Explore {
            inner: match config.schedules {
                Schedules::Random => {
                    Inner::Random(RandomScheduler::new_from_seed(seed, config.iterations))
                }
                Schedules::Urw => {
                    Inner::Urw(UrwRandomScheduler::new_from_seed(seed, config.iterations))
                }
                Schedules::Pct { depth } => Inner::Pct(PctScheduler::new_from_seed(
                    seed,
                    depth.max(1),
                    config.iterations,
                )),
            },
            single_schedule: false,
            iterations_left: config.iterations,
            pct: matches!(config.schedules, Schedules::Pct { .. }),
        },
    };
    let budget_recorder = Arc::clone(&recorder);
    let over_budget = Box::new(move || budget_recorder.over_budget());
    let driver = Rc::new(RefCell::new(Driver::new(mode, over_budget)));
    let end = runs.run(&driver);
    let (decisions, simplicity, preempting) = {
        let driver = driver.borrow();
        (
            driver.decisions.clone(),
            driver.simplicity,
            driver.preempting.clone(),
        )
    };
    let (most_steps, most_threads) = {
        let driver = driver.borrow();
        (
            driver.most_choice_steps.max(driver.choice_steps),
            driver.most_threads.max(driver.threads_seen.len()),
        )
    };
    drop(driver);
    if let RunEnd::NeedsTimer = end {
        return None;
    }

    let executions = recorder.executions();
    let coverage = match &end {
        RunEnd::Completed => Coverage::Sampled,
        RunEnd::OutOfBudget => Coverage::BudgetExhausted,
        RunEnd::Failed(..) => Coverage::StoppedAtFailure,
        RunEnd::Unsupported(unsupported) => Coverage::Unsupported(unsupported.clone()),
        RunEnd::NeedsTimer => unreachable!("returned above"),
    };
    let failure = match end {
        RunEnd::Failed(found) => {
            let (found, decisions, minimal) = if config.replay.is_some() {
                (found, decisions, None)
            } else {
                // Replays count neither as executions nor as outcomes of the exploration.
                let replays = Runs {
                    recorder: Arc::new(Recorder::new(Budget::UNLIMITED, config.record_traces)),
                    checked: Arc::clone(&runs.checked),
                    timer,
                };
                let failing = Shrunk {
                    found,
                    decisions,
                    simplicity,
                    preempting,
                };
                let (shrunk, replays, finished, searched) = shrink(&replays, failing);
                let (found, decisions, simplicity) =
                    (shrunk.found, shrunk.decisions, shrunk.simplicity);
                let proof = match finished {
                    true => Minimality::Shrunk {
                        replays,
                        fewer_preemptions_searched: searched,
                    },
                    false => Minimality::Unknown(format!(
                        "shrinking stopped at its limit, after {replays} replays"
                    )),
                };
                let minimal = Minimal {
                    preemptions: simplicity.preemptions,
                    context_switches: Some(simplicity.context_switches),
                    spurious_wakeups: simplicity.spurious_wakeups,
                    proof,
                };
                (found, decisions, Some(minimal))
            };
            let replay = config.replaying(decisions);
            Some(Failure {
                kind: found.kind,
                message: found.message,
                location: found.location,
                execution: executions,
                spurious_plan: None,
                trace: found.trace,
                minimal,
                replay: Token {
                    checker: Checker::Shuttle(replay),
                    execution: 1,
                },
            })
        }
        _ => None,
    };
    let largest_execution = recorder.largest_execution().map(|traced| Shape {
        threads: traced.threads.max(most_threads),
        steps: most_steps,
    });
    let pct_miss_bound = match (config.schedules, &config.replay) {
        (Schedules::Pct { depth }, None) if depth > 0 && executions > 0 => Some(PctBound {
            threads: most_threads,
            steps: most_steps,
            depth,
            runs: executions,
        }),
        _ => None,
    };
    Some(Report {
        checker: config.describe(),
        executions,
        outcomes: recorder.take_outcomes(),
        elapsed: started.elapsed(),
        coverage,
        failure,
        largest_execution,
        pct_miss_bound,
        blind_spots: {
            let mut spots = config.blind_spots();
            spots.extend(model::take_limits());
            spots
        },
    })
}

/// Shrinks a failing schedule, as dejafu does, to fewest preemptions, then fewest context
/// switches. Delta debugging first: take out chunks of its decisions, halving the chunk size
/// when none can go, keeping a smaller schedule when its replay fails the same way with no more
/// preemptions and context switches. Then, if preemptions are left, a bounded search for
/// fewer: the schedule without its preemptions (keeping its other choices), and with each
/// single preemption it allows; delta debugging again on a find. Returns the simplest failing
/// schedule found, the replays it took, whether delta debugging finished (no single decision
/// can be taken out) and whether the search for fewer preemptions did, before the limits on
/// replays and time.
fn shrink<O, B, I>(runs: &Runs<O, B, I>, failing: Shrunk) -> (Shrunk, u64, bool, bool)
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let started = Instant::now();
    let kind: FailureKind = failing.found.kind;
    let mut replays = 0;
    let out_of_time =
        |replays: u64| replays >= MAX_SHRINK_REPLAYS || started.elapsed() >= MAX_SHRINK_TIME;
    // The replay of `trial`, if it fails the same way.
    let attempt_filling = |trial: &Decisions, fill: Option<u64>, replays: &mut u64| {
        *replays += 1;
        let mut replayed = runs.replay_filling(trial, fill);
        let end = std::mem::replace(&mut replayed.end, RunEnd::Completed);
        let shrunk = match end {
            RunEnd::Failed(found) if found.kind == kind => Some(Shrunk {
                found,
                decisions: replayed.decisions.clone(),
                simplicity: replayed.simplicity,
                preempting: replayed.preempting.clone(),
            }),
            _ => None,
        };
        (shrunk, replayed)
    };
    let attempt = |trial: &Decisions, replays: &mut u64| -> (Option<Shrunk>, Replayed) {
        attempt_filling(trial, None, replays)
    };
    let not_worse = |s: &Simplicity, than: &Simplicity| {
        (s.preemptions, s.context_switches) <= (than.preemptions, than.context_switches)
    };
    let fewer = |s: &Simplicity, than: &Simplicity| {
        (s.preemptions, s.context_switches) < (than.preemptions, than.context_switches)
    };

    let mut best = failing;
    let mut searched = false;
    let mut search_finished = true;
    let mut finished;
    loop {
        // Delta debugging.
        finished = true;
        let mut chunk = best.decisions.len().div_ceil(2).max(1);
        'ddmin: while best.decisions.len() > 0 {
            let mut start = 0;
            let mut progressed = false;
            while start < best.decisions.len() {
                if out_of_time(replays) {
                    finished = false;
                    break 'ddmin;
                }
                let removed: Vec<usize> =
                    (start..(start + chunk).min(best.decisions.len())).collect();
                match attempt(&best.decisions.without(&removed), &mut replays).0 {
                    Some(shrunk)
                        if not_worse(&shrunk.simplicity, &best.simplicity)
                            && shrunk.decisions.len() < best.decisions.len() =>
                    {
                        best = shrunk;
                        progressed = true;
                    }
                    _ => start += chunk,
                }
            }
            if !progressed {
                if chunk == 1 {
                    break;
                }
                chunk = chunk.div_ceil(2);
            }
        }
        if searched || best.simplicity.preemptions == 0 || out_of_time(replays) {
            break;
        }
        searched = true;
        // Fewer preemptions: none, or each single one the schedule without them allows.
        let preemptive: Vec<usize> = (0..best.decisions.switches.len())
            .filter(|i| best.preempting.get(*i).copied().unwrap_or(true))
            .collect();
        let base = best.decisions.without(&preemptive);
        let (found, baseline) = attempt(&base, &mut replays);
        let mut improved = found.filter(|f| fewer(&f.simplicity, &best.simplicity));
        if improved.is_none() && best.simplicity.preemptions > 1 {
            'points: for (from, at, others) in baseline.preemptible {
                for to in others {
                    if out_of_time(replays) {
                        search_finished = false;
                        break 'points;
                    }
                    let mut trial = base.clone();
                    trial.switches.push(Switch { from, at, to });
                    // The preemption may need other choices where threads block: try the
                    // schedule's own, then a few random ones.
                    for fill in std::iter::once(None).chain((1..=FILLS).map(Some)) {
                        if let Some(found) = attempt_filling(&trial, fill, &mut replays).0 {
                            if fewer(&found.simplicity, &best.simplicity)
                                && improved
                                    .as_ref()
                                    .is_none_or(|i| fewer(&found.simplicity, &i.simplicity))
                            {
                                improved = Some(found);
                            }
                        }
                    }
                }
            }
        }
        match improved {
            Some(simpler) => best = simpler,
            None => break,
        }
    }
    (best, replays, finished, search_finished)
}
