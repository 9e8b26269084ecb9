//! `turns` (notes `In[9]-[11]`, NumberPrinter): k threads print 1..=n in strict rotation.
//!
//! Invariant: line i is printed by thread (i-1) % k, for i in 1..=n, and every thread
//! terminates.
//!
//! ```text
//!   Thread-0: 1 ─wake 1─► Thread-1: 2 ─wake 2─► Thread-2: 3 ─wake 0─► Thread-0: 4 ...
//! ```
//!
//! Each thread waits while it is not its turn, prints, passes the turn on and wakes the next
//! thread. The correct version (`targeted`) gives each thread a condvar of its own and spends
//! one wakeup per turn: the thread passing the turn notifies only a thread that sleeps, and
//! lets go of the lock before it does, so the woken thread usually finds the lock free instead
//! of blocking on it until its waker sleeps (a second wakeup); with nobody to wake, it keeps
//! the lock. The notes' version (`notify-all`: one shared condvar, every thread
//! woken every turn to find out whose turn it is) is kept for comparison. Thread-0 is the
//! calling thread (see `run_printers`).
//!
//! Mutants, each a small function of its own in place of the correct one:
//! - `notify-one`: the notes' shared condvar with `notify_one`. The one woken thread may be
//!   one whose turn it is not; it sleeps again, nobody wakes the right one: deadlock.
//! - `if-not-while`: the targeted version waiting under `if`. Correct as long as every wakeup
//!   is a notification, so it passes any checker that never wakes spuriously; one spurious
//!   wakeup makes a thread print out of turn.
//! - `lost-handoff`: the targeted version looking at who sleeps, letting go of the lock, and
//!   only then passing the turn. The next thread, awake when looked at, may fall asleep before
//!   the turn reaches it, and nobody wakes it: deadlock.

use std::sync::Arc;

use super::notes;
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::{spawn, Condvar, Mutex, MutexGuard, Primitives};

/// k threads and the last number n.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TurnsConfig {
    threads: usize,
    n: usize,
}

impl TurnsConfig {
    /// Rejects zero threads: nobody would ever print, and a waiter would wait forever.
    pub fn new(threads: usize, n: usize) -> Result<Self, ConfigError> {
        Ok(TurnsConfig {
            threads: thread_count(threads)?,
            n,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn n(&self) -> usize {
        self.n
    }
}

/// One printed line: `Thread-{thread}: {number}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    pub thread: usize,
    pub number: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnsVariant {
    /// One seat per thread; each turn is passed with at most one wakeup, of the next thread.
    Targeted,
    /// The notes' version: one condvar, `notify_all` every turn.
    NotifyAll,
    /// Mutant: the notes' version with `notify_one`.
    NotifyOne,
    /// Mutant: the targeted version with `if` instead of `while` around `wait`.
    IfNotWhile,
    /// Mutant: the targeted version passing the turn after letting go of the lock.
    LostHandoff,
}

impl Variant for TurnsVariant {
    const ALL: &'static [Self] = &[
        TurnsVariant::Targeted,
        TurnsVariant::NotifyAll,
        TurnsVariant::NotifyOne,
        TurnsVariant::IfNotWhile,
        TurnsVariant::LostHandoff,
    ];
    const PRODUCTION: Self = TurnsVariant::Targeted;

    fn name(self) -> &'static str {
        match self {
            TurnsVariant::Targeted => "targeted",
            TurnsVariant::NotifyAll => "notify-all",
            TurnsVariant::NotifyOne => "notify-one",
            TurnsVariant::IfNotWhile => "if-not-while",
            TurnsVariant::LostHandoff => "lost-handoff",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            TurnsVariant::Targeted | TurnsVariant::NotifyAll => None,
            TurnsVariant::NotifyOne => Some(Mutant::caught_as(
                FailureKind::Deadlock,
                "notify_one on a condvar shared by every thread (lost wakeup)",
            )),
            TurnsVariant::IfNotWhile => Some(
                Mutant::caught_as(
                    FailureKind::InvariantViolated,
                    "if instead of while around wait (out-of-turn print on a spurious wakeup)",
                )
                .needing_spurious_wakeups(),
            ),
            TurnsVariant::LostHandoff => Some(Mutant::caught_as(
                FailureKind::Deadlock,
                "sees who sleeps, lets go of the lock, then passes the turn (lost wakeup)",
            )),
        }
    }
}

/// What the threads share, under one lock: the notes' `current` and `turn`, and the lines.
struct Board {
    current: usize,
    turn: usize,
    lines: Vec<Line>,
}

impl Board {
    fn new(n: usize) -> Self {
        Board {
            current: 1,
            turn: 0,
            lines: Vec::with_capacity(n),
        }
    }

    /// Whether thread `id` must wait: numbers are left, and the turn is another's.
    fn waits(&self, id: usize, n: usize) -> bool {
        self.current <= n && self.turn != id
    }

    /// Prints the next number as `id`'s line; false once every number is printed.
    fn print_next(&mut self, id: usize, n: usize) -> bool {
        if self.current > n {
            return false;
        }
        self.lines.push(Line {
            thread: id,
            number: self.current,
        });
        self.current += 1;
        true
    }
}

/// The targeted version's shared state: the board, and which threads sleep on their condvar.
struct Seats {
    board: Board,
    asleep: Vec<bool>,
}

type Guard<'a, P> = MutexGuard<'a, P, Seats>;
/// How thread `id` waits, holding the lock, until the turn is its or every number is printed.
type Wait<P> = for<'a> fn(&'a Targeted<P>, usize, Guard<'a, P>) -> Guard<'a, P>;
/// How a thread that has just printed passes the turn on; it returns holding the lock.
type Pass<P> = for<'a> fn(&'a Targeted<P>, Guard<'a, P>) -> Guard<'a, P>;

/// Whom passing the turn wakes.
enum Wake {
    Nobody,
    One(usize),
    /// After the last number: every thread still asleep, to see the end and leave.
    Every(Vec<usize>),
}

/// The targeted version: one lock over the board, one condvar per thread.
struct Targeted<P: Primitives> {
    config: TurnsConfig,
    seats: Mutex<P, Seats>,
    wakeups: Vec<Condvar<P>>,
}

impl<P: Primitives> Targeted<P> {
    /// A thread's life: wait for the turn, print, pass it on, until every number is printed.
    fn take_turns(&self, id: usize, wait: Wait<P>, pass: Pass<P>) {
        let mut seats = self.seats.lock();
        loop {
            seats = wait(self, id, seats);
            if !seats.board.print_next(id, self.config.n) {
                return;
            }
            seats = pass(self, seats);
        }
    }

    fn wait_for_turn<'a>(&'a self, id: usize, mut seats: Guard<'a, P>) -> Guard<'a, P> {
        while seats.board.waits(id, self.config.n) {
            seats = self.sleep(id, seats);
        }
        seats
    }

    fn sleep<'a>(&'a self, id: usize, mut seats: Guard<'a, P>) -> Guard<'a, P> {
        seats.asleep[id] = true;
        seats = self.wakeups[id].wait(seats);
        seats.asleep[id] = false;
        seats
    }

    /// Passes the turn to the next thread and wakes it if it sleeps (at the end, every
    /// sleeper), after letting go of the lock; returns holding the lock again.
    fn pass_turn<'a>(&'a self, mut seats: Guard<'a, P>) -> Guard<'a, P> {
        let next = self.next_after(seats.board.turn);
        seats.board.turn = next;
        match self.to_wake(&seats, next) {
            // Nobody to wake: no reason to let go of the lock only to take it back.
            Wake::Nobody => seats,
            wake => {
                drop(seats);
                self.wake(wake);
                self.seats.lock()
            }
        }
    }

    fn next_after(&self, id: usize) -> usize {
        (id + 1) % self.config.threads
    }

    fn to_wake(&self, seats: &Seats, next: usize) -> Wake {
        if seats.board.current > self.config.n {
            let sleepers: Vec<usize> = (0..self.config.threads)
                .filter(|&id| seats.asleep[id])
                .collect();
            if sleepers.is_empty() {
                Wake::Nobody
            } else {
                Wake::Every(sleepers)
            }
        } else if seats.asleep[next] {
            Wake::One(next)
        } else {
            Wake::Nobody
        }
    }

    fn wake(&self, wake: Wake) {
        match wake {
            Wake::Nobody => {}
            Wake::One(id) => self.wakeups[id].notify_one(),
            Wake::Every(ids) => {
                for id in ids {
                    self.wakeups[id].notify_one();
                }
            }
        }
    }

    /// MUTANT if-not-while: sleeps once instead of until the turn is here, trusting that
    /// nothing but a notification wakes it.
    fn wait_once<'a>(&'a self, id: usize, mut seats: Guard<'a, P>) -> Guard<'a, P> {
        if seats.board.waits(id, self.config.n) {
            seats = self.sleep(id, seats);
        }
        seats
    }

    /// MUTANT lost-handoff: sees who sleeps and lets go of the lock before passing the turn:
    /// the next thread, awake then, may fall asleep before the turn reaches it, unwoken.
    fn pass_turn_late<'a>(&'a self, seats: Guard<'a, P>) -> Guard<'a, P> {
        let next = self.next_after(seats.board.turn);
        let wake = self.to_wake(&seats, next);
        drop(seats);
        self.seats.lock().board.turn = next;
        self.wake(wake);
        self.seats.lock()
    }

    fn run(config: &TurnsConfig, wait: Wait<P>, pass: Pass<P>) -> Result<Vec<Line>, RunError> {
        let printer = Arc::new(Targeted::<P> {
            config: *config,
            seats: Mutex::new(Seats {
                board: Board::new(config.n),
                asleep: vec![false; config.threads],
            }),
            wakeups: (0..config.threads).map(|_| Condvar::new()).collect(),
        });
        let printer_in = Arc::clone(&printer);
        run_printers::<P>(config.threads, move |id| {
            printer_in.take_turns(id, wait, pass)
        })?;
        let lines = std::mem::take(&mut printer.seats.lock().board.lines);
        Ok(lines)
    }
}

/// Runs `print(id)` for every thread id: Thread-0 on the calling thread, the others on
/// threads of their own, joined before it returns. The caller taking the first seat saves a
/// thread for the checkers to interleave (loom explores several times fewer executions).
fn run_printers<P: Primitives>(
    threads: usize,
    print: impl Fn(usize) + Clone + Send + 'static,
) -> Result<(), RunError> {
    let others = (1..threads)
        .map(|id| {
            let print = print.clone();
            spawn::<P, _, _>(format!("Thread-{id}"), move || print(id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    print(0);
    for thread in others {
        thread.join()?;
    }
    Ok(())
}

/// The notes' version: one lock over the board, one condvar for every thread.
struct Condition<P: Primitives> {
    config: TurnsConfig,
    board: Mutex<P, Board>,
    condition: Condvar<P>,
}

impl<P: Primitives> Condition<P> {
    /// The notes' `print_number(thread_id)`, notifying with `notify` after each turn.
    fn print_numbers(&self, id: usize, notify: fn(&Condvar<P>)) {
        let mut board = self.board.lock();
        loop {
            while board.waits(id, self.config.n) {
                board = self.condition.wait(board);
            }
            if !board.print_next(id, self.config.n) {
                return;
            }
            board.turn = (board.turn + 1) % self.config.threads;
            notify(&self.condition);
        }
    }

    fn run(config: &TurnsConfig, notify: fn(&Condvar<P>)) -> Result<Vec<Line>, RunError> {
        let printer = Arc::new(Condition::<P> {
            config: *config,
            board: Mutex::new(Board::new(config.n)),
            condition: Condvar::new(),
        });
        let printer_in = Arc::clone(&printer);
        run_printers::<P>(config.threads, move |id| {
            printer_in.print_numbers(id, notify)
        })?;
        let lines = std::mem::take(&mut printer.board.lock().lines);
        Ok(lines)
    }
}

pub struct Turns;

impl Scenario for Turns {
    const NAME: &'static str = "turns";
    const NOTES_CELL: &'static str = "In[9]-[11]";

    type Config = TurnsConfig;
    type Variant = TurnsVariant;
    type Outcome = Vec<Line>;

    fn notes_config() -> TurnsConfig {
        TurnsConfig {
            threads: notes::TURNS_THREADS,
            n: notes::TURNS_LAST,
        }
    }

    const PARAMS: &'static [&'static str] = &["threads", "n"];

    /// Three threads, as in the notes, so that `notify-one` can wake the wrong one; three numbers,
    /// so that every thread prints once.
    fn model_config() -> TurnsConfig {
        TurnsConfig { threads: 3, n: 3 }
    }

    /// Every interleaving of the targeted version at that size is 965k executions with a
    /// spurious wakeup explored (~70 s): a thread that wakes the next lets go of the lock and
    /// takes it back while the woken thread takes it too, and loom explores both orders at
    /// every such turn. Within 4 preemptions it is ~29k executions, a few seconds (the notes'
    /// `notify-all`, ~108k).
    const CHECK_PREEMPTION_BOUND: Option<usize> = Some(4);

    fn config(params: &Params) -> Result<TurnsConfig, ConfigError> {
        let notes = Self::notes_config();
        TurnsConfig::new(
            params.threads.unwrap_or(notes.threads),
            params.n.unwrap_or(notes.n),
        )
    }

    fn run<P: Primitives>(
        config: &TurnsConfig,
        variant: TurnsVariant,
        _world: World,
    ) -> Result<Vec<Line>, RunError> {
        match variant {
            TurnsVariant::Targeted => {
                Targeted::<P>::run(config, Targeted::wait_for_turn, Targeted::pass_turn)
            }
            TurnsVariant::IfNotWhile => {
                Targeted::<P>::run(config, Targeted::wait_once, Targeted::pass_turn)
            }
            TurnsVariant::LostHandoff => {
                Targeted::<P>::run(config, Targeted::wait_for_turn, Targeted::pass_turn_late)
            }
            TurnsVariant::NotifyAll => Condition::<P>::run(config, |c| c.notify_all()),
            TurnsVariant::NotifyOne => Condition::<P>::run(config, |c| c.notify_one()),
        }
    }

    fn invariant(config: &TurnsConfig, lines: &Vec<Line>) -> Result<(), String> {
        if lines.len() != config.n {
            return Err(format!(
                "{} lines printed, expected {}",
                lines.len(),
                config.n
            ));
        }
        for (i, line) in lines.iter().enumerate() {
            let expected = Line {
                thread: i % config.threads,
                number: i + 1,
            };
            if *line != expected {
                return Err(format!(
                    "line {} is `{}`, expected `{}`",
                    i + 1,
                    render_line(line),
                    render_line(&expected)
                ));
            }
        }
        Ok(())
    }

    fn render(lines: &Vec<Line>) -> String {
        lines.iter().map(|line| render_line(line) + "\n").collect()
    }
}

fn render_line(line: &Line) -> String {
    format!("Thread-{}: {}", line.thread, line.number)
}
