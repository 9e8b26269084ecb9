//! Exploration speed: loom and shuttle executions per second, with failure traces recorded
//! and without, side by side in one run (the goal: recording costs at most 25%).
//!
//! Each iteration is one whole exploration of a fixed size, so criterion's time per iteration
//! divided into the executions (the throughput) gives executions per second.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use threadproof::explore::{Checker, LoomConfig, ShuttleConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check, Scenario};

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
        ("random", Checker::Shuttle(ShuttleConfig::random(2000))),
    ];
    for (name, checker) in checkers {
        for traces in [true, false] {
            let checker = checker.clone().with_traces(traces);
            let label = if traces { "traced" } else { "untraced" };
            // The executions of one exploration, for the throughput.
            let executions = check::<Turns>(&turns, TurnsVariant::Targeted, &checker).executions;
            group.throughput(Throughput::Elements(executions));
            group.bench_function(format!("turns-k3-n3/{name}/{label}"), |b| {
                b.iter(|| check::<Turns>(&turns, TurnsVariant::Targeted, &checker))
            });
            let executions =
                check::<Appends>(&appends, AppendsVariant::Locked, &checker).executions;
            group.throughput(Throughput::Elements(executions));
            group.bench_function(format!("{}-k3/{name}/{label}", Appends::NAME), |b| {
                b.iter(|| check::<Appends>(&appends, AppendsVariant::Locked, &checker))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, exploration);
criterion_main!(benches);
