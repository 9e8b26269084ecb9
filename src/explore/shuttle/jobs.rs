//! One shuttle exploration's schedules spread over the machine's cores: schedules `0..N` in
//! fixed chunks of [`CHUNK`], each run by a [`Driver`] of its own (its scheduler seeded from
//! the run's seed and the chunk's number), taken in order by worker OS threads, each of which
//! runs shuttle on its own (every model thread of an execution is a coroutine on its worker, and
//! the model's state, the recording and the trace are per OS thread).
//!
//! Invariant: the report is the same whatever the number of workers. Chunk boundaries and
//! seeds do not depend on it, so schedule `i` is the same schedule in every run; the exploration
//! stops at the lowest schedule index that stops it (a failure, a body the checker cannot run,
//! a timed wait that needs the timer), every schedule below it runs, and what schedules past it
//! did is not counted. Only a budget in time cuts differently, as it does in one thread.
//!
//! ```text
//!   schedules  [0 ..64) [64 ..128) [128 ..192) ...     chunk c: seed c (0: the run's own)
//!   workers     w0        w1         w0 ...           first stop at i: chunks past i cancel
//!   report     chunks before i, and chunk of i up to i: executions i + 1, their outcomes
//! ```

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use ::shuttle::scheduler::{PctScheduler, RandomScheduler, UrwRandomScheduler};

use super::driver::{Driver, Inner, Mode, NextChunk, Runs, Simplicity};
use super::{Decisions, Schedules, ShuttleConfig};
use crate::explore::harness::Helping;
use crate::explore::{Recorder, RunEnd, Shape};
use crate::sync::choice::{self, Policy};
use crate::sync::model;

/// Schedules per chunk. Fixed, so that a schedule's index names the same schedule whatever the
/// number of workers; PCT and URW learn within a chunk (PCT's first schedule of each is its
/// calibration run), so a chunk is long enough for that to pay, and short enough that 1,000
/// schedules keep 16 cores busy.
pub(super) const CHUNK: usize = 64;

/// The workers an exploration uses unless told: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// What one chunk (or one replay) ran: counted apart, merged by [`merge`].
pub(super) struct Part<O> {
    /// The index of its first schedule.
    pub(super) start: usize,
    pub(super) end: RunEnd,
    /// Stopped because a schedule before it stopped the exploration: not counted.
    pub(super) cancelled: bool,
    pub(super) executions: u64,
    pub(super) outcomes: BTreeMap<O, u64>,
    pub(super) largest: Option<Shape>,
    /// The last execution's schedule (the failing one's, when it failed).
    pub(super) decisions: Decisions,
    pub(super) simplicity: Simplicity,
    pub(super) preempting: Vec<bool>,
    pub(super) most_steps: usize,
    pub(super) most_threads: usize,
    pub(super) cut: u64,
    /// In replay, whether a recorded switch never took place.
    pub(super) unapplied: bool,
    /// What the body used that shuttle sees only in part.
    pub(super) limits: Vec<String>,
}

impl<O> Part<O> {
    /// The index of the schedule that stopped the exploration in this part, if one did.
    fn stop(&self) -> Option<usize> {
        match (&self.end, self.cancelled) {
            (RunEnd::Failed(_) | RunEnd::Unsupported(_) | RunEnd::Restart, false) => {
                Some(self.start + (self.executions as usize).saturating_sub(1))
            }
            _ => None,
        }
    }
}

impl<O: Ord> Part<O> {
    /// What `driver` ran from schedule `start` and how it ended, with what `recorder` and the
    /// model counted since the part before (both count afresh for the next).
    fn of(
        recorder: &Recorder<O>,
        driver: &Driver,
        start: usize,
        end: RunEnd,
        cancelled: bool,
        replayed_switches: usize,
    ) -> Part<O> {
        let (executions, outcomes, largest) = recorder.take_counts();
        Part {
            start,
            end,
            cancelled,
            executions,
            outcomes,
            largest,
            decisions: driver.decisions.clone(),
            simplicity: driver.simplicity,
            preempting: driver.preempting.clone(),
            most_steps: driver.most_choice_steps.max(driver.choice_steps),
            most_threads: driver.most_threads.max(driver.threads),
            cut: driver.cut,
            unapplied: replayed_switches > driver.applied.len(),
            limits: model::take_limits(),
        }
    }
}

/// Runs `driver` over `runs` to its end: what it did, as a [`Part`] starting at `start`.
pub(super) fn run_part<O, B, I>(
    runs: &Runs<O, B, I>,
    driver: Driver,
    start: usize,
    cancelled: &Cell<bool>,
    replayed_switches: usize,
) -> Part<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let driver = Rc::new(RefCell::new(driver));
    let end = runs.run(&driver, None);
    let driver = driver.borrow();
    Part::of(
        &runs.recorder,
        &driver,
        start,
        end,
        cancelled.get(),
        replayed_switches,
    )
}

/// The seed of chunk `chunk`: the run's own for the first (a run of at most [`CHUNK`]
/// schedules is the one a single scheduler draws), then splitmix64 of it.
fn chunk_seed(seed: u64, chunk: usize) -> u64 {
    if chunk == 0 {
        return seed;
    }
    let mut z = seed.wrapping_add((chunk as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The exploration's shared state: the next chunk to take, the lowest schedule index known
/// to stop the exploration, and whether its time ran out.
struct Shared {
    next: AtomicUsize,
    best: AtomicUsize,
    out_of_time: AtomicBool,
}

/// Explores `config`'s schedules (`schedules` of them, from `seed`) in chunks over `jobs`
/// workers (this thread alone for one), each chunk counted apart: every part that ran, by
/// its first schedule.
#[allow(clippy::too_many_arguments)]
pub(super) fn explore_parts<O, B, I>(
    config: &ShuttleConfig,
    seed: u64,
    schedules: usize,
    chunk: usize,
    jobs: usize,
    checked: &Arc<(B, I)>,
    timer: bool,
    recorder: &mut Recorder<O>,
) -> Vec<Part<O>>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let chunks = schedules.div_ceil(chunk.max(1));
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        best: AtomicUsize::new(usize::MAX),
        out_of_time: AtomicBool::new(false),
    });
    let parts = Mutex::new(Vec::new());
    let recorder = Mutex::new(recorder);
    // Takes chunks in order until none is left, the time is out, or the next one starts past
    // a schedule known to stop the exploration.
    let work = || {
        let _installed = choice::install(Policy::Coin {
            one_in: config.spurious_one_in,
        });
        model::take_limits();
        let chunks = Rc::new(Chunks {
            shared: Arc::clone(&shared),
            config: config.clone(),
            seed,
            schedules,
            len: chunk,
            count: chunks,
            recorder: Arc::new(recorder.lock().unwrap_or_else(|e| e.into_inner()).part()),
        });
        let runs = Runs {
            recorder: Arc::clone(&chunks.recorder),
            checked: Arc::clone(checked),
            timer,
            max_steps: config.max_steps,
        };
        while let Some(first) = chunks.take() {
            for part in run_chain(&runs, &chunks, first) {
                if let Some(stop) = part.stop() {
                    shared.best.fetch_min(stop, Ordering::Relaxed);
                }
                if matches!(part.end, RunEnd::OutOfBudget) && !part.cancelled {
                    shared.out_of_time.store(true, Ordering::Relaxed);
                }
                parts.lock().unwrap_or_else(|e| e.into_inner()).push(part);
            }
        }
    };
    let workers = jobs.clamp(1, chunks.max(1));
    if workers == 1 {
        work();
    } else {
        let (helping, work) = (&Helping::take(), &work);
        let watches: Vec<_> = (0..workers).map(|_| helping.worker_watch()).collect();
        let (done, finished) = mpsc::channel::<()>();
        let turn = crate::explore::alone::carried();
        let helped = std::thread::scope(|scope| {
            let threads: Vec<_> = (watches.iter().enumerate())
                .map(|(w, watch)| {
                    let (done, watch) = (done.clone(), watch.clone());
                    std::thread::Builder::new()
                        .name(format!("threadproof-explorer-{w}"))
                        .stack_size(8 << 20)
                        .spawn_scoped(scope, move || {
                            turn.enter();
                            let helped = helping.run(watch, work).1;
                            let _ = done.send(());
                            helped
                        })
                })
                .collect();
            drop(done);
            // A worker the OS refused leaves its chunks to the others; with none, here.
            let threads: Vec<_> = threads.into_iter().flatten().collect();
            let started = threads.len();
            // Until every worker is done (or gone), their progress is the explorer's.
            let (mut left, mut seen) = (started, vec![0; workers]);
            while left > 0 {
                match finished.recv_timeout(Duration::from_millis(20)) {
                    Ok(()) => left -= 1,
                    Err(mpsc::RecvTimeoutError::Timeout) => helping.relay(&watches, &mut seen),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let mut helped = Vec::new();
            for thread in threads {
                match thread.join() {
                    Ok(h) => helped.push(h),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            if started == 0 {
                work();
            }
            helped
        });
        for h in helped {
            h.count();
        }
    }
    let mut parts = parts.into_inner().unwrap_or_else(|e| e.into_inner());
    parts.sort_by_key(|p| p.start);
    parts
}

/// A worker's way to the exploration's chunks (see [`Chunks::take`]), and the recorder that
/// counts each chunk it runs.
struct Chunks<O> {
    shared: Arc<Shared>,
    config: ShuttleConfig,
    seed: u64,
    schedules: usize,
    /// Schedules per chunk, and chunks in all.
    len: usize,
    count: usize,
    recorder: Arc<Recorder<O>>,
}

/// A chunk to run: its first schedule, its driver, and whether a stop before it cancelled it.
struct Chunk {
    start: usize,
    driver: Driver,
    cancelled: Rc<Cell<bool>>,
}

impl<O: Ord + Send + 'static> Chunks<O> {
    /// The next chunk in order, unless none is left, the time is out, or it starts past a
    /// schedule known to stop the exploration.
    fn take(&self) -> Option<Chunk> {
        let shared = &self.shared;
        let c = shared.next.fetch_add(1, Ordering::Relaxed);
        if c >= self.count || shared.out_of_time.load(Ordering::Relaxed) {
            return None;
        }
        let start = c * self.len;
        if start > shared.best.load(Ordering::Relaxed) {
            return None;
        }
        let len = self.len.min(self.schedules - start);
        let cancelled = Rc::new(Cell::new(false));
        let over_budget = {
            let (recorder, cancelled) = (Arc::clone(&self.recorder), Rc::clone(&cancelled));
            let shared = Arc::clone(shared);
            Box::new(move || {
                let next = start + recorder.executions() as usize;
                if shared.best.load(Ordering::Relaxed) < next {
                    cancelled.set(true);
                    return true;
                }
                recorder.over_budget()
            })
        };
        let mode = explore_mode(&self.config, chunk_seed(self.seed, c), len);
        let mut driver = Driver::new(mode, over_budget);
        driver.max_steps = self.config.max_steps;
        Some(Chunk {
            start,
            driver,
            cancelled,
        })
    }
}

/// Runs `first` and, while each chunk runs all its schedules, the chunks after it, in one
/// shuttle run (see [`NextChunk`]): what each did, in order.
fn run_chain<O, B, I>(runs: &Runs<O, B, I>, chunks: &Rc<Chunks<O>>, first: Chunk) -> Vec<Part<O>>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let finished = Rc::new(RefCell::new(Vec::new()));
    let running = Rc::new(RefCell::new((first.start, first.cancelled)));
    let next: NextChunk = {
        let (chunks, finished, running) =
            (Rc::clone(chunks), Rc::clone(&finished), Rc::clone(&running));
        Box::new(move |done: &Driver| {
            // With none after it, the chunk is the run's last, counted when the run ends.
            let chunk = chunks.take()?;
            let (start, cancelled) = running.replace((chunk.start, chunk.cancelled));
            let part = Part::of(
                &chunks.recorder,
                done,
                start,
                RunEnd::Completed,
                cancelled.get(),
                0,
            );
            finished.borrow_mut().push(part);
            Some(chunk.driver)
        })
    };
    let driver = Rc::new(RefCell::new(first.driver));
    let end = runs.run(&driver, Some(next));
    let (start, cancelled) = running.replace((0, Rc::default()));
    let last = Part::of(
        &runs.recorder,
        &driver.borrow(),
        start,
        end,
        cancelled.get(),
        0,
    );
    let mut parts = finished.take();
    parts.push(last);
    parts
}

/// The exploring mode of a chunk of `len` schedules from `seed`.
fn explore_mode(config: &ShuttleConfig, seed: u64, len: usize) -> Mode {
    Mode::Explore {
        inner: match config.schedules {
            Schedules::Random => Inner::Random(RandomScheduler::new_from_seed(seed, len)),
            Schedules::Urw => Inner::Urw(UrwRandomScheduler::new_from_seed(seed, len)),
            Schedules::Pct { depth } => {
                Inner::Pct(PctScheduler::new_from_seed(seed, depth.max(1), len))
            }
        },
        single_schedule: false,
        iterations_left: len,
        pct: matches!(config.schedules, Schedules::Pct { .. }),
    }
}

/// The parts of one exploration as one: those before the lowest stopping schedule (all, if
/// none stopped it) and the one it is in, which stopped there.
pub(super) struct Merged<O> {
    /// The part that ends the exploration: the one that stopped it, else the last.
    pub(super) last: Part<O>,
    pub(super) executions: u64,
    pub(super) outcomes: BTreeMap<O, u64>,
    pub(super) largest: Option<Shape>,
    pub(super) most_steps: usize,
    pub(super) most_threads: usize,
    pub(super) cut: u64,
    pub(super) out_of_time: bool,
    pub(super) limits: Vec<String>,
}

/// Merges `parts` (sorted by start; none for zero schedules) as [`Merged`] says.
pub(super) fn merge<O: Ord>(parts: Vec<Part<O>>) -> Merged<O> {
    let best = parts.iter().filter_map(Part::stop).min();
    let mut counted: Vec<Part<O>> = parts
        .into_iter()
        .filter(|p| !p.cancelled && best.is_none_or(|b| p.start <= b))
        .collect();
    let mut last = counted.pop().unwrap_or_default();
    let mut merged = Merged {
        executions: 0,
        outcomes: BTreeMap::new(),
        largest: None,
        most_steps: 0,
        most_threads: 0,
        cut: 0,
        out_of_time: false,
        limits: Vec::new(),
        last: Part::default(),
    };
    for mut part in counted {
        merged.add(&mut part);
    }
    merged.add(&mut last);
    merged.last = last;
    merged
}

impl<O> Default for Part<O> {
    fn default() -> Self {
        Part {
            start: 0,
            end: RunEnd::Completed,
            cancelled: false,
            executions: 0,
            outcomes: BTreeMap::new(),
            largest: None,
            decisions: Decisions::default(),
            simplicity: Simplicity::default(),
            preempting: Vec::new(),
            most_steps: 0,
            most_threads: 0,
            cut: 0,
            unapplied: false,
            limits: Vec::new(),
        }
    }
}

impl<O: Ord> Merged<O> {
    /// Counts `part`'s executions, outcomes and shape (taking its outcomes and limits).
    fn add(&mut self, part: &mut Part<O>) {
        self.executions += part.executions;
        for (outcome, n) in std::mem::take(&mut part.outcomes) {
            *self.outcomes.entry(outcome).or_insert(0) += n;
        }
        if let Some(shape) = part.largest {
            let largest = self.largest.get_or_insert_with(Shape::default);
            largest.threads = largest.threads.max(shape.threads);
            largest.steps = largest.steps.max(shape.steps);
        }
        self.most_steps = self.most_steps.max(part.most_steps);
        self.most_threads = self.most_threads.max(part.most_threads);
        self.cut += part.cut;
        self.out_of_time |= matches!(part.end, RunEnd::OutOfBudget);
        for limit in std::mem::take(&mut part.limits) {
            if !self.limits.contains(&limit) {
                self.limits.push(limit);
            }
        }
    }
}
