//! # straggler: one late thread out of many overflows a table sized for the others
//!
//! A server admits at most N concurrent sessions into a slot table of N entries. Every
//! session registers (stage 1), serves for a while, and deregisters (stage 2). A monitor
//! thread, started first, also borrows a slot, but bypasses admission on the assumption that
//! "N sessions are never all open at once". The table overflows only if the monitor
//! registers after every session has registered and before any has left. A random walk
//! almost never lets the monitor, spawned first and taking one step, wait that long; PCT at
//! a small depth never makes every session overlap. A uniform random walk over interleavings
//! (URW) puts the monitor's one step anywhere in the run, so it lands in the "all open"
//! window in a fair share of runs. The fix routes the monitor through the same admission
//! admission (a counting semaphore on a mutex and a condvar).
//!
//! Source: our own program in the style of shuttle's `tests/demo/surw.rs`
//! (`uneven_task_creation_workload`) and Zhao, Wolff, Mathur, Roychoudhury, "Selectively
//! Uniform Concurrency Testing", ASPLOS 2025, §2.1; not a ported bug.
//! Class: a many-thread bug (N + 1 threads besides main): more than loom allows, so shuttle
//! only; fails its invariant. Raw shuttle runs the same program.

use super::rt::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use super::rt::sync::{Arc, Condvar, Mutex};
use super::rt::thread;

/// The most slots taken at once.
pub type Outcome = usize;

/// Sessions, and slots in the table.
pub const SESSIONS: usize = 20;
/// Steps each session serves between registering and leaving (atomics, not yields: PCT
/// deprioritises a thread that yields).
const SERVE: usize = 10;

/// Admission: a counting semaphore of free slots, on a mutex and a condvar.
struct Admission {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Admission {
    fn enter(&self) {
        let mut free = self.free.lock().unwrap();
        while *free == 0 {
            free = self.freed.wait(free).unwrap();
        }
        *free -= 1;
    }

    fn exit(&self) {
        *self.free.lock().unwrap() += 1;
        self.freed.notify_one();
    }
}

struct Server {
    admission: Admission,
    open: AtomicUsize,
    most: AtomicUsize,
    served: AtomicUsize,
}

impl Server {
    fn register(&self) {
        let now = self.open.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(now, SeqCst);
    }

    fn leave(&self) {
        self.open.fetch_sub(1, SeqCst);
    }
}

fn model(monitor_admitted: bool) -> Outcome {
    let server = Arc::new(Server {
        admission: Admission {
            free: Mutex::new(SESSIONS),
            freed: Condvar::new(),
        },
        open: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        served: AtomicUsize::new(0),
    });
    let monitor = {
        let server = Arc::clone(&server);
        thread::spawn(move || {
            if monitor_admitted {
                server.admission.enter();
            }
            server.register(); // BUGGY: a slot taken without admission
            server.leave();
            if monitor_admitted {
                server.admission.exit();
            }
        })
    };
    let sessions: Vec<_> = (0..SESSIONS)
        .map(|_| {
            let server = Arc::clone(&server);
            thread::spawn(move || {
                server.admission.enter();
                server.register();
                for _ in 0..SERVE {
                    server.served.fetch_add(1, SeqCst);
                }
                server.leave();
                server.admission.exit();
            })
        })
        .collect();
    for session in sessions {
        session.join().unwrap();
    }
    monitor.join().unwrap();
    server.most.load(SeqCst)
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

pub fn invariant(most: &Outcome) -> Result<(), String> {
    if *most <= SESSIONS {
        Ok(())
    } else {
        Err(format!("slot table overflow: {most} > {SESSIONS}"))
    }
}
