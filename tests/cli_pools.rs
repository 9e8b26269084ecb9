//! `threadproof run pool | singleton | counter`, run as a user runs them, on both backends.
//!
//! - `run pool` prints the seed's two lines (the `as_completed` results, then the global
//!   list), each a permutation of the seed's four `{'res': url+'10'}`; with `--threads 1` the
//!   one worker appends in submission order;
//! - `run singleton` prints five `SOME CONNECTION - r` lines with one r in 1..=10 (snapshot
//!   `cli_run_singleton_seed`, with r replaced by `{r}` so that it does not depend on chance);
//!   `--threads k` prints k;
//! - `run counter` prints `Printing Number i by thread THREAD j` for i = 0, 1, 2, each of
//!   `THREAD 3`, `THREAD 2`, `THREAD 1` once (parsed without regexes); `--threads k` gives k;
//! - zero workers or threads, and a flag the scenario does not take, exit with status 2, a
//!   message on stderr and nothing on stdout.

mod common;

use common::{parse_res_list, success, threadproof};

use std::collections::BTreeSet;

use threadproof::scenarios::counter::CounterLine;
use threadproof::scenarios::singleton::parse_connection;

const BACKENDS: [&str; 2] = ["std", "parking-lot"];

/// The seed's In[4] results, in submission order.
const SEED_POOL: [&str; 4] = [
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
fn run_pool_prints_two_permutations_of_the_seed() {
    for backend in BACKENDS {
        let stdout = success(&["run", "pool", "--backend", backend]);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 2, "--backend {backend}: {stdout:?}");
        for line in lines {
            assert_eq!(
                sorted(&parse_res_list(line)),
                sorted(&SEED_POOL),
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
        assert_eq!(sorted(&parse_res_list(lines[0])), sorted(&SEED_POOL));
        assert_eq!(parse_res_list(lines[1]), SEED_POOL, "--backend {backend}");
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
        insta::assert_snapshot!("cli_run_singleton_seed", normalised_connections(&stdout));
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
fn run_counter_prints_the_seed_numbers() {
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

/// Runs `args`, which are bad: exit 2, `needle` on stderr, nothing on stdout.
fn assert_usage_error(args: &[&str], needle: &str) {
    let out = threadproof(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
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
fn n_is_not_taken() {
    for scenario in ["pool", "singleton", "counter"] {
        assert_usage_error(
            &["run", scenario, "--n", "3"],
            &format!("{scenario}: takes no --n"),
        );
    }
}
