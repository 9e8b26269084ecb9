//! # dcl-relaxed-atomicptr: double-checked locking published through a `Relaxed` pointer
//!
//! A lazily built configuration is published through a pointer: the fast path reads the
//! pointer without the lock; the slow path builds the object under the lock and stores the
//! pointer. With the pointer stored and loaded `Relaxed`, a second thread can see the
//! non-null pointer but not the writes that built the object behind it, and reads a
//! half-constructed config. The fix is `Release` on the store and `Acquire` on the fast
//! path's load (or `OnceLock`).
//!
//! Source: Bacon, Bloch, Bogda, Click, Haahr, Lea, May, Maessen, Manson, Mitchell, Nilsen,
//! Pugh, Sirer, "The 'Double-Checked Locking is Broken' Declaration"
//! (cs.umd.edu/~pugh/java/memoryModel/DoubleCheckedLocking.html); loom `tests/fence.rs`.
//! Class: weak-memory publication. loom reports the data race on the config's fields;
//! shuttle runs every atomic `SeqCst` and cannot see it.

use std::ptr;

use super::rt::sync::atomic::{AtomicPtr, Ordering};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;
use super::rt::RaceCell;

/// The config each thread saw: (port, hosts).
pub type Outcome = Vec<(u16, u8)>;

struct Config {
    port: RaceCell<u16>,
    hosts: RaceCell<u8>,
}

struct Lazy {
    config: AtomicPtr<Config>,
    lock: Mutex<()>,
    /// BUGGY: `Relaxed`; FIXED: `Acquire` (fast-path load) and `Release` (store).
    load: Ordering,
    store: Ordering,
}

impl Lazy {
    fn get(&self) -> (u16, u8) {
        let mut config = self.config.load(self.load);
        if config.is_null() {
            let _guard = self.lock.lock().unwrap();
            config = self.config.load(Ordering::Relaxed); // under the lock: Relaxed is fine
            if config.is_null() {
                let built = Box::into_raw(Box::new(Config {
                    port: RaceCell::new(0),
                    hosts: RaceCell::new(0),
                }));
                // SAFETY: `built` is not shared yet: the constructor's plain writes.
                unsafe {
                    (*built).port.set(8080);
                    (*built).hosts.set(3);
                }
                self.config.store(built, self.store);
                config = built;
            }
        }
        // SAFETY: a published config is never freed before both threads are joined; the plain
        // reads race with the constructor's writes exactly when the publication is Relaxed.
        unsafe { ((*config).port.get(), (*config).hosts.get()) }
    }
}

fn model(load: Ordering, store: Ordering) -> Outcome {
    let lazy = Arc::new(Lazy {
        config: AtomicPtr::new(ptr::null_mut()),
        lock: Mutex::new(()),
        load,
        store,
    });
    let other = {
        let lazy = Arc::clone(&lazy);
        thread::spawn(move || lazy.get())
    };
    let seen = vec![lazy.get(), other.join().unwrap()];
    // SAFETY: both threads are joined; the config was built once, by `Box::into_raw`.
    drop(unsafe { Box::from_raw(lazy.config.load(Ordering::Relaxed)) });
    seen
}

pub fn buggy() -> Outcome {
    model(Ordering::Relaxed, Ordering::Relaxed)
}

pub fn fixed() -> Outcome {
    model(Ordering::Acquire, Ordering::Release)
}

pub fn invariant(seen: &Outcome) -> Result<(), String> {
    if seen.iter().all(|config| *config == (8080, 3)) {
        Ok(())
    } else {
        Err(format!("a half-built config was read: {seen:?}"))
    }
}
