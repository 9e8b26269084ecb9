//! Deadlocks: each thread's last row, the threads still waiting at the end, what each holds,
//! what it waits on and who holds the mutex it wants.
//!
//! Invariant: a thread waits at the end exactly when its last row is a [`Phase::Began`] row
//! (a call that never completed); what a thread holds, and a mutex's holder, are read off the
//! rows before (locks taken, unlocks and waits since), never guessed.

use std::panic::Location;

use crate::sync::trace::{Op, Phase, Trace, Value};

type Line = &'static Location<'static>;

/// A kind of guard a thread holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Guard {
    Mutex,
    Read,
    Write,
}

/// A guard a thread holds at the end of a trace: of which lock, taken at which line.
#[derive(Clone, Debug)]
pub(super) struct Held<'t> {
    pub(super) object: &'t str,
    pub(super) guard: Guard,
    pub(super) at: Line,
}

impl Held<'_> {
    /// `Mutex#1 from tests/x.rs:12`, `a read guard of RwLock#1 from tests/x.rs:82`.
    fn describe(&self) -> String {
        let place = format!("{}:{}", super::short_file(self.at.file()), self.at.line());
        match self.guard {
            Guard::Mutex => format!("{} from {place}", self.object),
            Guard::Read => format!("a read guard of {} from {place}", self.object),
            Guard::Write => format!("the write guard of {} from {place}", self.object),
        }
    }
}

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

    /// Whether threads still waiting at the end wait, each to lock a mutex the next one holds,
    /// in a cycle: a deadlock whatever any other thread does.
    pub(crate) fn waits_in_a_lock_cycle(&self) -> bool {
        let last = self.last_rows();
        let waits_for = |thread: &str| -> Option<&str> {
            let (_, i) = last.iter().find(|(t, _)| *t == thread)?;
            let row = &self.events[*i];
            if row.phase != Phase::Began || row.op != Op::Lock {
                return None;
            }
            self.holder(&row.object).filter(|holder| *holder != thread)
        };
        last.iter().any(|(start, _)| {
            let mut at = *start;
            // A cycle through `start` closes within as many steps as there are threads.
            for _ in 0..last.len() {
                match waits_for(at) {
                    Some(next) if next == *start => return true,
                    Some(next) => at = next,
                    None => return false,
                }
            }
            false
        })
    }

    /// The threads still waiting at the end: their last row is a call that never completed.
    pub fn waiting(&self) -> Vec<&str> {
        self.last_rows()
            .into_iter()
            .filter(|(_, i)| self.events[*i].phase == Phase::Began)
            .map(|(t, _)| t)
            .collect()
    }

    /// For a deadlock: what each blocked thread holds, what it waits on, and who holds that.
    /// Threads that hold nothing and wait on the same thing at the same line share a line.
    pub fn blocked(&self) -> Vec<String> {
        // (what, threads, whether the threads hold something: such a line is never shared).
        let mut groups: Vec<(String, Vec<&str>, bool)> = Vec::new();
        for (thread, i) in self.last_rows() {
            let last = &self.events[i];
            if last.phase != Phase::Began {
                continue;
            }
            let held = self.held_by(thread);
            let holds: Vec<String> = held.iter().map(Held::describe).collect();
            // The object it waits on is "it" when it also holds it; its line is `:84` when in
            // the file of the hold named last.
            let object = match held.iter().any(|h| *h.object == *last.object) {
                true => "it".to_string(),
                false => last.object.to_string(),
            };
            let place = match held.last() {
                Some(h) if h.at.file() == last.location.file() => {
                    format!(":{}", last.location.line())
                }
                _ => last.place(),
            };
            let what = match last.op {
                Op::Lock => match self.holder(&last.object) {
                    Some(holder) if holder != thread => {
                        format!("waits to lock {object} at {place}, held by {holder}")
                    }
                    _ => format!("waits to lock {object} at {place}"),
                },
                Op::Wait => {
                    format!("waits on {object} at {place} for a notification that never comes")
                }
                Op::Join => format!("waits to join {object} at {place}"),
                Op::ReadLock => format!(
                    "waits to read {object} at {place}{}",
                    self.locked_by(&last.object, thread, Guard::Write)
                ),
                Op::WriteLock => format!(
                    "waits to write {object} at {place}{}{}",
                    self.locked_by(&last.object, thread, Guard::Read),
                    self.locked_by(&last.object, thread, Guard::Write)
                ),
                Op::Acquire => format!("waits to acquire {object} at {place}"),
                Op::BarrierWait => {
                    format!("waits on {object} at {place} for threads that never arrive")
                }
                Op::Park => format!("waits in park at {place} for an unpark that never comes"),
                Op::Recv => match last.value {
                    Value::Empty => format!("blocked receiving from {object} (empty) at {place}"),
                    _ => format!("blocked receiving from {object} at {place}"),
                },
                Op::Send => match last.value {
                    Value::Full { capacity } => format!(
                        "blocked sending into {object} ({}) at {place}",
                        super::columns::full(capacity)
                    ),
                    _ => format!("blocked sending into {object} at {place}"),
                },
                op => format!("waits in {} on {object} at {place}", op.name()),
            };
            if !holds.is_empty() {
                let what = format!("holds {} and {what}", holds.join(", "));
                groups.push((what, vec![thread], true));
                continue;
            }
            match groups.iter_mut().find(|(w, _, holds)| *w == what && !holds) {
                Some((_, threads, _)) => threads.push(thread),
                None => groups.push((what, vec![thread], false)),
            }
        }
        groups
            .into_iter()
            .map(|(what, threads, _)| {
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
                // "waits" for one thread, "wait" for several; "blocked" for both.
                let what = match (threads.len(), what.strip_prefix("waits ")) {
                    (2.., Some(rest)) => format!("wait {rest}"),
                    _ => what,
                };
                format!("{who} {what}")
            })
            .collect()
    }

    /// `, read-locked by t0 and t1` (or `write-locked`): the threads other than `thread`
    /// holding a `guard` of the lock `object` at the end of the trace; empty if none does.
    fn locked_by(&self, object: &str, thread: &str, guard: Guard) -> String {
        let holders: Vec<&str> = (self.threads().into_iter())
            .filter(|t| *t != thread)
            .filter(|t| {
                let held = self.held_by(t);
                held.iter().any(|h| h.object == object && h.guard == guard)
            })
            .collect();
        let how = match guard {
            Guard::Write => "write-locked",
            _ => "read-locked",
        };
        match holders.as_slice() {
            [] => String::new(),
            [one] => format!(", {how} by {one}"),
            [rest @ .., last] => format!(", {how} by {} and {last}", rest.join(", ")),
        }
    }

    /// The guards `thread` holds at the end of the trace: each lock it took and did not
    /// release since, read off its rows. An unlock row carries the line that took its guard,
    /// so it releases that guard (of two guards of one lock, the one it names).
    pub(super) fn held_by(&self, thread: &str) -> Vec<Held<'_>> {
        let mut held: Vec<Held> = Vec::new();
        let release = |held: &mut Vec<Held>, object: &str, at: Line| {
            let same = |h: &Held| *h.object == *object;
            let guard = (held.iter().rposition(|h| same(h) && h.at == at))
                .or_else(|| held.iter().rposition(same));
            if let Some(i) = guard {
                held.remove(i);
            }
        };
        for event in self.events.iter().filter(|e| *e.thread == *thread) {
            let took = event.phase != Phase::Began || event.value == Value::Acquired(true);
            let guard = match (event.op, &event.value) {
                (Op::Lock, _) | (Op::TryLock, Value::Acquired(true)) => Some(Guard::Mutex),
                (Op::ReadLock, _) | (Op::TryReadLock, Value::Acquired(true)) => Some(Guard::Read),
                (Op::WriteLock, _) | (Op::TryWriteLock, Value::Acquired(true)) => {
                    Some(Guard::Write)
                }
                _ => None,
            };
            if let (Some(guard), true) = (guard, took) {
                held.push(Held {
                    object: &event.object,
                    guard,
                    at: event.location,
                });
                continue;
            }
            match (event.op, &event.value) {
                (Op::Unlock, _) => release(&mut held, &event.object, event.location),
                (Op::Wait, Value::Unlocking(mutex)) => {
                    if let Some(i) = held.iter().rposition(|h| h.object == &**mutex) {
                        held.remove(i);
                    }
                }
                // The wait gave the guard back relocked, at the wait's line (as its unlock
                // row will say).
                (Op::Wait, Value::Woke { relocked, .. } | Value::TimedOutRelocked(relocked)) => {
                    if event.phase == Phase::Done {
                        if let Some(i) = held.iter().rposition(|h| h.object == &**relocked) {
                            held.remove(i);
                        }
                    }
                    held.push(Held {
                        object: relocked,
                        guard: Guard::Mutex,
                        at: event.location,
                    });
                }
                _ => {}
            }
        }
        held
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
                (Op::TryLock, Value::Acquired(true)) if *event.object == *object => {
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

#[cfg(test)]
mod tests {
    use std::panic::Location;
    use std::sync::Arc;

    use crate::sync::trace::{Event, Op, Phase, Trace, Value};

    fn row(thread: &str, op: Op, object: &str, phase: Phase) -> Event {
        Event {
            thread: Arc::from(thread),
            op,
            object: Arc::from(object),
            location: Location::caller(),
            phase,
            value: Value::None,
            order: None,
        }
    }

    /// `one` holds `a` and waits for `b`; `two` holds `b`, and waits for `a` or for nothing.
    fn crosswise(two_waits_for_a: bool) -> Trace {
        let mut events = vec![
            row("one", Op::Lock, "a", Phase::Done),
            row("two", Op::Lock, "b", Phase::Done),
            row("one", Op::Lock, "b", Phase::Began),
        ];
        if two_waits_for_a {
            events.push(row("two", Op::Lock, "a", Phase::Began));
        }
        // A third thread whose last row is no wait (say, inside loom's `try_lock`).
        events.push(row("trier", Op::Lock, "c", Phase::Done));
        Trace { events }
    }

    /// A cycle of threads waiting for each other's mutexes is found; a chain whose last
    /// thread waits for nothing is not one. (Mutant caught: a chain taken for a cycle, or the
    /// holder of a thread's own mutex for another thread.)
    #[test]
    fn a_lock_cycle_is_told_from_a_chain() {
        assert!(crosswise(true).waits_in_a_lock_cycle());
        assert!(!crosswise(false).waits_in_a_lock_cycle());
        let alone = Trace {
            events: vec![
                row("one", Op::Lock, "a", Phase::Done),
                row("one", Op::Lock, "a", Phase::Began),
            ],
        };
        assert!(
            !alone.waits_in_a_lock_cycle(),
            "waiting for its own mutex is no cycle"
        );
    }
}
