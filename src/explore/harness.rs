//! The harness every checker runs a body in: the [`Recorder`] that counts executions, enforces
//! the budget and records outcomes; [`run_checker`], which turns a checker's panics into how
//! its run ended; the panic hook that keeps findings quiet; and the progress callback.
//!
//! Every exploration runs in [`guarded`]: on an OS thread of its own, watched for a body blocked
//! outside the model, and its report completed with what no checker sees.
//!
//! Invariant: the budget is checked before every execution (loom checks its own limits only
//! once per 20,000) and its time at model steps inside one; a panic during an exploration is a
//! finding, never a crash; a body stuck outside the model is a report, never a hang.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use super::unseen::{
    blocked, complete, loom_blocked_try, loom_leaked, loom_poisoned, too_many_threads,
};
use super::{Budget, Found, Report, Shape, Unsupported};
use crate::sync::model::{self, Stop, TooManyThreads};
use crate::sync::trace;

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
    /// The executions of the whole exploration, for progress, when it runs in parts
    /// ([`Recorder::part`]); `None`: this recorder's own.
    all: Option<Arc<AtomicU64>>,
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
            all: None,
        }
    }

    /// A recorder for one part of this exploration (a worker's chunk of schedules): its own
    /// executions, outcomes and shape, so that parts are counted apart; the same budget, clock
    /// and progress count as every other part.
    pub(super) fn part(&mut self) -> Recorder<O> {
        let all = Arc::clone(self.all.get_or_insert_with(Default::default));
        Recorder {
            all: Some(all),
            ..Recorder::new(self.budget, self.record_traces)
        }
        .since(self.started)
    }

    fn since(mut self, started: Instant) -> Self {
        self.started = started;
        self
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
        let mut number = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(all) = &self.all {
            number = all.fetch_add(1, Ordering::Relaxed) + 1;
        }
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
        // One long execution ends at the time limit too, at a model step.
        let deadline = self.budget.max_time.map(|max| self.started + max);
        model::set_deadline(deadline, quiet_stops);
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
        model::raise_pending_restart();
        self.begin(false);
        let outcome = body();
        // What the body kept past its end (a channel forgotten, or in the outcome) holds
        // tokens of loom's channels: received now, before loom checks them for messages left.
        model::receive_tokens_left();
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

    /// What this recorder counted since the last take (its executions, outcomes and largest
    /// shape), and counting afresh: one recorder serves a worker's chunks, each counted apart.
    pub(super) fn take_counts(&self) -> (u64, BTreeMap<O, u64>, Option<Shape>) {
        let largest = self
            .largest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        (
            self.executions.swap(0, Ordering::Relaxed),
            self.take_outcomes(),
            largest,
        )
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
    /// The exploration starts again from its first execution: a panic that
    /// [`model::is_restart`] says asks for it (a timed wait without the timer, a
    /// `threadproof::std` object without the atomics that order it under loom, a try operation
    /// on an `RwLock` that hands its lock over).
    Restart,
}

/// Runs one checker invocation, turning its panics into a [`RunEnd`].
pub(super) fn run_checker(check: impl FnOnce()) -> RunEnd {
    let exploring = Exploring::start();
    let result = panic::catch_unwind(AssertUnwindSafe(check));
    drop(exploring);
    let end = match result {
        Ok(()) => match model::take_stop() {
            Some(Stop::Restart) => RunEnd::Restart,
            Some(Stop::OutOfTime) => RunEnd::OutOfBudget,
            Some(Stop::Panicked { message, .. }) if wrong_checker(&message).is_some() => {
                RunEnd::Unsupported(wrong_checker(&message).expect("checked"))
            }
            Some(stop) => failed(stop),
            None => RunEnd::Completed,
        },
        Err(payload) => {
            if payload.is::<BudgetExhausted>() || payload.is::<model::OutOfTime>() {
                RunEnd::OutOfBudget
            } else if model::is_restart(&*payload) {
                RunEnd::Restart
            } else if let Some(InvariantViolation(complaint)) = payload.downcast_ref() {
                RunEnd::Failed(Found::from_stop(Stop::Invariant(complaint.clone())))
            } else if let Some(too_many) = payload.downcast_ref::<TooManyThreads>() {
                RunEnd::Unsupported(too_many_threads(too_many))
            } else if let Some(wrong) = wrong_checker(&model::panic_message(&*payload)) {
                RunEnd::Unsupported(wrong)
            } else {
                failed(model::stop_for_panic(&*payload))
            }
        }
    };
    trace::stop();
    end
}

/// A run that stopped for `stop`: a failure of the body, unless it is loom's own poisoned
/// mutex panicking, loom's leak check on a channel the body never dropped, or loom's deadlock
/// on a `try_lock` it made wait, which say nothing about the body (see [`loom_poisoned`],
/// [`loom_leaked`], [`loom_blocked_try`]).
fn failed(stop: Stop) -> RunEnd {
    if let Some(unsupported) = loom_poisoned(&stop).or_else(|| loom_leaked(&stop)) {
        return RunEnd::Unsupported(unsupported);
    }
    let trace = trace::take();
    match loom_blocked_try(&stop, trace.as_ref()) {
        Some(unsupported) => RunEnd::Unsupported(unsupported),
        None => RunEnd::Failed(Found::from_stop_with(stop, trace)),
    }
}

/// A body whose types belong to another checker than the one running it (raw loom types under
/// shuttle, raw shuttle types under loom): a usage error, from the panic that checker's types
/// raise outside their own runtime.
fn wrong_checker(message: &str) -> Option<Unsupported> {
    let (types, running) = if message.contains("Are you accessing a Shuttle primitive outside") {
        ("shuttle", "loom")
    } else if message.contains("cannot access Loom execution state from outside")
        || message.contains("cannot access a scoped thread local variable")
    {
        ("loom", "shuttle")
    } else {
        return None;
    };
    Some(Unsupported {
        reason: format!(
            "usage error: the body uses {types}'s own types, which work only under {types}, and \
             {running} ran it"
        ),
        detail: Some(format!("{types} says: {message}")),
        instead: Some(
            "write the body with threadproof::std's types (check!), or threadproof::sync's \
             per-backend paths (check_backends!), which run under every checker"
                .to_string(),
        ),
    })
}

/// How long no model thread may make progress before an exploration is reported blocked
/// outside the checker, unless its budget says otherwise ([`Budget::max_stall`]).
pub const STALL: Duration = Duration::from_secs(10);

/// Runs `explore` (one exploration, by `checker` within `budget`) on an OS thread of its own,
/// watched: if no model thread makes progress for the budget's stall limit (a body blocked on
/// std's own primitives or on I/O), the report says `blocked outside the checker` and who. The
/// explorer thread cannot be interrupted there: it is left blocked, detached, and does not
/// keep the process from exiting. The report is also completed with what no checker sees and
/// with a body that gave its checker nothing to see ([`complete`]).
pub(super) fn guarded<O: Send + 'static>(
    checker: String,
    budget: Budget,
    explore: impl FnOnce() -> Report<O> + Send + 'static,
) -> Report<O> {
    let stall = budget.max_stall.unwrap_or(STALL);
    let watch = Arc::new(model::Watch::default());
    let executions = Arc::new(AtomicU64::new(0));
    let (sender, receiver) = mpsc::channel();
    let (seen, counted) = (Arc::clone(&watch), Arc::clone(&executions));
    let turn = super::alone::carried();
    let worker = std::thread::Builder::new()
        .name("threadproof-explorer".to_string())
        .stack_size(8 << 20)
        .spawn(move || {
            turn.enter();
            model::watch(Some(seen));
            // Progress callbacks belong to the caller's thread: counts are passed back.
            forward_progress(counted);
            model::begin_exploration();
            let report = complete(explore());
            let _ = sender.send(report);
        });
    let worker = match worker {
        Ok(worker) => worker,
        Err(e) => {
            let why = Unsupported {
                reason: format!("the explorer thread could not start: {e}"),
                detail: None,
                instead: None,
            };
            return Report::not_run(checker, why, 0);
        }
    };
    let poll = (stall / 4).clamp(Duration::from_millis(1), Duration::from_millis(100));
    let (mut steps, mut since, mut shown) = (0, Instant::now(), 0);
    loop {
        match receiver.recv_timeout(poll) {
            Ok(report) => {
                let _ = worker.join();
                return report;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
                Err(payload) => panic::resume_unwind(payload),
                Ok(()) => unreachable!("the explorer sends its report before it returns"),
            },
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let done = executions.load(Ordering::Relaxed);
                if done != shown {
                    shown = done;
                    PROGRESS.with(|p| {
                        if let Some(progress) = p.borrow_mut().as_mut() {
                            progress(done)
                        }
                    });
                }
                let now = watch.steps.load(Ordering::Relaxed);
                if now != steps {
                    (steps, since) = (now, Instant::now());
                } else if since.elapsed() >= stall {
                    return Report::not_run(checker, blocked(&watch, stall), shown);
                }
            }
        }
    }
}

/// Shows this OS thread's progress counts to `counted` (the explorer thread's, or a worker's
/// of the same exploration), for the caller's thread to pass on.
fn forward_progress(counted: Arc<AtomicU64>) {
    let forward = Arc::clone(&counted);
    PROGRESS
        .with(|p| *p.borrow_mut() = Some(Box::new(move |n| forward.store(n, Ordering::Relaxed))));
    FORWARD.with(|f| *f.borrow_mut() = Some(counted));
}

/// What a worker thread of an exploration shares with the explorer thread that runs it (see
/// [`guarded`]): the stall watch its model steps count for, and the progress count it shows.
/// Taken on the explorer thread ([`Helping::take`]); each worker runs in [`Helping::run`].
pub(super) struct Helping {
    watch: Option<Arc<model::Watch>>,
    progress: Option<Arc<AtomicU64>>,
}

/// A worker's model operations, and whether it spawned a model thread, for the explorer thread
/// to count as its own ([`Helped::count`]): a body that made none is not checked at all.
pub(super) struct Helped(u64, bool);

impl Helping {
    pub(super) fn take() -> Helping {
        Helping {
            watch: model::watching(),
            progress: FORWARD.with(|f| f.borrow().clone()),
        }
    }

    /// A watch of a worker's own: workers sharing the explorer's would contend on it at
    /// every model step. [`Helping::relay`] shows its progress on the explorer's.
    pub(super) fn worker_watch(&self) -> Option<Arc<model::Watch>> {
        self.watch.as_ref().map(|_| Arc::default())
    }

    /// Shows on the explorer's watch that the workers watched by `workers` made progress
    /// since `seen` (their step counts, updated), with the last step of one that did.
    pub(super) fn relay(&self, workers: &[Option<Arc<model::Watch>>], seen: &mut [u64]) {
        let Some(explorer) = &self.watch else { return };
        for (worker, seen) in workers.iter().zip(seen) {
            let Some(worker) = worker else { continue };
            let now = worker.steps.load(Ordering::Relaxed);
            if now == *seen {
                continue;
            }
            *seen = now;
            explorer.steps.fetch_add(1, Ordering::Relaxed);
            explorer.show(worker);
        }
    }

    /// Runs `work` on this worker OS thread as a part of the explorer thread's exploration:
    /// its steps shown to `watch` (from [`Helping::worker_watch`]) for a stall, its progress
    /// shown, its model steps counted from zero.
    pub(super) fn run<R>(
        &self,
        watch: Option<Arc<model::Watch>>,
        work: impl FnOnce() -> R,
    ) -> (R, Helped) {
        model::watch(watch);
        if let Some(progress) = &self.progress {
            forward_progress(Arc::clone(progress));
        }
        model::begin_exploration();
        let result = work();
        let (operations, spawned) = model::exploration_steps();
        (result, Helped(operations, spawned))
    }
}

impl Helped {
    /// Counts the worker's model steps as the calling (explorer) thread's.
    pub(super) fn count(self) {
        model::add_exploration_steps(self.0, self.1);
    }
}

thread_local! {
    /// Set while an exploration runs on this OS thread (loom and shuttle run every model
    /// thread as a coroutine on it).
    static EXPLORING: Cell<bool> = const { Cell::new(false) };
    /// Called with the number of executions so far, every few executions (progress bars).
    static PROGRESS: RefCell<Option<Progress>> = const { RefCell::new(None) };
    /// Where this explorer (or worker) thread passes its progress counts (see [`guarded`]).
    static FORWARD: RefCell<Option<Arc<AtomicU64>>> = const { RefCell::new(None) };
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
