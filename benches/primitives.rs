//! What threadproof's built primitives cost the checkers (issue 19 section 2): the small
//! programs of `models/primitive_programs.rs` (two senders on one channel, two named threads,
//! three `RwLock` writers, and for shuttle a thousand senders on one channel), each run by
//! the raw engine on its own primitives and through threadproof's exploration of the same
//! program over its backend.
//!
//! Loom's figures are whole explorations (every interleaving, as `loom::model` runs them): the
//! executions of each side are printed first, and criterion's time per exploration shows
//! what they cost. Shuttle's are fixed numbers of random schedules, so the times compare the
//! cost per execution directly. The goal: within 2x of the raw engine wherever it has the
//! primitive natively. `cargo bench --bench primitives`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use threadproof::explore::{self, LoomConfig, ShuttleConfig};

#[path = "../models/primitive_programs.rs"]
mod programs;

use programs::{loom_executions, loom_programs, many_senders, raw_loom_executions};

fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("primitives");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sampling_mode(SamplingMode::Flat);
    let loom_config = LoomConfig::exhaustive();
    for program in loom_programs() {
        let (raw, built) = (program.raw_loom.unwrap(), program.loom.unwrap());
        let name = program.name;
        let how = match (program.native, program.built_ceiling) {
            (true, _) => "on loom's own primitive: goal 2x".to_string(),
            (false, Some(ceiling)) => format!("built, one event per operation: ceiling {ceiling}x"),
            (false, None) => "built, one event per operation".to_string(),
        };
        println!(
            "{name}: loom executions raw {}, threadproof {} ({how})",
            raw_loom_executions(raw),
            loom_executions(&loom_config, built)
        );
        group.bench_function(format!("{name}/loom/raw"), |b| {
            b.iter(|| raw_loom_executions(raw))
        });
        group.bench_function(format!("{name}/loom/threadproof"), |b| {
            b.iter(|| loom_executions(&loom_config, built))
        });
    }
    let mut shuttle_programs = loom_programs();
    shuttle_programs.push(many_senders());
    for program in shuttle_programs {
        let name = program.name;
        let iterations = if name == "many-senders" { 5 } else { 200 };
        group.throughput(Throughput::Elements(iterations as u64));
        let raw = program.raw_shuttle;
        group.bench_function(format!("{name}/random/raw"), |b| {
            b.iter(|| shuttle::check_random(raw, iterations))
        });
        let config = ShuttleConfig::random(iterations);
        let built = program.shuttle;
        group.bench_function(format!("{name}/random/threadproof"), |b| {
            b.iter(|| {
                let report = explore::shuttle::explore(&config, built, |_: &()| Ok(()));
                assert!(report.passed(), "{}", report.summary());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, primitives);
criterion_main!(benches);
