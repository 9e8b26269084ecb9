//! # treiber-aba: pop's compare-and-swap succeeds on a recycled head
//!
//! A lock-free stack pops by reading `head`, reading `head.next`, and swapping `head` from the
//! old head to its next. T1 reads head A and A's next B, then stalls. T2 pops A, pops B, and
//! pushes A back: A is the head again, and A's next is now C. T1 wakes; its CAS compares only
//! the node, sees A, succeeds, and installs B, which T2 owns: B is both on the stack and held.
//! The fix tags the head with a version that every successful CAS bumps, so T1's stale CAS
//! fails.
//!
//! Source: the ABA problem (en.wikipedia.org/wiki/ABA_problem); Treiber, "Systems
//! Programming: Coping with Parallelism", IBM RJ 5118 (1986), which introduced the tag;
//! CDSChecker benchmarks `treiber-stack/my_stack.c` (commit 7ca8c7d: the head made of an
//! index and a count, bumped by one on every swap).
//! Class: ABA; fails its invariant on every checker (it is not a weak-memory bug).

use super::rt::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use super::rt::sync::Arc;
use super::rt::thread;

/// The nodes the threads hold, and the stack's nodes from the top (at most 4 read).
pub type Outcome = (Vec<usize>, Vec<usize>);

/// No node; nodes are indices into an arena, which is what lets a node come back (ABA).
const NIL: usize = 0xFFFF;
const NODES: usize = 3;

struct Stack {
    /// BUGGY: the head's index alone. FIXED: `tag << 32 | index`.
    head: AtomicU64,
    next: Vec<AtomicUsize>,
    tagged: bool,
}

impl Stack {
    fn index(word: u64) -> usize {
        (word & 0xFFFF_FFFF) as usize
    }

    /// The head word that replaces `old` with node `index`: tagged, one version on.
    fn word(&self, old: u64, index: usize) -> u64 {
        let tag = if self.tagged { (old >> 32) + 1 } else { 0 };
        tag << 32 | index as u64
    }

    fn pop(&self) -> Option<usize> {
        loop {
            let head = self.head.load(SeqCst);
            let top = Self::index(head);
            if top == NIL {
                return None;
            }
            let next = self.next[top].load(SeqCst);
            let new = self.word(head, next);
            if self
                .head
                .compare_exchange(head, new, SeqCst, SeqCst)
                .is_ok()
            {
                return Some(top);
            }
        }
    }

    fn push(&self, node: usize) {
        loop {
            let head = self.head.load(SeqCst);
            self.next[node].store(Self::index(head), SeqCst);
            let new = self.word(head, node);
            if self
                .head
                .compare_exchange(head, new, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    fn nodes(&self) -> Vec<usize> {
        let mut nodes = Vec::new();
        let mut at = Self::index(self.head.load(SeqCst));
        while at != NIL && nodes.len() <= NODES {
            nodes.push(at);
            at = self.next[at].load(SeqCst);
        }
        nodes
    }
}

fn model(tagged: bool) -> Outcome {
    // A(0) -> B(1) -> C(2)
    let stack = Arc::new(Stack {
        head: AtomicU64::new(0),
        next: vec![
            AtomicUsize::new(1),
            AtomicUsize::new(2),
            AtomicUsize::new(NIL),
        ],
        tagged,
    });
    let t1 = {
        let stack = Arc::clone(&stack);
        thread::spawn(move || stack.pop())
    };
    let t2 = {
        let stack = Arc::clone(&stack);
        thread::spawn(move || {
            let a = stack.pop();
            let b = stack.pop();
            if let Some(a) = a {
                stack.push(a);
            }
            b
        })
    };
    let mut held: Vec<usize> = [t1.join().unwrap(), t2.join().unwrap()]
        .into_iter()
        .flatten()
        .collect();
    held.sort();
    (held, stack.nodes())
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

/// Every node is held by one thread or on the stack once: never both, never twice.
pub fn invariant((held, stack): &Outcome) -> Result<(), String> {
    let mut all: Vec<usize> = held.iter().chain(stack).copied().collect();
    all.sort();
    if all == [0, 1, 2] {
        Ok(())
    } else {
        Err(format!(
            "held {held:?}, stack {stack:?}: a node is both held and on the stack"
        ))
    }
}
