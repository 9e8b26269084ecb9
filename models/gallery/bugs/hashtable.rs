//! # hashtable-equals-lock-order: `Hashtable.equals` locks this table, then the other
//!
//! `Hashtable.equals` is synchronized on `this` and calls the other table's synchronized
//! methods, so `h1.equals(h2)` locks h1 then h2, while a concurrent `h2.equals(h1)` locks h2
//! then h1. If each thread takes its first lock before the other takes its second, both wait
//! forever. The JDK left it unfixed; the ported fix never holds two table locks at once: it
//! snapshots the other table first.
//!
//! Source: JDK-6582568, JaConTeBe `jacontebe/jdk6/src/Test6582568.java` and
//! `jacontebe/jdk6/description/6582568.html`; loom `tests/deadlock.rs` has the minimal form.
//! Class: lock-order inversion; deadlock on every checker.

use super::rt::sync::{Arc, Mutex};
use super::rt::thread;

/// What the two comparisons said.
pub type Outcome = (bool, bool);

struct Hashtable {
    entries: Mutex<Vec<(u32, u32)>>,
}

/// BUGGY: synchronized `equals` holds this table while it reads the other.
fn equals(a: &Hashtable, b: &Hashtable) -> bool {
    let mine = a.entries.lock().unwrap();
    let theirs = b.entries.lock().unwrap();
    *mine == *theirs
}

/// FIXED: never hold two table locks at once.
fn equals_fixed(a: &Hashtable, b: &Hashtable) -> bool {
    let theirs = b.entries.lock().unwrap().clone();
    *a.entries.lock().unwrap() == theirs
}

fn model(equals: fn(&Hashtable, &Hashtable) -> bool) -> Outcome {
    let tables = Arc::new([
        Hashtable {
            entries: Mutex::new(vec![(1, 1)]),
        },
        Hashtable {
            entries: Mutex::new(vec![(1, 1)]),
        },
    ]);
    let other = {
        let tables = Arc::clone(&tables);
        thread::spawn(move || equals(&tables[1], &tables[0]))
    };
    let mine = equals(&tables[0], &tables[1]);
    (mine, other.join().unwrap())
}

pub fn buggy() -> Outcome {
    model(equals)
}

pub fn fixed() -> Outcome {
    model(equals_fixed)
}

pub fn invariant(said: &Outcome) -> Result<(), String> {
    if *said == (true, true) {
        Ok(())
    } else {
        Err(format!("equal tables compared unequal: {said:?}"))
    }
}
