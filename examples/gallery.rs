//! Executions to first bug, per checker, on every bug of the gallery (`models/gallery/bugs/`), in one
//! run: threadproof's loom and its shuttle random, PCT and URW schedulers (each as the
//! standard portfolio configures it, all running the one build of each program against the
//! std mirror), beside raw loom (`loom::model`) and raw shuttle's random, PCT and URW
//! schedulers on the same source compiled against `loom::sync` and `shuttle::sync`
//! (`models/gallery/bugs/rt.rs`). Prints the markdown table of docs/gallery.md.
//!
//! `cargo run --release --example gallery [SEEDS] [BUDGET] [BUG]` (`just gallery`): the randomised
//! checkers run once per seed 1..=SEEDS (default 10) with BUDGET schedules each (default
//! 1,000, the portfolio's); a cell is the median over the seeds of the executions up to and
//! including the first failing one, a seed that found nothing counting as more than BUDGET,
//! with how many seeds found it. Loom is deterministic: one run, at most 50,000 executions
//! (the portfolio's loom budget). threadproof's loom cell gives the execution where its first
//! run met the bug (what raw loom counts), then in brackets the executions its report names,
//! which include the search for the fewest preemptions.
//!
//! Invariant: a cell never hides a miss: "not found in N" when no seed found the bug, and the
//! count of seeds that found it otherwise.

#[path = "../models/gallery/bugs/mod.rs"]
mod bugs;

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use ::shuttle::scheduler::{PctScheduler, RandomScheduler, Scheduler, UrwRandomScheduler};
use ::shuttle::{Config, FailurePersistence, Runner};
use bugs::{Bug, Kind, Raw, Sees, Version};
use threadproof::check::{Portfolio, LOOM_EXECUTIONS, SHUTTLE_ITERATIONS};
use threadproof::explore::{Budget, LoomConfig, Report, ShuttleConfig};

/// A shuttle scheduler's config at a number of schedules.
type Schedules = fn(usize) -> ShuttleConfig;

/// PCT's depth, as the standard portfolio sets it.
const PCT_DEPTH: usize = 3;

/// How one checker did on one bug: executions to the first failure per seed (`None`: not
/// found within the budget), and the kind of the first failure.
struct Measured {
    found: Vec<Option<u64>>,
    kind: Option<Kind>,
    budget: u64,
    /// threadproof's loom: the executions its report names (with the minimality search).
    reported: Option<u64>,
}

impl Measured {
    fn median(&self) -> Option<u64> {
        let mut runs: Vec<u64> = self.found.iter().map(|f| f.unwrap_or(u64::MAX)).collect();
        runs.sort();
        let median = runs[(runs.len() - 1) / 2];
        (median != u64::MAX).then_some(median)
    }

    fn render(&self) -> String {
        let hits = self.found.iter().filter(|f| f.is_some()).count();
        let seeds = self.found.len();
        let shown = match self.median() {
            Some(median) if seeds == 1 => median.to_string(),
            Some(median) => format!("{median} ({hits}/{seeds})"),
            None if hits == 0 => format!("not found in {}", self.budget),
            None => format!("> {} ({hits}/{seeds})", self.budget),
        };
        match self.reported {
            Some(reported) => format!("{shown} [{reported}]"),
            None => shown,
        }
    }
}

/// A column of the table.
enum Column {
    Cell(Measured),
    /// The checker cannot express or run the bug (why).
    Not(String),
}

impl Column {
    fn render(&self) -> String {
        match self {
            Column::Cell(cell) => cell.render(),
            Column::Not(why) => format!("cannot: {why}"),
        }
    }
}

thread_local! {
    /// Set while a raw engine runs: its panics are findings, not crashes.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// The executions of the running raw exploration.
static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// The panic that ends a raw exploration at its budget.
struct OverBudget;

/// One raw exploration: `run` explores `body`, counted; the first failure's execution number
/// and kind, or `None` if it passed or ran out of budget.
fn raw_run(
    budget: u64,
    body: fn(),
    run: impl FnOnce(Box<dyn Fn() + Send + Sync>),
) -> (Option<u64>, Option<Kind>) {
    EXECUTIONS.store(0, Ordering::SeqCst);
    let counted = Box::new(move || {
        if EXECUTIONS.fetch_add(1, Ordering::SeqCst) >= budget {
            panic::panic_any(OverBudget);
        }
        body()
    });
    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| run(counted)));
    QUIET.with(|q| q.set(false));
    match result {
        Ok(()) => (None, None),
        Err(payload) if payload.is::<OverBudget>() => (None, None),
        Err(payload) => {
            let message = threadproof::sync::panic_message(&*payload);
            (
                Some(EXECUTIONS.load(Ordering::SeqCst)),
                Some(Kind::of_raw(&message)),
            )
        }
    }
}

fn raw_loom(body: fn()) -> Measured {
    let (found, kind) = raw_run(LOOM_EXECUTIONS, body, |counted| {
        let mut builder = ::loom::model::Builder::new();
        builder.max_duration = None;
        builder.max_permutations = None;
        builder.check(counted);
    });
    Measured {
        found: vec![found],
        kind,
        budget: LOOM_EXECUTIONS,
        reported: None,
    }
}

/// Raw shuttle with the scheduler `make(seed, budget)`, once per seed.
fn raw_shuttle<S: Scheduler + 'static>(
    body: fn(),
    seeds: u64,
    budget: usize,
    make: impl Fn(u64, usize) -> S,
) -> Measured {
    let mut found = Vec::new();
    let mut kind = None;
    for seed in 1..=seeds {
        let (at, k) = raw_run(budget as u64, body, |counted| {
            let mut config = Config::new();
            config.failure_persistence = FailurePersistence::None;
            config.silence_warnings = true;
            Runner::new(make(seed, budget), config).run(counted);
        });
        found.push(at);
        kind = kind.or(k);
    }
    Measured {
        found,
        kind,
        budget: budget as u64,
        reported: None,
    }
}

/// threadproof's loom, as the standard portfolio sets it: where its first run met the bug
/// (the smallest budget that finds it), and what its report says.
fn threadproof_loom(bug: &Bug) -> Measured {
    let config = |budget: u64| Portfolio {
        loom: Some(
            LoomConfig::exhaustive()
                .spurious_wakeups(1)
                .budget(Budget::executions(budget)),
        ),
        shuttle: Vec::new(),
        require_complete: false,
    };
    let failure_at = |budget: u64| -> Option<(u64, Kind)> {
        let verdicts = (bug.check)(&config(budget), Version::Buggy);
        let report: &Report<String> = &verdicts.reports[0].1;
        report.failure.as_ref().map(|f| (f.execution, Kind::of(f)))
    };
    let Some((reported, kind)) = failure_at(LOOM_EXECUTIONS) else {
        return Measured {
            found: vec![None],
            kind: None,
            budget: LOOM_EXECUTIONS,
            reported: None,
        };
    };
    // The first run stops at its first failure; any budget from there on finds it.
    let (mut low, mut high) = (1, reported);
    while low < high {
        let middle = (low + high) / 2;
        if failure_at(middle).is_some() {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    Measured {
        found: vec![Some(low)],
        kind: Some(kind),
        budget: LOOM_EXECUTIONS,
        reported: Some(reported),
    }
}

/// One of threadproof's shuttle schedulers, once per seed, as the standard portfolio sets it.
fn threadproof_shuttle(bug: &Bug, seeds: u64, config: impl Fn(u64) -> ShuttleConfig) -> Measured {
    let mut found = Vec::new();
    let mut kind = None;
    let mut budget = 0;
    for seed in 1..=seeds {
        let config = config(seed);
        budget = config.iterations as u64;
        let portfolio = Portfolio {
            loom: None,
            shuttle: vec![config],
            require_complete: false,
        };
        let verdicts = (bug.check)(&portfolio, Version::Buggy);
        let failure = verdicts.reports[0].1.failure.as_ref();
        found.push(failure.map(|f| f.execution));
        kind = kind.or(failure.map(Kind::of));
    }
    Measured {
        found,
        kind,
        budget,
        reported: None,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args
        .next()
        .map_or(10, |s| s.parse().expect("SEEDS is a number"));
    let budget: usize = (args.next()).map_or(SHUTTLE_ITERATIONS, |s| {
        s.parse().expect("BUDGET is a number of schedules")
    });
    let only = args.next();
    // threadproof's explorations install their panic hook first; raw runs then go quiet.
    let _ = (bugs::ALL[0].check)(
        &Portfolio::with_iterations(1).without_loom(),
        Version::Fixed,
    );
    let threadproof_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if !QUIET.with(Cell::get) || std::env::var_os("GALLERY_VERBOSE").is_some() {
            threadproof_hook(info)
        }
    }));

    let header = [
        "bug",
        "kind",
        "tp loom",
        "raw loom",
        "tp random",
        "raw random",
        "tp PCT",
        "raw PCT",
        "tp URW",
        "raw URW",
    ];
    println!("| {} |", header.join(" | "));
    println!("|{}", "---|".repeat(header.len()));
    let mut times = [0f64; 8];
    for bug in bugs::ALL
        .iter()
        .filter(|b| only.as_deref().is_none_or(|o| b.name == o))
    {
        let mut columns: Vec<Column> = Vec::new();
        let mut timed = |i: usize, run: &mut dyn FnMut() -> Column| {
            let started = Instant::now();
            let column = run();
            times[i] += started.elapsed().as_secs_f64();
            column
        };
        let not = |sees: Sees| match sees {
            Sees::CannotRun(why) => Some(why.to_string()),
            _ => None,
        };
        columns.push(timed(0, &mut || match not(bug.loom) {
            Some(why) => Column::Not(why),
            None => Column::Cell(threadproof_loom(bug)),
        }));
        columns.push(timed(1, &mut || match bug.raw_loom {
            Raw::Runs { buggy, .. } => Column::Cell(raw_loom(buggy)),
            Raw::CannotExpress(why) => Column::Not(why.to_string()),
        }));
        let tp_configs: [(usize, Schedules); 3] = [
            (2, ShuttleConfig::random),
            (4, |n| ShuttleConfig::pct(PCT_DEPTH, n)),
            (6, ShuttleConfig::urw),
        ];
        for (i, make) in tp_configs {
            columns.push(timed(i, &mut || {
                Column::Cell(threadproof_shuttle(bug, seeds, |seed| {
                    make(budget).seed(seed).spurious_one_in(4)
                }))
            }));
            columns.push(timed(i + 1, &mut || match bug.raw_shuttle {
                Raw::Runs { buggy, .. } => Column::Cell(match i {
                    2 => raw_shuttle(buggy, seeds, budget, RandomScheduler::new_from_seed),
                    4 => raw_shuttle(buggy, seeds, budget, |seed, n| {
                        PctScheduler::new_from_seed(seed, PCT_DEPTH, n)
                    }),
                    _ => raw_shuttle(buggy, seeds, budget, UrwRandomScheduler::new_from_seed),
                }),
                Raw::CannotExpress(why) => Column::Not(why.to_string()),
            }));
        }
        let kinds: Vec<&str> = {
            let mut kinds: Vec<&str> = columns
                .iter()
                .filter_map(|c| match c {
                    Column::Cell(cell) => cell.kind.map(Kind::name),
                    Column::Not(_) => None,
                })
                .collect();
            kinds.dedup();
            kinds.sort();
            kinds.dedup();
            kinds
        };
        let cells: Vec<String> = columns.iter().map(Column::render).collect();
        println!(
            "| {} | {} | {} |",
            bug.name,
            kinds.join(", "),
            cells.join(" | ")
        );
    }
    println!();
    println!(
        "seconds per column (all bugs): {}",
        header[2..]
            .iter()
            .zip(times)
            .map(|(name, t)| format!("{name} {t:.1}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
