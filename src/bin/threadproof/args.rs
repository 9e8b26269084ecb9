//! The command line: clap's description of every subcommand and flag, and the checks on
//! values that clap's types cannot express.
//!
//! Invariant: every value that can be refused is refused here or in the subcommand's first
//! lines, with exit status 2 and the subcommand's usage, before anything runs.

use clap::builder::PossibleValuesParser;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use threadproof::explore::ReplayToken;
use threadproof::scenarios::suite::CheckerChoice;
use threadproof::scenarios::{self, Params, Production};

#[derive(Parser)]
#[command(
    version,
    about = "The Python concurrency notes' patterns in Rust, run and model-checked"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    Check(CheckArgs),
    /// Reproduce a failure from the replay token `check` printed for it.
    Replay {
        #[arg(value_parser = scenario_parser())]
        scenario: String,
        /// The variant (mutant) that failed.
        #[arg(long)]
        variant: String,
        /// The replay token, `CHECKER@EXECUTION` (`--schedule`, its old name, still works).
        #[arg(long, alias = "schedule", value_parser = parse_token)]
        token: ReplayToken,
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

#[derive(Args)]
pub struct CheckArgs {
    /// The scenario; every scenario when left out.
    #[arg(value_parser = scenario_parser())]
    pub scenario: Option<String>,
    /// Which model checkers explore: loom, shuttle (its random, PCT and URW schedulers), or all.
    /// (`--backend`, its old name, still works.)
    #[arg(long, alias = "backend", value_enum, default_value_t = Checkers::All)]
    pub checkers: Checkers,
    /// Also check every mutant (each must be caught).
    #[arg(long)]
    pub mutants: bool,
    /// Stop each exploration after this many executions.
    #[arg(long, value_name = "EXECUTIONS", default_value_t = 500_000)]
    pub budget: u64,
    /// Stop each exploration after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Random, PCT and URW schedules per shuttle exploration.
    #[arg(long, default_value_t = 1000)]
    pub iterations: usize,
    /// Print each exploration's outcome table and failures as it finishes.
    #[arg(long, short)]
    pub verbose: bool,
    /// Fail the gate on any exploration that did not finish: cut by its budget, or not run
    /// by its checker (for people who want every proof complete).
    #[arg(long)]
    pub require_complete: bool,
    /// Also write a self-contained HTML report (verdicts, outcome tables, swimlanes).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<std::path::PathBuf>,
    /// Threads at work (default: one per CPU): explorations run at once, and a shuttle
    /// exploration's schedules spread over the threads left when there are fewer explorations
    /// than that. Every report is the same for any value; with more jobs than free cores, a
    /// budget in time may cut more of them.
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub params: ParamArgs,
}

#[derive(Args, Clone, Default)]
pub struct ParamArgs {
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

/// The most `--jobs`: far more threads than any machine has cores, fewer than it can start.
const MAX_JOBS: usize = 1024;

fn parse_jobs(text: &str) -> Result<usize, String> {
    let jobs: usize = text.parse().map_err(|e| format!("`{text}`: {e}"))?;
    match jobs {
        0 => Err("0 jobs run nothing: give at least 1".to_string()),
        n if n > MAX_JOBS => Err(format!("{n} jobs is too many: at most {MAX_JOBS}")),
        n => Ok(n),
    }
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
pub enum Backend {
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
pub enum Checkers {
    Loom,
    Shuttle,
    All,
}

impl From<Checkers> for CheckerChoice {
    fn from(checkers: Checkers) -> Self {
        match checkers {
            Checkers::Loom => CheckerChoice::Loom,
            Checkers::Shuttle => CheckerChoice::Shuttle,
            Checkers::All => CheckerChoice::All,
        }
    }
}

fn scenario_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(scenarios::ALL.iter().map(|s| s.name()))
}

fn parse_token(text: &str) -> Result<ReplayToken, String> {
    ReplayToken::parse(text)
}

/// Ends the process as clap does for a usage error (exit 2), in `subcommand`'s usage.
pub fn usage_error(subcommand: &str, message: String) -> ! {
    let mut command = Cli::command();
    command.build();
    let error = match command.find_subcommand_mut(subcommand) {
        Some(sub) => sub.error(ErrorKind::ValueValidation, message),
        None => command.error(ErrorKind::ValueValidation, message),
    };
    error.exit()
}
