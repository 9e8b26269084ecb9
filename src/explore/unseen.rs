//! What a report says it could not check: a body blocked outside the model, a body loom
//! cannot run (too many threads; a lock taken again after its guard was dropped in a caught
//! panic; a deadlock through a `try_lock` loom made wait; a channel never dropped with messages
//! in it), a body that made no model operation
//! or spawned no model thread, and the blind spots every report lists (plain memory; what the
//! std mirror's ordering of first uses can hide).
//!
//! Invariant: a report never passes in silence over what its checker did not see: each case
//! here is either its coverage (not run, with the reason) or a line among its blind spots.

use std::sync::Arc;
use std::time::Duration;

use super::{Coverage, Report, Unsupported};
use crate::sync::model::{self, TooManyThreads};
use crate::sync::trace::Trace;

/// What no checker sees, on every report of a run.
/// A body that spawned no model thread, in words: one thread, so no interleaving.
pub(crate) const NO_MODEL_THREAD: &str = "other threads: the body spawned no model thread, so \
     no interleaving was explored (threads of std::thread are invisible)";

pub(crate) const PLAIN_MEMORY: &str = "plain memory (Box, raw pointers, std::cell, static mut): \
     accesses to it are neither interleaved nor checked for races";

/// The report of an exploration no model thread of which made progress for `stall`.
pub(super) fn blocked(watch: &model::Watch, stall: Duration) -> Unsupported {
    let last = watch.last();
    let running = watch.running();
    let thread = running
        .or_else(|| last.as_ref().map(|l| Arc::clone(&l.thread)))
        .unwrap_or_else(|| Arc::from("main"));
    let step = match &last {
        Some(last) if *last.thread == *thread => format!(
            "its last model step: {} at {}:{}",
            last.op,
            super::explain::short_file(last.at.file()),
            last.at.line()
        ),
        Some(last) => format!(
            "the last model step: `{}` {} at {}:{}",
            last.thread,
            last.op,
            super::explain::short_file(last.at.file()),
            last.at.line()
        ),
        None => "no model step was made before it".to_string(),
    };
    Unsupported {
        reason: format!(
            "blocked outside the checker: thread `{thread}` made no model progress for {}s",
            stall.as_secs_f64()
        ),
        detail: Some(format!(
            "it waits on something the checker cannot see (a std::sync primitive, a std \
             channel, I/O); {step}. The explorer thread is left blocked there (it cannot be \
             interrupted) and does not keep the process from exiting"
        )),
        instead: Some(
            "use threadproof::std's primitive in its place, or raise Budget::max_stall for a \
             body that computes that long between model steps"
                .to_string(),
        ),
    }
}

/// `report`, completed: plain memory listed among what it cannot see, and a body that made no
/// model operation (a library still on std's primitives) not checked at all, a body that
/// spawned no model thread said to be one thread, so that neither passes in silence.
pub(super) fn complete<O>(mut report: Report<O>) -> Report<O> {
    // Taken whatever the report: it must not carry over to the next exploration here.
    let made_late = crate::std::rt::take_made_late();
    if report.unsupported().is_some() {
        return report;
    }
    let (operations, spawned) = model::exploration_steps();
    if report.failure.is_none() && report.executions > 0 {
        if operations == 0 {
            report.coverage = Coverage::Unsupported(Unsupported {
                reason: "nothing to check: the body made no operation the checker sees".into(),
                detail: Some(format!(
                    "{} executions ran no thread, lock, atomic or channel of threadproof::std: \
                     std's own primitives and threads are invisible to the checkers",
                    report.executions
                )),
                instead: Some(
                    "use threadproof::std's types behind the cfg swap (`#[cfg(threadproof)] use \
                     threadproof::std::sync::...`)"
                        .to_string(),
                ),
            });
            return report;
        }
        if !spawned {
            report.blind_spots.push(NO_MODEL_THREAD.to_string());
        }
    }
    if made_late {
        report
            .blind_spots
            .push(crate::std::rt::MADE_LATE_HIDES.to_string());
    }
    report.blind_spots.push(PLAIN_MEMORY.to_string());
    report
}

/// What can run a body loom cannot: shuttle's schedulers, which have none of loom's limits
/// named here.
const SHUTTLE_RUNS_IT: &str = "shuttle (random, pct, urw) can run it";

/// The panic of loom's own mutex once a guard of it was dropped while a panic unwound: loom's
/// mutex keeps std's poison flag inside, and its next `lock` unwraps it. That is loom's limit,
/// not the body's failure: std's lock is entered anyway (as threadproof's always is), and
/// shuttle's too. The loom run is then not a verdict: had the unwinding panic not been
/// caught, it is for the shuttle rows to report. `None` for any other stop.
pub(super) fn loom_poisoned(stop: &model::Stop) -> Option<Unsupported> {
    let model::Stop::Panicked {
        message,
        location: Some(location),
    } = stop
    else {
        return None;
    };
    if !message.starts_with("called `Result::unwrap()` on an `Err` value: PoisonError")
        || !raised_in_loom_s_lock(location)
    {
        return None;
    }
    let at = model::guard_dropped_unwinding()?;
    Some(Unsupported {
        reason: "unsupported by loom: a Mutex guard dropped while a panic unwound, then the \
                 lock taken again"
            .to_string(),
        detail: Some(format!(
            "the first guard dropped while a panic unwound in this execution was of the lock \
             taken at {}:{}; loom's mutex stays poisoned after such a drop, and a later lock of \
             it panicked inside loom",
            super::explain::short_file(at.file()),
            at.line()
        )),
        instead: Some(SHUTTLE_RUNS_IT.to_string()),
    })
}

/// Whether a panic raised at `location` (`file:line:column`) is loom's own lock unwrapping its
/// poison flag: in `lock` and `try_lock` (which pass their caller on: threadproof's loom
/// backend) or in a condvar wait relocking (loom's `src/sync/mutex.rs`). A body's own
/// `unwrap` of a poisoned lock is raised in the body's file, and stays the body's failure.
fn raised_in_loom_s_lock(location: &str) -> bool {
    let path = location.replace('\\', "/");
    path.contains("src/sync/backend/loom.rs")
        || (path.contains("/loom-") && path.contains("/src/sync/mutex.rs"))
}

/// Loom's deadlock with a thread waiting inside a `try_lock`: loom blocks a thread at its
/// `try_lock` when another thread takes the lock first, and unblocks it only at the release;
/// std's `try_lock` returns at once, so loom cannot tell whether std deadlocks there, unless
/// threads outside any `try_lock` wait for each other's mutexes in a cycle (`trace`), which no
/// `try_lock` returning changes. `None` for any other stop, and for such a cycle.
pub(super) fn loom_blocked_try(stop: &model::Stop, trace: Option<&Trace>) -> Option<Unsupported> {
    if !matches!(stop, model::Stop::Deadlock) || !model::in_try_lock() {
        return None;
    }
    if trace.is_some_and(Trace::waits_in_a_lock_cycle) {
        return None;
    }
    Some(Unsupported {
        reason: "unsupported by loom: a deadlock with a thread waiting inside a try_lock"
            .to_string(),
        detail: Some(
            "loom blocks a thread at its try_lock when another thread takes the lock first, \
             until that thread lets it go; std's try_lock returns at once, so loom cannot tell \
             whether std deadlocks here (no cycle of threads waiting for each other's mutexes \
             outside a try_lock was found)"
                .to_string(),
        ),
        instead: Some(SHUTTLE_RUNS_IT.to_string()),
    })
}

/// Loom's check that every message of its channels was received, tripped by a channel of the
/// body's that was never dropped (a receiver forgotten, leaked, in a cycle or a static) while a
/// thread still ran when the body returned (or a value a thread returned, never joined, was
/// dropped after it): threadproof's channel carries the causality of each
/// message and each sender's drop on a channel of loom's own, received when the message is
/// taken or dropped, or by the harness once the body has returned with every thread finished
/// (`model::receive_tokens_left`). std has no such check, so the run is loom's limit, not the
/// body's failure. `None` for any other stop, and for a leak with no such token left.
pub(super) fn loom_leaked(stop: &model::Stop) -> Option<Unsupported> {
    let model::Stop::Panicked { message, .. } = stop else {
        return None;
    };
    let unreceived = model::tokens_unreceived();
    if !message.starts_with("Messages leaked.") || unreceived == 0 {
        return None;
    }
    Some(Unsupported {
        reason: "unsupported by loom: a channel never dropped, and a thread (or a value it \
                 returned) outliving the body"
            .to_string(),
        detail: Some(format!(
            "{unreceived} causality token(s) of the body's channels (one per message, one per \
             sender dropped) were never taken: their channel was never dropped (a receiver \
             forgotten, leaked, kept in a cycle or in a static), and a thread was still running \
             when the body returned, or a value a thread returned was dropped after it, so they \
             were not received at its end; each is a message on \
             a channel of loom's own, and loom fails an execution whose channels end holding \
             messages"
        )),
        instead: Some(SHUTTLE_RUNS_IT.to_string()),
    })
}

/// Loom's thread cap, in words.
pub(super) fn too_many_threads(too_many: &TooManyThreads) -> Unsupported {
    let timer = if too_many.timer {
        " (one of them the timer thread that models the body's timeouts)"
    } else {
        ""
    };
    Unsupported {
        reason: format!(
            "unsupported by loom: at least {} threads{timer}, loom allows {} besides main",
            too_many.spawned, too_many.limit
        ),
        detail: Some(format!(
            "the thread past the limit is spawned at {}:{}",
            super::explain::short_file(too_many.at.file()),
            too_many.at.line()
        )),
        instead: Some(SHUTTLE_RUNS_IT.to_string()),
    }
}
