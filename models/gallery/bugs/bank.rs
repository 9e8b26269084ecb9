//! # bank-transfer-chosen-accounts: the lock order follows the arguments
//!
//! `transfer(from, to, amount)` locks the source account, then the destination. Every call
//! site "locks in the same order", but the order comes from the arguments: two transfers in
//! opposite directions between the same two accounts deadlock. Whether they can depends on
//! which accounts were chosen: here each thread picks its accounts with `choose`, and only
//! `(a, b)` against `(b, a)` can deadlock, 6 of the 81 choices over 3 accounts. The fix locks
//! accounts in a global order, by index.
//!
//! Source: Goetz et al., *Java Concurrency in Practice*, Listings 10.2 (`DynamicOrderDeadlock`),
//! 10.3 (`InduceLockOrder`, the fix) and 10.4 (`DemonstrateDeadlock`, random accounts).
//! Class: lock-order deadlock that depends on a nondeterministic value. Neither std nor raw
//! loom has a nondeterministic choice, so the program is not built there; the mirror draws it
//! with `threadproof::std::choose`, raw shuttle with `shuttle::rand`.

use super::rt::choose;
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;

/// The total money after both transfers.
pub type Outcome = i64;

const ACCOUNTS: usize = 3;

/// BUGGY: the lock order follows the arguments.
fn transfer(accounts: &[Mutex<i64>], from: usize, to: usize, amount: i64) {
    if from == to {
        return;
    }
    let mut source = accounts[from].lock().unwrap();
    let mut target = accounts[to].lock().unwrap();
    if *source >= amount {
        *source -= amount;
        *target += amount;
    }
}

/// FIXED (JCIP 10.3): the lower index first.
fn transfer_fixed(accounts: &[Mutex<i64>], from: usize, to: usize, amount: i64) {
    if from == to {
        return;
    }
    let (low, high) = (from.min(to), from.max(to));
    let mut low_guard = accounts[low].lock().unwrap();
    let mut high_guard = accounts[high].lock().unwrap();
    let (source, target) = if from == low {
        (&mut *low_guard, &mut *high_guard)
    } else {
        (&mut *high_guard, &mut *low_guard)
    };
    if *source >= amount {
        *source -= amount;
        *target += amount;
    }
}

fn model(transfer: fn(&[Mutex<i64>], usize, usize, i64)) -> Outcome {
    let accounts = Arc::new((0..ACCOUNTS).map(|_| Mutex::new(100)).collect::<Vec<_>>());
    let clerks: Vec<_> = (0..2)
        .map(|_| {
            let accounts = Arc::clone(&accounts);
            thread::spawn(move || transfer(&accounts, choose(ACCOUNTS), choose(ACCOUNTS), 10))
        })
        .collect();
    for clerk in clerks {
        clerk.join().unwrap();
    }
    accounts
        .iter()
        .map(|account| *account.lock().unwrap())
        .sum()
}

pub fn buggy() -> Outcome {
    model(transfer)
}

pub fn fixed() -> Outcome {
    model(transfer_fixed)
}

pub fn invariant(total: &Outcome) -> Result<(), String> {
    if *total == 100 * ACCOUNTS as i64 {
        Ok(())
    } else {
        Err(format!("money made or lost: {total}"))
    }
}
