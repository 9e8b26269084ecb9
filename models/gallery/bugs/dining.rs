//! # dining-philosophers: everyone picks up the left fork first
//!
//! Philosophers sit around a table with one fork between each pair; each needs both
//! neighbouring forks to eat. If every philosopher picks up the left fork, then the right,
//! the interleaving in which all of them hold their left fork leaves each waiting for a right
//! fork a neighbour holds: a cycle of waits. The fix breaks the symmetry: everyone picks up
//! the lower-numbered fork first (Downey's "leftie").
//!
//! Source: Allen B. Downey, *The Little Book of Semaphores* v2.1.5, "Dining philosophers",
//! "Deadlock #5" and "Dining philosophers solution #2"; the problem is Dijkstra's.
//! Class: circular-wait deadlock, on every checker (3 philosophers: main and 2 threads).

use super::rt::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;

/// Meals eaten.
pub type Outcome = usize;

const PHILOSOPHERS: usize = 3;

struct Table {
    forks: Vec<Mutex<()>>,
    meals: AtomicUsize,
}

/// BUGGY: left fork first, always.
fn left_first(i: usize) -> (usize, usize) {
    (i, (i + 1) % PHILOSOPHERS)
}

/// FIXED: the lower-numbered fork first.
fn lower_first(i: usize) -> (usize, usize) {
    let (left, right) = left_first(i);
    (left.min(right), left.max(right))
}

fn dine(table: &Table, i: usize, order: fn(usize) -> (usize, usize)) {
    let (first, second) = order(i);
    let _first = table.forks[first].lock().unwrap();
    let _second = table.forks[second].lock().unwrap();
    table.meals.fetch_add(1, SeqCst);
}

fn model(order: fn(usize) -> (usize, usize)) -> Outcome {
    let table = Arc::new(Table {
        forks: (0..PHILOSOPHERS).map(|_| Mutex::new(())).collect(),
        meals: AtomicUsize::new(0),
    });
    let others: Vec<_> = (1..PHILOSOPHERS)
        .map(|i| {
            let table = Arc::clone(&table);
            thread::spawn(move || dine(&table, i, order))
        })
        .collect();
    dine(&table, 0, order);
    for other in others {
        other.join().unwrap();
    }
    table.meals.load(SeqCst)
}

pub fn buggy() -> Outcome {
    model(left_first)
}

pub fn fixed() -> Outcome {
    model(lower_first)
}

pub fn invariant(meals: &Outcome) -> Result<(), String> {
    if *meals == PHILOSOPHERS {
        Ok(())
    } else {
        Err(format!("{meals} meals for {PHILOSOPHERS} philosophers"))
    }
}
