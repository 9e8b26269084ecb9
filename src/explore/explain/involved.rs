//! Who woke whom, and which threads a failure is about.
//!
//! Invariant: a waker is named only when the rows allow one answer (the only notify of that
//! condvar between the wait's start and its end that no earlier wait used up); otherwise the
//! candidates are listed, never one picked.

use crate::sync::trace::{Op, Phase, Trace, Value};

/// Who woke a wait, as far as the trace can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Waker {
    /// The notify at this row (the only one that could have).
    Row(usize),
    /// One of the notifies at these rows.
    OneOf(Vec<usize>),
}

impl Trace {
    /// The threads a failure is about, most telling first: those still waiting, those holding
    /// what they wait on, the thread of the last row (the one that failed, or `main` judging
    /// the outcome), then each thread that was preempted and the thread that ran instead.
    pub fn involved(&self) -> Vec<&str> {
        fn push<'t>(involved: &mut Vec<&'t str>, threads: &[&'t str], thread: &str) {
            if let Some(t) = threads.iter().find(|t| **t == thread) {
                if !involved.contains(t) {
                    involved.push(t);
                }
            }
        }
        let threads = self.threads();
        let mut involved: Vec<&str> = Vec::new();

        for thread in self.waiting() {
            push(&mut involved, &threads, thread);
        }
        let last_rows = self.last_rows();
        for (_, i) in &last_rows {
            let last = &self.events[*i];
            if last.phase == Phase::Began && last.op == Op::Lock {
                if let Some(holder) = self.holder(&last.object) {
                    push(&mut involved, &threads, holder);
                }
            }
        }
        if let Some(last) = self.events.last() {
            push(&mut involved, &threads, &last.thread);
        }
        for i in 1..self.events.len() {
            let (before, after) = (&self.events[i - 1], &self.events[i]);
            if before.thread == after.thread {
                continue;
            }
            // `before`'s thread could go on (it was not waiting: a lock attempt on a free
            // mutex does not wait) and did, later: it was preempted.
            let could_go_on = match (before.phase, before.op) {
                (Phase::Began, Op::Lock) => self.holder_before(&before.object, i).is_none(),
                (Phase::Began, _) => false,
                _ => true,
            };
            let went_on = last_rows
                .iter()
                .any(|(t, last)| *t == &*before.thread && *last >= i);
            if could_go_on && went_on {
                push(&mut involved, &threads, &before.thread);
                push(&mut involved, &threads, &after.thread);
            }
        }
        push(&mut involved, &threads, "main");
        involved
    }

    /// Who woke each wait that ended notified, by the row of its completion.
    pub(super) fn wakers(&self) -> Vec<(usize, Waker)> {
        let mut wakers = Vec::new();
        // notify_one rows already known to have woken someone.
        let mut spent: Vec<usize> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            if event.op != Op::Wait
                || !matches!(
                    event.value,
                    Value::Woke {
                        spurious: false,
                        ..
                    }
                )
                || event.phase == Phase::Began
            {
                continue;
            }
            // The wait began at the thread's last `Began` wait on this condvar before here.
            let Some(began) = self.events[..i].iter().rposition(|e| {
                e.thread == event.thread
                    && e.op == Op::Wait
                    && e.object == event.object
                    && e.phase == Phase::Began
            }) else {
                continue;
            };
            let candidates: Vec<usize> = (began + 1..i)
                .filter(|&j| {
                    let e = &self.events[j];
                    e.object == event.object
                        && e.thread != event.thread
                        && (e.op == Op::NotifyAll || (e.op == Op::NotifyOne && !spent.contains(&j)))
                })
                .collect();
            match candidates.as_slice() {
                [] => {}
                [only] => {
                    if self.events[*only].op == Op::NotifyOne {
                        spent.push(*only);
                    }
                    wakers.push((i, Waker::Row(*only)));
                }
                several => wakers.push((i, Waker::OneOf(several.to_vec()))),
            }
        }
        wakers
    }

    /// How many threads had begun a wait on `condvar`, not yet ended, before row `row`.
    pub(super) fn waiters_at(&self, row: usize, condvar: &str) -> usize {
        self.threads()
            .into_iter()
            .filter(|thread| {
                self.events[..row]
                    .iter()
                    .rev()
                    .find(|e| *e.thread == **thread)
                    .is_some_and(|e| {
                        e.op == Op::Wait && *e.object == *condvar && e.phase == Phase::Began
                    })
            })
            .count()
    }
}
