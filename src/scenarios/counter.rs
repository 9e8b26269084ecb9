//! `counter` (notes `In[7]-[8]`, RunNumbers): threads named `THREAD 3`, `THREAD 2`, `THREAD 1`
//! (started in that order) each print `Printing Number {counter} by thread {name}` and increment
//! the counter, both under one lock.
//!
//! Invariant: the printed numbers are 0..k-1 in print order, and each thread prints exactly
//! once. Which thread prints which number is up to the scheduler.
//!
//! ```text
//!   THREAD 3 ─┐
//!   THREAD 2 ─┼─ lock ─ print counter ─ counter += 1 ─ unlock    (one thread at a time)
//!   THREAD 1 ─┘
//! ```
//!
//! Mutant `increment-outside-lock`: `self.counter += 1` moved out of the `with self.lock:`
//! block. A thread can print before the previous printer's increment lands (two lines with
//! the same number), or two increments can read the same value (a lost increment).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::notes;
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::{current_thread_name, spawn, AtomicUsize, Mutex, Primitives};

/// The number of printing threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterConfig {
    threads: usize,
}

impl CounterConfig {
    /// Rejects zero threads.
    pub fn new(threads: usize) -> Result<Self, ConfigError> {
        Ok(CounterConfig {
            threads: thread_count(threads)?,
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The threads' names in start order: `THREAD k` down to `THREAD 1`, as in the notes.
    pub fn names(&self) -> Vec<String> {
        (1..=self.threads)
            .rev()
            .map(|i| format!("THREAD {i}"))
            .collect()
    }
}

/// One printed line: `Printing Number {number} by thread {thread}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CounterLine {
    pub number: usize,
    pub thread: String,
}

impl CounterLine {
    pub fn render(&self) -> String {
        format!("Printing Number {} by thread {}", self.number, self.thread)
    }

    /// Parses a rendered line back; `None` for any other shape.
    pub fn parse(line: &str) -> Option<CounterLine> {
        let rest = line.strip_prefix("Printing Number ")?;
        let (number, thread) = rest.split_once(" by thread ")?;
        Some(CounterLine {
            number: number.parse().ok()?,
            thread: thread.to_owned(),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterVariant {
    /// Print and increment under one lock acquisition.
    Locked,
    /// Mutant: the increment after the lock is released.
    IncrementOutsideLock,
}

impl Variant for CounterVariant {
    const ALL: &'static [Self] = &[CounterVariant::Locked, CounterVariant::IncrementOutsideLock];
    const PRODUCTION: Self = CounterVariant::Locked;

    fn name(self) -> &'static str {
        match self {
            CounterVariant::Locked => "locked",
            CounterVariant::IncrementOutsideLock => "increment-outside-lock",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            CounterVariant::Locked => None,
            CounterVariant::IncrementOutsideLock => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "the increment is done after the lock is released",
            )),
        }
    }
}

/// The notes' `RunNumbers`: the counter, and the lock that guards it and the printing.
pub struct RunNumbers<P: Primitives> {
    /// What was printed, in print order; the lock of the notes' `with self.lock`.
    printed: Mutex<P, Vec<CounterLine>>,
    /// The notes' `self.counter`: read and written only under `printed`'s lock (correct
    /// version). An atomic, so that the mutant's unlocked increment is a race of values, not
    /// undefined behaviour.
    counter: AtomicUsize<P>,
    variant: CounterVariant,
}

impl<P: Primitives> RunNumbers<P> {
    pub fn new(variant: CounterVariant) -> Self {
        RunNumbers {
            printed: Mutex::new(Vec::new()),
            counter: AtomicUsize::new(0),
            variant,
        }
    }

    /// The notes' `print_nums`: print the counter with the thread's name, and increment it.
    pub fn print_nums(&self) {
        let thread = current_thread_name::<P>().unwrap_or_else(|| "<unnamed>".to_owned());
        let mut printed = self.printed.lock();
        let number = self.counter.load(Relaxed);
        printed.push(CounterLine { number, thread });
        match self.variant {
            CounterVariant::Locked => self.counter.store(number + 1, Relaxed),
            CounterVariant::IncrementOutsideLock => {
                // MUTANT increment-outside-lock: `self.counter += 1` after the `with` block.
                drop(printed);
                let counter = self.counter.load(Relaxed);
                self.counter.store(counter + 1, Relaxed);
            }
        }
    }

    /// The lines printed so far, in print order.
    pub fn printed(&self) -> Vec<CounterLine> {
        self.printed.lock().clone()
    }
}

pub struct Counter;

impl Scenario for Counter {
    const NAME: &'static str = "counter";
    const NOTES_CELL: &'static str = "In[7]-[8]";

    type Config = CounterConfig;
    type Variant = CounterVariant;
    type Outcome = Vec<CounterLine>;

    fn notes_config() -> CounterConfig {
        CounterConfig {
            threads: notes::COUNTER_THREADS,
        }
    }

    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<CounterConfig, ConfigError> {
        CounterConfig::new(params.threads.unwrap_or(3))
    }

    /// The notes' `run()`: start the named threads, then join them.
    fn run<P: Primitives>(
        config: &CounterConfig,
        variant: CounterVariant,
        _world: World,
    ) -> Result<Vec<CounterLine>, RunError> {
        let numbers = Arc::new(RunNumbers::<P>::new(variant));
        let threads = config
            .names()
            .into_iter()
            .map(|name| {
                let numbers = Arc::clone(&numbers);
                spawn::<P, _, _>(name, move || numbers.print_nums())
            })
            .collect::<Result<Vec<_>, _>>()?;
        for thread in threads {
            thread.join()?;
        }
        Ok(numbers.printed())
    }

    fn invariant(config: &CounterConfig, lines: &Vec<CounterLine>) -> Result<(), String> {
        if lines.len() != config.threads {
            return Err(format!(
                "{} lines for {} threads",
                lines.len(),
                config.threads
            ));
        }
        for (i, line) in lines.iter().enumerate() {
            if line.number != i {
                return Err(format!(
                    "line {} is `{}`: expected number {i}",
                    i + 1,
                    line.render()
                ));
            }
        }
        let mut printers: Vec<&str> = lines.iter().map(|l| l.thread.as_str()).collect();
        printers.sort_unstable();
        let mut names = config.names();
        names.sort_unstable();
        if printers != names {
            return Err(format!(
                "the printers {printers:?} are not each of {names:?} once"
            ));
        }
        Ok(())
    }

    fn render(lines: &Vec<CounterLine>) -> String {
        lines.iter().map(|line| line.render() + "\n").collect()
    }
}
