//! Loom's walk on several workers without closing any branch: each worker runs its walk in
//! chunks of a few executions, each chunk a `check` that starts from the path the last one
//! saved. Between chunks, while another worker is idle, the walk gives away one alternative
//! that loom's reduction (DPOR) has marked `Pending` at its shallowest branch: the other
//! worker gets a walk of that alternative, and the giving walk marks it `Visited`.
//!
//! Invariant: every alternative DPOR asks for is explored by some worker. A given-away
//! alternative is `Visited` in the giver, so loom's backtracking (which only turns `Skip`
//! into `Pending`) leaves it to the receiver. The receiver's walk keeps every schedule branch
//! of its prefix open: what DPOR asks for there that nobody owns yet (`Skip`), it explores
//! itself, though the giver may too. Its prefix's `Pending` alternatives and atomic loads
//! stay the giver's (`Visited`, and loads closed). So the workers may repeat executions,
//! never skip one.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::FAILED;

/// Executions per chunk.
const CHUNK: usize = 512;

/// What the workers ran: executions, failing executions, walks given away, wall time.
pub struct Run {
    pub executions: u64,
    pub failed: u64,
    pub given: u64,
    pub time: Duration,
}

/// Up to `CHUNK` executions of the walk at `start` (`None`: a fresh walk), in `file`: the
/// executions, the failing ones, and the path to go on from (`None`: the walk is done).
fn chunk(program: fn(), start: Option<&Value>, file: &Path) -> (u64, u64, Option<Value>) {
    let before = start.map(Value::to_string);
    match &before {
        Some(text) => std::fs::write(file, text).expect("a writable temporary file"),
        None => {
            let _ = std::fs::remove_file(file);
        }
    }
    FAILED.with(|f| f.set(0));
    let runs = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.checkpoint_file(file.to_str().expect("a UTF-8 path"));
    // Loom saves the path at the top of iteration CHUNK + 1 and stops there; a walk that ends
    // sooner saves nothing, so the file still holds what it started from, or nothing.
    builder.checkpoint_interval = CHUNK + 1;
    builder.max_permutations = Some(CHUNK + 1);
    builder.check(move || {
        counted.fetch_add(1, Relaxed);
        program()
    });
    let after = std::fs::read_to_string(file).ok();
    let next = (after != before).then(|| serde_json::from_str(&after.unwrap()).unwrap());
    (runs.load(Relaxed), FAILED.with(|f| f.get()), next)
}

/// Splits `path` at its shallowest schedule branch with a `Pending` thread: the path to go on
/// with (that thread `Visited`) and the path of a walk of that thread alone there.
fn give_away(path: &Value) -> Option<(Value, Value)> {
    let entries = path["branches"]["entries"].as_array()?;
    let (at, thread) = entries.iter().enumerate().find_map(|(i, entry)| {
        let schedule = entry.get("Schedule")?;
        if schedule["exploring"] != true {
            return None;
        }
        let threads = schedule["threads"].as_array()?;
        Some((i, threads.iter().position(|t| t == "Pending")?))
    })?;
    let mut kept = path.clone();
    kept["branches"]["entries"][at]["Schedule"]["threads"][thread] = "Visited".into();
    let mut prefix = entries[..=at].to_vec();
    for entry in &mut prefix[..at] {
        if let Some(schedule) = entry.get_mut("Schedule") {
            for state in schedule["threads"].as_array_mut().unwrap() {
                if state == "Pending" {
                    *state = "Visited".into();
                }
            }
        } else {
            // An atomic load's other values, or a spurious wakeup, stay the giver's.
            let (_, body) = entry.as_object_mut().unwrap().iter_mut().next().unwrap();
            body["exploring"] = false.into();
        }
    }
    for state in prefix[at]["Schedule"]["threads"].as_array_mut().unwrap() {
        if state == "Active" || state == "Pending" {
            *state = "Visited".into();
        }
    }
    prefix[at]["Schedule"]["threads"][thread] = "Active".into();
    let mut given = path.clone();
    given["branches"]["entries"] = Value::Array(prefix);
    given["pos"] = 0.into();
    Some((kept, given))
}

/// The walks not yet taken, and how many workers are running one.
struct Queue {
    walks: VecDeque<Option<Value>>,
    busy: usize,
}

/// The whole walk of `program` on `workers` workers.
pub fn run(program: fn(), workers: usize, dir: &Path) -> Run {
    let queue = Arc::new((
        Mutex::new(Queue {
            walks: VecDeque::from([None]),
            busy: 0,
        }),
        Condvar::new(),
    ));
    let (executions, failed, given) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..workers {
            let (queue, executions, failed, given) = (&queue, &executions, &failed, &given);
            let file = dir.join(format!("worker-{worker}.json"));
            scope.spawn(move || loop {
                let (lock, wake) = &**queue;
                let mut walk = {
                    let mut q = lock.lock().unwrap();
                    loop {
                        if let Some(walk) = q.walks.pop_front() {
                            q.busy += 1;
                            break walk;
                        }
                        if q.busy == 0 {
                            return;
                        }
                        q = wake.wait(q).unwrap();
                    }
                };
                loop {
                    let (runs, fails, next) = chunk(program, walk.as_ref(), &file);
                    executions.fetch_add(runs, Relaxed);
                    failed.fetch_add(fails, Relaxed);
                    let Some(mut path) = next else { break };
                    let mut q = lock.lock().unwrap();
                    let idle = workers - q.busy;
                    if idle > q.walks.len() {
                        if let Some((kept, away)) = give_away(&path) {
                            q.walks.push_back(Some(away));
                            given.fetch_add(1, Relaxed);
                            wake.notify_one();
                            path = kept;
                        }
                    }
                    drop(q);
                    walk = Some(path);
                }
                let mut q = lock.lock().unwrap();
                q.busy -= 1;
                wake.notify_all();
            });
        }
    });
    Run {
        executions: executions.into_inner(),
        failed: failed.into_inner(),
        given: given.into_inner(),
        time: start.elapsed(),
    }
}
