//! The harness every checker runs a body in: the [`Recorder`] that counts executions, enforces
//! the budget and records outcomes; [`run_checker`], which turns a checker's panics into how
//! its run ended; the panic hook that keeps findings quiet; and the progress callback.
//!
//! Invariant: the budget is checked before every execution (loom checks its own limits only
//! once per 20,000), and a panic during an exploration is a finding, never a crash.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::Instant;

use super::{Budget, Found, Shape, Unsupported};
use crate::sync::model::{self, Stop, TooManyThreads};
use crate::sync::trace;
use crate::sync::NeedsTimer;

/// Panic payload that ends an exploration whose budget ran out.
struct BudgetExhausted;

/// Panic payload carrying an invariant's complaint out of the model.
struct InvariantViolation(String);

/// Counts executions, enforces the budget and records outcomes; shared by every execution of
/// one exploration.
pub(super) struct Recorder<O> {
    budget: Budget,
    record_traces: bool,
    started: Instant,
    executions: AtomicU64,
    outcomes: Mutex<BTreeMap<O, u64>>,
    largest: Mutex<Option<Shape>>,
}

impl<O: Ord> Recorder<O> {
    pub(super) fn new(budget: Budget, record_traces: bool) -> Self {
        Recorder {
            budget,
            record_traces,
            started: Instant::now(),
            executions: AtomicU64::new(0),
            outcomes: Mutex::new(BTreeMap::new()),
            largest: Mutex::new(None),
        }
    }

    pub(super) fn over_budget(&self) -> bool {
        let done = self.executions.load(Ordering::Relaxed);
        let over_count = self.budget.max_executions.is_some_and(|max| done >= max);
        let over_time = self
            .budget
            .max_time
            .is_some_and(|max| self.started.elapsed() >= max);
        over_count || over_time
    }

    /// Starts an execution: counts it, shows progress, resets the model state and the trace.
    pub(super) fn begin(&self, quiet_stops: bool) {
        let number = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
        if number.is_multiple_of(256) {
            PROGRESS.with(|p| {
                if let Some(progress) = p.borrow_mut().as_mut() {
                    progress(number)
                }
            });
        }
        // The std mirror's objects dispatch to the engine running this execution and are
        // fresh in each: quiet stops are shuttle's (threadproof's scheduler), unwinding ones
        // loom's.
        let engine = [
            crate::std::rt::Engine::Loom,
            crate::std::rt::Engine::Shuttle,
        ];
        crate::std::rt::begin_execution(engine[usize::from(quiet_stops)]);
        crate::sync::timer::reset();
        model::begin(quiet_stops);
        if self.record_traces {
            trace::start();
        }
    }

    /// Ends an execution that returned `outcome`: its shape and outcome recorded, its verdict.
    pub(super) fn finish(
        &self,
        outcome: O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) -> Result<(), String> {
        crate::std::sync::check_leaks();
        if let Some((threads, steps)) = trace::shape() {
            self.note_shape(Shape { threads, steps });
        }
        let verdict = invariant(&outcome);
        *self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_insert(0) += 1;
        verdict
    }

    pub(super) fn note_shape(&self, shape: Shape) {
        let mut largest = self.largest.lock().unwrap_or_else(|e| e.into_inner());
        let largest = largest.get_or_insert_with(Shape::default);
        largest.threads = largest.threads.max(shape.threads);
        largest.steps = largest.steps.max(shape.steps);
    }

    /// One loom execution: budget check, body, invariant, record. Failures unwind into loom,
    /// which ends its exploration with them.
    pub(super) fn execute_unwinding(
        &self,
        body: &impl Fn() -> O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) {
        if self.over_budget() {
            panic::panic_any(BudgetExhausted);
        }
        self.begin(false);
        let outcome = body();
        if let Err(complaint) = self.finish(outcome, invariant) {
            trace::freeze();
            panic::panic_any(InvariantViolation(complaint));
        }
    }

    /// One shuttle execution (its main thread): body, invariant, record. A failure asks
    /// threadproof's scheduler to stop the execution, quietly (see [`model::request_stop`]).
    pub(super) fn execute_quietly(
        &self,
        body: &impl Fn() -> O,
        invariant: &impl Fn(&O) -> Result<(), String>,
    ) {
        self.begin(true);
        model::thread_started();
        let ran = panic::catch_unwind(AssertUnwindSafe(body));
        model::thread_finished();
        match ran {
            Ok(outcome) => {
                if let Err(complaint) = self.finish(outcome, invariant) {
                    model::request_stop(Stop::Invariant(complaint));
                }
            }
            Err(payload) => model::request_stop(model::stop_for_panic(&*payload)),
        }
    }

    pub(super) fn executions(&self) -> u64 {
        self.executions.load(Ordering::Relaxed)
    }

    pub(super) fn largest_execution(&self) -> Option<Shape> {
        *self.largest.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn take_outcomes(&self) -> BTreeMap<O, u64> {
        std::mem::take(&mut *self.outcomes.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Runs `body`, with the timer that models timed waits around it if `timer` holds
/// ([`crate::sync::timer`]).
pub(super) fn with_timer<P: crate::sync::Primitives, O>(timer: bool, body: &impl Fn() -> O) -> O {
    if !timer {
        return body();
    }
    let running = crate::sync::timer::start::<P>();
    let outcome = body();
    running.finish();
    outcome
}

/// How one run of a checker ended.
pub(super) enum RunEnd {
    Completed,
    OutOfBudget,
    Failed(Found),
    Unsupported(Unsupported),
    /// A timed wait began without the timer: the exploration starts again with it
    /// ([`crate::sync::NeedsTimer`]).
    NeedsTimer,
}

/// Runs one checker invocation, turning its panics into a [`RunEnd`].
pub(super) fn run_checker(check: impl FnOnce()) -> RunEnd {
    let exploring = Exploring::start();
    let result = panic::catch_unwind(AssertUnwindSafe(check));
    drop(exploring);
    let end = match result {
        Ok(()) => match model::take_stop() {
            Some(Stop::NeedsTimer) => RunEnd::NeedsTimer,
            Some(stop) => RunEnd::Failed(Found::from_stop(stop)),
            None => RunEnd::Completed,
        },
        Err(payload) => {
            if payload.is::<BudgetExhausted>() {
                RunEnd::OutOfBudget
            } else if payload.is::<NeedsTimer>() {
                RunEnd::NeedsTimer
            } else if let Some(InvariantViolation(complaint)) = payload.downcast_ref() {
                RunEnd::Failed(Found::from_stop(Stop::Invariant(complaint.clone())))
            } else if let Some(too_many) = payload.downcast_ref::<TooManyThreads>() {
                RunEnd::Unsupported(too_many_threads(too_many))
            } else {
                RunEnd::Failed(Found::from_stop(model::stop_for_panic(&*payload)))
            }
        }
    };
    trace::stop();
    end
}

/// Loom's thread cap, in words.
fn too_many_threads(too_many: &TooManyThreads) -> Unsupported {
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
        instead: Some("shuttle (random, pct, urw) can run it".to_string()),
    }
}

thread_local! {
    /// Set while an exploration runs on this OS thread (loom and shuttle run every model
    /// thread as a coroutine on it).
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
    /// Called with the number of executions so far, every few executions (progress bars).
    static PROGRESS: RefCell<Option<Progress>> = const { RefCell::new(None) };
}

/// A progress callback: told the number of executions so far.
type Progress = Box<dyn FnMut(u64)>;

/// Runs `explorations` with `progress` called every few executions with the count so far.
pub fn with_progress<R>(
    progress: impl FnMut(u64) + 'static,
    explorations: impl FnOnce() -> R,
) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            PROGRESS.with(|p| *p.borrow_mut() = None);
        }
    }
    PROGRESS.with(|p| *p.borrow_mut() = Some(Box::new(progress)));
    let _reset = Reset;
    explorations()
}

/// Marks this OS thread as exploring until dropped.
struct Exploring;

impl Exploring {
    fn start() -> Self {
        install_panic_hook();
        EXPLORING.with(|e| e.set(true));
        Exploring
    }
}

impl Drop for Exploring {
    fn drop(&mut self) {
        EXPLORING.with(|e| e.set(false));
    }
}

/// During an exploration a panic is a finding, not a crash: the hook notes each one (message,
/// location, and where the trace was) for the report and prints nothing, since the report
/// says it all. Outside an exploration, panics go to the hook that was there before (std's).
///
/// Shuttle installs a hook of its own on its first run, wrapping whatever is there; a trivial
/// run first makes ours the outer one.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let original = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        ::shuttle::Runner::new(
            ::shuttle::scheduler::RoundRobinScheduler::new(1),
            ::shuttle::Config::new(),
        )
        .run(|| {});
        panic::set_hook(Box::new(move |info| {
            if !EXPLORING.with(Cell::get) {
                return original(info);
            }
            let location = info.location().map(|l| l.to_string()).unwrap_or_default();
            model::note_panic(crate::sync::panic_message(info.payload()), location);
        }));
    });
}
