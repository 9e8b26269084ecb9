//! The `threadproof` command: run the patterns on production primitives and print what the
//! Python notes print.
//!
//! Invariant: bad arguments (an unknown scenario or backend, zero threads, a non-number) end
//! with a message on stderr and exit status 2; a failed run ends with exit status 1; nothing
//! panics or hangs on bad input.

use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use threadproof::scenarios::{self, Params, Production, ScenarioError};

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
        #[arg(value_parser = PossibleValuesParser::new(scenario_names()))]
        scenario: Option<String>,
        /// The primitives to run on.
        #[arg(long, value_enum, default_value_t = Backend::Std)]
        backend: Backend,
        /// How many threads (default: the Python notes' number).
        #[arg(long, value_name = "K")]
        threads: Option<usize>,
        /// The last number to print (turns).
        #[arg(long, value_name = "N")]
        n: Option<usize>,
    },
    /// List the scenarios with their variants and mutants.
    List,
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

fn scenario_names() -> Vec<&'static str> {
    scenarios::ALL.iter().map(|s| s.name()).collect()
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run {
            scenario,
            backend,
            threads,
            n,
        } => run(scenario.as_deref(), backend.into(), &Params { threads, n }),
        Command::List => {
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
    let chosen: Vec<_> = match scenario {
        Some(name) => scenarios::find(name).into_iter().collect(),
        None => scenarios::ALL.to_vec(),
    };
    let several = chosen.len() > 1;
    for scenario in chosen {
        // With every scenario chosen, --threads and --n go to those that take them.
        let params = if several {
            params.only(scenario.params())
        } else {
            params.clone()
        };
        match scenario.run(backend, &params) {
            Ok(output) => {
                if several {
                    println!("== {} ==", scenario.name());
                }
                print!("{output}");
                if !output.ends_with('\n') {
                    println!();
                }
            }
            Err(ScenarioError::Config(e)) => {
                Cli::command()
                    .error(
                        clap::error::ErrorKind::ValueValidation,
                        format!("{}: {e}", scenario.name()),
                    )
                    .exit();
            }
            Err(ScenarioError::Run(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
