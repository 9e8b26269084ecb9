//! One exploration of the overhead bench's program per run, for an instruction counter:
//! `just instructions` runs each mode under `valgrind --tool=callgrind` and divides by the
//! executions. The mode is the first argument: `loom-raw`, `loom-traced`, `loom-untraced`,
//! `random-raw`, `random-traced`, `random-untraced`, `pct-raw`, `pct-traced`, `pct-untraced`,
//! and through the std mirror (the program as a user's crate writes it, traced):
//! `loom-mirror`, `random-mirror`; and the raw engines with their own `Arc` (the mirror's
//! `Arc` counts are interleaved, as theirs are): `loom-raw-arc`, `random-raw-arc`.
//!
//! Invariant: both sides of a pair run the same number of executions of the same program
//! (loom's exhaustive walk, or `SCHEDULES` shuttle schedules), so totals divide alike.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadproof::explore::{self, LoomConfig, ShuttleConfig};
use threadproof::sync::{spawn, AtomicUsize, Loom, Mutex, Primitives, Shuttle};

const SCHEDULES: usize = 2000;

/// The overhead bench's program (benches/exploration.rs `counter`).
fn counter<P: Primitives>() -> (u32, usize) {
    let total = Arc::new(Mutex::<P, u32>::new(0));
    let passes = Arc::new(AtomicUsize::<P>::new(0));
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
            spawn::<P, _, _>(format!("worker-{i}"), move || {
                for _ in 0..2 {
                    *total.lock() += 1;
                }
                passes.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    *total.lock() += 1;
    for worker in workers {
        worker.join().unwrap();
    }
    let total = *total.lock();
    (total, passes.load(Ordering::SeqCst))
}

macro_rules! raw_counter {
    ($engine:ident) => {
        raw_counter!($engine, std::sync::Arc)
    };
    ($engine:ident, $arc:path) => {
        || {
            use $arc as Arc;
            use $engine::sync::atomic::AtomicUsize;
            use $engine::sync::Mutex;
            let total = Arc::new(Mutex::new(0u32));
            let passes = Arc::new(AtomicUsize::new(0));
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
                    $engine::thread::Builder::new()
                        .name(format!("worker-{i}"))
                        .spawn(move || {
                            for _ in 0..2 {
                                *total.lock().unwrap() += 1;
                            }
                            passes.fetch_add(1, Ordering::SeqCst);
                        })
                        .unwrap()
                })
                .collect();
            *total.lock().unwrap() += 1;
            for worker in workers {
                worker.join().unwrap();
            }
            let total = *total.lock().unwrap();
            assert_eq!((total, passes.load(Ordering::SeqCst)), (5, 2));
        }
    };
}

/// [`counter`] as a user's crate writes it: std's paths, swapped for threadproof's mirror.
fn mirror_counter() -> (u32, usize) {
    use threadproof::std::sync::atomic::AtomicUsize;
    use threadproof::std::sync::{Arc, Mutex};
    use threadproof::std::thread;
    let total = Arc::new(Mutex::new(0u32));
    let passes = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for _ in 0..2 {
                        *total.lock().unwrap() += 1;
                    }
                    passes.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap()
        })
        .collect();
    *total.lock().unwrap() += 1;
    for worker in workers {
        worker.join().unwrap();
    }
    let total = *total.lock().unwrap();
    (total, passes.load(Ordering::SeqCst))
}

fn expected(outcome: &(u32, usize)) -> Result<(), String> {
    if *outcome == (5, 2) {
        Ok(())
    } else {
        Err(format!("lost an update: {outcome:?}"))
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
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
            shuttle::check_random(raw_counter!(shuttle), SCHEDULES);
            SCHEDULES as u64
        }
        "random-raw-arc" => {
            shuttle::check_random(raw_counter!(shuttle, shuttle::sync::Arc), SCHEDULES);
            SCHEDULES as u64
        }
        "pct-raw" => {
            shuttle::check_pct(raw_counter!(shuttle), SCHEDULES, 3);
            SCHEDULES as u64
        }
        "random-traced" | "random-untraced" | "pct-traced" | "pct-untraced" | "random-mirror" => {
            let base = if mode.starts_with("pct") {
                ShuttleConfig::pct(3, SCHEDULES)
            } else {
                ShuttleConfig::random(SCHEDULES)
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
