//! One exploration of the overhead bench's program per run, for an instruction counter:
//! `just instructions` runs each mode under `valgrind --tool=callgrind` and divides by the
//! executions. The mode is the first argument: `loom-raw`, `loom-traced`, `loom-untraced`,
//! `random-raw`, `random-traced`, `random-untraced`, `pct-raw`, `pct-traced`, `pct-untraced`,
//! and through the std mirror (the program as a user's crate writes it, traced):
//! `loom-mirror`, `random-mirror`; and the raw engines with their own `Arc` (the mirror's
//! `Arc` counts are interleaved, as theirs are): `loom-raw-arc`, `random-raw-arc`.
//!
//! Invariant: both sides of a pair run the same number of executions of the same program
//! (loom's exhaustive walk, or the same number of shuttle schedules), so totals divide alike.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadproof::explore::{self, LoomConfig, ShuttleConfig};
use threadproof::sync::{Loom, Shuttle};

#[path = "support/counter.rs"]
mod program;

use program::{counter, counter_on, expected};

/// Shuttle schedules per run unless the second argument says (`random-traced 100000`: long
/// enough to time with `/usr/bin/time`, where a short run is mostly start-up).
const SCHEDULES: usize = 2000;

/// A raw engine's run of the program, std's `Arc` unless another is given: it must hold.
macro_rules! raw_counter {
    ($engine:ident) => {
        raw_counter!($engine, std::sync::Arc)
    };
    ($engine:ident, $arc:path) => {
        || assert_eq!(counter_on!($engine; $arc), (5, 2))
    };
}

/// The program as a user's crate writes it: std's paths, swapped for threadproof's mirror.
fn mirror_counter() -> (u32, usize) {
    counter_on!(threadproof::std; threadproof::std::sync::Arc)
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let schedules = match std::env::args().nth(2).map(|n| n.parse::<usize>()) {
        None => SCHEDULES,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("the second argument is a number of shuttle schedules, at least 1");
            std::process::exit(2);
        }
    };
    let executions = match mode.as_str() {
        "loom-raw" | "loom-raw-arc" => {
            let executions = Arc::new(AtomicU64::new(0));
            let counted = Arc::clone(&executions);
            let body: Box<dyn Fn() + Send + Sync> = if mode == "loom-raw" {
                Box::new(raw_counter!(loom))
            } else {
                Box::new(raw_counter!(loom, loom::sync::Arc))
            };
            loom::model::Builder::new().check(move || {
                counted.fetch_add(1, Ordering::Relaxed);
                body()
            });
            executions.load(Ordering::Relaxed)
        }
        "loom-traced" | "loom-untraced" | "loom-mirror" => {
            let config = LoomConfig {
                record_traces: mode != "loom-untraced",
                ..LoomConfig::exhaustive()
            };
            let report = if mode == "loom-mirror" {
                explore::loom::explore(&config, mirror_counter, expected)
            } else {
                explore::loom::explore(&config, counter::<Loom>, expected)
            };
            assert!(report.passed(), "{}", report.summary());
            report.executions
        }
        "random-raw" => {
            shuttle::check_random(raw_counter!(shuttle), schedules);
            schedules as u64
        }
        "random-raw-arc" => {
            shuttle::check_random(raw_counter!(shuttle, shuttle::sync::Arc), schedules);
            schedules as u64
        }
        "pct-raw" => {
            shuttle::check_pct(raw_counter!(shuttle), schedules, 3);
            schedules as u64
        }
        "random-traced" | "random-untraced" | "pct-traced" | "pct-untraced" | "random-mirror" => {
            let base = if mode.starts_with("pct") {
                ShuttleConfig::pct(3, schedules)
            } else {
                ShuttleConfig::random(schedules)
            };
            let config = ShuttleConfig {
                record_traces: !mode.ends_with("-untraced"),
                ..base.jobs(1)
            };
            let report = if mode == "random-mirror" {
                explore::shuttle::explore(&config, mirror_counter, expected)
            } else {
                explore::shuttle::explore(&config, counter::<Shuttle>, expected)
            };
            assert!(report.passed(), "{}", report.summary());
            report.executions
        }
        "" | "--bench" => return, // `cargo bench` runs every bench target: nothing to do here.
        other => {
            eprintln!(
                "unknown mode {other:?}: loom-raw, loom-raw-arc, loom-traced, loom-untraced, loom-mirror, \
                 random-raw, random-raw-arc, random-traced, random-untraced, random-mirror, pct-raw, \
                 pct-traced, pct-untraced"
            );
            std::process::exit(2);
        }
    };
    println!("{mode}: {executions} executions");
}
