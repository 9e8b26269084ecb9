//! The `threadproof` binary, run as a user runs it.
//!
//! - `run turns --threads 3 --n 15` prints the notes' 15 lines `Thread-0: 1` .. `Thread-2: 15`
//!   on both backends (snapshot `cli_run_turns_seed`);
//! - `run appends` prints one list in the notes' shape whose entries are, in some order, the
//!   notes' four results;
//! - `run` alone runs every registered scenario under its `== name ==` header;
//! - `list` names every scenario and every mutant;
//! - bad arguments exit with status 2, a clear message on stderr and nothing on stdout.

mod common;

use common::{parse_res_list, success, threadproof};

use threadproof::scenarios;

/// The notes' four results.
const SEED_RESULTS: [&str; 4] = [
    "https://google.com10",
    "https://facebook.com5",
    "https://reddit.com5",
    "https://instagram.com15",
];

fn assert_seed_appends(line: &str) {
    let mut entries = parse_res_list(line);
    entries.sort();
    let mut expected: Vec<String> = SEED_RESULTS.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        entries, expected,
        "{line:?} is not a permutation of the seed's results"
    );
}

#[test]
fn run_turns_prints_the_seed_rotation() {
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
        insta::assert_snapshot!("cli_run_turns_seed", stdout);
    }
}

#[test]
fn run_turns_defaults_to_the_seed() {
    assert_eq!(
        success(&["run", "turns"]),
        success(&["run", "turns", "--threads", "3", "--n", "15"])
    );
}

#[test]
fn run_appends_prints_a_permutation_of_the_seed() {
    for backend in ["std", "parking-lot"] {
        let stdout = success(&["run", "appends", "--backend", backend]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "--backend {backend}: {stdout:?}");
        assert!(stdout.ends_with('\n'));
        assert_seed_appends(lines[0]);
    }
}

#[test]
fn run_appends_with_threads_lists_that_many() {
    let stdout = success(&["run", "appends", "--threads", "6"]);
    let entries = parse_res_list(stdout.trim_end());
    assert_eq!(entries.len(), 6, "{stdout:?}");
    for result in SEED_RESULTS {
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
    // The sections that are seed-shaped are the seed's.
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
    assert_seed_appends(appends[0]);
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

/// Runs `args`, which are bad: exit 2, `needle` on stderr, nothing on stdout.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = threadproof(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "threadproof {args:?}: status {}, stderr {stderr}",
        out.status
    );
    assert!(
        stderr.contains(needle),
        "threadproof {args:?}: stderr lacks {needle:?}: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "threadproof {args:?} printed on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
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
        let header = format!("{} (seed {})", scenario.name(), scenario.seed());
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
