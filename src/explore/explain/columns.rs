//! The text of a trace: each row in words, the interleaving as one column per thread (in the
//! style of lincheck), and the one- or two-letter symbol of each operation in a swimlane.
//!
//! Invariant: row numbers are 1-based step numbers in every text; a row's text ends with the
//! user's `file:line` of its call, except an unlock's, which has no call (a guard's drop has no
//! line in Rust) and says that it names the line that took the guard; an atomic row ends with
//! the ordering the call was given; at most [`Trace::MAX_COLUMNS`] threads get a column.

use std::fmt::Write as _;

use super::involved::Waker;
use crate::sync::trace::{Event, Op, Phase, Trace, Value};

impl Trace {
    /// At most this many thread columns in a failing interleaving; the other threads' rows fold.
    pub const MAX_COLUMNS: usize = 6;

    /// The threads shown in columns: all of them when they fit, else the involved ones.
    pub fn shown_threads(&self) -> Vec<&str> {
        let threads = self.threads();
        if threads.len() <= Self::MAX_COLUMNS {
            return threads;
        }
        let mut shown = self.involved();
        shown.truncate(Self::MAX_COLUMNS);
        // In order of first appearance, as when all are shown.
        threads.into_iter().filter(|t| shown.contains(t)).collect()
    }

    /// Each row's text, as the columns show it (step numbers are 1-based).
    pub fn texts(&self) -> Vec<String> {
        let wakers = self.wakers();
        let last_rows = self.last_rows();
        let woke_by: Vec<(usize, &str)> = wakers
            .iter()
            .filter_map(|(i, w)| match w {
                Waker::Row(row) => Some((*row, &*self.events[*i].thread)),
                Waker::OneOf(_) => None,
            })
            .collect();
        self.events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let still_waiting = event.phase == Phase::Began
                    && last_rows
                        .iter()
                        .any(|(t, last)| *t == &*event.thread && *last == i);
                let mut text = event.describe(still_waiting);
                match event.op {
                    Op::Wait if event.phase != Phase::Began => {
                        if let Some((_, waker)) = wakers.iter().find(|(row, _)| *row == i) {
                            let by = match waker {
                                Waker::Row(row) => format!(
                                    "woken by {}'s {} (step {})",
                                    self.events[*row].thread,
                                    self.events[*row].op.name(),
                                    row + 1
                                ),
                                Waker::OneOf(rows) => {
                                    let steps: Vec<String> =
                                        rows.iter().map(|r| (r + 1).to_string()).collect();
                                    format!("woken by the notify at step {}", steps.join(" or "))
                                }
                            };
                            text = text.replacen("woken by a notify", &by, 1);
                        }
                    }
                    Op::NotifyOne | Op::NotifyAll => {
                        let woke: Vec<&str> = woke_by
                            .iter()
                            .filter(|(row, _)| *row == i)
                            .map(|(_, t)| *t)
                            .collect();
                        if !woke.is_empty() {
                            text += &format!(", woke {}", woke.join(", "));
                        } else if self.waiters_at(i, &event.object) == 0 {
                            text += ", nobody waiting";
                        }
                    }
                    _ => {}
                }
                match event.op {
                    // A drop has no line in Rust: the row names the line that took the guard,
                    // and says so.
                    Op::Unlock => format!("{text} (guard from @{} dropped)", event.place()),
                    _ => format!("{text} @{}", event.place()),
                }
            })
            .collect()
    }

    /// The interleaving with one column per thread, one step per row, in the style of
    /// lincheck: reading down a column gives one thread's story, across rows the schedule.
    /// With more than [`Trace::MAX_COLUMNS`] threads, only the involved ones get columns (see
    /// [`Trace::involved`]); the others' consecutive steps fold into one row that counts them.
    pub fn columns(&self) -> String {
        let threads = self.shown_threads();
        let all = self.threads().len();
        let folded = all - threads.len();
        let texts = self.texts();
        let mut headers: Vec<String> = threads.iter().map(|t| t.to_string()).collect();
        if folded > 0 {
            headers.push(format!("{folded} other threads"));
        }
        // The rows: a step of a shown thread, or a run of the others' steps.
        enum Row<'t> {
            Step(usize, usize),
            Folded(usize, usize, Vec<&'t str>),
        }
        let mut rows: Vec<Row> = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            match threads.iter().position(|t| **t == *event.thread) {
                Some(column) => rows.push(Row::Step(i, column)),
                None => match rows.last_mut() {
                    Some(Row::Folded(_, count, who)) => {
                        *count += 1;
                        if !who.contains(&&*event.thread) {
                            who.push(&event.thread);
                        }
                    }
                    _ => rows.push(Row::Folded(i, 1, vec![&event.thread])),
                },
            }
        }
        let fold_text = |count: usize, who: &[&str]| {
            let names = match who {
                [one] => one.to_string(),
                [first, second] => format!("{first}, {second}"),
                [first, rest @ ..] => format!("{first} and {} others", rest.len()),
                [] => String::new(),
            };
            let steps = if count == 1 { "step" } else { "steps" };
            format!("{count} {steps} of {names}")
        };
        let width = texts
            .iter()
            .map(String::len)
            .chain(headers.iter().map(String::len))
            .max()
            .unwrap_or(0)
            .min(60);
        let number_width = self.events.len().to_string().len().max(1);
        let mut out = String::new();
        let line = |out: &mut String, number: &str, cells: &[(usize, String)]| {
            let _ = write!(out, "| {number:>number_width$} |");
            for column in 0..headers.len() {
                let cell = cells
                    .iter()
                    .find(|(c, _)| *c == column)
                    .map_or("", |(_, text)| text.as_str());
                let _ = write!(out, " {cell:<width$} |");
            }
            out.push('\n');
        };
        let header_cells: Vec<(usize, String)> = headers.iter().cloned().enumerate().collect();
        line(&mut out, "#", &header_cells);
        let _ = write!(out, "|{}|", "-".repeat(number_width + 2));
        for _ in &headers {
            let _ = write!(out, "{}|", "-".repeat(width + 2));
        }
        out.push('\n');
        for row in rows {
            match row {
                Row::Step(i, column) => line(
                    &mut out,
                    &(i + 1).to_string(),
                    &[(column, texts[i].clone())],
                ),
                Row::Folded(i, count, who) => line(
                    &mut out,
                    &(i + 1).to_string(),
                    &[(headers.len() - 1, fold_text(count, &who))],
                ),
            }
        }
        out
    }
}

impl Event {
    /// The operation in words, with its value; `still_waiting` for an attempt that never
    /// completed.
    fn describe(&self, still_waiting: bool) -> String {
        let text = self.describe_value(still_waiting);
        match self.order {
            Some(order) => format!("{text} ({order})"),
            None => text,
        }
    }

    /// [`Event::describe`] without the ordering.
    fn describe_value(&self, still_waiting: bool) -> String {
        let (op, object) = (self.op.name(), &self.object);
        let waiting = if still_waiting { " (blocked)" } else { " ..." };
        let why = |why: String| match still_waiting {
            true => format!("{op} {object} ({why}, blocked)"),
            false => format!("{op} {object} ({why}) ..."),
        };
        match (self.phase, self.op, &self.value) {
            (Phase::Began, Op::Send, Value::Full { capacity }) => why(full(*capacity)),
            (Phase::Began, Op::Recv, Value::Empty) => why("empty".to_string()),
            (_, Op::Load, Value::Read(v)) => format!("load {object} → {v}"),
            (_, Op::Store, Value::Wrote(v)) => format!("store {object} ← {v}"),
            (_, Op::Swap | Op::Fetch(_), Value::Updated { old, new }) => {
                format!("{op} {object} {old} → {new}")
            }
            (
                _,
                Op::CompareExchange | Op::CompareExchangeWeak,
                Value::Exchanged { expected, new },
            ) => {
                format!("{op} {object} {expected} → {new} ok")
            }
            (_, Op::CompareExchangeWeak, Value::NotExchanged { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed, saw {saw}")
            }
            (_, Op::CompareExchangeWeak, Value::FailedSpuriously { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed spuriously, saw {saw}")
            }
            (_, Op::Fence, Value::Ordering(order)) => format!("fence {order:?}"),
            (_, Op::Choose, Value::Chose { value, of }) => format!("choose({of}) → {value}"),
            (_, _, Value::Acquired(true)) => format!("{op} {object} → acquired"),
            (_, _, Value::Acquired(false)) => format!("{op} {object} → would block"),
            (_, Op::TryRecv, Value::Empty) => format!("try_recv {object} → empty"),
            (_, Op::TryRecv, Value::Message(n)) => format!("try_recv {object} → message {n}"),
            (Phase::Done, Op::Wait, Value::TimedOutRelocked(relocked)) => {
                format!("wait {object}: timed out, relocked {relocked}")
            }
            (_, Op::Wait, Value::TimedOutRelocked(relocked)) => {
                format!("... timed out on {object}, relocked {relocked}")
            }
            (Phase::Done, _, Value::Spuriously) => format!("{op} {object}: woke spuriously"),
            (_, _, Value::Spuriously) => format!("... {op} {object} woke spuriously"),
            (Phase::Completed, _, Value::TimedOut) => format!("... {op} {object} timed out"),
            (_, _, Value::TimedOut) => format!("{op} {object}: timed out"),
            (Phase::Completed, Op::BarrierWait, Value::Leader(leader)) => {
                format!("... released from {object}{}", leader_suffix(*leader))
            }
            (_, Op::BarrierWait, Value::Leader(leader)) => {
                format!("wait {object}{}", leader_suffix(*leader))
            }
            (Phase::Completed, Op::ReadLock | Op::WriteLock | Op::Acquire | Op::Park, _) => {
                format!("... {op} {object} done")
            }
            (_, Op::CompareExchange, Value::NotExchanged { expected, new, saw }) => {
                format!("{op} {object} {expected} → {new} failed, saw {saw}")
            }
            (Phase::Began, Op::Wait, Value::Unlocking(mutex)) => {
                format!("wait {object}, unlocking {mutex}{waiting}")
            }
            (_, Op::Wait, Value::Woke { spurious, relocked }) => {
                let how = if *spurious {
                    "woke spuriously"
                } else {
                    "woken by a notify"
                };
                match self.phase {
                    Phase::Done => format!("wait {object}: {how}, relocked {relocked}"),
                    _ => format!("... {how} on {object}, relocked {relocked}"),
                }
            }
            (Phase::Began, _, _) => format!("{op} {object}{waiting}"),
            (Phase::Completed, Op::Lock, _) => format!("... locked {object}"),
            (Phase::Completed, Op::Join, Value::Joined { panicked }) => {
                format!("... joined {object}{}", panicked_suffix(*panicked))
            }
            (Phase::Done, Op::Join, Value::Joined { panicked }) => {
                format!("join {object}{}", panicked_suffix(*panicked))
            }
            (Phase::Completed, Op::Recv, Value::Message(n)) => {
                format!("... received message {n} from {object}")
            }
            (_, Op::Recv, Value::Message(n)) => format!("recv {object} → message {n}"),
            (_, Op::Recv, Value::Disconnected) => format!("recv {object} → disconnected"),
            (_, Op::Send, Value::Message(n)) => format!("send {object} message {n}"),
            (_, Op::Send, Value::Disconnected) => format!("send {object} failed: receiver gone"),
            (Phase::Completed, _, _) => format!("... {op} {object} done"),
            _ => format!("{op} {object}"),
        }
    }
}

impl Op {
    /// A label of a letter or two, for a step in a swimlane (the full text is its tooltip).
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Spawn => "sp",
            Op::Join => "jn",
            Op::Lock => "L",
            Op::TryLock => "tL",
            Op::Unlock => "U",
            Op::ReadLock => "R",
            Op::WriteLock => "W",
            Op::TryReadLock => "tR",
            Op::TryWriteLock => "tW",
            Op::Wait => "W",
            Op::NotifyOne => "n1",
            Op::NotifyAll => "nA",
            Op::BarrierWait => "B",
            Op::Acquire => "P",
            Op::TryAcquire => "tP",
            Op::Release => "V",
            Op::Park => "pk",
            Op::Unpark => "up",
            Op::Send => "tx",
            Op::Recv => "rx",
            Op::TryRecv => "tr",
            Op::Load => "ld",
            Op::Store => "st",
            Op::Swap => "sw",
            Op::Fetch(_) => "fa",
            Op::CompareExchange => "cx",
            Op::CompareExchangeWeak => "cw",
            Op::Fence => "fn",
            Op::Read => "rd",
            Op::Write => "wr",
            Op::Choose => "ch",
        }
    }
}

/// Why a bounded channel's send waits: its queue is at `capacity`, or (a rendezvous) no
/// receiver has taken the message yet.
pub(super) fn full(capacity: usize) -> String {
    match capacity {
        0 => "rendezvous, no receiver took the message".to_string(),
        capacity => format!("full, capacity {capacity}"),
    }
}

fn leader_suffix(leader: bool) -> &'static str {
    if leader {
        " (the last to arrive: leader)"
    } else {
        ""
    }
}

fn panicked_suffix(panicked: bool) -> &'static str {
    if panicked {
        " (it panicked)"
    } else {
        ""
    }
}
