//! Physical-limit references: what the machine itself charges for the operations the scenarios
//! are built from, measured in the same run as the scenarios so that each scenario's figure can
//! be reported as a multiple of its limit (`just bench-vs-python` does that).
//!
//! - group `limits-handoff`: one thread wakes a blocked thread and blocks until woken back,
//!   between a persistent pair of threads (no spawn in the loop). `park-unpark` uses
//!   `std::thread::{park, Thread::unpark}`; `futex` uses the raw Linux futex syscall on one
//!   word. Each iteration is one round trip, i.e. two handoffs (`Throughput::Elements(2)`), so
//!   the figure per element is the cost of one handoff: the floor under a turn of `turns`.
//! - group `limits-lock`: one uncontended lock + increment + unlock on one thread, for
//!   `std::sync::Mutex` and `parking_lot::Mutex`: the floor under one lock-protected append.
//! - group `limits-once`: `std::sync::OnceLock::get` on an initialised cell: the reference for
//!   the singleton's fast path.
//! - group `limits-process`: one byte written to a child `cat` over a pipe and read back: the
//!   floor under one task of a process pool or one request to a manager process.
//!
//! Handoff figures on a small machine depend on whether another core is idle: run this both
//! unpinned and under `taskset -c 0` (`benches/python/vs_rust.py` does).

use std::hint::black_box;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
}

/// A partner thread that answers every `ping` with a handoff back, until dropped.
struct ParkPartner {
    /// Whose turn it is: `false` the main thread's, `true` the partner's.
    partner_turn: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl ParkPartner {
    fn start() -> Self {
        let partner_turn = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let main = thread::current();
        let handle = {
            let partner_turn = Arc::clone(&partner_turn);
            let stop = Arc::clone(&stop);
            thread::spawn(move || loop {
                while !partner_turn.load(Ordering::Acquire) {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    thread::park();
                }
                partner_turn.store(false, Ordering::Release);
                main.unpark();
            })
        };
        ParkPartner {
            partner_turn,
            stop,
            handle: Some(handle),
        }
    }

    /// Hand the turn to the partner and park until it hands it back: two handoffs.
    fn round_trip(&self) {
        self.partner_turn.store(true, Ordering::Release);
        let partner = self.handle.as_ref().expect("running").thread();
        partner.unpark();
        while self.partner_turn.load(Ordering::Acquire) {
            thread::park();
        }
    }
}

impl Drop for ParkPartner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            handle.join().expect("partner exits");
        }
    }
}

/// `futex(2)` on one 32-bit word, private to this process.
fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; FUTEX_WAIT only
    // reads it, and a null timeout means "no timeout".
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

fn futex_wake(word: &AtomicU32) {
    // SAFETY: `word` is a valid, aligned u32; FUTEX_WAKE does not dereference it beyond
    // hashing its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

const MAIN_TURN: u32 = 0;
const PARTNER_TURN: u32 = 1;
const STOP: u32 = 2;

/// The same ping-pong as [`ParkPartner`], straight on the futex word.
struct FutexPartner {
    word: Arc<AtomicU32>,
    handle: Option<thread::JoinHandle<()>>,
}

impl FutexPartner {
    fn start() -> Self {
        let word = Arc::new(AtomicU32::new(MAIN_TURN));
        let handle = {
            let word = Arc::clone(&word);
            thread::spawn(move || loop {
                let mut seen = word.load(Ordering::Acquire);
                while seen == MAIN_TURN {
                    futex_wait(&word, MAIN_TURN);
                    seen = word.load(Ordering::Acquire);
                }
                if seen == STOP {
                    return;
                }
                word.store(MAIN_TURN, Ordering::Release);
                futex_wake(&word);
            })
        };
        FutexPartner {
            word,
            handle: Some(handle),
        }
    }

    fn round_trip(&self) {
        self.word.store(PARTNER_TURN, Ordering::Release);
        futex_wake(&self.word);
        while self.word.load(Ordering::Acquire) == PARTNER_TURN {
            futex_wait(&self.word, PARTNER_TURN);
        }
    }
}

impl Drop for FutexPartner {
    fn drop(&mut self) {
        self.word.store(STOP, Ordering::Release);
        futex_wake(&self.word);
        if let Some(handle) = self.handle.take() {
            handle.join().expect("partner exits");
        }
    }
}

fn handoff(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits-handoff");
    short(&mut group);
    group.throughput(Throughput::Elements(2));
    {
        let partner = ParkPartner::start();
        group.bench_function("park-unpark", |b| b.iter(|| partner.round_trip()));
    }
    {
        let partner = FutexPartner::start();
        group.bench_function("futex", |b| b.iter(|| partner.round_trip()));
    }
    group.finish();
}

fn lock(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits-lock");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    let std_mutex = std::sync::Mutex::new(0u64);
    group.bench_function("std-mutex", |b| {
        b.iter(|| *black_box(&std_mutex).lock().expect("not poisoned") += 1)
    });
    let parking_lot_mutex = parking_lot::Mutex::new(0u64);
    group.bench_function("parking-lot-mutex", |b| {
        b.iter(|| *black_box(&parking_lot_mutex).lock() += 1)
    });
    group.finish();
}

fn once(c: &mut Criterion) {
    static CONNECTION: OnceLock<String> = OnceLock::new();
    CONNECTION.get_or_init(|| "SOME CONNECTION - 4".to_string());
    let mut group = c.benchmark_group("limits-once");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    group.bench_function("std-once-lock-get", |b| {
        b.iter(|| black_box(&CONNECTION).get().expect("initialised").len())
    });
    group.finish();
}

/// A child `cat` that echoes every byte written to its stdin.
struct Echo {
    child: Child,
}

impl Echo {
    fn start() -> Self {
        let child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("`cat` runs");
        Echo { child }
    }

    fn round_trip(&mut self) -> u8 {
        let stdin = self.child.stdin.as_mut().expect("piped");
        stdin.write_all(b"x").expect("cat reads");
        let mut byte = [0u8; 1];
        let stdout = self.child.stdout.as_mut().expect("piped");
        stdout.read_exact(&mut byte).expect("cat echoes");
        byte[0]
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn process(c: &mut Criterion) {
    let mut group = c.benchmark_group("limits-process");
    short(&mut group);
    group.throughput(Throughput::Elements(1));
    let mut echo = Echo::start();
    group.bench_function("pipe-round-trip", |b| b.iter(|| echo.round_trip()));
    group.finish();
}

criterion_group!(benches, handoff, lock, once, process);
criterion_main!(benches);
