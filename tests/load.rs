//! Load tests of the process side (issue 11), bounded in count and time, over Unix sockets:
//!
//! - 30,000 tasks on 4 workers, and 10,000 on 3, while a ready worker is killed at random
//!   every 1–3 ms (every 1 ms): only the killed workers' tasks fail, every other task returns
//!   its own value, none runs twice, none fails for want of workers (`just load-kills` runs
//!   the first 20 times beside 4 busy loops);
//! - 10,000 appends from 8 processes while 200 idle connections are held open and the server
//!   may open only 64 descriptors: every append lands exactly once;
//! - 200 managers created, used and shut down: this process's descriptors and children are
//!   back where they started;
//! - memory stays flat over many tasks: results are released with their futures
//!   ([`TASKS_ENV`] sets how many; `just load` runs a million).
//!
//! Every test takes one lock: they count this process's children and descriptors.

mod common;

use common::{children, ready_workers};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use threadproof::process::manager::Manager;
use threadproof::process::OsTransport;
use threadproof::process::{ExitDesc, PoolOptions, ProcessPool, TaskError};

const BIN: &str = env!("CARGO_BIN_EXE_threadproof");
/// How many tasks the memory test runs (default 200,000).
const TASKS_ENV: &str = "THREADPROOF_LOAD_TASKS";

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// This process's open descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// A small deterministic generator: the kills' randomness need not be cryptographic.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn load_30000_tasks_with_random_worker_kills() {
    tasks_under_random_kills(4, 30_000, 1..=3);
}

#[test]
fn load_10000_tasks_on_3_workers_with_a_kill_every_millisecond() {
    tasks_under_random_kills(3, 10_000, 1..=1);
}

/// `tasks` echo tasks on `workers` workers while a killer `SIGKILL`s a random ready worker
/// after a pause of `pause_ms` milliseconds (picked at random in the range): only the killed workers' tasks fail, every other task returns its own
/// value, none runs twice, no task fails for want of workers, every worker is reaped.
fn tasks_under_random_kills(workers: usize, tasks: u64, pause_ms: RangeInclusive<u64>) {
    let _serial = serial();
    let before = children();
    let transport = OsTransport::program(BIN).unwrap();
    let pool: ProcessPool =
        ProcessPool::with_options(workers, transport, PoolOptions { history: true }).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut random = XorShift(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id()));
            let mut kills = 0;
            while !done.load(Ordering::Relaxed) {
                let spread = pause_ms.end() - pause_ms.start() + 1;
                let pause = pause_ms.start() + random.next() % spread;
                std::thread::sleep(Duration::from_millis(pause));
                let ready = ready_workers();
                if ready.is_empty() {
                    continue;
                }
                let victim = ready[(random.next() % ready.len() as u64) as usize];
                // SAFETY: kill(2) on one of our own workers.
                if unsafe { libc::kill(victim as i32, libc::SIGKILL) } == 0 {
                    kills += 1;
                }
            }
            kills
        })
    };
    let started = Instant::now();
    let futures: Vec<_> = (0..tasks)
        .map(|i| pool.submit("echo", i).unwrap())
        .collect();
    let mut failed = 0;
    for (i, future) in futures.iter().enumerate() {
        match future.result() {
            Ok(value) => assert_eq!(value, json!(i), "task {i} got another task's value"),
            Err(TaskError::WorkerDied { status, .. }) => {
                assert_eq!(status, ExitDesc::Signaled(libc::SIGKILL));
                failed += 1;
            }
            Err(other) => panic!("task {i}: {other}"),
        }
    }
    done.store(true, Ordering::Relaxed);
    let kills = killer.join().unwrap();
    let stats = pool.shutdown().unwrap();
    println!(
        "{tasks} tasks on {workers} workers, {kills} SIGKILLs, {failed} failed, {} workers \
         started, {:?}",
        stats.workers_started,
        started.elapsed()
    );
    assert!(kills > 0, "no worker was killed");
    assert!(failed <= kills, "{failed} tasks failed for {kills} kills");
    assert_eq!(stats.tasks_completed, tasks);
    assert!(
        stats.dispatched.values().all(|&n| n == 1),
        "a task ran twice"
    );
    assert_eq!(stats.dispatched.len() as u64, tasks);
    let completions: BTreeSet<u64> = stats.completions.iter().copied().collect();
    assert_eq!(completions.len() as u64, tasks, "a task completed twice");
    assert_eq!(children(), before, "every worker was reaped");
}

#[test]
fn load_10000_appends_from_8_processes_past_200_idle_connections() {
    let _serial = serial();
    let manager = Manager::with_program(BIN).unwrap();
    let server = manager.pid().unwrap() as i32;
    let limit = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: prlimit(2) on our own child, lowering its descriptor limit.
    let lowered =
        unsafe { libc::prlimit(server, libc::RLIMIT_NOFILE, &limit, std::ptr::null_mut()) };
    assert_eq!(lowered, 0, "prlimit: {}", std::io::Error::last_os_error());
    let list = manager.list();
    let idle: Vec<_> = (0..200).map(|_| list.connect().unwrap()).collect();
    let pool = ProcessPool::with_program(8, BIN).unwrap();
    let futures: Vec<_> = (0..8)
        .map(|w| {
            pool.submit("append_tagged", (&list, format!("w{w}"), 1250))
                .unwrap()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !futures.iter().all(|f| f.done()) {
        assert!(Instant::now() < deadline, "the appends are starved");
        std::thread::sleep(Duration::from_millis(10));
    }
    for future in &futures {
        assert_eq!(future.result(), Ok(json!(1250)));
    }
    let items = list.snapshot().unwrap();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        *counts.entry(item.as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(items.len(), 10_000);
    assert_eq!(counts.len(), 10_000, "an append landed twice");
    drop(idle);
    pool.shutdown().unwrap();
    assert_eq!(manager.shutdown().unwrap(), ExitDesc::Exited(0));
}

#[test]
fn load_200_managers_leave_no_descriptor_and_no_child() {
    let _serial = serial();
    let fds = open_fds();
    let before = children();
    for i in 0..200 {
        let manager = Manager::with_program(BIN).unwrap();
        let list = manager.list();
        list.append(json!(i)).unwrap();
        assert_eq!(list.snapshot().unwrap(), vec![json!(i)]);
        assert_eq!(manager.shutdown().unwrap(), ExitDesc::Exited(0));
    }
    assert_eq!(open_fds(), fds, "descriptors left open");
    assert_eq!(children(), before, "children left behind");
}

/// Runs tasks in rounds of 10,000 (submitted, awaited, dropped) and checks that resident
/// memory after the warm-up rounds stays within a generous bound: results are released with
/// their futures and nothing else grows per task.
#[test]
fn memory_stays_flat_over_many_tasks() {
    let _serial = serial();
    let tasks: u64 = std::env::var(TASKS_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    const ROUND: u64 = 10_000;
    const WARM_UP: u64 = 5 * ROUND;
    assert!(tasks > WARM_UP, "{TASKS_ENV} must exceed {WARM_UP}");
    let pool = ProcessPool::with_program(2, BIN).unwrap();
    let payload = "x".repeat(100);
    let mut warm = 0;
    let mut peak = 0;
    let mut run = 0;
    while run < tasks {
        let futures: Vec<_> = (0..ROUND)
            .map(|i| pool.submit("echo", (i, &payload)).unwrap())
            .collect();
        for future in &futures {
            future.result().unwrap();
        }
        drop(futures);
        run += ROUND;
        let rss = rss_kib();
        if run == WARM_UP {
            warm = rss;
        }
        peak = peak.max(rss);
    }
    let stats = pool.shutdown().unwrap();
    assert_eq!(stats.tasks_completed, run);
    println!(
        "{run} tasks: RSS {warm} KiB after {WARM_UP}, peak {peak} KiB, growth {} KiB",
        peak.saturating_sub(warm)
    );
    // About 100 bytes kept per task would be 15 MiB over 150,000 tasks.
    assert!(
        peak.saturating_sub(warm) < 8 * 1024,
        "RSS grew from {warm} KiB to {peak} KiB over {run} tasks"
    );
}
