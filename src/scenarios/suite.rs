//! Checking many scenario variants at once, as `threadproof check` does: which explorations
//! run, which checkers stand in for one that cannot run a variant, a parallel runner that
//! hands results back in order, and the gate that compares the verdicts with expectations.
//!
//! Invariant: results come back in the order of [`explorations`], whatever order they finish
//! in, so a caller that prints them prints the same text for any number of jobs; nothing here
//! writes to stdout (only a thread that cannot start is warned of, on stderr), so the binary
//! or a test decides what people see.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::{AnyScenario, Checked, Params, ScenarioError};
use crate::check::Portfolio;
use crate::explore::{self, Budget, Checker, CheckerKind, Coverage};

/// Which of the portfolio's checkers explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckerChoice {
    /// Loom alone; a variant loom cannot run goes to the shuttle checkers instead.
    Loom,
    /// Shuttle's random, PCT and URW.
    Shuttle,
    /// Every checker.
    All,
}

impl CheckerChoice {
    /// The library's [`Portfolio`] (loom with a spurious wakeup explored; random, PCT and URW
    /// with one wait in 4 spurring), cut to the checkers `self` names.
    pub fn checkers(self, iterations: usize, budget: Budget) -> Vec<Checker> {
        Portfolio::with_iterations(iterations)
            .budget(budget)
            .checkers()
            .into_iter()
            .filter(|c| match self {
                CheckerChoice::Loom => c.kind() == CheckerKind::Loom,
                CheckerChoice::Shuttle => c.kind().is_shuttle(),
                CheckerChoice::All => true,
            })
            .collect()
    }

    /// The checkers that explore a variant its own checker cannot run (loom past its thread
    /// limit): the shuttle checkers when only loom was chosen, else none, since they already
    /// run it.
    pub fn instead(self, iterations: usize, budget: Budget) -> Vec<Checker> {
        match self {
            CheckerChoice::Loom => CheckerChoice::Shuttle.checkers(iterations, budget),
            _ => Vec::new(),
        }
    }

    /// Why the environment stops these checkers from running as asked, if it does.
    pub fn environment_refusal(self) -> Option<String> {
        if self != CheckerChoice::Shuttle {
            if let Some(refusal) = explore::loom::environment_refusal() {
                return Some(refusal.to_string());
            }
        }
        if self != CheckerChoice::Loom {
            if let Some(Err(refusal)) = explore::shuttle::environment_seed() {
                return Some(refusal.to_string());
            }
        }
        None
    }
}

/// One exploration: a variant of a scenario under one checker.
pub struct Exploration {
    pub scenario: &'static dyn AnyScenario,
    pub variant: &'static str,
    /// The mutant's bug, `None` for a correct variant.
    pub bug: Option<&'static str>,
    pub checker: Checker,
}

impl Exploration {
    /// Loom on a correct variant: the explorations that take seconds rather than milliseconds.
    fn is_long(&self) -> bool {
        matches!(self.checker, Checker::Loom(_)) && self.bug.is_none()
    }

    /// `scenario / variant / checker`, as the progress line names it.
    pub fn label(&self, checker: &Checker) -> String {
        format!(
            "{} / {} / {}",
            self.scenario.name(),
            self.variant,
            checker.kind()
        )
    }
}

/// Every variant of `chosen` (mutants only when asked) under every checker, each checker cut
/// to the scenario's check bound.
pub fn explorations(
    chosen: &[&'static dyn AnyScenario],
    checkers: &[Checker],
    mutants: bool,
) -> Vec<Exploration> {
    let mut explorations = Vec::new();
    for &s in chosen {
        for (variant, bug) in s.variants() {
            if bug.is_some() && !mutants {
                continue;
            }
            for checker in checkers {
                explorations.push(Exploration {
                    scenario: s,
                    variant,
                    bug,
                    checker: s.with_check_bound(checker),
                });
            }
        }
    }
    explorations
}

/// One exploration's verdicts: its own, then those of the checkers that ran it instead when
/// its checker could not; or the scenario's name and why it could not run.
pub type Explored = Result<Vec<Checked>, (&'static str, ScenarioError)>;

/// What a caller sees of the explorations while they run (a progress display); every method
/// does nothing by default.
pub trait Watch: Sync {
    /// Runs one exploration, named `label`, on the thread that calls it; wraps it in whatever
    /// shows its progress (see [`explore::with_progress`]).
    fn exploring(
        &self,
        label: &str,
        budget: Budget,
        explore: &mut dyn FnMut() -> Result<Checked, ScenarioError>,
    ) -> Result<Checked, ScenarioError> {
        let _ = (label, budget);
        explore()
    }

    /// One more exploration finished (in any order).
    fn finished(&self) {}
}

/// A [`Watch`] that shows nothing.
pub struct Unwatched;

impl Watch for Unwatched {}

/// Runs `explorations` on `jobs` threads and hands each result to `done` in the explorations'
/// own order, as soon as it and every one before it are finished: the output is the same as
/// one after the other, whatever finishes first. A variant its checker cannot run is run by
/// each of `instead`.
///
/// Explorations are independent (loom and shuttle keep their state per OS thread), so they
/// can run side by side, except that loom's walks take turns (`explore::alone`): while one
/// walks, a thread that took another loom exploration waits. The long ones (loom on a correct
/// variant) start first, so that no long one is left to run alone at the end.
pub fn explore_in_order(
    explorations: &[Exploration],
    params: &Params,
    jobs: usize,
    instead: &[Checker],
    watch: &dyn Watch,
    mut done: impl FnMut(Explored),
) {
    let mut order: Vec<usize> = (0..explorations.len()).collect();
    order.sort_by_key(|&i| !explorations[i].is_long());
    let next = AtomicUsize::new(0);
    let (finished, inbox) = mpsc::channel::<(usize, Explored)>();
    // Each checking thread takes the next exploration in `order` until none is left.
    let work = |finished: mpsc::Sender<(usize, Explored)>| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let exploration = &explorations[i];
            let explore = |checker: &Checker| {
                let label = exploration.label(checker);
                watch
                    .exploring(&label, checker.budget(), &mut || {
                        exploration
                            .scenario
                            .check(exploration.variant, checker, params)
                    })
                    .map_err(|e| (exploration.scenario.name(), e))
            };
            let explored = explore(&exploration.checker).and_then(|checked| {
                let mut all = vec![checked];
                if all[0].report.unsupported().is_some() {
                    for checker in instead {
                        all.push(explore(checker)?);
                    }
                }
                Ok(all)
            });
            if finished.send((i, explored)).is_err() {
                break;
            }
        }
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for worker in 0..jobs.min(explorations.len()) {
            let (work, finished) = (&work, finished.clone());
            // As big as the main thread's: a model's own frames run on this stack.
            let spawned = std::thread::Builder::new()
                .name(format!("check-{worker}"))
                .stack_size(8 << 20)
                .spawn_scoped(scope, move || work(finished));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => eprintln!("warning: cannot start checking thread {worker}: {e}"),
            }
        }
        if started == 0 && !explorations.is_empty() {
            // Not one thread: explore on this one, with the same output.
            work(finished.clone());
        }
        drop(finished);
        let mut waiting: Vec<Option<Explored>> = explorations.iter().map(|_| None).collect();
        let mut handed = 0;
        for (i, explored) in inbox {
            watch.finished();
            waiting[i] = Some(explored);
            while let Some(explored) = waiting.get_mut(handed).and_then(Option::take) {
                done(explored);
                handed += 1;
            }
        }
    });
}

/// The gate's reading of a set of verdicts: what was unexpected, what no checker ran, what
/// did not finish.
pub struct Gate<'a> {
    /// Every verdict.
    pub results: &'a [Checked],
    /// Explorations whose checker could not run them: neither a pass nor a failure.
    pub not_run: Vec<&'a Checked>,
    /// Explorations that ran and did not give the expected verdict.
    pub unexpected: usize,
    /// `scenario / variant` that no chosen checker could run: nothing checked them.
    pub unchecked: Vec<String>,
    /// Explorations that did not finish: cut by their budget, or not run.
    pub incomplete: usize,
}

impl<'a> Gate<'a> {
    /// Compares each verdict in `results` with what its variant and checker expect.
    pub fn new(results: &'a [Checked]) -> Self {
        let not_run: Vec<&Checked> = results
            .iter()
            .filter(|c| c.report.unsupported().is_some())
            .collect();
        let unexpected = results
            .iter()
            .filter(|c| c.report.unsupported().is_none() && !c.as_expected())
            .count();
        let mut unchecked: Vec<String> = Vec::new();
        for c in results {
            let ran = results.iter().any(|other| {
                other.scenario == c.scenario
                    && other.variant == c.variant
                    && other.report.unsupported().is_none()
            });
            let name = format!("{} / {}", c.scenario, c.variant);
            if !ran && !unchecked.contains(&name) {
                unchecked.push(name);
            }
        }
        let incomplete = results
            .iter()
            .filter(|c| {
                !matches!(
                    c.report.coverage,
                    Coverage::Exhaustive | Coverage::Sampled | Coverage::StoppedAtFailure
                )
            })
            .count();
        Gate {
            results,
            not_run,
            unexpected,
            unchecked,
            incomplete,
        }
    }

    /// Whether the gate passes: no unexpected verdict, every variant checked by some checker,
    /// and with `require_complete` every exploration finished.
    pub fn passed(&self, require_complete: bool) -> bool {
        self.unexpected == 0
            && self.unchecked.is_empty()
            && !(require_complete && self.incomplete > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::find;

    /// A few shuttle schedules: enough for turns' mutants to fail, and quick in a debug build.
    fn shuttle() -> Vec<Checker> {
        CheckerChoice::Shuttle.checkers(50, Budget::executions(1_000))
    }

    fn names(checked: &[Checked]) -> Vec<(&'static str, &'static str, CheckerKind)> {
        checked
            .iter()
            .map(|c| (c.scenario, c.variant, c.checker.kind()))
            .collect()
    }

    fn explore_all(explorations: &[Exploration], params: &Params, jobs: usize) -> Vec<Checked> {
        let instead = CheckerChoice::Loom.instead(50, Budget::executions(1_000));
        let mut results = Vec::new();
        explore_in_order(
            explorations,
            params,
            jobs,
            &instead,
            &Unwatched,
            |explored| results.extend(explored.expect("turns runs")),
        );
        results
    }

    #[test]
    fn results_come_back_in_the_explorations_order_for_any_number_of_jobs() {
        let turns = find("turns").unwrap();
        let explorations = explorations(&[turns], &shuttle(), true);
        let order: Vec<_> = explorations
            .iter()
            .map(|e| (e.scenario.name(), e.variant, e.checker.kind()))
            .collect();
        // Every variant, mutants included, under random, PCT and URW.
        assert_eq!(order.len(), turns.variants().len() * 3);
        for jobs in [1, 3, 8] {
            let results = explore_all(&explorations, &Params::default(), jobs);
            assert_eq!(names(&results), order, "{jobs} jobs");
        }
    }

    #[test]
    fn the_gate_passes_caught_mutants_and_fails_one_that_escapes() {
        let turns = find("turns").unwrap();
        let mut results = explore_all(
            &explorations(&[turns], &shuttle(), true),
            &Params::default(),
            2,
        );
        let gate = Gate::new(&results);
        assert_eq!(gate.unexpected, 0);
        assert!(gate.passed(true), "every exploration finished");
        // A mutant whose failure went unseen is an unexpected verdict.
        let caught = results
            .iter()
            .position(|c| c.bug.is_some() && c.report.failure.is_some())
            .unwrap();
        results[caught].report.failure = None;
        let gate = Gate::new(&results);
        assert_eq!(gate.unexpected, 1);
        assert!(!gate.passed(false));
    }

    #[test]
    fn a_variant_loom_cannot_run_goes_to_the_shuttle_checkers() {
        let counter = find("counter").unwrap();
        let loom = CheckerChoice::Loom.checkers(50, Budget::executions(1_000));
        let mut explorations = explorations(&[counter], &loom, false);
        assert_eq!(explorations.len(), 1);
        let params = Params {
            threads: Some(6),
            n: None,
        };
        let results = explore_all(&explorations[..], &params, 1);
        let kinds: Vec<CheckerKind> = results.iter().map(|c| c.checker.kind()).collect();
        assert_eq!(kinds[0], CheckerKind::Loom);
        assert!(results[0].report.unsupported().is_some(), "6 threads");
        assert!(kinds[1..].iter().all(|k| k.is_shuttle()) && kinds.len() == 4);
        let gate = Gate::new(&results);
        assert_eq!(gate.not_run.len(), 1);
        assert!(gate.unchecked.is_empty(), "shuttle checked it");
        assert!(gate.passed(false) && !gate.passed(true));
        // With nothing instead, nothing checked it: the gate fails.
        explorations.truncate(1);
        let mut alone = Vec::new();
        explore_in_order(&explorations, &params, 1, &[], &Unwatched, |explored| {
            alone.extend(explored.unwrap())
        });
        let gate = Gate::new(&alone);
        assert_eq!(gate.unchecked, ["counter / locked"]);
        assert!(!gate.passed(false));
    }
}
