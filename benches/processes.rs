//! Process pool and manager throughput over real worker processes of the built `threadproof`
//! binary.
//!
//! - `process_pool/trivial_tasks/w=3`: 10,000 `echo` tasks submitted to a pool of 3 workers and
//!   awaited (the pool is created once): tasks per second, i.e. the cost of one round trip of
//!   a request frame and a reply frame through the dispatcher.
//! - `process_pool/first_result/w=3`: from `ProcessPool::with_program(3)` to the first task's
//!   result (3 processes exec'd, one `api_call` answered); shutdown is outside the timing.
//! - `manager/appends/3_processes`: 3 worker processes each append 1,000 values through their
//!   proxy to one manager server, pipelined (`ListProxy::extend`: up to 64 requests in flight,
//!   answers read in batches): appends per second.
//! - `manager/appends_one_by_one/3_processes`: the same, one round trip per append
//!   (`ListProxy::append`): one request and one reply each.
//!
//! `cargo bench --bench processes` takes about half a minute: 10 samples, 3 s per benchmark.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use threadproof::process::manager::Manager;
use threadproof::process::ProcessPool;

const BIN: &str = env!("CARGO_BIN_EXE_threadproof");
const TASKS: usize = 10_000;
const APPENDS_PER_PROCESS: usize = 1_000;

fn process_pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("process_pool");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));

    let pool = ProcessPool::with_program(3, BIN).expect("a pool");
    group.throughput(Throughput::Elements(TASKS as u64));
    group.bench_function("trivial_tasks/w=3", |b| {
        b.iter(|| {
            let futures: Vec<_> = (0..TASKS)
                .map(|i| pool.submit("echo", i).expect("submits"))
                .collect();
            for future in &futures {
                black_box(future.result().expect("echo answers"));
            }
        })
    });
    pool.shutdown().expect("shuts down");

    group.throughput(Throughput::Elements(1));
    group.bench_function("first_result/w=3", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let started = Instant::now();
                let pool = ProcessPool::with_program(3, BIN).expect("a pool");
                let first = pool
                    .submit("api_call", ("https://google.com", 10))
                    .expect("submits");
                black_box(first.result().expect("answers"));
                total += started.elapsed();
                pool.shutdown().expect("shuts down");
            }
            total
        })
    });
    group.finish();
}

fn manager(c: &mut Criterion) {
    let mut group = c.benchmark_group("manager");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let manager = Manager::with_program(BIN).expect("a manager");
    let list = manager.list();
    let pool = ProcessPool::with_program(3, BIN).expect("a pool");
    group.throughput(Throughput::Elements(3 * APPENDS_PER_PROCESS as u64));
    for (name, task) in [
        ("appends/3_processes", "append_many"),
        ("appends_one_by_one/3_processes", "append_one_by_one"),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let futures: Vec<_> = (0..3)
                    .map(|_| {
                        pool.submit(task, (&list, APPENDS_PER_PROCESS))
                            .expect("submits")
                    })
                    .collect();
                for future in &futures {
                    black_box(future.result().expect("appends"));
                }
            })
        });
    }
    pool.shutdown().expect("shuts down");
    manager.shutdown().expect("shuts down");
    group.finish();
}

criterion_group!(benches, process_pool, manager);
criterion_main!(benches);
