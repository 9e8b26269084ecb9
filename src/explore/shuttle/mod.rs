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
//! Schedules run in fixed chunks of 64, each chunk's scheduler seeded from the seed and the
//! chunk's number, on `ShuttleConfig::jobs` worker threads (`jobs.rs`): the report (failure,
//! execution number, outcomes, token) is the same for any number of workers.
//!
//! Traces: a shuttle schedule replays exactly, so the exploration records none; the failure a
//! report shows is replayed once more, traced (`traced`).
//!
//! Deadlocks: every execution also has an idle watchdog thread, which the driver never runs
//! while another thread can run. When it is the only runnable thread and a model thread is
//! alive, every model thread is blocked: the driver stops the execution as a deadlock before
//! shuttle sees one.

mod decisions;
mod driver;
mod jobs;
mod shrink;

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use self::driver::{Driver, Mode, Runs};
use self::jobs::{explore_parts, merge, run_part, CHUNK};
use self::shrink::{shrink, Shrunk};
use super::{
    Budget, Checker, Coverage, Failure, Finding, Found, Minimal, Minimality, PctBound, Recorder,
    ReplayToken as Token, Report, Restarts, RunEnd, Shape, Unsupported,
};
use crate::sync::choice::{self, Policy};
use crate::sync::model;

pub use self::decisions::{Decisions, Switch};
pub use self::jobs::default_jobs;

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
    /// Give a failure its trace (each primitive operation of the failing execution). Only
    /// the execution a report shows is recorded, replayed once more from its schedule: the
    /// exploration and the shrinking run untraced whatever this says.
    pub record_traces: bool,
    /// Replay: run this one schedule and nothing else (a failure's replay token sets it).
    pub replay: Option<Decisions>,
    /// An execution past this many scheduling steps is cut (a livelock, a spin the schedule
    /// never lets out): a budget, said in the report, never a failure of the user's code.
    pub max_steps: usize,
    /// The worker threads that run the schedules (default: one per core). Schedules are
    /// taken in fixed chunks, so the report is the same for any number (see the module docs).
    pub jobs: usize,
    /// Replay: the timer of timed waits runs from the first execution, as in the pass that
    /// found the failure (an exploration runs without it, and again with it once a timed wait
    /// needs it). Its thread takes a task id, shifting those of the threads after it, and its
    /// spawn is one of main's scheduling points, so a schedule found with it replays only
    /// with it. A failure's replay token sets it (`timer=on`).
    pub timer: bool,
}

/// The steps an execution may take before it is cut: shuttle's own default bound.
pub const MAX_STEPS: usize = 1_000_000;

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
            max_steps: MAX_STEPS,
            jobs: default_jobs(),
            timer: false,
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

    /// Cuts each execution at `steps` scheduling steps ([`ShuttleConfig::max_steps`]).
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = steps;
        self
    }

    /// Runs the schedules on `jobs` worker threads (at least one).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The config that replays `decisions`: seed and iterations play no part in it.
    pub fn replaying(&self, decisions: Decisions) -> ShuttleConfig {
        ShuttleConfig {
            schedules: self.schedules,
            spurious_one_in: self.spurious_one_in,
            record_traces: self.record_traces,
            replay: Some(decisions),
            max_steps: self.max_steps,
            timer: self.timer,
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
            "data races on plain memory (UnsafeCell accesses interleave, but a race is not detected)"
                .to_string(),
        ];
        if self.replay.is_none() {
            spots.push("schedules it did not sample".to_string());
        }
        spots
    }
}

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
    let config = config.clone();
    super::guarded(config.describe(), config.budget, move || {
        // Without the timer first; the whole exploration again with it once a timed wait
        // needs it, so that every execution of it runs the same threads.
        let none = Restarts::default();
        let first = config.timer;
        let without = explore_checked(&config, seed, Arc::clone(&checked), first, started, none);
        without.unwrap_or_else(|abandoned| {
            explore_checked(&config, seed, checked, true, started, none.after(abandoned))
                .unwrap_or_else(|_| unreachable!("an exploration with the timer needs no timer"))
        })
    })
}

/// [`explore`], with or without the timer of timed waits, after the passes `earlier` that
/// started again: if a timed wait needed the timer, the executions this pass counted (those
/// below the schedule that needed it: the same for any number of workers).
fn explore_checked<O, B, I>(
    config: &ShuttleConfig,
    seed: u64,
    checked: Arc<(B, I)>,
    timer: bool,
    started: Instant,
    earlier: Restarts,
) -> Result<Report<O>, u64>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    model::take_limits();
    // What the passes that started again ran counts: the budget is the exploration's. Not a
    // replay's, whose budget is its token's execution of the last pass.
    let charged = match config.replay {
        Some(_) => 0,
        None => earlier.executions,
    };
    let budget = config.budget.remaining(charged, started);
    // Only the execution a report shows is traced: the exploration and the shrinking run
    // untraced, and the failure shown is replayed once more with its trace (see `traced`).
    // Replaying a token runs that execution itself.
    let mut recorder = Recorder::new(budget, config.record_traces && config.replay.is_some());
    // A budget in executions is a number of schedules: the same ones for any jobs.
    let schedules = match budget.max_executions {
        Some(max) => config.iterations.min(max.try_into().unwrap_or(usize::MAX)),
        None => config.iterations,
    };
    let parts = match &config.replay {
        Some(decisions) => {
            let _installed = choice::install(Policy::Coin {
                one_in: config.spurious_one_in,
            });
            let mode = Mode::Replay {
                decisions: decisions.clone(),
                started: false,
                fill: None,
            };
            let runs = Runs {
                recorder: Arc::new(recorder.part()),
                checked: Arc::clone(&checked),
                timer,
                max_steps: config.max_steps,
            };
            let mut driver = Driver::new(mode, Box::new(|| false));
            driver.max_steps = config.max_steps;
            let not_cancelled = Cell::new(false);
            vec![run_part(
                &runs,
                driver,
                0,
                &not_cancelled,
                decisions.switches.len(),
            )]
        }
        None => {
            // Shuttle's schedulers read SHUTTLE_RANDOM_SEED in place of every chunk's seed:
            // with it set, the run is that seed's one stream of schedules, as shuttle's own.
            let chunk = match environment_seed() {
                Some(_) => schedules.max(1),
                None => CHUNK,
            };
            let mut run = |jobs| {
                explore_parts(
                    config,
                    seed,
                    schedules,
                    chunk,
                    jobs,
                    &checked,
                    timer,
                    &mut recorder,
                )
            };
            let parts = run(config.jobs);
            // A static lock of the std mirror has one set of data for all executions: workers
            // running at once stop on it, one worker does not. Not a start again of the
            // exploration (`Restarts`): what one worker would have done from the start.
            if config.jobs > 1 && parts.iter().any(shared_a_static) {
                run(1)
            } else {
                parts
            }
        }
    };
    let merged = merge(parts);
    let budget_cut = config.replay.is_none()
        && schedules < config.iterations
        && merged.executions >= schedules as u64;
    let jobs::Merged {
        last,
        executions,
        outcomes,
        largest,
        most_steps,
        most_threads,
        cut,
        out_of_time,
        limits,
    } = merged;
    let end = match last.end {
        RunEnd::Completed if out_of_time || budget_cut => RunEnd::OutOfBudget,
        end => end,
    };
    let (decisions, simplicity, preempting, unapplied) = (
        last.decisions,
        last.simplicity,
        last.preempting,
        last.unapplied,
    );
    if let RunEnd::Restart = end {
        return Err(executions);
    }
    if unapplied && !timer {
        // A switch to a thread this run never had. A token says `timer=on` when it was found
        // with the timer's thread; one that does not and still names a thread past this run's
        // is replayed once more with the timer (the start again is said in the report), the
        // only thread a replay can add.
        return Err(executions);
    }

    let coverage = match &end {
        RunEnd::Completed if cut > 0 => Coverage::BudgetExhausted,
        RunEnd::Completed => Coverage::Sampled,
        RunEnd::OutOfBudget => Coverage::BudgetExhausted,
        RunEnd::Failed(..) => Coverage::StoppedAtFailure,
        RunEnd::Unsupported(unsupported) => Coverage::Unsupported(unsupported.clone()),
        RunEnd::Restart => unreachable!("returned above"),
    };
    // What the exploration's own failing execution showed, and the replays that shrank it.
    let (mut first, mut search) = (None, None);
    let failure = match end {
        RunEnd::Failed(found) => {
            let (found, decisions, minimal) = if config.replay.is_some() {
                (found, decisions, None)
            } else {
                first = Some(Finding {
                    kind: found.kind,
                    message: found.message.clone(),
                });
                // The replays run under the exploration's policy of choices, as its workers
                // did and as a token's replay does: without it no wait woke spuriously, every
                // `choose` was 0 and the timer fired the first timed wait, so a failure that
                // needed any of these never shrank.
                let _installed = choice::install(Policy::Coin {
                    one_in: config.spurious_one_in,
                });
                // Replays count neither as executions nor as outcomes of the exploration.
                let replays = Runs {
                    recorder: Arc::new(Recorder::new(Budget::UNLIMITED, false)),
                    checked: Arc::clone(&checked),
                    timer,
                    max_steps: config.max_steps,
                };
                let failing = Shrunk {
                    found,
                    decisions,
                    simplicity,
                    preempting,
                };
                let (shrunk, replayed, finished, searched) = shrink(&replays, failing);
                search = Some(replayed);
                let (found, decisions, simplicity) =
                    (shrunk.found, shrunk.decisions, shrunk.simplicity);
                let found = match config.record_traces {
                    true => traced(&replays, &decisions, found),
                    false => found,
                };
                let proof = match finished {
                    true => Minimality::Shrunk {
                        replays: replayed,
                        fewer_preemptions_searched: searched,
                    },
                    false => Minimality::Unknown(format!(
                        "shrinking stopped at its limit, after {replayed} replays"
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
            let replay = ShuttleConfig {
                timer,
                ..config.replaying(decisions)
            };
            // Said apart only when the shrunk execution shows something else.
            let first = first
                .take()
                .filter(|f| (f.kind, &f.message) != (found.kind, &found.message));
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
                found: first,
            })
        }
        _ => None,
    };
    let ran = executions > 0 && !matches!(coverage, Coverage::Unsupported(_));
    let largest_execution = ran.then(|| Shape {
        threads: largest.map_or(0, |traced| traced.threads).max(most_threads),
        steps: most_steps,
    });
    // A bound on missing a bug means nothing on a report that found one.
    let pct_miss_bound = match (config.schedules, &config.replay) {
        (Schedules::Pct { depth }, None) if depth > 0 && executions > 0 && failure.is_none() => {
            Some(PctBound {
                threads: most_threads,
                steps: most_steps,
                depth,
                runs: executions,
            })
        }
        _ => None,
    };
    Ok(Report {
        checker: config.describe(),
        executions,
        outcomes,
        elapsed: started.elapsed(),
        coverage,
        failure,
        largest_execution,
        pct_miss_bound,
        preemption_bound: None,
        simplest_search: search,
        restarts: (earlier.times > 0).then_some(earlier),
        blind_spots: {
            let mut spots = config.blind_spots();
            if cut > 0 {
                spots.push(format!(
                    "the end of {cut} executions cut at the step limit of {} steps (a livelock, \
                     or a spin no schedule lets out): a budget, not a failure",
                    config.max_steps
                ));
            }
            spots.extend(limits);
            spots
        },
    })
}

/// `found`, the failure of the execution `decisions` replays, with its trace: that execution
/// run once more, traced, on `runs`' body, as the token replays it. A body that does not run
/// the same schedule to the same failure again (one that is not deterministic, which no token
/// replays either) keeps `found`, untraced.
fn traced<O, B, I>(runs: &Runs<O, B, I>, decisions: &Decisions, found: Found) -> Found
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let traced = Runs {
        recorder: Arc::new(Recorder::new(Budget::UNLIMITED, true)),
        checked: Arc::clone(&runs.checked),
        timer: runs.timer,
        max_steps: runs.max_steps,
    };
    let replayed = traced.replay_filling(decisions, None);
    match replayed.end {
        RunEnd::Failed(again)
            if replayed.decisions == *decisions
                && (again.kind, &again.message) == (found.kind, &found.message) =>
        {
            again
        }
        _ => found,
    }
}

/// Whether `part` stopped on a static lock of the std mirror in use by another worker.
fn shared_a_static<O>(part: &jobs::Part<O>) -> bool {
    matches!(&part.end, RunEnd::Failed(found) if found.message.contains(crate::std::rt::SHARED_STATIC))
}
