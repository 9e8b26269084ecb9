//! Exploration speed, side by side in one run:
//! - `exploration`: loom and shuttle executions per second through threadproof, with failure
//!   traces recorded and without (the goal: recording costs at most 25%);
//! - `overhead`: the same small program run by the raw engine (`loom::model`,
//!   `shuttle::check_random`, `shuttle::check_pct`) and through threadproof's exploration with
//!   traces on (the goal: at least 0.95x the raw engine's executions per second), and off;
//! - `jobs`: the same program, raw shuttle's random schedules (one thread) against
//!   threadproof's spread over 1 and 2 worker threads, in executions per second of wall time
//!   (the goal: at least 1.6x raw with 2 workers on 2 cores);
//! - `portfolio`: a default `check!` (`Portfolio::standard`, its four rows at once) of the
//!   README's counter with its increment under one lock, against the same rows one after
//!   another, each shuttle row on one worker (the goal: at least 1.5x faster) and on every
//!   core.
//!
//! `exploration` and `overhead` measure one thread (`jobs(1)`): the cost per execution.
//!
//! Each iteration is one whole exploration of a fixed size, so criterion's time per iteration
//! divided into the executions (the throughput) gives executions per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use threadproof::check::{check_once, Portfolio};
use threadproof::explore::{self, Checker, LoomConfig, ShuttleConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{explore, Scenario};
use threadproof::sync::{Loom, Shuttle};

#[path = "support/counter.rs"]
mod program;

use program::{counter, counter_on, expected};

fn exploration(c: &mut Criterion) {
    let mut group = c.benchmark_group("exploration");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    let turns = TurnsConfig::new(3, 3).unwrap();
    let appends = AppendsConfig::with_threads(3).unwrap();
    let checkers = [
        ("loom", Checker::Loom(LoomConfig::exhaustive())),
        (
            "random",
            Checker::Shuttle(ShuttleConfig::random(2000).jobs(1)),
        ),
    ];
    for (name, checker) in checkers {
        for traces in [true, false] {
            let checker = checker.clone().with_traces(traces);
            let label = if traces { "traced" } else { "untraced" };
            // The executions of one exploration, for the throughput.
            let executions = explore::<Turns>(&turns, TurnsVariant::Targeted, &checker).executions;
            group.throughput(Throughput::Elements(executions));
            group.bench_function(format!("turns-k3-n3/{name}/{label}"), |b| {
                b.iter(|| explore::<Turns>(&turns, TurnsVariant::Targeted, &checker))
            });
            let executions =
                explore::<Appends>(&appends, AppendsVariant::Locked, &checker).executions;
            group.throughput(Throughput::Elements(executions));
            group.bench_function(format!("{}-k3/{name}/{label}", Appends::NAME), |b| {
                b.iter(|| explore::<Appends>(&appends, AppendsVariant::Locked, &checker))
            });
        }
    }
    group.finish();
}

/// A raw engine's run of the program on its own primitives and std's `Arc`, as threadproof's
/// paths use it (`$engine` is `loom` or `shuttle`): it must hold.
macro_rules! raw_counter {
    ($engine:ident) => {
        || assert_eq!(counter_on!($engine; std::sync::Arc), (5, 2))
    };
}

/// Raw loom's exploration of [`counter`]: how many executions it ran.
fn raw_loom() -> u64 {
    let executions = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&executions);
    let body = raw_counter!(loom);
    loom::model::Builder::new().check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        body()
    });
    executions.load(Ordering::Relaxed)
}

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("overhead");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    let iterations = 1000;
    let loom_config = LoomConfig::exhaustive();
    let random = ShuttleConfig::random(iterations).jobs(1);
    let pct = ShuttleConfig::pct(3, iterations).jobs(1);
    assert!(loom_config.record_traces && random.record_traces && pct.record_traces);

    // Both sides must run the same executions for their rates to compare.
    let raw = raw_loom();
    let through = explore::loom::explore(&loom_config, counter::<Loom>, expected);
    assert!(through.passed(), "{}", through.summary());
    assert_eq!(
        raw, through.executions,
        "loom ran different executions raw and through us"
    );
    group.throughput(Throughput::Elements(raw));
    group.bench_function("counter/loom/raw", |b| b.iter(raw_loom));
    // Untraced beside traced, to tell what the traces cost from what the rest costs.
    for traces in [true, false] {
        let label = if traces { "traced" } else { "untraced" };
        let config = LoomConfig {
            record_traces: traces,
            ..loom_config.clone()
        };
        group.bench_function(format!("counter/loom/threadproof-{label}"), |b| {
            b.iter(|| explore::loom::explore(&config, counter::<Loom>, expected))
        });
    }

    group.throughput(Throughput::Elements(iterations as u64));
    group.bench_function("counter/random/raw", |b| {
        b.iter(|| shuttle::check_random(raw_counter!(shuttle), iterations))
    });
    group.bench_function("counter/pct/raw", |b| {
        b.iter(|| shuttle::check_pct(raw_counter!(shuttle), iterations, 3))
    });
    for (name, config) in [("random", random), ("pct", pct)] {
        for traces in [true, false] {
            let label = if traces { "traced" } else { "untraced" };
            let config = ShuttleConfig {
                record_traces: traces,
                ..config.clone()
            };
            group.bench_function(format!("counter/{name}/threadproof-{label}"), |b| {
                b.iter(|| explore::shuttle::explore(&config, counter::<Shuttle>, expected))
            });
        }
    }
    group.finish();
}

fn jobs(c: &mut Criterion) {
    let mut group = c.benchmark_group("jobs");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sampling_mode(SamplingMode::Flat);
    let iterations = 2000;
    group.throughput(Throughput::Elements(iterations as u64));
    group.bench_function("counter/random/raw", |b| {
        b.iter(|| shuttle::check_random(raw_counter!(shuttle), iterations))
    });
    for jobs in [1, 2] {
        let config = ShuttleConfig::random(iterations).jobs(jobs);
        let report = explore::shuttle::explore(&config, counter::<Shuttle>, expected);
        assert_eq!(report.executions, iterations as u64, "{}", report.summary());
        group.bench_function(format!("counter/random/threadproof-jobs-{jobs}"), |b| {
            b.iter(|| explore::shuttle::explore(&config, counter::<Shuttle>, expected))
        });
    }
    group.finish();
}

/// The README's counter, its increment under one lock so that every row runs its whole
/// budget, on std's paths (through the mirror, as `check!` compiles it).
fn readme_counter() -> u32 {
    use threadproof::std::sync::{Arc, Mutex};
    use threadproof::std::thread;
    let counter = Arc::new(Mutex::new(0));
    let c = Arc::clone(&counter);
    let t = thread::spawn(move || *c.lock().unwrap() += 1);
    *counter.lock().unwrap() += 1;
    t.join().unwrap();
    let total = *counter.lock().unwrap();
    total
}

fn portfolio(c: &mut Criterion) {
    let mut group = c.benchmark_group("portfolio");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .sampling_mode(SamplingMode::Flat);
    let standard = Portfolio::standard();
    let invariant = |total: &u32| *total == 2;
    assert!(check_once(&standard, readme_counter, invariant).passed());
    // Each row alone, in the table's order, its shuttle schedules on `jobs` workers: one is a
    // check from before its rows ran at once (there were no workers then either); every core
    // is the best a check can do one row after another today.
    let alone = |jobs: usize| {
        let loom = Portfolio {
            shuttle: Vec::new(),
            ..standard.clone()
        };
        let shuttle = standard.shuttle.iter().map(|row| Portfolio {
            loom: None,
            shuttle: vec![row.clone().jobs(jobs)],
            ..standard.clone()
        });
        let rows: Vec<Portfolio> = std::iter::once(loom).chain(shuttle).collect();
        for row in &rows {
            assert!(check_once(row, readme_counter, invariant).passed());
        }
        rows
    };
    let (one_worker, every_core) = (alone(1), alone(explore::shuttle::default_jobs()));
    group.bench_function("readme-counter/rows-at-once", |b| {
        b.iter(|| check_once(&standard, readme_counter, invariant))
    });
    for (name, rows) in [("one-worker", &one_worker), ("every-core", &every_core)] {
        group.bench_function(
            format!("readme-counter/rows-one-after-another-{name}"),
            |b| {
                b.iter(|| {
                    for row in rows {
                        check_once(row, readme_counter, invariant);
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, exploration, overhead, jobs, portfolio);
criterion_main!(benches);
