//! The `threadproof` binary's `run` and `list`, run as a user runs them, on both backends.
//!
//! - `run turns --threads 3 --n 15` prints the notes' 15 lines `Thread-0: 1` .. `Thread-2: 15`
//!   on both backends (snapshot `cli_run_turns_seed`);
//! - `run appends` prints one list in the notes' shape whose entries are, in some order, the
//!   notes' four results;
//! - `run pool` prints the notes' two lines (the `as_completed` results, then the global
//!   list), each a permutation of the notes' four `{'res': url+'10'}`; with `--threads 1` the
//!   one worker appends in submission order;
//! - `run singleton` prints five `SOME CONNECTION - r` lines with one r in 1..=10 (snapshot
//!   `cli_run_singleton_seed`, with r replaced by `{r}` so that it does not depend on chance);
//!   `--threads k` prints k;
//! - `run counter` prints `Printing Number i by thread THREAD j` for i = 0, 1, 2, each of
//!   `THREAD 3`, `THREAD 2`, `THREAD 1` once (parsed without regexes); `--threads k` gives k;
//! - `run` alone runs every registered scenario under its `== name ==` header;
//! - `list` names every scenario and every mutant;
//! - bad arguments (zero threads or workers, a non-number, an unknown name, a flag the
//!   scenario does not take) exit with status 2, a clear message on stderr and nothing on
//!   stdout.
//!
//! The process scenarios' `run` is in `processes.rs`; `check` and `replay` in `cli_check.rs`.

mod common;

use std::collections::BTreeSet;

use common::{assert_usage_error, parse_res_list, success};

use threadproof::scenarios;
use threadproof::scenarios::counter::CounterLine;
use threadproof::scenarios::singleton::parse_connection;

/// The notes' four results.
const NOTES_RESULTS: [&str; 4] = [
    "https://google.com10",
    "https://facebook.com5",
    "https://reddit.com5",
    "https://instagram.com15",
];

fn assert_notes_appends(line: &str) {
    let mut entries = parse_res_list(line);
    entries.sort();
    let mut expected: Vec<String> = NOTES_RESULTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        entries, expected,
        "{line:?} is not a permutation of the notes' results"
    );
}

#[test]
fn run_turns_prints_the_notes_rotation() {
    let expected: String = (1..=15)
        .map(|i| format!("Thread-{}: {i}\n", (i - 1) % 3))
        .collect();
    let _s = common::snapshots();
    for backend in ["std", "parking-lot"] {
        let stdout = success(&[
            "run",
            "turns",
            "--threads",
            "3",
            "--n",
            "15",
            "--backend",
            backend,
        ]);
        assert_eq!(stdout, expected, "--backend {backend}");
        insta::assert_snapshot!("cli_run_turns_notes", stdout);
    }
}

#[test]
fn run_turns_defaults_to_the_notes() {
    assert_eq!(
        success(&["run", "turns"]),
        success(&["run", "turns", "--threads", "3", "--n", "15"])
    );
}

#[test]
fn run_appends_prints_a_permutation_of_the_notes() {
    for backend in ["std", "parking-lot"] {
        let stdout = success(&["run", "appends", "--backend", backend]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "--backend {backend}: {stdout:?}");
        assert!(stdout.ends_with('\n'));
        assert_notes_appends(lines[0]);
    }
}

#[test]
fn run_appends_with_threads_lists_that_many() {
    let stdout = success(&["run", "appends", "--threads", "6"]);
    let entries = parse_res_list(stdout.trim_end());
    assert_eq!(entries.len(), 6, "{stdout:?}");
    for result in NOTES_RESULTS {
        assert!(entries.iter().any(|e| e == result), "{result} missing");
    }
}

#[test]
fn run_without_a_scenario_runs_them_all() {
    let stdout = success(&["run"]);
    let headers: Vec<&str> = stdout.lines().filter(|l| l.starts_with("== ")).collect();
    let expected: Vec<String> = scenarios::ALL
        .iter()
        .map(|s| format!("== {} ==", s.name()))
        .collect();
    assert_eq!(headers, expected, "{stdout}");
    // The sections that are shaped by the notes are the notes'.
    let section = |name: &str| -> Vec<&str> {
        stdout
            .lines()
            .skip_while(|l| *l != format!("== {name} =="))
            .skip(1)
            .take_while(|l| !l.starts_with("== "))
            .collect()
    };
    let appends = section("appends");
    assert_eq!(appends.len(), 1, "{stdout}");
    assert_notes_appends(appends[0]);
    let turns = section("turns");
    assert_eq!(turns.len(), 15, "{stdout}");
    assert_eq!(turns[0], "Thread-0: 1");
    assert_eq!(turns[14], "Thread-2: 15");
}

#[test]
fn run_all_passes_flags_only_to_those_that_take_them() {
    // `--n` is turns' alone: with every scenario chosen, appends must not refuse it.
    let stdout = success(&["run", "--n", "4"]);
    assert!(stdout.contains("Thread-0: 4\n"), "{stdout}");
    assert!(!stdout.contains("Thread-1: 5"), "{stdout}");
}

#[test]
fn zero_threads_is_a_usage_error() {
    assert_usage_error(
        &["run", "turns", "--threads", "0"],
        "threads must be at least 1",
    );
    assert_usage_error(
        &["run", "appends", "--threads", "0"],
        "threads must be at least 1",
    );
    assert_usage_error(&["run", "--threads", "0"], "threads must be at least 1");
}

#[test]
fn non_numbers_are_usage_errors() {
    assert_usage_error(
        &["run", "turns", "--threads", "abc"],
        "invalid value 'abc' for '--threads <K>'",
    );
    assert_usage_error(
        &["run", "turns", "--n", "-1"],
        "invalid value '-1' for '--n <N>'",
    );
}

#[test]
fn unknown_names_are_usage_errors() {
    assert_usage_error(
        &["run", "nosuch"],
        "invalid value 'nosuch' for '[SCENARIO]'",
    );
    assert_usage_error(
        &["run", "turns", "--backend", "nosuch"],
        "invalid value 'nosuch' for '--backend <BACKEND>'",
    );
}

#[test]
fn a_flag_the_scenario_does_not_take_is_a_usage_error() {
    assert_usage_error(&["run", "appends", "--n", "3"], "appends: takes no --n");
}

#[test]
fn no_subcommand_is_a_usage_error() {
    assert_usage_error(&[], "Usage:");
}

#[test]
fn list_names_every_scenario_and_mutant() {
    let stdout = success(&["list"]);
    for scenario in scenarios::ALL {
        let header = format!("{} (notes {})", scenario.name(), scenario.notes_cell());
        assert!(
            stdout.lines().any(|l| l == header),
            "{header:?} missing: {stdout}"
        );
        let variants = scenario.variants();
        assert!(
            variants.iter().any(|(_, bug)| bug.is_some()),
            "{} has no mutant",
            scenario.name()
        );
        for (variant, bug) in variants {
            let line = match bug {
                None => format!("  {variant}"),
                Some(bug) => format!("  {variant} (mutant: {bug})"),
            };
            assert!(
                stdout.lines().any(|l| l == line),
                "{line:?} missing: {stdout}"
            );
        }
    }
}

const BACKENDS: [&str; 2] = ["std", "parking-lot"];

/// The notes' In[4] results, in submission order.
const NOTES_POOL: [&str; 4] = [
    "https://google.com10",
    "https://facebook.com10",
    "https://reddit.com10",
    "https://instagram.com10",
];

fn sorted(values: &[impl AsRef<str>]) -> Vec<String> {
    let mut values: Vec<String> = values.iter().map(|v| v.as_ref().to_owned()).collect();
    values.sort();
    values
}

#[test]
fn run_pool_prints_two_permutations_of_the_notes() {
    for backend in BACKENDS {
        let stdout = success(&["run", "pool", "--backend", backend]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 2, "--backend {backend}: {stdout:?}");
        for line in lines {
            assert_eq!(
                sorted(&parse_res_list(line)),
                sorted(&NOTES_POOL),
                "--backend {backend}: {line:?}"
            );
        }
    }
}

#[test]
fn run_pool_with_one_worker_appends_in_submission_order() {
    for backend in BACKENDS {
        let stdout = success(&["run", "pool", "--threads", "1", "--backend", backend]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 2, "{stdout:?}");
        assert_eq!(sorted(&parse_res_list(lines[0])), sorted(&NOTES_POOL));
        assert_eq!(parse_res_list(lines[1]), NOTES_POOL, "--backend {backend}");
    }
}

/// The singleton's lines with r checked (all equal, in 1..=10) and replaced by `{r}`.
fn normalised_connections(stdout: &str) -> String {
    let rs: BTreeSet<Option<u32>> = stdout.lines().map(parse_connection).collect();
    assert_eq!(rs.len(), 1, "more than one connection: {stdout:?}");
    let r = rs.into_iter().next().unwrap();
    assert!(matches!(r, Some(1..=10)), "r = {r:?} in {stdout:?}");
    stdout
        .lines()
        .map(|l| {
            let prefix = l.strip_suffix(&r.unwrap().to_string()).unwrap();
            format!("{prefix}{{r}}\n")
        })
        .collect()
}

#[test]
fn run_singleton_prints_five_equal_connections() {
    let _s = common::snapshots();
    for backend in BACKENDS {
        let stdout = success(&["run", "singleton", "--backend", backend]);
        assert_eq!(stdout.lines().count(), 5, "{stdout:?}");
        assert!(stdout.ends_with('\n'));
        insta::assert_snapshot!("cli_run_singleton_notes", normalised_connections(&stdout));
    }
}

#[test]
fn run_singleton_with_threads_prints_one_line_each() {
    let stdout = success(&["run", "singleton", "--threads", "12"]);
    assert_eq!(stdout.lines().count(), 12);
    normalised_connections(&stdout);
}

/// Parses the counter's lines; checks numbers 0..k-1 in order and each name once.
fn assert_counter(stdout: &str, threads: usize) {
    let lines: Vec<CounterLine> = stdout
        .lines()
        .map(|l| CounterLine::parse(l).unwrap_or_else(|| panic!("not a counter line: {l:?}")))
        .collect();
    let numbers: Vec<usize> = lines.iter().map(|l| l.number).collect();
    assert_eq!(numbers, (0..threads).collect::<Vec<_>>(), "{stdout}");
    let printers: BTreeSet<&str> = lines.iter().map(|l| l.thread.as_str()).collect();
    let names: Vec<String> = (1..=threads).map(|i| format!("THREAD {i}")).collect();
    let names: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(printers.len(), threads, "a thread printed twice: {stdout}");
    assert_eq!(printers, names, "{stdout}");
}

#[test]
fn run_counter_prints_the_notes_numbers() {
    for backend in BACKENDS {
        let stdout = success(&["run", "counter", "--backend", backend]);
        assert!(stdout.starts_with("Printing Number 0 by thread THREAD "));
        assert_counter(&stdout, 3);
    }
}

#[test]
fn run_counter_with_threads() {
    assert_counter(&success(&["run", "counter", "--threads", "7"]), 7);
    assert_counter(&success(&["run", "counter", "--threads", "1"]), 1);
}

#[test]
fn zero_workers_or_threads_is_a_usage_error() {
    for scenario in ["pool", "singleton", "counter"] {
        assert_usage_error(
            &["run", scenario, "--threads", "0"],
            &format!("{scenario}: threads must be at least 1"),
        );
    }
}

#[test]
fn too_many_threads_is_a_usage_error_not_an_abort() {
    let most = scenarios::MAX_THREADS;
    for scenario in ["appends", "pool", "turns", "singleton", "counter"] {
        assert_usage_error(
            &["run", scenario, "--threads", "100000"],
            &format!("{scenario}: 100000 threads is too many: at most {most}"),
        );
    }
    // The cap itself runs: every thread prints its line.
    assert_counter(
        &success(&["run", "counter", "--threads", &most.to_string()]),
        most,
    );
}

#[test]
fn n_is_not_taken() {
    for scenario in ["pool", "singleton", "counter"] {
        assert_usage_error(
            &["run", scenario, "--n", "3"],
            &format!("{scenario}: takes no --n"),
        );
    }
}
