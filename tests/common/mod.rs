//! Helpers shared by the test targets in `tests/` and the model tests in `models/` (which
//! include this file by `#[path]`): snapshots, and running the built binary as a user does.
//!
//! Invariant: every insta snapshot lands in the top-level `snapshots/` folder, named without a
//! module prefix, whichever target asserts it.

#![allow(dead_code)]

/// Runs the generic test `$body::<P>()` on both production backends.
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($body:ident),* $(,)?) => {
        mod std_backend {
            $(#[test] fn $body() { super::$body::<threadproof::sync::Std>() })*
        }
        mod parking_lot_backend {
            $(#[test] fn $body() { super::$body::<threadproof::sync::ParkingLot>() })*
        }
    };
}

/// Binds insta's settings for this scope: snapshots go to `snapshots/`.
pub fn snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind_to_scope()
}

/// Runs the built `threadproof` binary with `args`.
pub fn threadproof(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_threadproof"))
        .args(args)
        .output()
        .expect("the threadproof binary runs")
}

/// Stdout of a run that must succeed with nothing on stderr.
pub fn success(args: &[&str]) -> String {
    let out = threadproof(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "threadproof {args:?} failed ({}): {stderr}",
        out.status
    );
    assert!(
        stderr.is_empty(),
        "threadproof {args:?} wrote to stderr: {stderr}"
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `args`, which are bad: exit 2, `needle` on stderr, nothing on stdout.
pub fn assert_usage_error(args: &[&str], needle: &str) {
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

/// Parses the notes' `[{'res': 'a'}, {'res': 'b'}]` into `["a", "b"]`; panics on any other
/// shape.
pub fn parse_res_list(line: &str) -> Vec<String> {
    let inner = line
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not a list: {line:?}"));
    if inner.is_empty() {
        return Vec::new();
    }
    inner
        .split(", ")
        .map(|entry| {
            entry
                .strip_prefix("{'res': '")
                .and_then(|e| e.strip_suffix("'}"))
                .unwrap_or_else(|| panic!("not a {{'res': ...}} entry: {entry:?} in {line:?}"))
                .to_owned()
        })
        .collect()
}

/// The pids whose parent is this process, zombies included, from `/proc/<pid>/stat`.
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc is readable") {
        let Ok(entry) = entry else { continue };
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            continue;
        };
        if rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) == Some(me) {
            found.push(pid);
        }
    }
    found.sort();
    found
}

/// This process's children that have told their pool they are ready: they name themselves
/// [`threadproof::process::READY_WORKER_NAME`] once they have said so. A worker killed before
/// that is a startup failure (a broken program looks the same), which may give its slot up for
/// a while; one killed after it fails only the task it runs.
pub fn ready_workers() -> Vec<u32> {
    children()
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == threadproof::process::READY_WORKER_NAME)
        })
        .collect()
}
