//! One line to check your own code under every checker that can express it: [`crate::check!`].
//!
//! ```
//! use threadproof::check;
//!
//! // Two threads increment a counter under a lock: every checker agrees it ends at 2.
//! check!({
//!     let counter = Arc::new(Mutex::new(0));
//!     let c = Arc::clone(&counter);
//!     let t = thread::spawn(move || *c.lock().unwrap() += 1);
//!     *counter.lock().unwrap() += 1;
//!     t.join().unwrap();
//!     let total = *counter.lock().unwrap();
//!     total
//! }, |total| *total == 2);
//! ```
//!
//! The body is plain std code, compiled once against [`crate::std`] (std's paths and
//! signatures), and each execution dispatches to the checker running it. Code written over
//! the per-backend paths (`threadproof::sync::loom::*`, `P: Primitives`) uses
//! [`crate::check_backends!`], which compiles it once per backend.
//!
//! Invariant: a verdict table has one row per checker of the [`Portfolio`] (loom, then
//! shuttle's random, PCT and URW schedules), each row that checker's own report; a check
//! passes only if no checker found a failure and at least one of them passed (ran an execution
//! to its end, judged by the invariant). A
//! checker that cannot run the body (loom past its thread cap, loom with every thread slot
//! taken when timeouts need one) says so in its row, with the reason, and the others run it
//! anyway: never silently.

use std::fmt::{Debug, Display};
use std::sync::Arc;

mod verdicts;

pub use self::verdicts::Verdicts;

use crate::explore::{self, Budget, Checker, LoomConfig, Report, ShuttleConfig};

/// The checkers a [`check`] runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Portfolio {
    /// Loom, if it runs: every interleaving within its bounds, weak memory included.
    pub loom: Option<LoomConfig>,
    /// Shuttle's schedulers, in order.
    pub shuttle: Vec<ShuttleConfig>,
    /// Whether [`crate::check!`] fails when a checker's budget cut its exploration short
    /// (otherwise it passes and prints a line for each such row).
    pub require_complete: bool,
}

/// Loom's default budget: enough for the bodies loom can finish in a test's time (about a
/// minute at ~1 ms per execution in a debug build), after which its row says "bounded".
pub const LOOM_EXECUTIONS: u64 = 50_000;

/// Shuttle's default schedules per scheduler.
pub const SHUTTLE_ITERATIONS: usize = 1_000;

impl Portfolio {
    /// Loom (every interleaving, up to one spurious wakeup or failure per execution, within
    /// [`LOOM_EXECUTIONS`]) and [`SHUTTLE_ITERATIONS`] schedules each of shuttle's random,
    /// PCT (depth 3) and URW schedulers (one wait or weak exchange in 4 fails spuriously).
    pub fn standard() -> Self {
        Self::with_iterations(SHUTTLE_ITERATIONS)
    }

    /// [`Portfolio::standard`] with `iterations` schedules per shuttle scheduler.
    ///
    /// The rows of a check run at once, one thread each, so the cores are shared among them:
    /// each shuttle scheduler gets the cores left over per row as workers (one on a machine
    /// with fewer cores than rows, 4 on 16 cores), rather than every row taking every core.
    pub fn with_iterations(iterations: usize) -> Self {
        let portfolio = Portfolio {
            loom: Some(
                LoomConfig::exhaustive()
                    .spurious_wakeups(1)
                    .budget(Budget::executions(LOOM_EXECUTIONS)),
            ),
            shuttle: vec![
                ShuttleConfig::random(iterations).spurious_one_in(4),
                ShuttleConfig::pct(3, iterations).spurious_one_in(4),
                ShuttleConfig::urw(iterations).spurious_one_in(4),
            ],
            require_complete: false,
        };
        let rows = portfolio.checkers().len();
        portfolio.with_jobs(crate::explore::shuttle::default_jobs() / rows)
    }

    /// The same checkers, and [`crate::check!`] fails unless every one that ran finished
    /// within its budget (as the CLI's `--require-complete`).
    pub fn require_complete(mut self) -> Self {
        self.require_complete = true;
        self
    }

    /// The same checkers, loom left out.
    pub fn without_loom(mut self) -> Self {
        self.loom = None;
        self
    }

    /// The same checkers, each shuttle scheduler's schedules run by `jobs` worker threads (at
    /// least one; default: the cores per row, see [`Portfolio::with_iterations`]). The report is the same for any number: the failure
    /// shown is the one at the lowest schedule index, with the same execution number and token.
    pub fn with_jobs(mut self, jobs: usize) -> Self {
        for shuttle in &mut self.shuttle {
            shuttle.jobs = jobs.max(1);
        }
        self
    }

    /// The same checkers, each stopped at `budget` too.
    pub fn budget(mut self, budget: Budget) -> Self {
        if let Some(loom) = &mut self.loom {
            loom.budget = budget;
        }
        for shuttle in &mut self.shuttle {
            shuttle.budget = budget;
        }
        self
    }

    /// Every checker, in the order the table lists them.
    pub fn checkers(&self) -> Vec<Checker> {
        let loom = self.loom.iter().cloned().map(Checker::Loom);
        loom.chain(self.shuttle.iter().cloned().map(Checker::Shuttle))
            .collect()
    }
}

impl Default for Portfolio {
    fn default() -> Self {
        Self::standard()
    }
}

/// What an invariant says of an outcome: `true` or `Ok(())` accept it; `false` or `Err(why)`
/// reject it.
pub trait Judgement {
    fn judge(self) -> Result<(), String>;
}

impl Judgement for bool {
    fn judge(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("the invariant does not hold".to_string())
        }
    }
}

impl Judgement for () {
    fn judge(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> Judgement for Result<(), E> {
    fn judge(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Runs `portfolio` on a body written twice over (once on loom's primitives, once on
/// shuttle's: [`crate::check!`] writes both from one block), judging each outcome with
/// `invariant`.
pub fn check<O, L, S, I, J>(
    portfolio: &Portfolio,
    on_loom: L,
    on_shuttle: S,
    invariant: I,
) -> Verdicts<O>
where
    O: Ord + Debug + Send + 'static,
    L: Fn() -> O + Send + Sync + 'static,
    S: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> J + Send + Sync + 'static,
    J: Judgement,
{
    let judge = judge(invariant);
    let (on_loom, on_shuttle) = (Arc::new(on_loom), Arc::new(on_shuttle));
    let explore = |checker: &Checker| {
        let judge = Arc::clone(&judge);
        let judged = move |outcome: &O| judge(outcome);
        let (loom_body, shuttle_body) = (Arc::clone(&on_loom), Arc::clone(&on_shuttle));
        checker.explore_either(move || loom_body(), move || shuttle_body(), judged)
    };
    // The rows are independent explorations, each on an OS thread of its own (every checker
    // keeps its state per OS thread), so a check takes as long as its longest row; the
    // table keeps the portfolio's order.
    let checkers = portfolio.checkers();
    let turn = crate::explore::alone::carried();
    let reports = std::thread::scope(|scope| {
        let rows: Vec<_> = checkers
            .iter()
            .map(|checker| {
                std::thread::Builder::new()
                    .name(format!("check-{}", checker.kind()))
                    .spawn_scoped(scope, || {
                        turn.enter();
                        explore(checker)
                    })
            })
            .collect();
        checkers
            .iter()
            .zip(rows)
            .map(|(checker, row)| {
                // No thread for a row (the OS refused one): it runs here, after the others.
                let report = match row {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    Err(_) => explore(checker),
                };
                (checker.kind(), report)
            })
            .collect::<Vec<_>>()
    });
    // A static lock of the std mirror keeps one set of data for every execution, so rows that
    // ran at once stopped on it (a usage the mirror refuses rather than race): those rows
    // run again, one after another, as they would have without the threads.
    let reports = reports
        .into_iter()
        .zip(&checkers)
        .map(|((kind, report), checker)| match shared_a_static(&report) {
            true => (kind, explore(checker)),
            false => (kind, report),
        })
        .collect();
    Verdicts {
        reports,
        replay_with: "replay_backends",
    }
}

/// Whether `report` stopped because a static lock of the std mirror was in use by another row.
fn shared_a_static<O>(report: &Report<O>) -> bool {
    (report.failure.as_ref()).is_some_and(|f| f.message.contains(crate::std::rt::SHARED_STATIC))
}

/// `invariant` as the explorers take it: `Err` with the reason and the outcome.
#[allow(clippy::type_complexity)]
fn judge<O: Debug, J: Judgement>(
    invariant: impl Fn(&O) -> J + Send + Sync + 'static,
) -> Arc<dyn Fn(&O) -> Result<(), String> + Send + Sync> {
    Arc::new(move |outcome: &O| {
        invariant(outcome)
            .judge()
            .map_err(|why| format!("{why} (outcome {outcome:?})"))
    })
}

/// Replays the execution `token` names (a failure's replay token, as [`Verdicts::explain`]
/// prints it) with the same body, written twice over as for [`check`]: the report of that
/// one execution, its failure explained again.
pub fn replay<O, L, S, I, J>(token: &str, on_loom: L, on_shuttle: S, invariant: I) -> Report<O>
where
    O: Ord + Debug + Send + 'static,
    L: Fn() -> O + Send + Sync + 'static,
    S: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> J + Send + Sync + 'static,
    J: Judgement,
{
    let judge = judge(invariant);
    let judged = move |outcome: &O| judge(outcome);
    if token.starts_with("loom") {
        explore::replay(token, on_loom, judged)
    } else {
        explore::replay(token, on_shuttle, judged)
    }
}

/// [`check`] on a body compiled once against [`crate::std`] (what [`crate::check!`] writes):
/// every checker runs the same closure, which dispatches to it at run time. The body's
/// thread-locals are dropped when it returns, as a thread's are.
pub fn check_once<O, B, I, J>(portfolio: &Portfolio, body: B, invariant: I) -> Verdicts<O>
where
    O: Ord + Debug + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> J + Send + Sync + 'static,
    J: Judgement,
{
    let _as_before = crate::std::rt::EngineBefore::save();
    let (on_loom, on_shuttle) = as_main(body);
    Verdicts {
        replay_with: "replay",
        ..check(portfolio, on_loom, on_shuttle, invariant)
    }
}

/// [`replay`] on a body compiled once against [`crate::std`] (what [`crate::replay!`] writes).
pub fn replay_once<O, B, I, J>(token: &str, body: B, invariant: I) -> Report<O>
where
    O: Ord + Debug + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> J + Send + Sync + 'static,
    J: Judgement,
{
    let _as_before = crate::std::rt::EngineBefore::save();
    let (on_loom, on_shuttle) = as_main(body);
    replay(token, on_loom, on_shuttle, invariant)
}

/// `body` as the main thread of a model execution, twice (one per explorer): its
/// thread-locals dropped when it returns.
#[allow(clippy::type_complexity)]
fn as_main<O, B: Fn() -> O + Send + Sync + 'static>(
    body: B,
) -> (
    impl Fn() -> O + Send + Sync + 'static,
    impl Fn() -> O + Send + Sync + 'static,
) {
    let body = Arc::new(body);
    let again = Arc::clone(&body);
    let main = move |body: &B| {
        let outcome = body();
        crate::std::local::thread_exit();
        outcome
    };
    (move || main(&body), move || main(&again))
}

/// Checks a body under every checker that can express it, and panics with the verdict table,
/// the failing interleaving and the replay line if any finds a failure: one line in a test.
///
/// `check!(BODY)`, `check!(BODY, INVARIANT)` or `check!(with PORTFOLIO; BODY, INVARIANT)`.
/// `BODY` is a block of plain std code: the macro brings std's names into scope from
/// [`crate::std`] (`Arc`, `Mutex`, `Condvar`, `RwLock`, `OnceLock`, `mpsc`, `atomic`, `thread`,
/// ...) and threadproof's `choose`, and compiles it once: each execution dispatches to the
/// checker running it. It returns the outcome (any `Ord + Debug` value). `INVARIANT` takes
/// `&outcome` and returns `bool` or `Result<(), impl Display>`. Returns the [`Verdicts`].
/// Code written over the per-backend paths ([`crate::sync::loom`]) uses
/// [`crate::check_backends!`].
#[macro_export]
macro_rules! check {
    (with $portfolio:expr; $body:expr $(,)?) => {
        $crate::check!(with $portfolio; $body, |_| true)
    };
    (with $portfolio:expr; $body:expr, $invariant:expr $(,)?) => {{
        let portfolio: $crate::check::Portfolio = $portfolio;
        let required = portfolio.require_complete;
        $crate::verdicts!(with portfolio; $body, $invariant).assert_complete(required)
    }};
    ($body:expr $(,)?) => {
        $crate::check!(with $crate::check::Portfolio::standard(); $body, |_| true)
    };
    ($body:expr, $invariant:expr $(,)?) => {
        $crate::check!(with $crate::check::Portfolio::standard(); $body, $invariant)
    };
}

/// [`crate::check!`] without the assertion: the [`Verdicts`], passed or not, for code that
/// wants to look at them (a test that a checker catches a bug, a report).
/// `verdicts!(BODY)`, `verdicts!(BODY, INVARIANT)` or `verdicts!(with PORTFOLIO; BODY, INVARIANT)`.
#[macro_export]
macro_rules! verdicts {
    (with $portfolio:expr; $body:expr $(,)?) => {
        $crate::verdicts!(with $portfolio; $body, |_| true)
    };
    (with $portfolio:expr; $body:expr, $invariant:expr $(,)?) => {
        $crate::check::check_once(
            &$portfolio,
            move || {
                #[allow(unused_imports)]
                use $crate::std::prelude::*;
                $body
            },
            $invariant,
        )
    };
    ($body:expr $(,)?) => {
        $crate::verdicts!(with $crate::check::Portfolio::standard(); $body, |_| true)
    };
    ($body:expr, $invariant:expr $(,)?) => {
        $crate::verdicts!(with $crate::check::Portfolio::standard(); $body, $invariant)
    };
}

/// Replays a failure of [`crate::check!`] from its token: `replay!(TOKEN, BODY, INVARIANT)`,
/// with the body and invariant that failed. Returns the [`Report`] of that one execution.
#[macro_export]
macro_rules! replay {
    ($token:expr, $body:expr $(,)?) => {
        $crate::replay!($token, $body, |_| true)
    };
    ($token:expr, $body:expr, $invariant:expr $(,)?) => {
        $crate::check::replay_once(
            $token,
            move || {
                #[allow(unused_imports)]
                use $crate::std::prelude::*;
                $body
            },
            $invariant,
        )
    };
}

/// [`crate::check!`] for a body written against the per-backend paths rather than the std
/// mirror: compiled twice, once with [`crate::sync::loom`]'s names in scope, once with
/// [`crate::sync::shuttle`]'s (`lock()` returns the guard, `recv()` an `Option`, `P` names the
/// backend for code generic over `P: Primitives`). The same forms and verdicts as
/// [`crate::check!`]; a failure's replay line names [`crate::replay_backends!`].
#[macro_export]
macro_rules! check_backends {
    (with $portfolio:expr; $body:expr $(,)?) => {
        $crate::check_backends!(with $portfolio; $body, |_| true)
    };
    (with $portfolio:expr; $body:expr, $invariant:expr $(,)?) => {{
        let portfolio: $crate::check::Portfolio = $portfolio;
        let required = portfolio.require_complete;
        $crate::verdicts_backends!(with portfolio; $body, $invariant).assert_complete(required)
    }};
    ($body:expr $(,)?) => {
        $crate::check_backends!(with $crate::check::Portfolio::standard(); $body, |_| true)
    };
    ($body:expr, $invariant:expr $(,)?) => {
        $crate::check_backends!(with $crate::check::Portfolio::standard(); $body, $invariant)
    };
}

/// [`crate::check_backends!`] without the assertion, as [`crate::verdicts!`] is to [`crate::check!`].
#[macro_export]
macro_rules! verdicts_backends {
    (with $portfolio:expr; $body:expr $(,)?) => {
        $crate::verdicts_backends!(with $portfolio; $body, |_| true)
    };
    (with $portfolio:expr; $body:expr, $invariant:expr $(,)?) => {
        $crate::check::check(
            &$portfolio,
            move || {
                #[allow(unused_imports)]
                use $crate::sync::loom::*;
                $body
            },
            move || {
                #[allow(unused_imports)]
                use $crate::sync::shuttle::*;
                $body
            },
            $invariant,
        )
    };
    ($body:expr $(,)?) => {
        $crate::verdicts_backends!(with $crate::check::Portfolio::standard(); $body, |_| true)
    };
    ($body:expr, $invariant:expr $(,)?) => {
        $crate::verdicts_backends!(with $crate::check::Portfolio::standard(); $body, $invariant)
    };
}

/// Replays a failure of [`crate::check_backends!`] from its token: `replay_backends!(TOKEN, BODY, INVARIANT)`,
/// with the body and invariant that failed. Returns the [`Report`] of that one execution.
#[macro_export]
macro_rules! replay_backends {
    ($token:expr, $body:expr $(,)?) => {
        $crate::replay_backends!($token, $body, |_| true)
    };
    ($token:expr, $body:expr, $invariant:expr $(,)?) => {
        $crate::check::replay(
            $token,
            move || {
                #[allow(unused_imports)]
                use $crate::sync::loom::*;
                $body
            },
            move || {
                #[allow(unused_imports)]
                use $crate::sync::shuttle::*;
                $body
            },
            $invariant,
        )
    };
}
