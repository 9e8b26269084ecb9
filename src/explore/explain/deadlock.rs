//! Deadlocks: each thread's last row, the threads still waiting at the end, what each waits
//! on and who holds the mutex it wants.
//!
//! Invariant: a thread waits at the end exactly when its last row is a [`Phase::Began`] row
//! (a call that never completed); a mutex's holder is read off the rows before, never guessed.

use crate::sync::trace::{Op, Phase, Trace, Value};

impl Trace {
    /// The index of each thread's last row.
    pub(super) fn last_rows(&self) -> Vec<(&str, usize)> {
        let mut last: Vec<(&str, usize)> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            match last.iter_mut().find(|(t, _)| *t == &*event.thread) {
                Some(entry) => entry.1 = i,
                None => last.push((&event.thread, i)),
            }
        }
        last
    }

    /// The threads still waiting at the end: their last row is a call that never completed.
    pub fn waiting(&self) -> Vec<&str> {
        self.last_rows()
            .into_iter()
            .filter(|(_, i)| self.events[*i].phase == Phase::Began)
            .map(|(t, _)| t)
            .collect()
    }

    /// For a deadlock: what each blocked thread waits on, and who holds it. Threads waiting on
    /// the same thing at the same line share a line.
    pub fn blocked(&self) -> Vec<String> {
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for (thread, i) in self.last_rows() {
            let last = &self.events[i];
            if last.phase != Phase::Began {
                continue;
            }
            let what = match last.op {
                Op::Lock => match self.holder(&last.object) {
                    Some(holder) => format!(
                        "to lock {} ({}), held by {holder}",
                        last.object,
                        last.place()
                    ),
                    None => format!("to lock {} ({})", last.object, last.place()),
                },
                Op::Wait => format!(
                    "on {} ({}) for a notification that never comes",
                    last.object,
                    last.place()
                ),
                Op::Join => format!("to join {} ({})", last.object, last.place()),
                Op::ReadLock => format!("to read {} ({})", last.object, last.place()),
                Op::WriteLock => format!("to write {} ({})", last.object, last.place()),
                Op::Acquire => format!("to acquire {} ({})", last.object, last.place()),
                Op::BarrierWait => format!(
                    "at {} ({}) for threads that never arrive",
                    last.object,
                    last.place()
                ),
                Op::Park => format!("in park ({}) for an unpark that never comes", last.place()),
                Op::Recv => format!("to receive from {} ({})", last.object, last.place()),
                op => format!("in {} on {} ({})", op.name(), last.object, last.place()),
            };
            match groups.iter_mut().find(|(w, _)| *w == what) {
                Some((_, threads)) => threads.push(thread),
                None => groups.push((what, vec![thread])),
            }
        }
        groups
            .into_iter()
            .map(|(what, threads)| {
                let who = match threads.as_slice() {
                    [one] => one.to_string(),
                    [rest @ .., last] if rest.len() < 3 => {
                        format!("{} and {last}", rest.join(", "))
                    }
                    [first, second, rest @ ..] => {
                        format!("{first}, {second} and {} other threads", rest.len())
                    }
                    [] => String::new(),
                };
                let verb = if threads.len() == 1 { "waits" } else { "wait" };
                format!("{who} {verb} {what}")
            })
            .collect()
    }

    /// The thread holding mutex `object` at the end of the trace.
    pub(super) fn holder(&self, object: &str) -> Option<&str> {
        self.holder_before(object, self.events.len())
    }

    /// The thread holding mutex `object` just before row `row` (0-based).
    pub(super) fn holder_before(&self, object: &str, row: usize) -> Option<&str> {
        let mut holder = None;
        for event in &self.events[..row] {
            let acquired = event.phase != Phase::Began;
            match (&event.op, &event.value) {
                (Op::Lock, _) if acquired && *event.object == *object => {
                    holder = Some(&*event.thread)
                }
                (Op::Unlock, _) if *event.object == *object => holder = None,
                (Op::Wait, Value::Unlocking(mutex)) if **mutex == *object => holder = None,
                (Op::Wait, Value::Woke { relocked, .. } | Value::TimedOutRelocked(relocked))
                    if **relocked == *object =>
                {
                    holder = Some(&*event.thread)
                }
                _ => {}
            }
        }
        holder
    }
}
