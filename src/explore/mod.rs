//! Exploration: run a body under a model checker, within a budget, and report what it reached.
//!
//! Invariant: every exploration returns a [`Report`], never a panic, and every word of it is
//! true: a deadlock, a violated invariant, a panic in the body, an exhausted budget and a body
//! the checker cannot run all come back as data, with the executions explored, the distinct
//! outcomes with their counts, the time taken, and what the checker cannot see. A report that
//! explored nothing, whose every execution was cut before the invariant judged it, or that
//! its checker could not run, has not passed. A failure is the
//! simplest the checker found (fewest preemptions, then fewest spurious wakeups), comes with
//! the trace of its execution and a token that replays it ([`replay`]).
//!
//! ```text
//!   body: Fn() -> O  ──►  [ per execution: budget check ─ body ─ invariant ─ record ]
//!                              │ loom: every interleaving (DPOR), × every spurious plan;
//!                              │       on a failure, again at preemption bounds 0, 1, ...
//!                              │ shuttle: N random, PCT or URW schedules; a failure is shrunk
//!                              ▼
//!                          Report<O> { executions, outcomes, coverage, failure, blind spots }
//! ```
//!
//! The budget is enforced by this harness at the start of every execution: loom checks its own
//! limits only once per 20,000 executions.

pub(crate) mod alone;
pub mod checker;
pub(crate) mod explain;
mod failure;
mod harness;
pub(crate) use self::unseen::NO_MODEL_THREAD;
pub mod loom;
mod report;
pub mod shuttle;
mod unseen;

pub use self::checker::{Checker, CheckerKind, ReplayToken};
pub use self::failure::{Failure, FailureKind, Finding, Minimal, Minimality};
pub use self::harness::{with_progress, STALL};
pub use self::loom::LoomConfig;
pub use self::report::{Budget, Coverage, PctBound, Report, Restarts, Shape, Unsupported};
pub use self::shuttle::{Decisions, Schedules, ShuttleConfig};

use self::failure::Found;
use self::harness::{guarded, run_checker, with_timer, Recorder, RunEnd};

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
    match ReplayToken::parse(token) {
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
