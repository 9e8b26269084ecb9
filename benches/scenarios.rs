//! Throughput of the scenarios on the production backends, side by side in one run.
//!
//! - group `turns`: turn handoffs per second (one handoff = one printed line) for the notes'
//!   `notify-all` (one condvar, every thread woken every turn) against `targeted` (one condvar
//!   per thread, only the next thread woken, once per turn), at k = 2, 3 and 8 threads, on
//!   `std` and `parking-lot`; and `under-lock`, the targeted version as it was before one
//!   wakeup per turn (notified with the lock held, so the woken thread blocks on it until its
//!   waker sleeps: a second wakeup on std), to measure the change side by side. Each iteration
//!   hands the turn over [`HANDOFFS`] times, so the cost of spawning k threads is small
//!   against it. Ids: `{variant}/{backend}/k={k}`.
//! - group `appends`: appends per second with 4 threads. `scenario/{backend}` runs the scenario
//!   as it is (4 threads, one append each): that is thread spawn and join cost, not locking.
//!   `scaled/{backend}` is the same pattern scaled up (4 threads, [`APPENDS_PER_THREAD`]
//!   lock-protected appends each, on the facade's `Mutex` and `spawn`), so the per-append cost
//!   of taking the lock that 4 threads share is what is measured. Neither mutex is fair: a
//!   thread usually re-takes the lock it just released, so most appends find it free and the
//!   figure is close to the uncontended cost plus cache-line traffic, not one handoff per append.
//!
//! `cargo bench --bench scenarios` runs it all in about two and a half minutes; measurement times are kept
//! short on purpose (10 flat samples, 3 s each group member).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use threadproof::process::World;
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{Scenario, Variant};
use threadproof::sync::{spawn, Condvar, Mutex, ParkingLot, Primitives, Std};

/// Turn handoffs per `turns` iteration.
const HANDOFFS: usize = 20_000;
/// Threads of the `appends` benchmarks, as in the notes.
const APPEND_THREADS: usize = 4;
/// Appends each thread makes in the scaled-up `appends`.
const APPENDS_PER_THREAD: usize = 250_000;

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn bench_turns_on<P: Primitives>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    variant: TurnsVariant,
    k: usize,
) {
    let config = TurnsConfig::new(k, HANDOFFS).expect("k >= 1");
    group.bench_function(format!("{}/{}/k={k}", variant.name(), P::NAME), |b| {
        b.iter(|| {
            let lines =
                Turns::run::<P>(black_box(&config), variant, World::Os).expect("turns runs");
            assert_eq!(lines.len(), HANDOFFS);
            lines
        })
    });
}

/// The targeted handoff before one wakeup per turn: k spawned threads, one lock, one condvar
/// per thread, the next thread notified while the lock is held. Returns the lines printed.
fn turns_under_lock<P: Primitives>(k: usize, n: usize) -> usize {
    struct Board {
        current: usize,
        turn: usize,
        lines: Vec<(usize, usize)>,
    }
    let shared = Arc::new((
        Mutex::<P, Board>::new(Board {
            current: 1,
            turn: 0,
            lines: Vec::with_capacity(n),
        }),
        (0..k).map(|_| Condvar::<P>::new()).collect::<Vec<_>>(),
    ));
    let threads: Vec<_> = (0..k)
        .map(|id| {
            let shared = Arc::clone(&shared);
            spawn::<P, _, _>(format!("Thread-{id}"), move || {
                let (board, wakeups) = &*shared;
                let mut board = board.lock();
                loop {
                    while board.current <= n && board.turn != id {
                        board = wakeups[id].wait(board);
                    }
                    if board.current > n {
                        return;
                    }
                    let number = board.current;
                    board.lines.push((id, number));
                    board.current += 1;
                    board.turn = (board.turn + 1) % k;
                    if board.current > n {
                        wakeups.iter().for_each(Condvar::notify_all);
                    } else {
                        wakeups[board.turn].notify_one();
                    }
                }
            })
            .expect("spawn")
        })
        .collect();
    for thread in threads {
        thread.join().expect("no printer panics");
    }
    let printed = shared.0.lock().lines.len();
    printed
}

fn bench_under_lock_on<P: Primitives>(group: &mut BenchmarkGroup<'_, WallTime>, k: usize) {
    group.bench_function(format!("under-lock/{}/k={k}", P::NAME), |b| {
        b.iter(|| {
            let printed = turns_under_lock::<P>(k, black_box(HANDOFFS));
            assert_eq!(printed, HANDOFFS);
            printed
        })
    });
}

fn turns(c: &mut Criterion) {
    let mut group = c.benchmark_group("turns");
    short(&mut group);
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(HANDOFFS as u64));
    for k in [2, 3, 8] {
        for variant in [TurnsVariant::NotifyAll, TurnsVariant::Targeted] {
            bench_turns_on::<Std>(&mut group, variant, k);
            bench_turns_on::<ParkingLot>(&mut group, variant, k);
        }
        bench_under_lock_on::<Std>(&mut group, k);
        bench_under_lock_on::<ParkingLot>(&mut group, k);
    }
    group.finish();
}

/// The `appends` pattern scaled up: `threads` threads each append `per_thread` values to one
/// list, taking the lock once per append. Returns the list's length.
fn scaled_appends<P: Primitives>(threads: usize, per_thread: usize) -> usize {
    let list = Arc::new(Mutex::<P, Vec<usize>>::new(Vec::with_capacity(
        threads * per_thread,
    )));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let list = Arc::clone(&list);
            spawn::<P, _, _>(format!("Thread-{}", t + 1), move || {
                for i in 0..per_thread {
                    list.lock().push(black_box(t * per_thread + i));
                }
            })
            .expect("spawn")
        })
        .collect();
    for handle in handles {
        handle.join().expect("no appender panics");
    }
    let len = list.lock().len();
    len
}

fn bench_appends_on<P: Primitives>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let config = AppendsConfig::with_threads(APPEND_THREADS).expect("4 threads");
    group
        .sampling_mode(SamplingMode::Auto)
        .throughput(Throughput::Elements(APPEND_THREADS as u64));
    group.bench_function(format!("scenario/{}", P::NAME), |b| {
        b.iter(|| {
            let outcome = Appends::run::<P>(black_box(&config), AppendsVariant::Locked, World::Os)
                .expect("appends runs");
            assert_eq!(outcome.list.len(), APPEND_THREADS);
            outcome
        })
    });
    let total = APPEND_THREADS * APPENDS_PER_THREAD;
    group
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(total as u64));
    group.bench_function(format!("scaled/{}", P::NAME), |b| {
        b.iter(|| {
            let len = scaled_appends::<P>(APPEND_THREADS, black_box(APPENDS_PER_THREAD));
            assert_eq!(len, total);
            len
        })
    });
}

fn appends(c: &mut Criterion) {
    let mut group = c.benchmark_group("appends");
    short(&mut group);
    bench_appends_on::<Std>(&mut group);
    bench_appends_on::<ParkingLot>(&mut group);
    group.finish();
}

criterion_group!(benches, turns, appends);
criterion_main!(benches);
