//! `threadproof check` and `replay` tell the truth, driven as a user would: nothing
//! explored is never a pass, loom's thread cap is not a failure, every exploration can be
//! required to finish, shuttle prints nothing of its own, and environment variables that would
//! change an exploration are honoured and named, or refused.

mod common;

use std::process::{Command, Output};

use common::{assert_usage_error, success, threadproof};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary with `args` and one environment variable set.
fn with_env(var: &str, value: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_threadproof"))
        .env(var, value)
        .args(args)
        .output()
        .expect("the threadproof binary runs")
}

#[test]
fn settings_that_explore_nothing_are_refused_before_anything_runs() {
    assert_usage_error(&["check", "--budget", "0"], "--budget 0 explores nothing");
    assert_usage_error(&["check", "--timeout", "0"], "--timeout 0 explores nothing");
    assert_usage_error(
        &["check", "--iterations", "0"],
        "--iterations 0 explores nothing",
    );
}

#[test]
fn loom_thread_cap_is_not_a_failure_and_check_says_what_it_did_instead() {
    let text = success(&["check", "counter", "--threads", "5", "--checkers", "loom"]);
    assert!(
        text.contains("unsupported by loom: at least 5 threads, loom allows 4 besides main"),
        "{text}"
    );
    assert!(
        text.contains(
            "counter / locked: loom cannot run it; checking it with random, pct and urw instead"
        ),
        "{text}"
    );
    for word in ["FAILED", "UNEXPECTED", "assertion failed", "panic"] {
        assert!(!text.contains(word), "{word} in:\n{text}");
    }
    let row = |checker: &str| {
        text.lines()
            .find(|l| {
                l.split_whitespace()
                    .take(3)
                    .eq(["counter", "locked", checker])
            })
            .unwrap_or_else(|| panic!("no {checker} row in:\n{text}"))
            .to_string()
    };
    assert!(row("loom").contains("not run"), "{text}");
    for checker in ["random", "pct", "urw"] {
        assert!(row(checker).contains("pass"), "{text}");
    }
    assert!(text.contains("1 exploration(s) not run"), "{text}");
}

#[test]
fn require_complete_fails_the_gate_on_an_exploration_cut_by_its_budget() {
    let args = ["check", "turns", "--checkers", "loom", "--budget", "20"];
    let cut = success(&args);
    assert!(cut.contains("bounded (budget)"), "{cut}");
    let mut strict = args.to_vec();
    strict.push("--require-complete");
    let output = threadproof(&strict);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("did not finish (cut by the budget, or not run)"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn shuttle_prints_nothing_of_its_own_even_when_it_catches_mutants() {
    // `success` asserts an empty stderr: no "failing seed", no "test panicked in task", no
    // "Test deadlocked", none of which would replay with threadproof's tokens anyway.
    let text = success(&["check", "turns", "--checkers", "shuttle", "--mutants"]);
    assert!(text.contains("caught: deadlock"), "{text}");
    assert!(!text.contains("shuttle::replay"), "{text}");
    assert!(text.contains("minimal: "), "{text}");
}

#[test]
fn shuttle_random_seed_is_honoured_and_named() {
    let output = with_env(
        "SHUTTLE_RANDOM_SEED",
        "42",
        &["check", "counter", "--checkers", "shuttle", "--verbose"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("seed 0x2a from SHUTTLE_RANDOM_SEED"),
        "{text}"
    );
    assert!(
        !text.contains("seed 0x746872656164"),
        "the old seed is not named: {text}"
    );
}

#[test]
fn environment_variables_that_would_change_an_exploration_silently_are_refused() {
    for (var, value, args) in [
        ("SHUTTLE_RANDOM_SEED", "soon", &["check", "counter"][..]),
        (
            "LOOM_MAX_PREEMPTIONS",
            "2",
            &["check", "counter", "--checkers", "loom"],
        ),
        ("LOOM_CHECKPOINT_FILE", "x.json", &["check", "counter"]),
        (
            "SHUTTLE_RANDOM_SEED",
            "7",
            &[
                "replay",
                "turns",
                "--variant",
                "targeted",
                "--token",
                "random:seed=0x1:iterations=10:spurious=4@5",
            ],
        ),
    ] {
        let output = with_env(var, value, args);
        assert_eq!(output.status.code(), Some(2), "{var}={value} {args:?}");
        assert!(stderr(&output).contains(var), "{var}: {}", stderr(&output));
        assert!(stdout(&output).is_empty(), "{var}: {}", stdout(&output));
    }
}

#[test]
fn a_failure_prints_its_replay_in_code_and_on_the_command_line() {
    let output = threadproof(&["check", "counter", "--checkers", "loom", "--mutants"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("replay it in code: threadproof::explore::replay(\""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no replay line in:\n{text}"))
        .to_string();
    assert!(token.starts_with("loom:preemptions="), "{token}");
    assert!(
        text.contains(&format!("--token {token}")),
        "the command line replays the same token: {text}"
    );
    let replayed = success(&[
        "replay",
        "counter",
        "--variant",
        "increment-outside-lock",
        "--token",
        &token,
    ]);
    assert!(
        replayed.contains("reproduced: invariant violated"),
        "{replayed}"
    );
}
