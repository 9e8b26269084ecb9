//! A failing execution: what went wrong ([`FailureKind`]), how simple it is ([`Minimal`]), the
//! failure a report carries ([`Failure`], with its explanation for a person) and the raw
//! finding of one run of a checker (`Found`), in the user's terms.
//!
//! Invariant: a failure names the user's threads, cells and lines, never the checker's own
//! numbering or sources, and carries the token that replays it.

use std::fmt;

use super::ReplayToken;
use crate::sync::choice;
use crate::sync::model::Stop;
use crate::sync::trace::{self, Trace};

/// What went wrong in a failing execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureKind {
    /// Every live thread was blocked.
    Deadlock,
    /// The execution finished, but its outcome broke the invariant.
    InvariantViolated,
    /// A thread panicked (an assertion in the body, an `unwrap`, ...).
    Panicked,
    /// Two accesses to a cell, at least one a write, that no lock or release/acquire pair
    /// orders (loom detects them).
    DataRace,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Deadlock => "deadlock",
            FailureKind::InvariantViolated => "invariant violated",
            FailureKind::Panicked => "panic",
            FailureKind::DataRace => "data race",
        })
    }
}

/// How simple a failure is, and how sure the checker is that none is simpler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Minimal {
    /// Times a thread that could go on was switched out for another.
    pub preemptions: usize,
    /// Times the running thread changed (preemptions, and switches away from a blocked
    /// thread), when the checker counts them (shuttle).
    pub context_switches: Option<usize>,
    pub spurious_wakeups: usize,
    pub proof: Minimality,
}

/// Why a failure is said to be minimal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Minimality {
    /// Loom explored every execution with fewer preemptions (and, at this bound, fewer
    /// spurious wakeups) and none failed.
    Proven,
    /// Shuttle's failing schedule was shrunk until no preemption, spurious wakeup or other
    /// scheduling choice could be taken out of it without losing the failure (in this many
    /// replays); and whether the search for a schedule with fewer preemptions (none, or a
    /// single one anywhere) finished within its limits.
    Shrunk {
        replays: u64,
        fewer_preemptions_searched: bool,
    },
    /// The search for a simpler failure did not finish (the reason is given).
    Unknown(String),
}

impl fmt::Display for Minimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("{n} {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        let mut parts = vec![plural(self.preemptions, "preemption")];
        if let Some(switches) = self.context_switches {
            parts.push(plural(switches, "context switch").replace("switchs", "switches"));
        }
        parts.push(plural(self.spurious_wakeups, "spurious wakeup"));
        let label = match self.proof {
            Minimality::Unknown(_) => "found with",
            _ => "minimal:",
        };
        write!(f, "{label} {}", parts.join(", "))?;
        match &self.proof {
            Minimality::Proven if self.preemptions == 0 => {
                write!(f, " (no preemption needed)")
            }
            Minimality::Proven => write!(
                f,
                " (every execution with fewer preemptions was explored and passed)"
            ),
            Minimality::Shrunk {
                replays,
                fewer_preemptions_searched,
            } => {
                write!(
                    f,
                    " (shrunk in {replays} replays: no single choice can be taken out of it"
                )?;
                if !fewer_preemptions_searched {
                    write!(f, "; the search for fewer preemptions stopped at its limit")?;
                }
                write!(f, ")")
            }
            Minimality::Unknown(why) => write!(f, " (not known to be minimal: {why})"),
        }
    }
}

/// The failure an exploration reports: the simplest failing execution it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    /// The user's line where the panic was raised, for panics (a data race: the access that
    /// loom caught).
    pub location: Option<String>,
    /// The 1-based number of the execution, counting every execution of the exploration.
    pub execution: u64,
    /// The explored choices it took (loom): which waits woke spuriously, which weak exchanges
    /// failed spuriously, and the values `choose` returned.
    pub spurious_plan: Option<choice::Plan>,
    /// The failing execution's primitive operations, when traces were recorded.
    pub trace: Option<Trace>,
    /// How simple it is.
    pub minimal: Option<Minimal>,
    /// Replays exactly this execution: `explore::replay(&failure.replay, body, invariant)`.
    pub replay: ReplayToken,
    /// When the failure shown is a simpler execution than the exploration's own failing one
    /// (shrunk, or found again at a smaller preemption bound): what execution
    /// [`Failure::execution`] itself showed. `None`: the failure shown is that execution.
    pub found: Option<Finding>,
}

/// What the exploration's own failing execution showed, when a simpler one is reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    /// The failure for a person: what went wrong, where, how simple, the interleaving that led
    /// there, and the line of code that replays it with [`crate::explore::replay`].
    pub fn explain(&self) -> String {
        format!(
            "{}\nreplay it in code: threadproof::explore::replay(\"{}\", body, invariant)\n",
            self.describe(),
            self.replay
        )
    }

    /// Where the exploration found it and, when a simpler execution is shown, what that one
    /// shows: each with its own outcome, in one line or two.
    pub fn headline(&self) -> String {
        match &self.found {
            None => format!(
                "{} at execution {}: {}",
                self.kind, self.execution, self.message
            ),
            Some(found) => format!(
                "{} at execution {}: {}\n  the simplest failing execution, which the token \
                 replays: {}: {}",
                found.kind, self.execution, found.message, self.kind, self.message
            ),
        }
    }

    /// [`Failure::explain`] without the replay line (the caller prints the one that fits).
    pub fn describe(&self) -> String {
        let mut out = format!("{}\n", self.headline());
        if let Some(location) = &self.location {
            out += &format!("  raised at {location}\n");
        }
        if let Some(minimal) = &self.minimal {
            out += &format!("  {minimal}\n");
        }
        if let Some(plan) = &self.spurious_plan {
            if let Some(faults) = plan.describe(choice::Kind::Fault) {
                out += &format!("  spurious wakeups or failures at (thread#k): {faults}\n");
            }
            if let Some(values) = plan.describe(choice::Kind::Value) {
                out += &format!("  values chosen (thread#k=value): {values}\n");
            }
        }
        if let Some(trace) = &self.trace {
            if self.kind == FailureKind::Deadlock {
                for line in trace.blocked() {
                    out += &format!("  {line}\n");
                }
            }
            let all = trace.threads().len();
            let shown = trace.shown_threads();
            if shown.len() < all {
                out += &format!(
                    "\nthe failing interleaving, one column per thread involved ({} of {all}; \
                     the other threads' steps are folded):\n",
                    shown.len()
                );
            } else {
                out += "\nthe failing interleaving, one column per thread:\n";
            }
            out += &trace.columns();
        }
        out
    }
}

/// A failing execution, as one run of a checker found it.
#[derive(Clone, Debug)]
pub(super) struct Found {
    pub(super) kind: FailureKind,
    pub(super) message: String,
    pub(super) location: Option<String>,
    pub(super) trace: Option<Trace>,
}

impl Found {
    /// The failure `stop` describes, with the trace recorded up to it.
    pub(super) fn from_stop(stop: Stop) -> Found {
        Found::from_stop_with(stop, trace::take())
    }

    /// The failure `stop` describes, with `trace`, the one recorded up to it.
    pub(super) fn from_stop_with(stop: Stop, trace: Option<Trace>) -> Found {
        let (kind, message, location) = match stop {
            Stop::Deadlock => (
                FailureKind::Deadlock,
                "every live thread is blocked".to_string(),
                None,
            ),
            Stop::Invariant(complaint) => (FailureKind::InvariantViolated, complaint, None),
            Stop::Panicked { message, location } => (FailureKind::Panicked, message, location),
            // The harness reports these as what they are (a budget cut, a restart with the
            // timer) before a failure is ever made of them.
            Stop::OutOfTime => (
                FailureKind::Panicked,
                "the exploration's time ran out in this execution".to_string(),
                None,
            ),
            Stop::Restart => (
                FailureKind::Panicked,
                "the exploration had to start again (a timed wait without the timer, a \
                 threadproof::std object without its ordering atomics, or a try operation on \
                 an RwLock that hands its lock over)"
                    .to_string(),
                None,
            ),
        };
        let mut found = Found {
            kind,
            message,
            location,
            trace,
        };
        found.describe_race();
        found
    }

    /// Loom reports a data race as a panic raised in its own sources, naming the accesses by
    /// loom's thread numbers: say it in the user's terms (threads by name, the cell by its
    /// label, the user's lines).
    fn describe_race(&mut self) {
        let message = self.message.trim_start();
        let Some(rest) = message.strip_prefix("Causality violation: ") else {
            return;
        };
        let headline = rest.lines().next().unwrap_or_default().trim();
        // The threads in loom's numbering: main is #0, then each spawned thread in order.
        let mut numbered: Vec<String> = vec!["main".into()];
        if let Some(trace) = &self.trace {
            numbered.extend(
                trace
                    .events
                    .iter()
                    .filter(|e| e.op == trace::Op::Spawn)
                    .map(|e| e.object.to_string()),
            );
        }
        let mut accesses = Vec::new();
        for line in rest.lines().skip(1) {
            let Some((key, place)) = line.trim().split_once(": ") else {
                continue;
            };
            if key == "created" {
                continue;
            }
            let Some((thread, at)) = place.split_once(" @ ") else {
                continue;
            };
            let thread = thread
                .strip_prefix("thread #")
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| numbered.get(n).cloned())
                .unwrap_or_else(|| thread.to_string());
            let at = short_place(at);
            accesses.push(format!("{thread} {} at {at}", access_verb(key)));
        }
        // The access loom caught is the racing thread's last row: a cell access.
        let cell = self.trace.as_ref().and_then(|t| {
            t.events
                .iter()
                .rev()
                .find(|e| matches!(e.op, trace::Op::Read | trace::Op::Write))
                .map(|e| (e.object.to_string(), e.place()))
        });
        let (object, caught_at) = match cell {
            Some((object, place)) => (object, Some(place)),
            None => ("a cell".to_string(), None),
        };
        self.kind = FailureKind::DataRace;
        self.message = format!(
            "data race on {object}: {}, and no lock or release/acquire pair orders them \
             (loom: {headline})",
            accesses.join(" while ")
        );
        if caught_at.is_some() {
            self.location = caught_at;
        }
    }
}

/// An access as loom's report keys it (`write one`, `with_mut two`, `atomic store`, ...), in
/// the user's words: loom's "one"/"two" only number the two accesses it reports.
fn access_verb(key: &str) -> &'static str {
    let key = key
        .strip_suffix(" one")
        .or_else(|| key.strip_suffix(" two"))
        .unwrap_or(key);
    match key {
        "read" | "load" | "atomic load" | "unsync_load" => "reads",
        "write" | "atomic store" => "writes",
        "with_mut" => "accesses mutably",
        _ => "accesses",
    }
}

/// `models/x.rs:12` from loom's `models/x.rs:12:5`, as a trace names a place.
fn short_place(place: &str) -> String {
    let without_column = match place.rsplit_once(':') {
        Some((rest, column)) if column.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => place,
    };
    super::explain::short_file(without_column).to_string()
}
