//! What an exploration reached: its [`Report`] (executions, outcomes, coverage, the failure, what
//! the checker cannot see), the [`Budget`] that bounds it, and the [`PctBound`] of a PCT run.
//!
//! Invariant: every word a report says is true of the exploration it describes: a report that
//! explored nothing, whose every execution was cut before the invariant judged it, or that its
//! checker could not run, has not passed.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use super::{Failure, FailureKind};

/// Limits on one exploration: executions, checked before every execution; time, checked
/// before every execution and at model steps inside one (a long execution is cut there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub max_executions: Option<u64>,
    pub max_time: Option<Duration>,
    /// How long no model thread may make progress before the body is reported blocked outside
    /// the checker; `None`: [`super::STALL`] (10 s).
    pub max_stall: Option<Duration>,
}

impl Budget {
    pub const UNLIMITED: Budget = Budget {
        max_executions: None,
        max_time: None,
        max_stall: None,
    };

    pub fn executions(max: u64) -> Self {
        Budget {
            max_executions: Some(max),
            ..Self::UNLIMITED
        }
    }

    pub fn time(max: Duration) -> Self {
        Budget {
            max_time: Some(max),
            ..Self::UNLIMITED
        }
    }

    /// What is left of this budget after `used` executions of an exploration that began at
    /// `started`.
    pub(crate) fn remaining(self, used: u64, started: Instant) -> Budget {
        Budget {
            max_executions: self.max_executions.map(|max| max.saturating_sub(used)),
            max_time: self
                .max_time
                .map(|max| max.saturating_sub(started.elapsed())),
            ..self
        }
    }

    /// This budget, with the body reported blocked outside the checker after `stall` without
    /// progress ([`Budget::max_stall`]).
    pub fn stall_after(mut self, stall: Duration) -> Self {
        self.max_stall = Some(stall);
        self
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
    /// Loom's bound on preemptions per execution, if it had one: an exhaustive run covered
    /// only the executions within it.
    pub preemption_bound: Option<usize>,
    /// The executions (loom) or replays (shuttle) run after the failure to find the simplest
    /// failing execution: not counted in `executions`, nor their outcomes in `outcomes`.
    pub simplest_search: Option<u64>,
    /// The passes that started the exploration again from the beginning, if any did: not
    /// counted in `executions`, nor their outcomes in `outcomes`, but charged to the budget
    /// (except in a replay, whose budget is its token's execution of the last pass).
    pub restarts: Option<Restarts>,
}

/// Passes of an exploration that started again from the beginning, because an execution
/// needed what every execution must then have from the start: the timer of timed waits, an
/// object `threadproof::std` makes before any thread (loom), or `RwLock`s whose raised waiters
/// enter again, for a `try_read` or `try_write` (loom).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restarts {
    /// How many times the exploration started again.
    pub times: u64,
    /// The executions the abandoned passes counted.
    pub executions: u64,
}

impl Restarts {
    /// These, and one more pass abandoned after `executions`.
    pub(crate) fn after(self, executions: u64) -> Restarts {
        Restarts {
            times: self.times + 1,
            executions: self.executions + executions,
        }
    }
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
            preemption_bound: self.preemption_bound,
            simplest_search: self.simplest_search,
            restarts: self.restarts,
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
            preemption_bound: None,
            simplest_search: None,
            restarts: None,
        }
    }

    /// How far the exploration got, in a few words: [`Coverage::describe`], except that an
    /// exhaustive run within a preemption bound says so rather than "exhaustive".
    pub fn coverage_words(&self) -> String {
        let words = match (&self.coverage, self.preemption_bound) {
            (Coverage::Exhaustive, Some(1)) => "within 1 preemption".to_string(),
            (Coverage::Exhaustive, Some(bound)) => format!("within {bound} preemptions"),
            (coverage, _) => coverage.describe().to_string(),
        };
        // Loom cannot reach every failing `try_lock`: the label itself says its outcome set is
        // incomplete, not only the "cannot see" line.
        let try_lock = (self.blind_spots.iter()).any(|spot| spot == crate::sync::LOOM_TRY_LOCK);
        match (&self.coverage, try_lock) {
            (Coverage::Exhaustive, true) => format!("{words} except failing try_locks"),
            _ => words,
        }
    }

    /// Whether the exploration ran at least one execution to its end, where the invariant
    /// judged its outcome, and found no failure. A report of nothing explored, of executions
    /// all cut before their end (at the step limit), or of a body the checker could not run,
    /// has not passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.judged() > 0 && self.unsupported().is_none()
    }

    /// The executions that ran to their end, whose outcome the invariant judged.
    pub(crate) fn judged(&self) -> u64 {
        self.outcomes.values().sum()
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
            (Some(f), _) => match &f.found {
                None => format!(
                    "FAILED at execution {}: {}: {}",
                    f.execution, f.kind, f.message
                ),
                Some(found) => format!(
                    "FAILED at execution {}: {}: {}; the simplest failing execution: {}: {}",
                    f.execution, found.kind, found.message, f.kind, f.message
                ),
            },
            (None, Coverage::Unsupported(unsupported)) => format!("not checked: {unsupported}"),
            (None, _) if self.executions == 0 => "nothing explored: not a pass".to_string(),
            (None, _) if self.judged() == 0 => {
                "no execution ran to its end, so none was judged: not a pass".to_string()
            }
            (None, _) => "passed".to_string(),
        };
        let bound = match &self.pct_miss_bound {
            Some(bound) => format!("; {bound}"),
            None => String::new(),
        };
        let search = match self.simplest_search {
            Some(n) => format!("; {n} more executions searched for the simplest failure"),
            None => String::new(),
        };
        let restarts = match self.restarts {
            Some(Restarts { times, executions }) => {
                let times = if times == 1 {
                    "once".to_string()
                } else {
                    format!("{times} times")
                };
                let noun = if executions == 1 {
                    "execution"
                } else {
                    "executions"
                };
                format!("; started again {times}, after {executions} {noun} not counted")
            }
            None => String::new(),
        };
        let blind = match self.blind_spots.as_slice() {
            [] => String::new(),
            spots => format!("; cannot see: {}", spots.join(", ")),
        };
        format!(
            "{}: {} executions, {} distinct outcomes, {:.2?}, {}; {}{search}{restarts}{bound}{blind}",
            self.checker,
            self.executions,
            self.outcomes.len(),
            self.elapsed,
            self.coverage_words(),
            verdict
        )
    }
}
