//! Cost of the pool, the lazy value and the counter on the production backends, side by side
//! in one run.
//!
//! - group `pool`: tasks per second for [`POOL_TASKS`] trivial tasks on 3 workers (the notes'
//!   pool size), each submitted with `submit` and collected with `as_completed` + `result()`,
//!   on `std` and `parking-lot`. The pool is built once per benchmark; an iteration is
//!   100,000 submissions and 100,000 results. Ids: `submit+as_completed/{backend}`.
//! - group `singleton`: nanoseconds per `get` once initialised (the lock-free fast path):
//!   threadproof's `OnceLock` and `LazyLock` on both backends, beside `std::sync::OnceLock` and
//!   `parking_lot::Once` (guarding a cell, the way a bare `Once` is used), in the same run.
//!   Ids: `{implementation}`.
//! - group `counter`: increments per second. `scenario/{backend}` runs the notes as it is (3
//!   threads, one increment each: thread spawn and join cost). `scaled/{backend}` is the notes'
//!   `RunNumbers::print_nums` (lock, read the counter, record the line with the thread's name,
//!   increment) called [`INCREMENTS_PER_THREAD`] times by each of 3 threads on one shared
//!   counter, so that the per-increment cost under contention is what is measured.
//!
//! `cargo bench --bench executors` runs it all in about a minute and a half; measurement times
//! are short on purpose (10 flat samples, 3 s each group member).

use std::cell::UnsafeCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use threadproof::process::World;
use threadproof::scenarios::counter::{Counter, CounterVariant, RunNumbers};
use threadproof::scenarios::Scenario;
use threadproof::sync::{spawn, LazyLock, OnceLock, ParkingLot, Primitives, Std};
use threadproof::thread_pool::{as_completed, ThreadPool};

/// Tasks per `pool` iteration.
const POOL_TASKS: usize = 100_000;
/// Workers of the `pool` benchmark: the notes'.
const POOL_WORKERS: usize = 3;
/// Threads of the scaled `counter` benchmark: the notes'.
const COUNTER_THREADS: usize = 3;
/// `print_nums` calls per thread in the scaled `counter` benchmark.
const INCREMENTS_PER_THREAD: usize = 100_000;

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn bench_pool_on<P: Primitives>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let pool = ThreadPool::<P>::new(POOL_WORKERS).expect("3 workers");
    group.bench_function(format!("submit+as_completed/{}", P::NAME), |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..POOL_TASKS)
                .map(|i| pool.submit(move || black_box(i)).expect("open pool"))
                .collect();
            let sum: usize = as_completed(futures)
                .map(|future| future.result().expect("no panic"))
                .sum();
            assert_eq!(sum, POOL_TASKS * (POOL_TASKS - 1) / 2);
            sum
        })
    });
}

fn pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    short(&mut group);
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(POOL_TASKS as u64));
    bench_pool_on::<Std>(&mut group);
    bench_pool_on::<ParkingLot>(&mut group);
    group.finish();
}

fn connection() -> String {
    "SOME CONNECTION - 4".to_string()
}

/// `parking_lot::Once` guarding a cell: what a bare `Once` takes to hold a value.
struct ParkingLotOnceCell {
    once: parking_lot::Once,
    value: UnsafeCell<Option<String>>,
}

// SAFETY: `value` is written only inside `call_once`, which parking_lot runs at most once and
// completes (with release ordering) before any `call_once` returns; reads happen after.
unsafe impl Sync for ParkingLotOnceCell {}

impl ParkingLotOnceCell {
    fn get(&self) -> &String {
        // SAFETY: see the `Sync` impl: the write is ordered before every return of `call_once`.
        self.once
            .call_once(|| unsafe { *self.value.get() = Some(connection()) });
        unsafe { (*self.value.get()).as_ref().expect("initialised") }
    }
}

fn bench_once_value_on<P: Primitives>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let once = OnceLock::<P, String>::new();
    once.get_or_init(connection);
    group.bench_function(format!("threadproof OnceLock/{}", P::NAME), |b| {
        b.iter(|| black_box(&once).get_or_init(connection).len())
    });
    let lazy = LazyLock::<P, String>::new(connection);
    lazy.get();
    group.bench_function(format!("threadproof LazyLock/{}", P::NAME), |b| {
        b.iter(|| black_box(&lazy).get().len())
    });
}

fn singleton(c: &mut Criterion) {
    let mut group = c.benchmark_group("singleton");
    short(&mut group);
    bench_once_value_on::<Std>(&mut group);
    bench_once_value_on::<ParkingLot>(&mut group);
    let once_lock = std::sync::OnceLock::new();
    once_lock.get_or_init(connection);
    group.bench_function("std OnceLock", |b| {
        b.iter(|| black_box(&once_lock).get_or_init(connection).len())
    });
    let parking_lot_once = ParkingLotOnceCell {
        once: parking_lot::Once::new(),
        value: UnsafeCell::new(None),
    };
    parking_lot_once.get();
    group.bench_function("parking_lot Once", |b| {
        b.iter(|| black_box(&parking_lot_once).get().len())
    });
    group.finish();
}

/// `threads` threads each call the notes' `print_nums` `per_thread` times on one counter.
/// Returns how many lines were printed.
fn scaled_counter<P: Primitives>(threads: usize, per_thread: usize) -> usize {
    let numbers = Arc::new(RunNumbers::<P>::new(CounterVariant::Locked));
    let handles: Vec<_> = (1..=threads)
        .rev()
        .map(|i| {
            let numbers = Arc::clone(&numbers);
            spawn::<P, _, _>(format!("THREAD {i}"), move || {
                for _ in 0..per_thread {
                    numbers.print_nums();
                }
            })
            .expect("spawn")
        })
        .collect();
    for handle in handles {
        handle.join().expect("no panic");
    }
    numbers.printed().len()
}

fn counter(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter");
    short(&mut group);
    let config = Counter::notes_config();
    group.throughput(Throughput::Elements(COUNTER_THREADS as u64));
    group.bench_function(format!("scenario/{}", Std::NAME), |b| {
        b.iter(|| {
            Counter::run::<Std>(black_box(&config), CounterVariant::Locked, World::Os)
                .expect("runs")
        })
    });
    group.bench_function(format!("scenario/{}", ParkingLot::NAME), |b| {
        b.iter(|| {
            Counter::run::<ParkingLot>(black_box(&config), CounterVariant::Locked, World::Os)
                .expect("runs")
        })
    });
    // Settings apply to the benchmarks defined after them: the scaled runs take long enough
    // per iteration for flat sampling.
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(
            (COUNTER_THREADS * INCREMENTS_PER_THREAD) as u64,
        ));
    bench_scaled_counter_on::<Std>(&mut group);
    bench_scaled_counter_on::<ParkingLot>(&mut group);
    group.finish();
}

fn bench_scaled_counter_on<P: Primitives>(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.bench_function(format!("scaled/{}", P::NAME), |b| {
        b.iter(|| {
            let printed = scaled_counter::<P>(COUNTER_THREADS, INCREMENTS_PER_THREAD);
            assert_eq!(printed, COUNTER_THREADS * INCREMENTS_PER_THREAD);
            printed
        })
    });
}

criterion_group!(benches, pool, singleton, counter);
criterion_main!(benches);
