//! Exhaustive exploration with loom: every interleaving within the preemption bound, and with
//! spurious wakeups on, every placement of up to `spurious_wakeups` of them; a failure is
//! reported at the smallest preemption bound that has one.
//!
//! Invariant: [`Coverage::Exhaustive`] is reported only when loom finished every spurious plan;
//! a budget stop says so, and the outcomes are then a lower bound. A failure is the first one
//! found at the smallest preemption bound (CHESS's iterative context bounding), and among the
//! plans at that bound, the first with the fewest spurious wakeups.
//!
//! Cost: the exploration first runs at the configured bound, as without the search. A body
//! that passes there passes at every smaller bound too (each bound's executions are, up to
//! equivalence, a subset of the next one's), so a passing exploration costs nothing more. Only
//! a failure pays for the search: bounds 0, 1, ... below it, each stopping at its first
//! failure, and small bounds are cheap.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::{
    run_checker, with_timer, Budget, Checker, Coverage, Failure, Finding, Found, Minimal,
    Minimality, Recorder, ReplayToken, Report, Restarts, RunEnd, Unsupported,
};
use crate::sync::choice::{self, Kind, Pick, Plan, Policy};
use crate::sync::model;
use crate::sync::Loom;

/// How deep loom explores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoomConfig {
    /// At most this many preemptions per execution; `None` explores every interleaving.
    pub preemption_bound: Option<usize>,
    /// At most this many faults per execution (a condvar wait or a park that returns
    /// spuriously, a `compare_exchange_weak` that fails spuriously); 0 turns them off.
    pub spurious_wakeups: usize,
    pub budget: Budget,
    /// Loom's limit on branch points in one execution (it fails an execution past it).
    pub max_branches: usize,
    /// Record each execution's primitive operations, so a failure comes with its trace.
    pub record_traces: bool,
    /// Replay: explore only this spurious plan, only at `preemption_bound`, and search no
    /// further (a failure's replay token sets it).
    pub plan: Option<Plan>,
    /// Replay: the `RwLock`s' raised waiters enter again from the first execution, as in the
    /// pass that found the failure (an unbounded exploration lets releases hand the lock over
    /// until its first `try_read` or `try_write`, then starts again without: see
    /// `sync::rwlock::BuiltRwLock`). A failure's replay token without a preemption bound sets
    /// it (`rwlock=barging`): a bounded replay barges anyway.
    pub barging: bool,
    /// Replay: the timer of timed waits runs from the first execution, as in the pass that
    /// found the failure (an exploration runs without it, and again with it once a timed wait
    /// needs it). Its thread shifts the ids of the threads after it and counts among the
    /// interleavings, so a failure found with it replays only with it. A failure's replay
    /// token sets it (`timer=on`).
    pub timer: bool,
}

impl Default for LoomConfig {
    fn default() -> Self {
        LoomConfig {
            preemption_bound: None,
            spurious_wakeups: 0,
            budget: Budget::UNLIMITED,
            max_branches: 100_000,
            record_traces: true,
            plan: None,
            barging: false,
            timer: false,
        }
    }
}

/// The environment variables loom's `Builder::new()` reads that would change an exploration:
/// threadproof sets each of these itself, so a value in the environment would be ignored
/// silently (or, malformed, crash loom). They are refused instead.
pub const REFUSED_ENV: [&str; 6] = [
    "LOOM_MAX_PREEMPTIONS",
    "LOOM_MAX_BRANCHES",
    "LOOM_MAX_PERMUTATIONS",
    "LOOM_MAX_DURATION",
    "LOOM_CHECKPOINT_FILE",
    "LOOM_CHECKPOINT_INTERVAL",
];

/// Why the environment stops loom from running as configured, if it does.
pub fn environment_refusal() -> Option<Unsupported> {
    let set: Vec<&str> = REFUSED_ENV
        .iter()
        .copied()
        .filter(|var| std::env::var_os(var).is_some())
        .collect();
    if set.is_empty() {
        return None;
    }
    Some(Unsupported {
        reason: format!("refused: {} set in the environment", set.join(", ")),
        detail: Some(
            "threadproof sets loom's limits itself (LoomConfig, `--budget`, `--timeout`) and \
             would otherwise ignore it"
                .to_string(),
        ),
        instead: Some(format!("unset {}", set.join(" and "))),
    })
}

impl LoomConfig {
    /// Every interleaving, no spurious wakeups.
    pub fn exhaustive() -> Self {
        Self::default()
    }

    pub fn preemption_bound(mut self, bound: usize) -> Self {
        self.preemption_bound = Some(bound);
        self
    }

    pub fn spurious_wakeups(mut self, at_most: usize) -> Self {
        self.spurious_wakeups = at_most;
        self
    }

    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The settings as a report names them.
    pub fn describe(&self) -> String {
        let preemptions = match self.preemption_bound {
            None => "no preemption bound".to_string(),
            Some(b) => format!("preemption bound {b}"),
        };
        let spurious = match (self.spurious_wakeups, &self.plan) {
            (_, Some(plan)) => format!("replaying spurious plan {plan}"),
            (0, None) => "spurious wakeups and failures off".to_string(),
            (n, None) => format!("spurious wakeups and failures <= {n}"),
        };
        format!("loom ({preemptions}, {spurious})")
    }

    /// What loom cannot see with these settings.
    pub fn blind_spots(&self) -> Vec<String> {
        let mut spots = Vec::new();
        if let Some(bound) = self.preemption_bound {
            spots.push(format!("executions with more than {bound} preemptions"));
        }
        spots.push(match self.spurious_wakeups {
            0 => "spurious wakeups and weak-exchange failures".to_string(),
            1 => "more than 1 spurious wakeup or weak-exchange failure per execution".to_string(),
            n => format!("more than {n} spurious wakeups or weak-exchange failures per execution"),
        });
        spots.push(format!(
            "bodies with more than {} threads besides main",
            ::loom::MAX_THREADS - 1
        ));
        spots.push(
            "a weaker access reordering with an adjacent SeqCst one (SeqCst is modelled with \
             fences)"
                .to_string(),
        );
        spots
    }
}

/// The executions of one exploration, run after run.
struct Runs<O, B, I> {
    recorder: Arc<Recorder<O>>,
    checked: Arc<(B, I)>,
    max_branches: usize,
    spurious_wakeups: usize,
    mode: Mode,
}

/// What every execution of a pass of an exploration has from its start.
#[derive(Clone, Copy)]
struct Mode {
    /// Whether each execution runs the timer of timed waits ([`crate::sync::timer`]).
    timer: bool,
    /// Whether `RwLock`s hand their lock over on release, in the runs without a preemption
    /// bound (`sync::rwlock::BuiltRwLock`): a bounded run counts preemptions in std's barging
    /// schedules, which hand-over reaches with other counts.
    hand_over: bool,
}

/// How a search over the spurious plans at one bound ended.
struct PlansEnd {
    end: RunEnd,
    /// The plan of the run that failed, and the failing execution's number within that run.
    failing: Option<(Plan, u64)>,
}

impl<O, B, I> Runs<O, B, I>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    /// One `Builder::check` at `bound` under `plan`.
    fn run(&self, bound: Option<usize>, plan: &Plan) -> RunEnd {
        let policy = Policy::Plan {
            plan: plan.clone(),
            faults: self.spurious_wakeups > 0,
        };
        let _installed = choice::install(policy);
        let mut builder = ::loom::model::Builder::new();
        builder.preemption_bound = bound;
        builder.max_branches = self.max_branches;
        // Our budget is checked per execution; loom's own limits would only be checked every
        // 20,000 executions and end the run silently.
        builder.max_duration = None;
        builder.max_permutations = None;
        builder.checkpoint_file = None;
        builder.max_threads = ::loom::MAX_THREADS;
        // Names the user's lines in data race reports (it costs next to nothing).
        builder.location = true;
        let (recorder, checked) = (Arc::clone(&self.recorder), Arc::clone(&self.checked));
        let timer = self.mode.timer;
        let outer = crate::sync::model::set_rwlock_hand_over(self.hands_over(bound));
        let end = run_checker(|| {
            builder.check(move || {
                let body = || with_timer::<Loom, O>(timer, &checked.0);
                model::run_as_main(|| recorder.execute_unwinding(&body, &checked.1))
            })
        });
        crate::sync::model::set_rwlock_hand_over(outer);
        end
    }

    /// Whether the `RwLock`s of a run at `bound` hand their lock over.
    fn hands_over(&self, bound: Option<usize>) -> bool {
        self.mode.hand_over && bound.is_none()
    }

    /// Every spurious plan at `bound`, fewest spurious wakeups first, until one fails.
    fn plans(&self, bound: Option<usize>) -> PlansEnd {
        let mut queue = VecDeque::from([Plan::default()]);
        let mut seen = BTreeSet::from([Plan::default()]);
        while let Some(plan) = queue.pop_front() {
            let before = self.recorder.executions();
            let end = self.run(bound, &plan);
            match end {
                RunEnd::Completed => {
                    // One more choice taken, at each one the runs under it reached: any value
                    // of a value choice; a fault while the plan has fewer than the bound.
                    let more_faults = plan.faults() < self.spurious_wakeups;
                    for (choice, reached) in choice::reached() {
                        if plan.0.contains_key(&choice) {
                            continue;
                        }
                        let picks: Vec<Pick> = match reached.kind {
                            Kind::Fault if more_faults => vec![Pick::FAULT],
                            Kind::Fault => Vec::new(),
                            Kind::Value => (1..reached.values).map(Pick::value).collect(),
                        };
                        for pick in picks {
                            let next = plan.with(choice.clone(), pick);
                            if seen.insert(next.clone()) {
                                queue.push_back(next);
                            }
                        }
                    }
                }
                end => {
                    let number = self.recorder.executions() - before;
                    return PlansEnd {
                        end,
                        failing: Some((plan, number)),
                    };
                }
            }
        }
        PlansEnd {
            end: RunEnd::Completed,
            failing: None,
        }
    }
}

/// Explores `body` under loom. `body` runs once per execution, inside the model, and must use
/// the [`crate::sync::Loom`] primitives; `invariant` judges each outcome.
pub fn explore<O, B, I>(config: &LoomConfig, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    explore_from(config, body, invariant, false)
}

/// [`explore`], with the atomics that order `threadproof::std` objects made in every
/// execution from the first (`makers`), or only once an execution needed them.
fn explore_from<O, B, I>(config: &LoomConfig, body: B, invariant: I, makers: bool) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    if let Some(refusal) = environment_refusal() {
        return Report::not_run(config.describe(), refusal, 0);
    }
    let _turn = super::alone::LoomTurn::take();
    let config = config.clone();
    super::guarded(config.describe(), config.budget, move || {
        let started = Instant::now();
        let checked = Arc::new((body, invariant));
        // Without the timer, without the atomics that order `threadproof::std` objects, and
        // with `RwLock`s that hand their lock over, first; the whole exploration again with
        // what an execution needed, once it needed it, so that every execution of it runs the
        // same threads, objects and locks.
        let mut timer = config.timer;
        let mut restarts = Restarts::default();
        crate::std::rt::forget_mirror_plan();
        crate::std::rt::set_mirror_makers(makers);
        let mut hand_over = !config.barging;
        crate::sync::model::take_barging_restart();
        crate::sync::model::take_timer_restart();
        let report = loop {
            let pass = explore_checked(
                &config,
                Arc::clone(&checked),
                Mode { timer, hand_over },
                started,
                restarts,
            );
            // Asked even of a finished exploration: a body may have caught the restart's panic.
            let mirror = crate::std::rt::take_mirror_restart();
            let barging = crate::sync::model::take_barging_restart();
            let needs_timer = crate::sync::model::take_timer_restart();
            let abandoned = match pass {
                Ok(report) if !mirror && !barging && !needs_timer => break report,
                Ok(report) => report.executions + report.simplest_search.unwrap_or(0),
                Err(executions) => executions,
            };
            restarts = restarts.after(abandoned);
            if barging {
                hand_over = false;
            }
            if needs_timer || (!barging && !mirror) {
                assert!(!timer, "an exploration with the timer needs no timer");
                timer = true;
            }
        };
        crate::std::rt::forget_mirror_plan();
        report
    })
}

/// One pass of [`explore`] in `mode` (the timer of timed waits, the `RwLock`s' hand-over),
/// after the passes `earlier` that started again: the executions of this pass, abandoned, if
/// an execution needed another mode.
fn explore_checked<O, B, I>(
    config: &LoomConfig,
    checked: Arc<(B, I)>,
    mode: Mode,
    started: Instant,
    earlier: Restarts,
) -> Result<Report<O>, u64>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    crate::sync::model::take_limits();
    // What the passes that started again ran counts: the budget is the exploration's. Not a
    // replay's, whose budget is its token's execution of the last pass.
    let charged = match config.plan {
        Some(_) => 0,
        None => earlier.executions,
    };
    let runs = Runs {
        recorder: Arc::new(Recorder::new(
            config.budget.remaining(charged, started),
            config.record_traces,
        )),
        checked,
        max_branches: config.max_branches,
        spurious_wakeups: config.spurious_wakeups,
        mode,
    };

    // The search for the smallest failing bound runs after the exploration, with executions
    // of its own: the report counts the exploration's, and the search's apart.
    let mut search_executions = None;
    let mut found_first = None;
    let (end, failing, minimal) = match &config.plan {
        Some(plan) => {
            let before = runs.recorder.executions();
            let end = runs.run(config.preemption_bound, plan);
            let number = runs.recorder.executions() - before;
            let failing = Some((config.preemption_bound, plan.clone(), number));
            (end, failing, None)
        }
        None => {
            let main = runs.plans(config.preemption_bound);
            match main.end {
                RunEnd::Failed(found) => {
                    let (plan, number) = main.failing.unwrap_or_default();
                    let search = Runs {
                        recorder: Arc::new(Recorder::new(
                            config
                                .budget
                                .remaining(charged + runs.recorder.executions(), started),
                            config.record_traces,
                        )),
                        checked: Arc::clone(&runs.checked),
                        max_branches: config.max_branches,
                        spurious_wakeups: config.spurious_wakeups,
                        mode,
                    };
                    let first = Finding {
                        kind: found.kind,
                        message: found.message.clone(),
                    };
                    let simplest = simplest(&search, config, found, plan, number);
                    search_executions = Some(search.recorder.executions());
                    // Said apart only when the execution shown shows something else.
                    let shown = match &simplest.0 {
                        RunEnd::Failed(shown) => Some((shown.kind, &shown.message)),
                        _ => None,
                    };
                    if shown.is_some_and(|shown| shown != (first.kind, &first.message)) {
                        found_first = Some(first);
                    }
                    simplest
                }
                end => (end, None, None),
            }
        }
    };

    if let RunEnd::Restart = end {
        return Err(runs.recorder.executions() + search_executions.unwrap_or(0));
    }
    let executions = runs.recorder.executions();
    let coverage_is_run = !matches!(end, RunEnd::Unsupported(_));
    let coverage = match &end {
        RunEnd::Completed => Coverage::Exhaustive,
        RunEnd::OutOfBudget => Coverage::BudgetExhausted,
        RunEnd::Failed(..) => Coverage::StoppedAtFailure,
        RunEnd::Unsupported(unsupported) => Coverage::Unsupported(unsupported.clone()),
        RunEnd::Restart => unreachable!("returned above"),
    };
    let failure = match (end, failing) {
        (RunEnd::Failed(found), Some((bound, plan, number))) => {
            let replay = LoomConfig {
                preemption_bound: bound,
                plan: Some(plan.clone()),
                budget: Budget::UNLIMITED,
                // A bounded replay runs barging anyway.
                barging: bound.is_none() && !runs.mode.hand_over,
                timer: runs.mode.timer,
                ..config.clone()
            };
            Some(Failure {
                kind: found.kind,
                message: found.message,
                location: found.location,
                execution: executions,
                spurious_plan: Some(plan),
                trace: found.trace,
                minimal,
                replay: ReplayToken {
                    checker: Checker::Loom(replay),
                    execution: number,
                },
                found: found_first,
            })
        }
        _ => None,
    };
    Ok(Report {
        checker: config.describe(),
        executions,
        outcomes: runs.recorder.take_outcomes(),
        elapsed: started.elapsed(),
        coverage,
        failure,
        largest_execution: runs.recorder.largest_execution(),
        pct_miss_bound: None,
        preemption_bound: config.preemption_bound,
        simplest_search: search_executions,
        restarts: (earlier.times > 0).then_some(earlier),
        blind_spots: if coverage_is_run {
            let mut spots = config.blind_spots();
            spots.extend(crate::sync::model::take_limits());
            spots
        } else {
            Vec::new()
        },
    })
}

/// How far the search for a simpler failure goes when the exploration had no preemption
/// bound: each bound costs about 5x the one before, and failures found by exhaustive runs
/// needed at most 3 preemptions in every kill-matrix mutant.
const UNBOUNDED_SEARCH_LIMIT: usize = 6;

/// The failure to report, given that the run at the configured bound found `found` (under
/// `plan`, at execution `number` of its run): the first failure at the smallest bound.
#[allow(clippy::type_complexity)]
fn simplest<O, B, I>(
    runs: &Runs<O, B, I>,
    config: &LoomConfig,
    found: Found,
    plan: Plan,
    number: u64,
) -> (RunEnd, Option<(Option<usize>, Plan, u64)>, Option<Minimal>)
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let minimal = |preemptions: usize, plan: &Plan, proof: Minimality| Minimal {
        preemptions,
        context_switches: None,
        spurious_wakeups: plan.faults(),
        proof,
    };
    for bound in 0.. {
        if config
            .preemption_bound
            .is_some_and(|configured| bound >= configured)
        {
            break;
        }
        if config.preemption_bound.is_none() && bound > UNBOUNDED_SEARCH_LIMIT {
            let why = format!("no failure within {UNBOUNDED_SEARCH_LIMIT} preemptions");
            let minimal = Minimal {
                preemptions: bound,
                context_switches: None,
                spurious_wakeups: plan.faults(),
                proof: Minimality::Unknown(why),
            };
            return (
                RunEnd::Failed(found),
                Some((None, plan, number)),
                Some(minimal),
            );
        }
        let at_bound = runs.plans(Some(bound));
        match at_bound.end {
            RunEnd::Completed => continue,
            RunEnd::Failed(simpler) => {
                let (plan, number) = at_bound.failing.unwrap_or_default();
                let minimal = minimal(bound, &plan, Minimality::Proven);
                return (
                    RunEnd::Failed(simpler),
                    Some((Some(bound), plan, number)),
                    Some(minimal),
                );
            }
            RunEnd::Restart => return (RunEnd::Restart, None, None),
            RunEnd::OutOfBudget | RunEnd::Unsupported(_) => {
                // The search could not finish: report what the first run found.
                let why = format!("the budget ran out at preemption bound {bound}");
                let preemptions = config.preemption_bound.unwrap_or(bound);
                let minimal = match config.preemption_bound {
                    Some(_) => minimal(preemptions, &plan, Minimality::Unknown(why)),
                    None => Minimal {
                        preemptions: bound,
                        context_switches: None,
                        spurious_wakeups: plan.faults(),
                        proof: Minimality::Unknown(format!(
                            "more than {} preemptions; {why}",
                            bound.saturating_sub(1)
                        )),
                    },
                };
                return (
                    RunEnd::Failed(found),
                    Some((config.preemption_bound, plan, number)),
                    Some(minimal),
                );
            }
        }
    }
    // Every bound below the configured one passed: the failure needs exactly that many.
    let bound = config.preemption_bound.unwrap_or_default();
    let minimal = minimal(bound, &plan, Minimality::Proven);
    (
        RunEnd::Failed(found),
        Some((config.preemption_bound, plan, number)),
        Some(minimal),
    )
}

#[cfg(test)]
mod tests;
