//! A user's library: a lazily built static configuration, a bounded queue on a `Mutex` and a
//! `Condvar`, and a worker pool fed through a `sync_channel`. Plain std code; the only
//! threadproof in it is the two-line swap below, which the checks turn on with
//! `RUSTFLAGS="--cfg threadproof"`.

#[cfg(threadproof)]
use threadproof::std::{
    sync::{mpsc, Arc, Condvar, Mutex, OnceLock},
    thread,
};
#[cfg(not(threadproof))]
use std::{
    sync::{mpsc, Arc, Condvar, Mutex, OnceLock},
    thread,
};

use std::collections::VecDeque;

/// The pool's settings, built on first use.
#[derive(Debug, PartialEq, Eq)]
pub struct Settings {
    pub workers: usize,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings { workers: 2 })
}

/// A queue of at most `capacity` items: `push` waits for room, `pop` for an item.
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    changed: Condvar,
    capacity: usize,
}

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Self {
        Queue {
            items: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
            capacity,
        }
    }

    pub fn push(&self, item: T) {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.changed.wait(items).unwrap();
        }
        items.push_back(item);
        // Producers and consumers share one condvar: wake them all, or a push could wake
        // only another producer.
        self.changed.notify_all();
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        loop {
            if let Some(item) = items.pop_front() {
                self.changed.notify_all();
                return item;
            }
            items = self.changed.wait(items).unwrap();
        }
    }
}

/// The sum of the squares of `jobs`, computed by [`settings`]`().workers` threads.
pub fn sum_of_squares(jobs: &[u64]) -> u64 {
    let (job_tx, job_rx) = mpsc::sync_channel::<u64>(1);
    let (result_tx, result_rx) = mpsc::channel::<u64>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let workers: Vec<_> = (0..settings().workers)
        .map(|_| {
            let job_rx = Arc::clone(&job_rx);
            let result_tx = result_tx.clone();
            thread::spawn(move || loop {
                let job = job_rx.lock().unwrap().recv();
                match job {
                    Ok(n) => result_tx.send(n * n).unwrap(),
                    Err(_) => break,
                }
            })
        })
        .collect();
    drop(result_tx);
    for job in jobs {
        job_tx.send(*job).unwrap();
    }
    drop(job_tx);
    let sum = result_rx.iter().sum();
    for worker in workers {
        worker.join().unwrap();
    }
    sum
}
