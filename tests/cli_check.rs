//! `threadproof check`, `replay` and `check --report`, driven as a user would: the verdicts
//! gate the exit status, every caught mutant prints a trace and a replay command, the replay
//! command reproduces the same failure with the same trace, and the HTML report is whole.

mod common;

use std::process::Output;

use common::threadproof;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `replay: ...` commands a check printed, as argument lists.
fn replay_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| line.strip_prefix("replay: threadproof "))
        .map(|command| command.split_whitespace().map(String::from).collect())
        .collect()
}

/// The failing interleaving's table: the lines after its heading, up to the next blank line.
fn interleaving(text: &str) -> String {
    text.lines()
        .skip_while(|line| !line.starts_with("the failing interleaving"))
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .collect::<Vec<_>>()
        .join("\n")
}

fn replays_reproduce(check_args: &[&str], mutants: &[&str]) {
    let check = threadproof(check_args);
    let text = stdout(&check);
    assert_eq!(check.status.code(), Some(0), "{text}");
    let commands = replay_commands(&text);
    for mutant in mutants {
        let command = commands
            .iter()
            .find(|c| c.iter().any(|arg| arg == mutant))
            .unwrap_or_else(|| panic!("no replay command for {mutant} in:\n{text}"));
        let args: Vec<&str> = command.iter().map(String::as_str).collect();
        let replay = threadproof(&args);
        let replayed = stdout(&replay);
        assert_eq!(replay.status.code(), Some(0), "{replayed}");
        assert!(replayed.contains("reproduced: "), "{replayed}");
        // The same interleaving, step for step.
        let section = text
            .split("== ")
            .find(|s| s.contains(&format!("/ {mutant} /")) && s.contains(&command.join(" ")))
            .expect("the check printed this failure's section");
        let original = interleaving(section);
        assert!(!original.is_empty(), "{section}");
        assert_eq!(interleaving(&replayed), original);
    }
}

#[test]
fn loom_failures_replay_with_the_same_trace() {
    replays_reproduce(
        &["check", "appends", "--checkers", "loom", "--mutants"],
        &["lost-update"],
    );
}

#[test]
fn shuttle_failures_replay_with_the_same_trace() {
    replays_reproduce(
        &["check", "turns", "--checkers", "shuttle", "--mutants"],
        &["notify-one", "if-not-while", "lost-handoff"],
    );
}

#[test]
fn check_passes_correct_variants_and_catches_mutants() {
    let output = threadproof(&["check", "turns", "--checkers", "shuttle", "--mutants"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    let row = |variant: &str, checker: &str| {
        text.lines()
            .find(|l| l.split_whitespace().take(3).eq(["turns", variant, checker]))
            .unwrap_or_else(|| panic!("no row for {variant} {checker} in:\n{text}"))
            .to_string()
    };
    for checker in ["random", "pct", "urw"] {
        assert!(row("targeted", checker).contains("pass"));
        assert!(row("notify-all", checker).contains("pass"));
        assert!(row("notify-one", checker).contains("caught: deadlock"));
        assert!(row("if-not-while", checker).contains("caught: invariant violated"));
        assert!(row("lost-handoff", checker).contains("caught: deadlock"));
    }
    assert!(text.contains("all 15 verdicts as expected"), "{text}");
    // A deadlock names who waits on what.
    assert!(
        text.contains("for a notification that never comes"),
        "{text}"
    );
}

#[test]
fn an_escaped_mutant_fails_the_check() {
    // With two threads the one woken is always the right one: notify-one cannot deadlock.
    // `--backend` is the old name of `--checkers`, still accepted.
    let output = threadproof(&[
        "check",
        "turns",
        "--backend",
        "shuttle",
        "--mutants",
        "--threads",
        "2",
        "--n",
        "4",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("MUTANT ESCAPED"), "{text}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("unexpected verdict"));
}

#[test]
fn html_report_is_whole() {
    let path = std::env::temp_dir().join(format!("threadproof-report-{}.html", std::process::id()));
    let output = threadproof(&[
        "check",
        "turns",
        "--checkers",
        "shuttle",
        "--mutants",
        "--report",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let html = std::fs::read_to_string(&path).expect("the report was written");
    std::fs::remove_file(&path).ok();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    // One verdict row and one section per exploration: 5 variants x 3 checkers.
    assert_eq!(html.matches("<tr class=").count(), 15);
    assert_eq!(html.matches("<section").count(), 15);
    assert_eq!(html.matches("</section>").count(), 15);
    // Every failure (3 mutants x 3 checkers) has its swimlane, with a lane per thread (the
    // three printers, Thread-0 being the main thread) and its replay command.
    assert_eq!(html.matches("<svg class=\"swimlane\"").count(), 9);
    assert_eq!(html.matches("</svg>").count(), 9);
    assert_eq!(html.matches("<g class=\"lane\">").count(), 9 * 3);
    assert_eq!(html.matches("class=\"replay\"").count(), 9);
    // Notify arrows exist: the swimlane shows who woke whom.
    assert!(html.contains("class=\"arrow\""));
    assert!(!html.contains("<script"), "self-contained and static");
}

#[test]
fn bad_check_and_replay_arguments_exit_2() {
    for args in [
        &["check", "--checkers", "nope"][..],
        &["check", "nosuch"],
        &["check", "turns", "--threads", "0"],
        &["check", "--budget", "many"],
        &[
            "replay",
            "turns",
            "--variant",
            "nosuch",
            "--token",
            "loom@1",
        ],
        &[
            "replay",
            "turns",
            "--variant",
            "notify-one",
            "--token",
            "garbage",
        ],
        &[
            "replay",
            "turns",
            "--variant",
            "notify-one",
            "--token",
            "loom@0",
        ],
        &["replay", "turns", "--variant", "notify-one"],
    ] {
        let output = threadproof(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("error"),
            "{args:?}"
        );
    }
}

#[test]
fn jobs_of_zero_or_absurdly_many_are_refused() {
    for (jobs, says) in [
        ("0", "0 jobs run nothing: give at least 1"),
        ("5000", "5000 jobs is too many: at most 1024"),
        ("two", "invalid value 'two' for '--jobs <N>'"),
    ] {
        let args = ["check", "turns", "--checkers", "shuttle", "--jobs", jobs];
        let output = threadproof(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: {}", stdout(&output));
    }
}

#[test]
fn a_schedule_that_does_not_fail_is_reported() {
    let output = threadproof(&[
        "replay",
        "turns",
        "--variant",
        "targeted",
        "--token",
        "random:seed=0x1:iterations=10:spurious=4@5",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not reproduce"));
}

#[test]
fn a_report_that_cannot_be_written_is_refused_before_exploring() {
    let missing = std::env::temp_dir().join(format!("threadproof-no-dir-{}", std::process::id()));
    let missing = missing.join("report.html");
    for path in ["/proc/version", "/dev/full", missing.to_str().unwrap()] {
        let args = ["check", "turns", "--checkers", "shuttle", "--report", path];
        let output = threadproof(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot write the report {path}")),
            "{args:?}: {stderr}"
        );
        // Refused before exploring: no exploration's verdict was printed.
        assert!(output.stdout.is_empty(), "{args:?}: {}", stdout(&output));
    }
}

#[test]
fn an_interrupted_check_leaves_no_report() {
    use std::io::BufRead as _;

    let dir = std::env::temp_dir().join(format!("threadproof-interrupted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.html");
    // Every scenario with its mutants, one job, each exploration printed as it finishes: after
    // the first one's text, dozens are still to run, and the report is written after the last.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_threadproof"))
        .args(["check", "--mutants", "--verbose", "--jobs", "1", "--report"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().map(Result::unwrap);
    child.kill().unwrap();
    child.wait().unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        first.as_deref().is_some_and(|line| line.starts_with("== ")),
        "exploring had begun: {first:?}"
    );
    assert!(left.is_empty(), "an interrupted check left {left:?}");
}

#[test]
fn too_many_threads_is_refused_before_checking() {
    let output = threadproof(&["check", "counter", "--threads", "100000"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 4096"), "{stderr}");
    assert!(output.stdout.is_empty());
}
