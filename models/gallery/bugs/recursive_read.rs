//! # recursive-read-queued-writer: the "match made in hell"
//!
//! Code matches on `state.read().unwrap().foo()`. The read guard in the `match` scrutinee lives until
//! the end of the whole `match`, and one arm takes `state.read().unwrap()` again. On its own that is
//! harmless; but if a writer calls `state.write().unwrap()` between the two reads, a writer-preferring
//! lock (std's, parking_lot's, tokio's) queues the writer and makes the second read wait
//! behind it, while the writer waits for the first read guard: a deadlock. The fix evaluates
//! the scrutinee into a local first, so the guard drops at the `;`.
//!
//! Source: Amos Wenger, "A Rust match made in hell"
//! (fasterthanli.me/articles/a-rust-match-made-in-hell), reproduced as shuttle
//! `tests/demo/async_match_deadlock.rs`; `parking_lot`'s `RwLock` docs on recursive reads.
//! Class: reader-writer deadlock; deadlock on every threadproof checker. Raw loom's `RwLock`
//! has no writer preference (it never deadlocks here) and raw shuttle's panics on any second
//! read guard, whatever the interleaving.

use super::rt::sync::{Arc, RwLock};
use super::rt::thread;

/// What the reader computed.
pub type Outcome = u64;

// The article's names.
#[allow(clippy::disallowed_names)]
struct State {
    foo: u64,
    bar: u64,
}

/// BUGGY: `match state.read().unwrap().foo > 0 { true => state.read().unwrap().bar, .. }`: the scrutinee's
/// guard is still held when the arm reads again.
fn reader(state: &RwLock<State>) -> u64 {
    let scrutinee = state.read().unwrap();
    let value = if scrutinee.foo > 0 {
        state.read().unwrap().bar
    } else {
        0
    };
    drop(scrutinee); // the end of the `match`
    value
}

/// FIXED: `let positive = state.read().unwrap().foo > 0; if positive { state.read().unwrap().bar }`.
fn reader_fixed(state: &RwLock<State>) -> u64 {
    let positive = state.read().unwrap().foo > 0;
    if positive {
        state.read().unwrap().bar
    } else {
        0
    }
}

fn model(read: fn(&RwLock<State>) -> u64) -> Outcome {
    let state = Arc::new(RwLock::new(State { foo: 1, bar: 2 }));
    let writer = {
        let state = Arc::clone(&state);
        thread::spawn(move || state.write().unwrap().bar += 1)
    };
    let value = read(&state);
    writer.join().unwrap();
    value
}

pub fn buggy() -> Outcome {
    model(reader)
}

pub fn fixed() -> Outcome {
    model(reader_fixed)
}

pub fn invariant(_: &Outcome) -> Result<(), String> {
    Ok(())
}
