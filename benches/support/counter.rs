//! The program of the overhead benches (`exploration.rs`'s `overhead` and `jobs`, and
//! `instructions.rs`): two workers and main each add to a counter under a mutex, the workers
//! twice, and count their passes on an atomic; main joins them and returns both.
//!
//! Invariant: every version does the same operations in the same order, and names its
//! workers alike: [`counter`] over threadproof's backend `P`, and [`counter_on!`] on any
//! crate with std's paths (raw loom, raw shuttle, the std mirror) with the `Arc` given (std's
//! on both sides of a comparison, so that reference counts are no scheduling point on
//! either, or the engine's own).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use threadproof::sync::{spawn, AtomicUsize, Mutex, Primitives};

/// The program over threadproof's backend `P`.
pub fn counter<P: Primitives>() -> (u32, usize) {
    let total = Arc::new(Mutex::<P, u32>::new(0));
    let passes = Arc::new(AtomicUsize::<P>::new(0));
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
            spawn::<P, _, _>(format!("worker-{i}"), move || {
                for _ in 0..2 {
                    *total.lock() += 1;
                }
                passes.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap()
        })
        .collect();
    *total.lock() += 1;
    for worker in workers {
        worker.join().unwrap();
    }
    let total = *total.lock();
    (total, passes.load(Ordering::SeqCst))
}

/// The program on the crate at `$($krate)::+` (its `sync` and `thread`), with `$arc` as `Arc`:
/// an expression giving `(total, passes)`.
macro_rules! counter_on {
    ($($krate:ident)::+; $arc:path) => {{
        use std::sync::atomic::Ordering;
        use $arc as Arc;
        use $($krate)::+::sync::atomic::AtomicUsize;
        use $($krate)::+::sync::Mutex;
        let total = Arc::new(Mutex::new(0u32));
        let passes = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
                $($krate)::+::thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || {
                        for _ in 0..2 {
                            *total.lock().unwrap() += 1;
                        }
                        passes.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap()
            })
            .collect();
        *total.lock().unwrap() += 1;
        for worker in workers {
            worker.join().unwrap();
        }
        let total = *total.lock().unwrap();
        (total, passes.load(Ordering::SeqCst))
    }};
}
pub(crate) use counter_on;

/// What every execution of the program must return.
pub fn expected(outcome: &(u32, usize)) -> Result<(), String> {
    if *outcome == (5, 2) {
        Ok(())
    } else {
        Err(format!("lost an update: {outcome:?}"))
    }
}
