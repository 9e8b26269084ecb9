//! Exploration: run a body under a model checker, within a budget, and report what it reached.
//!
//! Invariant: every exploration returns a [`Report`], never a panic: a deadlock, a violated
//! invariant, a panic in the body and an exhausted budget all come back as data, with the
//! executions explored, the distinct outcomes with their counts, and the time taken.
//!
//! ```text
//!   body: Fn() -> O  ──►  [ per execution: budget check ─ body ─ invariant ─ record ]
//!                              │ loom: every interleaving (DPOR), × every spurious plan
//!                              │ shuttle: N random or PCT schedules
//!                              ▼
//!                          Report<O> { executions, outcomes, coverage, failure }
//! ```
//!
//! The budget is enforced by this harness at the start of every execution: loom checks its own
//! limits only once per 20,000 executions.

pub mod checker;
pub mod loom;
pub mod shuttle;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::sync::trace::{self, Trace};
use crate::sync::{panic_message, spurious};

pub use self::checker::{Checker, CheckerKind, Schedule};
pub use self::loom::LoomConfig;
pub use self::shuttle::{Schedules, ShuttleConfig};

/// Limits on one exploration, checked before every execution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub max_executions: Option<u64>,
    pub max_time: Option<Duration>,
}

impl Budget {
    pub const UNLIMITED: Budget = Budget {
        max_executions: None,
        max_time: None,
    };

    pub fn executions(max: u64) -> Self {
        Budget {
            max_executions: Some(max),
            max_time: None,
        }
    }

    pub fn time(max: Duration) -> Self {
        Budget {
            max_executions: None,
            max_time: Some(max),
        }
    }
}

/// What went wrong in a failing execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureKind {
    /// Every live thread was blocked.
    Deadlock,
    /// The execution finished, but its outcome broke the invariant.
    InvariantViolated,
    /// A thread panicked (an assertion in the body, a data race loom detected, ...).
    Panicked,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Deadlock => "deadlock",
            FailureKind::InvariantViolated => "invariant violated",
            FailureKind::Panicked => "panic",
        })
    }
}

/// The first failing execution an exploration found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// Where the panic was raised, for deadlocks and panics.
    pub location: Option<String>,
    /// The 1-based number of the failing execution.
    pub execution: u64,
    /// Which waits woke spuriously in it (loom), if that was explored.
    pub spurious_plan: Option<spurious::Plan>,
    /// The failing execution's primitive operations, when traces were recorded.
    pub trace: Option<Trace>,
}

impl Failure {
    /// The failure for a person: what went wrong, where, and the interleaving that led there.
    pub fn explain(&self) -> String {
        let mut out = format!(
            "{} at execution {}: {}\n",
            self.kind, self.execution, self.message
        );
        if let Some(location) = &self.location {
            out += &format!("  raised at {location}\n");
        }
        if let Some(plan) = &self.spurious_plan {
            out += &format!("  spurious wakeups at waits: {plan}\n");
        }
        if let Some(trace) = &self.trace {
            if self.kind == FailureKind::Deadlock {
                for line in trace.blocked() {
                    out += &format!("  {line}\n");
                }
            }
            out += "\nthe failing interleaving, one column per thread:\n";
            out += &trace.columns();
        }
        out
    }
}

/// How much of the state space a finished exploration covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every execution within the stated bounds (loom ran to completion).
    Exhaustive,
    /// A sample of schedules (shuttle), all of the planned ones run.
    Sampled,
    /// The budget ran out first: the outcome set is a lower bound.
    BudgetExhausted,
    /// A failure stopped the exploration.
    StoppedAtFailure,
}

/// What an exploration reached.
#[derive(Clone, Debug)]
pub struct Report<O> {
    /// The checker and its settings, e.g. `loom (preemption bound 3, spurious wakeups <= 1)`.
    pub checker: String,
    pub executions: u64,
    /// Every outcome reached by a finished execution, with how often.
    pub outcomes: BTreeMap<O, u64>,
    pub elapsed: Duration,
    pub coverage: Coverage,
    pub failure: Option<Failure>,
    /// The most threads and the most primitive operations one execution had (when traced).
    pub largest_execution: Option<Shape>,
    /// For PCT runs: the bound on the chance that a bug of the run's depth was missed.
    pub pct_miss_bound: Option<PctBound>,
}

/// The size of an execution: threads, and steps (primitive operations, the scheduling points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub threads: usize,
    pub steps: usize,
}

/// PCT finds a given bug of depth d in one run with probability at least `1/(n * k^(d-1))`
/// (n threads, k steps): so after `runs` runs the chance of having missed it is at most
/// `(1 - 1/(n * k^(d-1)))^runs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PctBound {
    pub threads: usize,
    pub steps: usize,
    pub depth: usize,
    pub runs: u64,
}

impl PctBound {
    pub fn miss_probability(&self) -> f64 {
        let per_run = 1.0 / (self.threads as f64 * (self.steps as f64).powi(self.depth as i32 - 1));
        (1.0 - per_run.min(1.0)).powf(self.runs as f64)
    }
}

impl fmt::Display for PctBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "P(missed a depth-{} bug) <= (1 - 1/({}*{}^{}))^{} = {:.3}",
            self.depth,
            self.threads,
            self.steps,
            self.depth - 1,
            self.runs,
            self.miss_probability()
        )
    }
}

impl<O> Report<O> {
    /// The same report with each outcome mapped (to a rendering, a grade, ...).
    pub fn map_outcomes<Q: Ord>(self, mut f: impl FnMut(O) -> Q) -> Report<Q> {
        let mut outcomes = BTreeMap::new();
        for (outcome, count) in self.outcomes {
            *outcomes.entry(f(outcome)).or_insert(0) += count;
        }
        Report {
            checker: self.checker,
            executions: self.executions,
            outcomes,
            elapsed: self.elapsed,
            coverage: self.coverage,
            failure: self.failure,
            largest_execution: self.largest_execution,
            pct_miss_bound: self.pct_miss_bound,
        }
    }

    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// The failure kind, if the exploration found one.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        self.failure.as_ref().map(|f| f.kind)
    }

    /// One line for logs: checker, executions, outcomes, time, coverage, verdict.
    pub fn summary(&self) -> String {
        let verdict = match &self.failure {
            None => "passed".to_string(),
            Some(f) => format!(
                "FAILED at execution {}: {}: {}",
                f.execution, f.kind, f.message
            ),
        };
        let coverage = match self.coverage {
            Coverage::Exhaustive => "exhaustive",
            Coverage::Sampled => "sampled",
            Coverage::BudgetExhausted => "bounded by budget",
            Coverage::StoppedAtFailure => "stopped at failure",
        };
        let bound = match &self.pct_miss_bound {
            Some(bound) => format!("; {bound}"),
            None => String::new(),
        };
        format!(
            "{}: {} executions, {} distinct outcomes, {:.2?}, {}; {}{bound}",
            self.checker,
            self.executions,
            self.outcomes.len(),
            self.elapsed,
            coverage,
            verdict
        )
    }
}

/// Panic payload that ends an exploration whose budget ran out.
struct BudgetExhausted;

/// Panic payload carrying an invariant's complaint out of the model.
struct InvariantViolation(String);

/// Counts executions, enforces the budget and records outcomes; shared by every execution of
/// one exploration.
struct Recorder<O> {
    budget: Budget,
    record_traces: bool,
    started: Instant,
    executions: AtomicU64,
    outcomes: Mutex<BTreeMap<O, u64>>,
    largest: Mutex<Option<Shape>>,
}

impl<O: Ord> Recorder<O> {
    fn new(budget: Budget, record_traces: bool) -> Self {
        Recorder {
            budget,
            record_traces,
            started: Instant::now(),
            executions: AtomicU64::new(0),
            outcomes: Mutex::new(BTreeMap::new()),
            largest: Mutex::new(None),
        }
    }

    /// One execution: budget check, body, invariant, record.
    fn execute(&self, body: &impl Fn() -> O, invariant: &impl Fn(&O) -> Result<(), String>) {
        let done = self.executions.load(Ordering::Relaxed);
        let over_count = self.budget.max_executions.is_some_and(|max| done >= max);
        let over_time = self
            .budget
            .max_time
            .is_some_and(|max| self.started.elapsed() >= max);
        if over_count || over_time {
            panic::panic_any(BudgetExhausted);
        }
        let number = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
        if number % 256 == 0 {
            PROGRESS.with(|p| {
                if let Some(progress) = p.borrow_mut().as_mut() {
                    progress(number)
                }
            });
        }
        spurious::begin_execution();
        forget_panics();
        if self.record_traces {
            trace::start();
        }
        let outcome = body();
        if let Some((threads, steps)) = trace::shape() {
            let mut largest = self.largest.lock().unwrap_or_else(|e| e.into_inner());
            let shape = largest.get_or_insert_with(Shape::default);
            shape.threads = shape.threads.max(threads);
            shape.steps = shape.steps.max(steps);
        }
        let verdict = invariant(&outcome);
        *self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_insert(0) += 1;
        if let Err(complaint) = verdict {
            panic::panic_any(InvariantViolation(complaint));
        }
    }

    fn executions(&self) -> u64 {
        self.executions.load(Ordering::Relaxed)
    }

    fn largest_execution(&self) -> Option<Shape> {
        *self.largest.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_outcomes(&self) -> BTreeMap<O, u64> {
        std::mem::take(&mut *self.outcomes.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// How one run of a checker ended.
enum RunEnd {
    Completed,
    OutOfBudget,
    Failed(FailureKind, String, Option<String>),
}

impl RunEnd {
    /// The failure this run ended with, if it did.
    fn failure(self, execution: u64, spurious_plan: Option<spurious::Plan>) -> Option<Failure> {
        let failing_trace = trace::take();
        trace::stop();
        match self {
            RunEnd::Failed(kind, message, location) => Some(Failure {
                kind,
                message,
                location,
                execution,
                spurious_plan,
                trace: failing_trace,
            }),
            _ => None,
        }
    }
}

/// Runs one checker invocation, turning its panics into a [`RunEnd`].
fn run_checker(check: impl FnOnce()) -> RunEnd {
    let exploring = Exploring::start();
    let result = panic::catch_unwind(AssertUnwindSafe(check));
    drop(exploring);
    match result {
        Ok(()) => RunEnd::Completed,
        Err(payload) => {
            if payload.is::<BudgetExhausted>() {
                RunEnd::OutOfBudget
            } else if let Some(InvariantViolation(complaint)) = payload.downcast_ref() {
                RunEnd::Failed(FailureKind::InvariantViolated, complaint.clone(), None)
            } else {
                let message = panic_message(&*payload);
                // loom: "deadlock; threads = ..."; shuttle: "deadlock! blocked tasks: ...".
                // Their thread lists and the checker's own source line say less than the
                // trace's wait-for lines, so a deadlock is reported in our words.
                if message.starts_with("deadlock") {
                    let message = "every live thread is blocked".to_string();
                    return RunEnd::Failed(FailureKind::Deadlock, message, None);
                }
                RunEnd::Failed(FailureKind::Panicked, message, first_panic_location())
            }
        }
    }
}

thread_local! {
    /// Set while an exploration runs on this OS thread (loom and shuttle run every model
    /// thread as a coroutine on it).
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
    /// Called with the number of executions so far, every few executions (progress bars).
    static PROGRESS: RefCell<Option<Progress>> = const { RefCell::new(None) };
    /// The first panic of the current execution: message and source location.
    static FIRST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// A progress callback: told the number of executions so far.
type Progress = Box<dyn FnMut(u64)>;

/// Runs `explorations` with `progress` called every few executions with the count so far.
pub fn with_progress<R>(
    progress: impl FnMut(u64) + 'static,
    explorations: impl FnOnce() -> R,
) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PROGRESS.with(|p| *p.borrow_mut() = None);
        }
    }
    PROGRESS.with(|p| *p.borrow_mut() = Some(Box::new(progress)));
    let _reset = Reset;
    explorations()
}

/// Marks this OS thread as exploring until dropped.
struct Exploring;

impl Exploring {
    fn start() -> Self {
        install_panic_hook();
        EXPLORING.with(|e| e.set(true));
        Exploring
    }
}

impl Drop for Exploring {
    fn drop(&mut self) {
        EXPLORING.with(|e| e.set(false));
    }
}

/// Where the current execution's first panic happened, if it panicked.
fn first_panic_location() -> Option<String> {
    FIRST_PANIC.with(|p| p.borrow().as_ref().map(|(_, location)| location.clone()))
}

fn forget_panics() {
    FIRST_PANIC.with(|p| *p.borrow_mut() = None);
}

/// During an exploration a panic is a finding, not a crash: the hook records the first one's
/// location for the report and prints nothing, since the report says it all. Outside an
/// exploration, panics go to the hook that was there before (std's).
///
/// Shuttle installs a hook of its own on its first run, wrapping whatever is there; a trivial
/// run first makes ours the outer one.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let original = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        ::shuttle::Runner::new(
            ::shuttle::scheduler::RandomScheduler::new(1),
            ::shuttle::Config::new(),
        )
        .run(|| {});
        panic::set_hook(Box::new(move |info| {
            if !EXPLORING.with(Cell::get) {
                return original(info);
            }
            trace::freeze();
            FIRST_PANIC.with(|first| {
                let mut first = first.borrow_mut();
                if first.is_none() {
                    let location = info.location().map(|l| l.to_string()).unwrap_or_default();
                    *first = Some((panic_message(info.payload()), location));
                }
            });
        }));
    });
}
