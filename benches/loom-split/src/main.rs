//! Can loom's one depth-first walk run on several cores without forking loom? Three
//! measurements on raw loom, with its `checkpoint` feature (a walk starts from a path read
//! from a file, and never backtracks into a branch of that path marked `exploring: false`):
//!
//! - the split at the first choice: the path after one execution, cut after its first
//!   scheduling choice, each enabled thread there forced in a sub-walk of its own, every
//!   branch up to it closed;
//! - chunked walks ([`chunked`]): walks that stop every few executions and give the
//!   alternatives loom's reduction marks `Pending` to idle workers, nothing closed;
//! - `contention`: one walk alone, beside a spinning thread, and two walks at once.
//!
//! Invariant: the sub-walks of either split together explore every alternative the whole walk
//! does (the failing executions of the one program that has any are counted on both sides to
//! show it). Loom's `LOOM_*` variables would change every walk, so the program
//! refuses to run with any of them set.

mod chunked;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use loom::sync::atomic::AtomicUsize;
use loom::sync::{mpsc, RwLock};
use loom::thread;
use serde_json::Value;

std::thread_local! {
    /// Executions whose outcome was a failure (a lost update), in the walk this OS thread is
    /// running (loom runs a walk's executions on the thread that called `check`).
    static FAILED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

fn two_senders() {
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    let a = thread::spawn(move || tx.send(1u32).unwrap());
    let b = thread::spawn(move || tx2.send(2u32).unwrap());
    let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
    got.sort();
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(got, [1, 2]);
}

fn three_writers() {
    writers(3)
}

fn four_writers() {
    writers(4)
}

fn writers(n: usize) {
    let lock = Arc::new(RwLock::new(0));
    let writers: Vec<_> = (0..n)
        .map(|_| {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.write().unwrap() += 1)
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(*lock.read().unwrap(), n);
}

/// An increment split into a load and a store: some executions lose an update.
fn lost_update() {
    let count = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                let seen = count.load(Relaxed);
                count.store(seen + 1, Relaxed);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    if count.load(Relaxed) != 2 {
        FAILED.with(|f| f.set(f.get() + 1));
    }
}

/// A walk of `program`, from the path in `start` if given, writing the path to `save` after
/// its first execution if given: (executions, failing executions).
fn walk(program: fn(), start: Option<&str>, save: Option<&str>) -> (u64, u64) {
    FAILED.with(|f| f.set(0));
    let runs = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.checkpoint_interval = usize::MAX;
    if let Some(file) = start.or(save) {
        builder.checkpoint_file(file);
    }
    if save.is_some() {
        // Loom writes the path at the top of every `interval`-th iteration and stops at the
        // top of the `max_permutations`-th: so it runs one execution and saves the path at the
        // top of the second, after loom's step to the next one.
        builder.checkpoint_interval = 1;
        builder.max_permutations = Some(2);
    }
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        program()
    });
    (runs.load(Relaxed), FAILED.with(|f| f.get()))
}

/// The threads enabled at a schedule branch: every state but `Disabled` (`Skip` is enabled but
/// left out by loom's reduction; `Pending` is enabled and still to be explored).
fn enabled(entry: &Value) -> Vec<usize> {
    let threads = entry["Schedule"]["threads"]
        .as_array()
        .expect("a schedule branch");
    (0..threads.len())
        .filter(|&i| threads[i] != "Disabled")
        .collect()
}

fn main() {
    if let Some((name, _)) = std::env::vars().find(|(name, _)| name.starts_with("LOOM_")) {
        eprintln!("loom-split: unset {name}: loom reads it, and the walks would not compare");
        std::process::exit(2);
    }
    match std::env::args().nth(1).as_deref() {
        None => split_tables(),
        Some("contention") => contention(),
        Some(other) => {
            eprintln!("loom-split: unknown argument `{other}`: none, or `contention`");
            std::process::exit(2);
        }
    }
}

/// One walk of four `RwLock` writers alone, then beside a thread spinning (no system calls),
/// then two such walks at once on two threads: wall times.
fn contention() {
    use std::sync::atomic::AtomicBool;
    use std::time::Instant;
    let started = Instant::now();
    walk(four_writers, None, None);
    let alone = started.elapsed();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let beside_a_spinning_thread = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Relaxed) {
                std::hint::spin_loop();
            }
        });
        walk(four_writers, None, None);
        let time = started.elapsed();
        stop.store(true, Relaxed);
        time
    });
    let started = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| walk(four_writers, None, None));
        s.spawn(|| walk(four_writers, None, None));
    });
    let two_at_once = started.elapsed();
    println!("four-writers, one walk: alone {alone:.2?}, beside a spinning thread {beside_a_spinning_thread:.2?}; two walks at once {two_at_once:.2?}");
}

/// The split at the first choice, then the chunked walks ([`chunked`]).
fn split_tables() {
    let programs: [(&str, fn()); 3] = [
        ("two-senders", two_senders),
        ("three-writers", three_writers),
        ("lost-update", lost_update),
    ];
    let dir = std::env::temp_dir().join(format!("loom-split-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    println!("| program | whole walk | split at | sub-walks | sum | sum / whole | failing, whole / split |");
    println!("|---|---:|---|---|---:|---:|---|");
    for (name, program) in programs {
        let (whole, whole_failed) = walk(program, None, None);
        let saved = dir.join(format!("{name}.json"));
        walk(program, None, Some(saved.to_str().unwrap()));
        let path: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
        let entries = path["branches"]["entries"].as_array().unwrap();
        let split = entries
            .iter()
            .position(|e| e.get("Schedule").is_some() && enabled(e).len() > 1)
            .expect("a scheduling choice");
        // A branch before the split with choices of its own would need splitting too.
        assert!(entries[..split].iter().all(|e| e.get("Schedule").is_some()));
        let choices = enabled(&entries[split]);
        let (mut parts, mut failed) = (Vec::new(), 0);
        for &chosen in &choices {
            let mut prefix = entries[..=split].to_vec();
            for entry in &mut prefix {
                entry["Schedule"]["exploring"] = Value::Bool(false);
            }
            let threads = prefix[split]["Schedule"]["threads"].as_array_mut().unwrap();
            for &i in &choices {
                threads[i] = if i == chosen { "Active" } else { "Visited" }.into();
            }
            let mut sub = path.clone();
            sub["branches"]["entries"] = Value::Array(prefix);
            let file = dir.join(format!("{name}-{chosen}.json"));
            std::fs::write(&file, sub.to_string()).unwrap();
            let (runs, fails) = walk(program, Some(file.to_str().unwrap()), None);
            parts.push(runs);
            failed += fails;
        }
        let sum: u64 = parts.iter().sum();
        let states: Vec<&str> = choices
            .iter()
            .map(|&i| entries[split]["Schedule"]["threads"][i].as_str().unwrap())
            .collect();
        let at = format!(
            "branch {split}, threads {choices:?} ({})",
            states.join(", ")
        );
        let ratio = sum as f64 / whole as f64;
        println!(
            "| {name} | {whole} | {at} | {parts:?} | {sum} | {ratio:.2}x | {whole_failed} / {failed} |"
        );
    }
    chunked_table(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole walk against chunked walks on 1 and 2 workers ([`chunked`]).
fn chunked_table(dir: &std::path::Path) {
    let programs: [(&str, fn()); 4] = [
        ("two-senders", two_senders),
        ("three-writers", three_writers),
        ("lost-update", lost_update),
        ("four-writers", four_writers),
    ];
    println!();
    println!("| program | whole walk | chunked, 1 worker | chunked, 2 workers | given away |");
    println!("|---|---:|---:|---:|---:|");
    for (name, program) in programs {
        let started = std::time::Instant::now();
        let (whole, whole_failed) = walk(program, None, None);
        let time = started.elapsed();
        let one = chunked::run(program, 1, dir);
        let two = chunked::run(program, 2, dir);
        let cell = |r: &chunked::Run| {
            let ms = r.time.as_secs_f64() * 1e3;
            format!("{} ({} failing), {ms:.0} ms", r.executions, r.failed)
        };
        let whole_ms = time.as_secs_f64() * 1e3;
        println!(
            "| {name} | {whole} ({whole_failed} failing), {whole_ms:.0} ms | {} | {} | {} |",
            cell(&one),
            cell(&two),
            two.given
        );
    }
}
