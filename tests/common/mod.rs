//! Helpers shared by the test targets in `tests/` and `models/` (included by `#[path]`).
//!
//! Invariant: every insta snapshot lands in the top-level `snapshots/` folder, named without a
//! module prefix, whichever target asserts it.

#![allow(dead_code)]

/// Binds insta's settings for this scope: snapshots go to `snapshots/`.
pub fn snapshots() -> insta::internals::SettingsBindDropGuard {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind_to_scope()
}

/// Prints a model run's report line, so `--nocapture` runs show executions, outcomes and time.
pub fn show<O>(name: &str, report: &threadproof::explore::Report<O>) {
    println!("{name}: {}", report.summary());
}
