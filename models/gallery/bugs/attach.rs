//! # attach-lost-update: `SelectionKey.attach` read, then wrote
//!
//! `SelectionKey.attach(ob)` swaps a new attachment in and returns the old one, so that the
//! caller owns whatever was attached before. JDK 6 did it in two steps: read `attachment`,
//! then write it. Two threads attaching at once can both read the same old value: T1 reads
//! nothing, T2 reads nothing, T1 writes `a`, T2 writes `b`; both get nothing back and `a` is
//! lost, handed to no one. JDK 7 made it one atomic `getAndSet`.
//!
//! Source: JDK-6436220, JaConTeBe `jacontebe/jdk6/src/Test6436220.java` and
//! `jacontebe/jdk6/description/6436220.html` (public copy: `ChopinLi-cp/JaConTeBe_TSVD`).
//! Class: lost update; fails its invariant on every checker.

use super::rt::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use super::rt::sync::Arc;
use super::rt::thread;

/// Every attachment handed back or still attached, sorted (0: nothing attached).
pub type Outcome = Vec<usize>;

/// BUGGY (JDK 6): read, then write.
fn attach(attachment: &AtomicUsize, ob: usize) -> usize {
    let prev = attachment.load(SeqCst);
    attachment.store(ob, SeqCst);
    prev
}

/// FIXED (JDK 7): one atomic get-and-set.
fn attach_fixed(attachment: &AtomicUsize, ob: usize) -> usize {
    attachment.swap(ob, SeqCst)
}

fn model(attach: fn(&AtomicUsize, usize) -> usize) -> Outcome {
    let attachment = Arc::new(AtomicUsize::new(0));
    let other = {
        let attachment = Arc::clone(&attachment);
        thread::spawn(move || attach(&attachment, 1))
    };
    let mut seen = vec![attach(&attachment, 2), other.join().unwrap()];
    seen.push(attachment.load(SeqCst));
    seen.sort();
    seen
}

pub fn buggy() -> Outcome {
    model(attach)
}

pub fn fixed() -> Outcome {
    model(attach_fixed)
}

/// Each attachment is handed back exactly once or is still attached.
pub fn invariant(seen: &Outcome) -> Result<(), String> {
    if *seen == [0, 1, 2] {
        Ok(())
    } else {
        Err("an attachment was lost".into())
    }
}
