//! The `threadproof` command: run the patterns on production primitives and print what the
//! Python notes print; model-check them and gate on the verdicts; replay a failure.
//!
//! Invariant: bad arguments (an unknown scenario, variant or backend, zero threads, a
//! non-number, a malformed schedule) end with a message on stderr and exit status 2, before
//! anything runs; a failed run or an unexpected verdict ends with exit status 1; nothing
//! panics or hangs on bad input.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use threadproof::check::Portfolio;
use threadproof::explore::{self, Budget, Checker, CheckerKind, Coverage, Schedule};
use threadproof::report;
use threadproof::scenarios::{self, AnyScenario, Checked, Params, Production, ScenarioError};

#[derive(Parser)]
#[command(
    version,
    about = "The Python concurrency notes' patterns in Rust, run and model-checked"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (or every scenario) on production primitives and print its output.
    Run {
        /// The scenario; every scenario when left out.
        #[arg(value_parser = scenario_parser())]
        scenario: Option<String>,
        /// The primitives to run on.
        #[arg(long, value_enum, default_value_t = Backend::Std)]
        backend: Backend,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Model-check scenarios with loom and shuttle; exit 1 on any unexpected verdict.
    Check {
        /// The scenario; every scenario when left out.
        #[arg(value_parser = scenario_parser())]
        scenario: Option<String>,
        /// Which model checkers explore.
        #[arg(long, value_enum, default_value_t = ModelBackend::All)]
        backend: ModelBackend,
        /// Also check every mutant (each must be caught).
        #[arg(long)]
        mutants: bool,
        /// Stop each exploration after this many executions.
        #[arg(long, value_name = "EXECUTIONS", default_value_t = 500_000)]
        budget: u64,
        /// Stop each exploration after this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        timeout: u64,
        /// Random and PCT schedules per shuttle exploration.
        #[arg(long, default_value_t = 1000)]
        iterations: usize,
        /// Print each exploration's outcome table and failures as it finishes.
        #[arg(long, short)]
        verbose: bool,
        /// Fail the gate on any exploration that did not finish: cut by its budget, or not run
        /// by its checker (for people who want every proof complete).
        #[arg(long)]
        require_complete: bool,
        /// Also write a self-contained HTML report (verdicts, outcome tables, swimlanes).
        #[arg(long, value_name = "FILE.html")]
        report: Option<std::path::PathBuf>,
        /// Explorations run at once (default: one per CPU). Printed in the same order for any
        /// value; with more jobs than free cores, a budget in time may cut more of them.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Reproduce a failure from the schedule `check` printed for it.
    Replay {
        #[arg(value_parser = scenario_parser())]
        scenario: String,
        /// The variant (mutant) that failed.
        #[arg(long)]
        variant: String,
        /// The replay token, `CHECKER@EXECUTION`.
        #[arg(long, value_parser = parse_schedule)]
        schedule: Schedule,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// List the scenarios with their variants and mutants.
    List {
        /// Print the kill matrix instead: every mutant and what each checker must report on
        /// it, as the Markdown table the README carries.
        #[arg(long)]
        kill_matrix: bool,
    },
}

#[derive(Args, Clone, Default)]
struct ParamArgs {
    /// How many threads (default: the Python notes' number; for check, a model-sized one).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    threads: Option<usize>,
    /// The last number to print (turns).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_n)]
    n: Option<usize>,
}

/// The largest `--n`: a million lines, not an allocation the machine cannot make.
const MAX_N: usize = 1_000_000;

fn parse_n(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|e| format!("`{text}`: {e}"))?;
    if n > MAX_N {
        return Err(format!("{n} is too large: at most {MAX_N}"));
    }
    Ok(n)
}

impl From<&ParamArgs> for Params {
    fn from(args: &ParamArgs) -> Self {
        Params {
            threads: args.threads,
            n: args.n,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Std,
    ParkingLot,
}

impl From<Backend> for Production {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Std => Production::Std,
            Backend::ParkingLot => Production::ParkingLot,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModelBackend {
    Loom,
    Shuttle,
    All,
}

fn scenario_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(scenarios::ALL.iter().map(|s| s.name()))
}

fn parse_schedule(text: &str) -> Result<Schedule, String> {
    Schedule::parse(text)
}

/// Ends the process as clap does for a usage error (exit 2), in `subcommand`'s usage.
fn usage_error(subcommand: &str, message: String) -> ! {
    let mut command = Cli::command();
    command.build();
    let error = match command.find_subcommand_mut(subcommand) {
        Some(sub) => sub.error(ErrorKind::ValueValidation, message),
        None => command.error(ErrorKind::ValueValidation, message),
    };
    error.exit()
}

fn chosen(scenario: Option<&str>) -> Vec<&'static dyn AnyScenario> {
    match scenario {
        Some(name) => scenarios::find(name).into_iter().collect(),
        None => scenarios::ALL.to_vec(),
    }
}

fn main() -> ExitCode {
    // The analogue of Python's `if __name__ == "__main__":` a worker process started by a
    // process pool or a manager serves its parent here and never returns.
    threadproof::process::worker_main_if_worker();
    match Cli::parse().command {
        Command::Run {
            scenario,
            backend,
            params,
        } => run(scenario.as_deref(), backend.into(), &Params::from(&params)),
        Command::Check {
            scenario,
            backend,
            mutants,
            budget,
            timeout,
            iterations,
            verbose,
            require_complete,
            report,
            jobs,
            params,
        } => {
            // Nothing explored is never a pass: refuse settings that explore nothing, and
            // environment variables that would change the exploration behind our back.
            if budget == 0 {
                usage_error(
                    "check",
                    "--budget 0 explores nothing: give at least 1 execution".into(),
                );
            }
            if timeout == 0 {
                usage_error(
                    "check",
                    "--timeout 0 explores nothing: give at least 1 second".into(),
                );
            }
            if iterations == 0 {
                usage_error(
                    "check",
                    "--iterations 0 explores nothing: give at least 1 schedule".into(),
                );
            }
            if let Some(refusal) = environment_refusal(backend) {
                usage_error("check", refusal);
            }
            let budget = Budget {
                max_executions: Some(budget),
                max_time: Some(Duration::from_secs(timeout)),
            };
            let checkers = checkers(backend, iterations, budget);
            let jobs = jobs.map_or_else(
                || std::thread::available_parallelism().map_or(1, usize::from),
                usize::from,
            );
            // What runs a variant loom cannot (too many threads), when shuttle was not chosen.
            let instead = match backend {
                ModelBackend::Loom => self::checkers(ModelBackend::Shuttle, iterations, budget),
                _ => Vec::new(),
            };
            let options = CheckOptions {
                mutants,
                verbose,
                require_complete,
                instead,
                report,
                jobs,
            };
            check(
                scenario.as_deref(),
                &checkers,
                &options,
                &Params::from(&params),
            )
        }
        Command::Replay {
            scenario,
            variant,
            schedule,
            params,
        } => {
            let backend = match schedule.checker {
                Checker::Loom(_) => ModelBackend::Loom,
                Checker::Shuttle(_) => ModelBackend::Shuttle,
            };
            if let Some(refusal) = environment_refusal(backend) {
                usage_error("replay", refusal);
            }
            // A token that re-explores from a seed would get the environment's instead.
            if let Checker::Shuttle(config) = &schedule.checker {
                let env_seed = explore::shuttle::environment_seed().and_then(Result::ok);
                if config.replay.is_none() && env_seed.is_some_and(|seed| seed != config.seed) {
                    usage_error(
                        "replay",
                        format!(
                            "refused: SHUTTLE_RANDOM_SEED is set and is not the seed {:#x} of \
                             {schedule}: unset it",
                            config.seed
                        ),
                    );
                }
            }
            replay(&scenario, &variant, &schedule, &Params::from(&params))
        }
        Command::List { kill_matrix: true } => {
            print!("{}", scenarios::kill_table());
            ExitCode::SUCCESS
        }
        Command::List { kill_matrix: false } => {
            for scenario in scenarios::ALL {
                println!("{} (seed {})", scenario.name(), scenario.seed());
                for (variant, bug) in scenario.variants() {
                    match bug {
                        None => println!("  {variant}"),
                        Some(bug) => println!("  {variant} (mutant: {bug})"),
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}

fn run(scenario: Option<&str>, backend: Production, params: &Params) -> ExitCode {
    let chosen = chosen(scenario);
    let several = chosen.len() > 1;
    // With every scenario chosen, --threads and --n go to those that take them.
    let fitted = |s: &dyn AnyScenario| {
        if several {
            params.only(s.params())
        } else {
            params.clone()
        }
    };
    // Check every config before running anything, so bad arguments print nothing else.
    for s in &chosen {
        if let Err(e) = s.validate(&fitted(*s)) {
            usage_error("run", format!("{}: {e}", s.name()));
        }
    }
    for s in chosen {
        match s.run(backend, &fitted(s)) {
            Ok(output) => {
                if several {
                    println!("== {} ==", s.name());
                }
                print!("{output}");
                if !output.ends_with('\n') {
                    println!();
                }
            }
            Err(ScenarioError::Config(e)) => usage_error("run", format!("{}: {e}", s.name())),
            Err(ScenarioError::Run(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The checkers `check` runs: the library's [`Portfolio`] (loom with a spurious wakeup
/// explored; random, PCT and URW with one wait in 4 spurring) that `backend` names.
fn checkers(backend: ModelBackend, iterations: usize, budget: Budget) -> Vec<Checker> {
    // The library's portfolio, as `check!` runs it.
    Portfolio::with_iterations(iterations)
        .budget(budget)
        .checkers()
        .into_iter()
        .filter(|c| match backend {
            ModelBackend::Loom => c.kind() == CheckerKind::Loom,
            ModelBackend::Shuttle => c.kind().is_shuttle(),
            ModelBackend::All => true,
        })
        .collect()
}

/// Why the environment stops `backend`'s checkers from running as asked, if it does.
fn environment_refusal(backend: ModelBackend) -> Option<String> {
    if backend != ModelBackend::Shuttle {
        if let Some(refusal) = explore::loom::environment_refusal() {
            return Some(refusal.to_string());
        }
    }
    if backend != ModelBackend::Loom {
        if let Some(Err(refusal)) = explore::shuttle::environment_seed() {
            return Some(refusal.to_string());
        }
    }
    None
}

struct CheckOptions {
    mutants: bool,
    verbose: bool,
    require_complete: bool,
    /// The checkers that explore a variant instead of one that cannot run it.
    instead: Vec<Checker>,
    report: Option<std::path::PathBuf>,
    /// Explorations run at once.
    jobs: usize,
}

/// One exploration `check` runs: a variant of a scenario under one checker.
struct Exploration {
    scenario: &'static dyn AnyScenario,
    variant: &'static str,
    checker: Checker,
}

impl Exploration {
    /// Loom on a correct variant: the explorations that take seconds rather than milliseconds.
    fn is_long(&self) -> bool {
        let mutant = self
            .scenario
            .variants()
            .iter()
            .any(|(variant, bug)| *variant == self.variant && bug.is_some());
        matches!(self.checker, Checker::Loom(_)) && !mutant
    }
}

fn check(
    scenario: Option<&str>,
    checkers: &[Checker],
    options: &CheckOptions,
    params: &Params,
) -> ExitCode {
    let chosen = chosen(scenario);
    for s in &chosen {
        if let Err(e) = s.validate(params) {
            usage_error("check", format!("{}: {e}", s.name()));
        }
    }
    // A report that cannot be written is a bad argument, found before minutes of exploring.
    if let Some(path) = &options.report {
        let writable = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path);
        if let Err(e) = writable {
            usage_error(
                "check",
                format!("cannot write the report {}: {e}", path.display()),
            );
        }
    }
    let mut explorations = Vec::new();
    for s in chosen {
        for (variant, bug) in s.variants() {
            if bug.is_some() && !options.mutants {
                continue;
            }
            for checker in checkers {
                explorations.push(Exploration {
                    scenario: s,
                    variant,
                    checker: s.with_check_bound(checker),
                });
            }
        }
    }
    let progress = MultiProgress::new();
    let mut results: Vec<Checked> = Vec::new();
    let instead = &options.instead;
    explore_in_parallel(
        &explorations,
        params,
        options.jobs,
        instead,
        &progress,
        |explored| {
            let checked = match explored {
                Ok(checked) => checked,
                Err((s, e)) => usage_error("check", format!("{s}: {e}")),
            };
            let ran_instead = checked.len() > 1;
            for (i, checked) in checked.into_iter().enumerate() {
                let unsupported = checked.report.unsupported().is_some();
                if options.verbose
                    || !checked.as_expected()
                    || checked.report.failure.is_some()
                    || unsupported
                {
                    progress.suspend(|| println!("{}", report::details(&checked, params)));
                }
                if i == 0 && ran_instead {
                    let kinds: Vec<&str> = instead.iter().map(|c| c.kind().name()).collect();
                    progress.suspend(|| {
                        println!(
                            "{} / {}: {} cannot run it; checking it with {} instead\n",
                            checked.scenario,
                            checked.variant,
                            checked.checker.kind(),
                            spoken_list(&kinds)
                        )
                    });
                }
                results.push(checked);
            }
        },
    );
    println!("{}", report::verdict_table(&results));
    if let Some(path) = &options.report {
        if let Err(e) = std::fs::write(path, report::html(&results, params)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("report written to {}", path.display());
    }
    gate(&results, options.require_complete)
}

/// The exit status of `check`: 1 on any unexpected verdict, on a variant that no checker
/// could run (nothing checked it), and with `--require-complete` on any exploration that did
/// not finish. An exploration its checker could not run is neither a pass nor a failure:
/// `check` says what it did instead (nothing) and which checker can.
fn gate(results: &[Checked], require_complete: bool) -> ExitCode {
    let unsupported: Vec<&Checked> = results
        .iter()
        .filter(|c| c.report.unsupported().is_some())
        .collect();
    let unexpected = results
        .iter()
        .filter(|c| c.report.unsupported().is_none() && !c.as_expected())
        .count();
    for c in &unsupported {
        if let Some(why) = c.report.unsupported() {
            println!(
                "not run: {} / {} / {}: {why}",
                c.scenario,
                c.variant,
                c.checker.kind()
            );
        }
    }
    let unchecked: Vec<String> = results
        .iter()
        .filter(|c| {
            !results.iter().any(|other| {
                other.scenario == c.scenario
                    && other.variant == c.variant
                    && other.report.unsupported().is_none()
            })
        })
        .map(|c| format!("{} / {}", c.scenario, c.variant))
        .fold(Vec::new(), |mut seen, name| {
            if !seen.contains(&name) {
                seen.push(name);
            }
            seen
        });
    let incomplete = results
        .iter()
        .filter(|c| {
            !matches!(
                c.report.coverage,
                Coverage::Exhaustive | Coverage::Sampled | Coverage::StoppedAtFailure
            )
        })
        .count();
    let mut failed = false;
    if unexpected > 0 {
        eprintln!("error: {unexpected} unexpected verdict(s)");
        failed = true;
    }
    if !unchecked.is_empty() {
        eprintln!(
            "error: nothing checked {}: no chosen checker could run it",
            unchecked.join(", ")
        );
        failed = true;
    }
    if require_complete && incomplete > 0 {
        eprintln!(
            "error: {incomplete} exploration(s) did not finish (cut by the budget, or not run), \
             and --require-complete asks that every one does"
        );
        failed = true;
    }
    if failed {
        return ExitCode::FAILURE;
    }
    let checked = results.len() - unsupported.len();
    match unsupported.len() {
        0 => println!("all {} verdicts as expected", results.len()),
        n => println!("all {checked} verdicts as expected; {n} exploration(s) not run (see above)"),
    }
    ExitCode::SUCCESS
}

/// What one exploration ended with: its result, or the scenario's name and why it could not
/// run.
/// One exploration's verdicts: its own, then those of the checkers that ran it instead when
/// its checker could not.
type Explored = Result<Vec<Checked>, (&'static str, ScenarioError)>;

/// Runs `explorations` on `jobs` threads and hands each result to `done` in the explorations'
/// own order, as soon as it and every one before it are finished: the output is the same as
/// one after the other, whatever finishes first.
///
/// Explorations are independent (loom and shuttle keep their state per OS thread), so they
/// can run side by side. The long ones (loom on a correct variant) start first, so that no
/// long one is left to run alone at the end while the other threads idle.
fn explore_in_parallel(
    explorations: &[Exploration],
    params: &Params,
    jobs: usize,
    instead: &[Checker],
    progress: &MultiProgress,
    mut done: impl FnMut(Explored),
) {
    let mut order: Vec<usize> = (0..explorations.len()).collect();
    order.sort_by_key(|&i| !explorations[i].is_long());
    let overall = progress.add(ProgressBar::new(explorations.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{pos}/{len} explorations, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let next = AtomicUsize::new(0);
    let (finished, inbox) = mpsc::channel::<(usize, Explored)>();
    // Each checking thread takes the next exploration in `order` until none is left.
    let work = |finished: mpsc::Sender<(usize, Explored)>| {
        while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let exploration = &explorations[i];
            let explore = |checker: &Checker| {
                let spinner = progress.insert_before(&overall, ProgressBar::new_spinner());
                let label = format!(
                    "{} / {} / {}",
                    exploration.scenario.name(),
                    exploration.variant,
                    checker.kind()
                );
                with_spinner(spinner, &label, checker.budget(), || {
                    exploration
                        .scenario
                        .check(exploration.variant, checker, params)
                        .map_err(|e| (exploration.scenario.name(), e))
                })
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
        let mut printed = 0;
        for (i, explored) in inbox {
            overall.inc(1);
            waiting[i] = Some(explored);
            while let Some(explored) = waiting.get_mut(printed).and_then(Option::take) {
                done(explored);
                printed += 1;
            }
        }
        overall.finish_and_clear();
    });
}

/// Runs `exploration` under `spinner`, showing executions and time (hidden when stderr is not
/// a terminal).
fn with_spinner<R>(
    spinner: ProgressBar,
    label: &str,
    budget: Budget,
    exploration: impl FnOnce() -> R,
) -> R {
    spinner.set_message(label.to_string());
    let limit = budget
        .max_executions
        .map(|m| format!(" / {m}"))
        .unwrap_or_default();
    spinner.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}}: {{pos}}{limit} executions, {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(200));
    let progress = spinner.clone();
    let result = explore::with_progress(
        move |executions| progress.set_position(executions),
        exploration,
    );
    spinner.finish_and_clear();
    result
}

fn replay(scenario: &str, variant: &str, schedule: &Schedule, params: &Params) -> ExitCode {
    let Some(s) = scenarios::find(scenario) else {
        usage_error("replay", format!("no scenario `{scenario}`"));
    };
    let checker = schedule
        .checker
        .clone()
        .with_budget(Budget::executions(schedule.execution));
    let spinner = ProgressBar::new_spinner();
    let label = format!("replaying {schedule}");
    let checked = match with_spinner(spinner, &label, checker.budget(), || {
        s.check(variant, &checker, params)
    }) {
        Ok(checked) => checked,
        Err(e) => usage_error("replay", format!("{scenario}: {e}")),
    };
    match &checked.report.failure {
        Some(failure) if failure.execution == schedule.execution => {
            println!("{}", report::details(&checked, params));
            println!(
                "reproduced: {} at execution {}",
                failure.kind, failure.execution
            );
            ExitCode::SUCCESS
        }
        Some(failure) => {
            println!("{}", report::details(&checked, params));
            eprintln!(
                "error: failed at execution {}, not at {}: the schedule does not match this build",
                failure.execution, schedule.execution
            );
            ExitCode::FAILURE
        }
        None => {
            eprintln!(
                "error: no failure in {} executions: {schedule} does not reproduce one",
                checked.report.executions
            );
            ExitCode::FAILURE
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn spoken_list(items: &[&str]) -> String {
    match items {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        items => items.join(""),
    }
}
