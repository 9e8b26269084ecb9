//! # keyring-revoke-toctou: the key is validated outside the lock that guards its payload
//!
//! `keyctl(KEYCTL_READ)` first checks that the key has not been revoked and only then takes
//! the key's semaphore to read the keyring's payload. `key_revoke` takes the semaphore, marks
//! the key revoked and sets the payload pointer to NULL. If the revoke lands between the
//! reader's check and its lock, the reader dereferences a NULL payload. The fix validates
//! under the same lock as the read.
//!
//! Source: CVE-2015-7550 (Linux keys), ConVul's kernel `mryancai/ConVul`
//! `cve-benchmark/2015-7550.cpp` (`keyctl_read_key` / `key_revoke`).
//! Class: check-then-act; fails with a panic (the NULL dereference) on every checker.

use super::rt::sync::atomic::{AtomicBool, Ordering::SeqCst};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;

/// The outcome: what the reader got.
pub type Outcome = Result<usize, &'static str>;

struct Key {
    revoked: AtomicBool,
    /// `key->sem` and the keyring's payload it guards (`None`: NULL).
    sem: Mutex<Option<Vec<u32>>>,
}

/// `key_revoke`, under `key->sem`.
fn revoke(key: &Key) {
    let mut payload = key.sem.lock().unwrap();
    key.revoked.store(true, SeqCst);
    *payload = None;
}

/// BUGGY `keyctl_read_key`: validate, then lock and read.
fn read_key(key: &Key) -> Outcome {
    if key.revoked.load(SeqCst) {
        return Err("EKEYREVOKED");
    }
    let payload = key.sem.lock().unwrap();
    let keys = payload
        .as_ref()
        .expect("NULL dereference: keyring payload gone");
    Ok(keys.len())
}

/// FIXED: validate under the lock that guards the read.
fn read_key_fixed(key: &Key) -> Outcome {
    let payload = key.sem.lock().unwrap();
    if key.revoked.load(SeqCst) {
        return Err("EKEYREVOKED");
    }
    Ok(payload.as_ref().expect("validated under the lock").len())
}

fn model(read: fn(&Key) -> Outcome) -> Outcome {
    let key = Arc::new(Key {
        revoked: AtomicBool::new(false),
        sem: Mutex::new(Some(vec![1, 2])),
    });
    let revoker = {
        let key = Arc::clone(&key);
        thread::spawn(move || revoke(&key))
    };
    let read = read(&key);
    revoker.join().unwrap();
    read
}

pub fn buggy() -> Outcome {
    model(read_key)
}

pub fn fixed() -> Outcome {
    model(read_key_fixed)
}

/// Any answer is fine; the bug is the panic on the way.
pub fn invariant(_: &Outcome) -> Result<(), String> {
    Ok(())
}
