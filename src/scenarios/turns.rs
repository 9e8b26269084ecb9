//! `turns` (seed In[9]-[11], NumberPrinter): k threads print 1..=n in strict rotation.
//!
//! Invariant: line i is printed by thread (i-1) % k, for i in 1..=n, and every thread
//! terminates.
//!
//! ```text
//!   Thread-0: 1 ─wake 1─► Thread-1: 2 ─wake 2─► Thread-2: 3 ─wake 0─► Thread-0: 4 ...
//! ```
//!
//! Each thread holds the lock except while it waits, waits while it is not its turn, prints,
//! passes the turn on and wakes the next thread. The correct version wakes only that thread
//! (one condvar per thread: `targeted`), so no thread wakes just to find it must sleep again;
//! the seed's version (`notify-all`: one shared condvar, every thread woken every turn) is kept
//! for comparison.
//!
//! Mutants:
//! - `notify-one`: the seed's shared condvar with `notify_one`. The one woken thread may be
//!   one whose turn it is not; it sleeps again, nobody wakes the right one: deadlock.
//! - `if-not-while`: the targeted version waiting under `if`. Correct as long as every wakeup
//!   is a notification, so it passes any checker that never wakes spuriously; one spurious
//!   wakeup makes a thread print out of turn.

use std::sync::Arc;

use super::seed;
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::{spawn, Condvar, Mutex, Primitives};

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
    /// One condvar per thread; each turn wakes only the next thread.
    Targeted,
    /// The seed's version: one condvar, `notify_all` every turn.
    NotifyAll,
    /// Mutant: one condvar, `notify_one`.
    NotifyOne,
    /// Mutant: the targeted version with `if` instead of `while` around `wait`.
    IfNotWhile,
}

impl Variant for TurnsVariant {
    const ALL: &'static [Self] = &[
        TurnsVariant::Targeted,
        TurnsVariant::NotifyAll,
        TurnsVariant::NotifyOne,
        TurnsVariant::IfNotWhile,
    ];
    const PRODUCTION: Self = TurnsVariant::Targeted;

    fn name(self) -> &'static str {
        match self {
            TurnsVariant::Targeted => "targeted",
            TurnsVariant::NotifyAll => "notify-all",
            TurnsVariant::NotifyOne => "notify-one",
            TurnsVariant::IfNotWhile => "if-not-while",
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
        }
    }
}

impl TurnsVariant {
    fn targeted(self) -> bool {
        matches!(self, TurnsVariant::Targeted | TurnsVariant::IfNotWhile)
    }
}

/// What the threads share: the seed's `current` and `turn`, and the printed lines.
struct Board {
    current: usize,
    turn: usize,
    lines: Vec<Line>,
}

struct Printer<P: Primitives> {
    config: TurnsConfig,
    variant: TurnsVariant,
    board: Mutex<P, Board>,
    /// One condvar per thread when targeted; one shared by all otherwise.
    wakeups: Vec<Condvar<P>>,
}

impl<P: Primitives> Printer<P> {
    fn wakeup_of(&self, thread: usize) -> &Condvar<P> {
        &self.wakeups[thread % self.wakeups.len()]
    }

    /// The seed's `print_number(thread_id)`.
    fn print_numbers(&self, id: usize) {
        let n = self.config.n;
        let waits = |board: &Board| board.current <= n && board.turn != id;
        let mut board = self.board.lock();
        loop {
            if self.variant == TurnsVariant::IfNotWhile {
                if waits(&board) {
                    board = self.wakeup_of(id).wait(board);
                }
            } else {
                while waits(&board) {
                    board = self.wakeup_of(id).wait(board);
                }
            }
            if board.current > n {
                return;
            }
            let number = board.current;
            board.lines.push(Line { thread: id, number });
            board.current += 1;
            board.turn = (board.turn + 1) % self.config.threads;
            if board.current > n {
                // Everyone still waiting must see the end and leave.
                for wakeup in &self.wakeups {
                    wakeup.notify_all();
                }
            } else {
                match self.variant {
                    TurnsVariant::Targeted | TurnsVariant::IfNotWhile => {
                        self.wakeup_of(board.turn).notify_one()
                    }
                    TurnsVariant::NotifyAll => self.wakeup_of(board.turn).notify_all(),
                    TurnsVariant::NotifyOne => self.wakeup_of(board.turn).notify_one(),
                }
            }
        }
    }
}

pub struct Turns;

impl Scenario for Turns {
    const NAME: &'static str = "turns";
    const SEED: &'static str = "In[9]-[11]";

    type Config = TurnsConfig;
    type Variant = TurnsVariant;
    type Outcome = Vec<Line>;

    fn seed_config() -> TurnsConfig {
        TurnsConfig {
            threads: seed::TURNS_THREADS,
            n: seed::TURNS_LAST,
        }
    }

    const PARAMS: &'static [&'static str] = &["threads", "n"];

    /// Three threads, as the seed, so that `notify-one` can wake the wrong one; three numbers,
    /// so that every thread prints once.
    fn model_config() -> TurnsConfig {
        TurnsConfig { threads: 3, n: 3 }
    }

    fn config(params: &Params) -> Result<TurnsConfig, ConfigError> {
        let seed = Self::seed_config();
        TurnsConfig::new(
            params.threads.unwrap_or(seed.threads),
            params.n.unwrap_or(seed.n),
        )
    }

    fn run<P: Primitives>(
        config: &TurnsConfig,
        variant: TurnsVariant,
        _world: World,
    ) -> Result<Vec<Line>, RunError> {
        let condvars = if variant.targeted() {
            config.threads
        } else {
            1
        };
        let printer = Arc::new(Printer::<P> {
            config: *config,
            variant,
            board: Mutex::new(Board {
                current: 1,
                turn: 0,
                lines: Vec::with_capacity(config.n),
            }),
            wakeups: (0..condvars).map(|_| Condvar::new()).collect(),
        });
        let threads = (0..config.threads)
            .map(|id| {
                let printer = Arc::clone(&printer);
                spawn::<P, _, _>(format!("Thread-{id}"), move || printer.print_numbers(id))
            })
            .collect::<Result<Vec<_>, _>>()?;
        for thread in threads {
            thread.join()?;
        }
        let lines = std::mem::take(&mut printer.board.lock().lines);
        Ok(lines)
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
