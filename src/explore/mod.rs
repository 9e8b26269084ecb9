//! Exploration: run a body under a model checker, within a budget, and report what it reached.
//!
//! Invariant: every exploration returns a [`Report`], never a panic, and every word of it is
//! true: a deadlock, a violated invariant, a panic in the body, an exhausted budget and a body
//! the checker cannot run all come back as data, with the executions explored, the distinct
//! outcomes with their counts, the time taken, and what the checker cannot see. A report that
//! explored nothing, or that its checker could not run, has not passed. A failure is the
//! simplest the checker found (fewest preemptions, then fewest spurious wakeups), comes with
//! the trace of its execution and a token that replays it ([`replay`]).
//!
//! ```text
//!   body: Fn() -> O  ──►  [ per execution: budget check ─ body ─ invariant ─ record ]
//!                              │ loom: every interleaving (DPOR), × every spurious plan;
//!                              │       on a failure, again at preemption bounds 0, 1, ...
//!                              │ shuttle: N random or PCT schedules; a failure is shrunk
//!                              ▼
//!                          Report<O> { executions, outcomes, coverage, failure, blind spots }
//! ```
//!
//! The budget is enforced by this harness at the start of every execution: loom checks its own
//! limits only once per 20,000 executions.

pub mod checker;
pub(crate) mod explain;
pub mod loom;
pub mod shuttle;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::sync::choice;
use crate::sync::model::{self, Stop, TooManyThreads};
use crate::sync::trace::{self, Trace};
use crate::sync::NeedsTimer;

pub use self::checker::{Checker, CheckerKind, Schedule};
pub use self::loom::LoomConfig;
pub use self::shuttle::{Decisions, Schedules, ShuttleConfig};

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

    /// Why this budget allows nothing to run, if it does not (0 executions, 0 seconds).
    pub fn allows_nothing(&self) -> Option<&'static str> {
        if self.max_executions == Some(0) {
            Some("a budget of 0 executions explores nothing")
        } else if self.max_time == Some(Duration::ZERO) {
            Some("a time limit of 0 explores nothing")
        } else {
            None
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

/// How simple a failure is, and how sure the checker is that none is simpler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimal {
    /// Times a thread that could go on was switched out for another.
    pub preemptions: usize,
    /// Times the running thread changed (preemptions, and switches away from a blocked
    /// thread), when the checker counts them (shuttle).
    pub context_switches: Option<usize>,
    pub spurious_wakeups: usize,
    pub proof: Minimality,
}

/// Why a failure is said to be minimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Minimality {
    /// Loom explored every execution with fewer preemptions (and, at this bound, fewer
    /// spurious wakeups) and none failed.
    Proven,
    /// Shuttle's failing schedule was shrunk until no preemption, spurious wakeup or other
    /// scheduling choice could be taken out of it without losing the failure (in this many
    /// replays); and whether the search for a schedule with fewer preemptions (none, or a
    /// single one anywhere) finished within its limits.
    Shrunk {
        replays: u64,
        fewer_preemptions_searched: bool,
    },
    /// The search for a simpler failure did not finish (the reason is given).
    Unknown(String),
}

impl fmt::Display for Minimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let mut parts = vec![plural(self.preemptions, "preemption")];
        if let Some(switches) = self.context_switches {
            parts.push(plural(switches, "context switch").replace("switchs", "switches"));
        }
        parts.push(plural(self.spurious_wakeups, "spurious wakeup"));
        let label = match self.proof {
            Minimality::Unknown(_) => "found with",
            _ => "minimal:",
        };
        write!(f, "{label} {}", parts.join(", "))?;
        match &self.proof {
            Minimality::Proven if self.preemptions == 0 => {
                write!(f, " (no preemption needed)")
            }
            Minimality::Proven => write!(
                f,
                " (every execution with fewer preemptions was explored and passed)"
            ),
            Minimality::Shrunk {
                replays,
                fewer_preemptions_searched,
            } => {
                write!(
                    f,
                    " (shrunk in {replays} replays: no single choice can be taken out of it"
                )?;
                if !fewer_preemptions_searched {
                    write!(f, "; the search for fewer preemptions stopped at its limit")?;
                }
                write!(f, ")")
            }
            Minimality::Unknown(why) => write!(f, " (not known to be minimal: {why})"),
        }
    }
}

/// The failure an exploration reports: the simplest failing execution it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// The user's line where the panic was raised, for panics (a data race: the access that
    /// loom caught).
    pub location: Option<String>,
    /// The 1-based number of the execution, counting every execution of the exploration.
    pub execution: u64,
    /// The explored choices it took (loom): which waits woke spuriously, which weak exchanges
    /// failed spuriously, and the values `choose` returned.
    pub spurious_plan: Option<choice::Plan>,
    /// The failing execution's primitive operations, when traces were recorded.
    pub trace: Option<Trace>,
    /// How simple it is.
    pub minimal: Option<Minimal>,
    /// Replays exactly this execution: `explore::replay(&failure.replay, body, invariant)`.
    pub replay: Schedule,
}

impl Failure {
    /// The failure for a person: what went wrong, where, how simple, the interleaving that led
    /// there, and the line of code that replays it.
    pub fn explain(&self) -> String {
        let mut out = format!(
            "{} at execution {}: {}\n",
            self.kind, self.execution, self.message
        );
        if let Some(location) = &self.location {
            out += &format!("  raised at {location}\n");
        }
        if let Some(minimal) = &self.minimal {
            out += &format!("  {minimal}\n");
        }
        if let Some(plan) = &self.spurious_plan {
            if let Some(faults) = plan.describe(choice::Kind::Fault) {
                out += &format!("  spurious wakeups or failures at (thread#k): {faults}\n");
            }
            if let Some(values) = plan.describe(choice::Kind::Value) {
                out += &format!("  values chosen (thread#k=value): {values}\n");
            }
        }
        if let Some(trace) = &self.trace {
            if self.kind == FailureKind::Deadlock {
                for line in trace.blocked() {
                    out += &format!("  {line}\n");
                }
            }
            let all = trace.threads().len();
            let shown = trace.shown_threads();
            if shown.len() < all {
                out += &format!(
                    "\nthe failing interleaving, one column per thread involved ({} of {all}; \
                     the other threads' steps are folded):\n",
                    shown.len()
                );
            } else {
                out += "\nthe failing interleaving, one column per thread:\n";
            }
            out += &trace.columns();
        }
        out += &format!(
            "\nreplay it in code: threadproof::explore::replay(\"{}\", body, invariant)\n",
            self.replay
        );
        out
    }
}

/// Why a checker could not run a body: nothing it says about it is a proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// What the checker cannot do, in one short line: `unsupported by loom: at least 5
    /// threads, loom allows 4 besides main`.
    pub reason: String,
    /// Where or why, in more words.
    pub detail: Option<String>,
    /// What can run it instead, if anything.
    pub instead: Option<String>,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if let Some(instead) = &self.instead {
            write!(f, "; {instead}")?;
        }
        Ok(())
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
    /// The checker cannot run this body (or was refused its settings): no verdict.
    Unsupported(Unsupported),
}

impl Coverage {
    /// How far the exploration got, in a word or two.
    pub fn describe(&self) -> &'static str {
        match self {
            Coverage::Exhaustive => "exhaustive",
            Coverage::Sampled => "sampled",
            Coverage::BudgetExhausted => "bounded (budget)",
            Coverage::StoppedAtFailure => "stopped at failure",
            Coverage::Unsupported(_) => "not run",
        }
    }
}

/// What an exploration reached.
#[derive(Clone, Debug)]
pub struct Report<O> {
    /// The checker and its settings, e.g. `loom (preemption bound 3, spurious wakeups and failures <= 1)`.
    pub checker: String,
    pub executions: u64,
    /// Every outcome reached by a finished execution, with how often.
    pub outcomes: BTreeMap<O, u64>,
    pub elapsed: Duration,
    pub coverage: Coverage,
    pub failure: Option<Failure>,
    /// The most threads and the most scheduling steps one execution had.
    pub largest_execution: Option<Shape>,
    /// For PCT runs: the bound on the chance that a bug of the run's depth was missed.
    pub pct_miss_bound: Option<PctBound>,
    /// What this checker cannot see with these settings: the scope of a pass.
    pub blind_spots: Vec<String>,
}

/// The size of an execution: threads, and steps (scheduling points).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    pub threads: usize,
    pub steps: usize,
}

/// PCT finds a given bug of depth d in one run with probability at least `1/(n * k^(d-1))`
/// (n threads, k steps): so after `runs` runs the chance of having missed it is at most
/// `(1 - 1/(n * k^(d-1)))^runs`. It holds for the bugs shuttle can express: schedule bugs on
/// sequentially consistent memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PctBound {
    pub threads: usize,
    pub steps: usize,
    pub depth: usize,
    pub runs: u64,
}

impl PctBound {
    pub fn miss_probability(&self) -> f64 {
        let per_run = 1.0
            / (self.threads.max(1) as f64 * (self.steps.max(1) as f64).powi(self.depth as i32 - 1));
        (1.0 - per_run.min(1.0)).powf(self.runs as f64)
    }

    /// Whether the bound says nothing: a miss is at least 99% likely for all it knows.
    pub fn is_vacuous(&self) -> bool {
        self.miss_probability() >= 0.99
    }
}

impl fmt::Display for PctBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "P(missed a depth-{} schedule bug) <= (1 - 1/({}*{}^{}))^{} = {:.3}",
            self.depth,
            self.threads,
            self.steps,
            self.depth - 1,
            self.runs,
            self.miss_probability()
        )?;
        if self.is_vacuous() {
            write!(
                f,
                " (vacuous: {} runs are far too few for {} threads and {} steps)",
                self.runs, self.threads, self.steps
            )?;
        }
        write!(
            f,
            " (schedule bugs only: says nothing of weak memory or data races)"
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
            blind_spots: self.blind_spots,
        }
    }

    /// A report of a body the checker did not run.
    pub(crate) fn not_run(checker: String, unsupported: Unsupported, executions: u64) -> Self {
        Report {
            checker,
            executions,
            outcomes: BTreeMap::new(),
            elapsed: Duration::ZERO,
            coverage: Coverage::Unsupported(unsupported),
            failure: None,
            largest_execution: None,
            pct_miss_bound: None,
            blind_spots: Vec::new(),
        }
    }

    /// Whether the exploration ran at least one execution and found no failure. A report of
    /// nothing explored, or of a body the checker could not run, has not passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.executions > 0 && self.unsupported().is_none()
    }

    /// Why the checker could not run the body, if it could not.
    pub fn unsupported(&self) -> Option<&Unsupported> {
        match &self.coverage {
            Coverage::Unsupported(unsupported) => Some(unsupported),
            _ => None,
        }
    }

    /// The failure kind, if the exploration found one.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        self.failure.as_ref().map(|f| f.kind)
    }

    /// One line for logs: checker, executions, outcomes, time, coverage, verdict, and what the
    /// checker cannot see.
    pub fn summary(&self) -> String {
        let verdict = match (&self.failure, &self.coverage) {
            (Some(f), _) => format!(
                "FAILED at execution {}: {}: {}",
                f.execution, f.kind, f.message
            ),
            (None, Coverage::Unsupported(unsupported)) => format!("not checked: {unsupported}"),
            (None, _) if self.executions == 0 => "nothing explored: not a pass".to_string(),
            (None, _) => "passed".to_string(),
        };
        let bound = match &self.pct_miss_bound {
            Some(bound) => format!("; {bound}"),
            None => String::new(),
        };
        let blind = match self.blind_spots.as_slice() {
            [] => String::new(),
            spots => format!("; cannot see: {}", spots.join(", ")),
        };
        format!(
            "{}: {} executions, {} distinct outcomes, {:.2?}, {}; {}{bound}{blind}",
            self.checker,
            self.executions,
            self.outcomes.len(),
            self.elapsed,
            self.coverage.describe(),
            verdict
        )
    }
}

/// Replays the execution `token` names (a failure's [`Failure::replay`]), with the body and
/// invariant that failed: one line, `explore::replay(token, body, invariant)`. The body must
/// use the primitives of the token's checker ([`crate::sync::Loom`] for `loom:...`,
/// [`crate::sync::Shuttle`] otherwise). Reproduced, the report's failure is the same, at the
/// same execution, with the same trace; a malformed token is a report of nothing run.
pub fn replay<O, B, I>(token: &str, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    match Schedule::parse(token) {
        Ok(schedule) => schedule
            .checker
            .with_budget(Budget::executions(schedule.execution))
            .explore(body, invariant),
        Err(e) => Report::not_run(
            format!("replay of `{token}`"),
            Unsupported {
                reason: format!("not a replay token: {e}"),
                detail: None,
                instead: None,
            },
            0,
        ),
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

    fn over_budget(&self) -> bool {
        let done = self.executions.load(Ordering::Relaxed);
        let over_count = self.budget.max_executions.is_some_and(|max| done >= max);
        let over_time = self
            .budget
            .max_time
            .is_some_and(|max| self.started.elapsed() >= max);
        over_count || over_time
    }

    /// Starts an execution: counts it, shows progress, resets the model state and the trace.
    fn begin(&self, quiet_stops: bool) {
        let number = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
        if number % 256 == 0 {
            PROGRESS.with(|p| {
                if let Some(progress) = p.borrow_mut().as_mut() {
                    progress(number)
                }
            });
        }
        crate::sync::timer::reset();
        model::begin(quiet_stops);
        if self.record_traces {
            trace::start();
        }
    }

    /// Ends an execution that returned `outcome`: its shape and outcome recorded, its verdict.
    fn finish(
        &self,
        outcome: O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) -> Result<(), String> {
        if let Some((threads, steps)) = trace::shape() {
            self.note_shape(Shape { threads, steps });
        }
        let verdict = invariant(&outcome);
        *self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_insert(0) += 1;
        verdict
    }

    fn note_shape(&self, shape: Shape) {
        let mut largest = self.largest.lock().unwrap_or_else(|e| e.into_inner());
        let largest = largest.get_or_insert_with(Shape::default);
        largest.threads = largest.threads.max(shape.threads);
        largest.steps = largest.steps.max(shape.steps);
    }

    /// One loom execution: budget check, body, invariant, record. Failures unwind into loom,
    /// which ends its exploration with them.
    fn execute_unwinding(
        &self,
        body: &impl Fn() -> O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) {
        if self.over_budget() {
            panic::panic_any(BudgetExhausted);
        }
        self.begin(false);
        let outcome = body();
        if let Err(complaint) = self.finish(outcome, invariant) {
            trace::freeze();
            panic::panic_any(InvariantViolation(complaint));
        }
    }

    /// One shuttle execution (its main thread): body, invariant, record. A failure asks
    /// threadproof's scheduler to stop the execution, quietly (see [`model::request_stop`]).
    fn execute_quietly(
        &self,
        body: &impl Fn() -> O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) {
        self.begin(true);
        model::thread_started();
        let ran = panic::catch_unwind(AssertUnwindSafe(body));
        model::thread_finished();
        match ran {
            Ok(outcome) => {
                if let Err(complaint) = self.finish(outcome, invariant) {
                    model::request_stop(Stop::Invariant(complaint));
                }
            }
            Err(payload) => model::request_stop(model::stop_for_panic(&*payload)),
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

/// Runs `body`, with the timer that models timed waits around it if `timer` holds
/// ([`crate::sync::timer`]).
fn with_timer<P: crate::sync::Primitives, O>(timer: bool, body: &impl Fn() -> O) -> O {
    if !timer {
        return body();
    }
    let running = crate::sync::timer::start::<P>();
    let outcome = body();
    running.finish();
    outcome
}

/// A failing execution, as one run of a checker found it.
#[derive(Clone, Debug)]
struct Found {
    kind: FailureKind,
    message: String,
    location: Option<String>,
    trace: Option<Trace>,
}

impl Found {
    /// The failure `stop` describes, with the trace recorded up to it.
    fn from_stop(stop: Stop) -> Found {
        let (kind, message, location) = match stop {
            Stop::Deadlock => (
                FailureKind::Deadlock,
                "every live thread is blocked".to_string(),
                None,
            ),
            Stop::Invariant(complaint) => (FailureKind::InvariantViolated, complaint, None),
            Stop::Panicked { message, location } => (FailureKind::Panicked, message, location),
            Stop::NeedsTimer => (
                FailureKind::Panicked,
                "a timed wait began without the timer".to_string(),
                None,
            ),
        };
        let trace = trace::take();
        let mut found = Found {
            kind,
            message,
            location,
            trace,
        };
        found.describe_race();
        found
    }

    /// Loom reports a data race as a panic raised in its own sources, naming the accesses by
    /// loom's thread numbers: say it in the user's terms (threads by name, the cell by its
    /// label, the user's lines).
    fn describe_race(&mut self) {
        let message = self.message.trim_start();
        let Some(rest) = message.strip_prefix("Causality violation: ") else {
            return;
        };
        let headline = rest.lines().next().unwrap_or_default().trim();
        // The threads in loom's numbering: main is #0, then each spawned thread in order.
        let mut numbered: Vec<String> = vec!["main".into()];
        if let Some(trace) = &self.trace {
            numbered.extend(
                trace
                    .events
                    .iter()
                    .filter(|e| e.op == trace::Op::Spawn)
                    .map(|e| e.object.to_string()),
            );
        }
        let mut accesses = Vec::new();
        for line in rest.lines().skip(1) {
            let Some((key, place)) = line.trim().split_once(": ") else {
                continue;
            };
            if key == "created" {
                continue;
            }
            let Some((thread, at)) = place.split_once(" @ ") else {
                continue;
            };
            let thread = thread
                .strip_prefix("thread #")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| numbered.get(n).cloned())
                .unwrap_or_else(|| thread.to_string());
            let at = short_place(at);
            accesses.push(format!("{thread} {} at {at}", access_verb(key)));
        }
        // The access loom caught is the racing thread's last row: a cell access.
        let cell = self.trace.as_ref().and_then(|t| {
            t.events
                .iter()
                .rev()
                .find(|e| matches!(e.op, trace::Op::Read | trace::Op::Write))
                .map(|e| (e.object.to_string(), e.place()))
        });
        let (object, caught_at) = match cell {
            Some((object, place)) => (object, Some(place)),
            None => ("a cell".to_string(), None),
        };
        self.message = format!(
            "data race on {object}: {}, and no lock or release/acquire pair orders them \
             (loom: {headline})",
            accesses.join(" while ")
        );
        if caught_at.is_some() {
            self.location = caught_at;
        }
    }
}

fn access_verb(key: &str) -> &str {
    match key {
        "read" => "reads",
        "write" => "writes",
        other => other,
    }
}

/// `models/x.rs:12` from loom's `models/x.rs:12:5`, as a trace names a place.
fn short_place(place: &str) -> String {
    let without_column = match place.rsplit_once(':') {
        Some((rest, column)) if column.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => place,
    };
    explain::short_file(without_column).to_string()
}

/// How one run of a checker ended.
enum RunEnd {
    Completed,
    OutOfBudget,
    Failed(Found),
    Unsupported(Unsupported),
    /// A timed wait began without the timer: the exploration starts again with it
    /// ([`crate::sync::NeedsTimer`]).
    NeedsTimer,
}

/// Runs one checker invocation, turning its panics into a [`RunEnd`].
fn run_checker(check: impl FnOnce()) -> RunEnd {
    let exploring = Exploring::start();
    let result = panic::catch_unwind(AssertUnwindSafe(check));
    drop(exploring);
    let end = match result {
        Ok(()) => match model::take_stop() {
            Some(Stop::NeedsTimer) => RunEnd::NeedsTimer,
            Some(stop) => RunEnd::Failed(Found::from_stop(stop)),
            None => RunEnd::Completed,
        },
        Err(payload) => {
            if payload.is::<BudgetExhausted>() {
                RunEnd::OutOfBudget
            } else if payload.is::<NeedsTimer>() {
                RunEnd::NeedsTimer
            } else if let Some(InvariantViolation(complaint)) = payload.downcast_ref() {
                RunEnd::Failed(Found::from_stop(Stop::Invariant(complaint.clone())))
            } else if let Some(too_many) = payload.downcast_ref::<TooManyThreads>() {
                RunEnd::Unsupported(too_many_threads(too_many))
            } else {
                RunEnd::Failed(Found::from_stop(model::stop_for_panic(&*payload)))
            }
        }
    };
    trace::stop();
    end
}

/// Loom's thread cap, in words.
fn too_many_threads(too_many: &TooManyThreads) -> Unsupported {
    let timer = if too_many.timer {
        " (one of them the timer thread that models the body's timeouts)"
    } else {
        ""
    };
    Unsupported {
        reason: format!(
            "unsupported by loom: at least {} threads{timer}, loom allows {} besides main",
            too_many.spawned, too_many.limit
        ),
        detail: Some(format!(
            "the thread past the limit is spawned at {}:{}",
            explain::short_file(too_many.at.file()),
            too_many.at.line()
        )),
        instead: Some("shuttle (random, pct, urw) can run it: `--backend shuttle`".to_string()),
    }
}

thread_local! {
    /// Set while an exploration runs on this OS thread (loom and shuttle run every model
    /// thread as a coroutine on it).
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
    /// Called with the number of executions so far, every few executions (progress bars).
    static PROGRESS: RefCell<Option<Progress>> = const { RefCell::new(None) };
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

/// During an exploration a panic is a finding, not a crash: the hook notes each one (message,
/// location, and where the trace was) for the report and prints nothing, since the report
/// says it all. Outside an exploration, panics go to the hook that was there before (std's).
///
/// Shuttle installs a hook of its own on its first run, wrapping whatever is there; a trivial
/// run first makes ours the outer one.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let original = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        ::shuttle::Runner::new(
            ::shuttle::scheduler::RoundRobinScheduler::new(1),
            ::shuttle::Config::new(),
        )
        .run(|| {});
        panic::set_hook(Box::new(move |info| {
            if !EXPLORING.with(Cell::get) {
                return original(info);
            }
            let location = info.location().map(|l| l.to_string()).unwrap_or_default();
            model::note_panic(crate::sync::panic_message(info.payload()), location);
        }));
    });
}
