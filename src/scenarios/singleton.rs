//! `singleton` (notes `In[45]-[74]`): `DatabaseConnection.get_connection()` creates
//! `SOME CONNECTION - r` (r random in 1..=10) on first use and returns that same connection
//! ever after; here k threads race on the first call ([`crate::sync::LazyLock`]).
//!
//! Invariant: the connection is created exactly once, and every thread's line is the same
//! `SOME CONNECTION - r`, r in 1..=10.
//!
//! ```text
//!   Thread-1 ─ get_connection ─┐
//!   Thread-2 ─ get_connection ─┼─► one create() ─► SOME CONNECTION - r (×k, one r)
//!   Thread-k ─ get_connection ─┘
//! ```
//!
//! Mutants (the lazy value's own code paths, see [`crate::sync::LazyLock`]):
//! - `double-init`: the notes' `if _conn is None: _conn = create()` without a lock: two
//!   threads that both see no connection both create one. Both checkers see two creations.
//! - `relaxed-publication`: the "initialised" flag is stored and loaded `Relaxed`, so a thread
//!   on the lock-free fast path can see the flag without the connection. Loom reports the read
//!   as a causality violation (a panic); shuttle runs every atomic as SeqCst and cannot see it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::notes;
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::once_lock::Flaw;
use crate::sync::LazyLock;
use crate::sync::{spawn, AtomicUsize, Primitives};

/// How `create()` picks r.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Uniformly in 1..=10, as the notes' `random.randint(1, 10)` (production).
    Random,
    /// Always this r (models and snapshots, whose outcomes must not depend on chance).
    Fixed(u32),
}

/// The threads racing on the first `get_connection`, and how r is picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SingletonConfig {
    threads: usize,
    pick: Pick,
}

impl SingletonConfig {
    /// `threads` threads, random r; zero threads is rejected.
    pub fn new(threads: usize) -> Result<Self, ConfigError> {
        Ok(SingletonConfig {
            threads: thread_count(threads)?,
            pick: Pick::Random,
        })
    }

    /// The same config with a fixed r, which must be in 1..=10 like the notes'.
    pub fn with_r(self, r: u32) -> Result<Self, ConfigError> {
        if !notes::CONNECTION_R.contains(&r) {
            return Err(ConfigError(format!("r must be in 1..=10, not {r}")));
        }
        Ok(SingletonConfig {
            pick: Pick::Fixed(r),
            ..self
        })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    pub fn pick(&self) -> Pick {
        self.pick
    }
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SingletonOutcome {
    /// Each thread's `get_connection()`, in spawn order.
    pub lines: Vec<String>,
    /// How many times a connection was created.
    pub creations: usize,
}

/// The scenario's variants: the correct lazy value, or a known-bad initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SingletonVariant {
    /// The correct double-checked initialisation.
    DoubleChecked,
    /// Check-then-act without the lock: a thread that saw "uninitialised" creates a value
    /// outside the lock, so two racing threads both create one.
    DoubleInit,
    /// `ready` is published and read with `Relaxed`: a thread can see `ready` and not the
    /// value (loom reports the read; shuttle, whose atomics are all SeqCst, cannot).
    RelaxedPublication,
}

impl SingletonVariant {
    /// The lazy value's code path for this variant (`None`: the correct one).
    fn flaw(self) -> Option<Flaw> {
        match self {
            SingletonVariant::DoubleChecked => None,
            SingletonVariant::DoubleInit => Some(Flaw::DoubleInit),
            SingletonVariant::RelaxedPublication => Some(Flaw::RelaxedPublication),
        }
    }
}

impl Variant for SingletonVariant {
    const ALL: &'static [Self] = &[
        SingletonVariant::DoubleChecked,
        SingletonVariant::DoubleInit,
        SingletonVariant::RelaxedPublication,
    ];
    const PRODUCTION: Self = SingletonVariant::DoubleChecked;

    fn name(self) -> &'static str {
        match self {
            SingletonVariant::DoubleChecked => "double-checked",
            SingletonVariant::DoubleInit => "double-init",
            SingletonVariant::RelaxedPublication => "relaxed-publication",
        }
    }

    /// `relaxed-publication` is a weak-memory bug: shuttle cannot see it by design, and only
    /// loom must catch it (the kill matrix pins both facts down).
    fn mutant(self) -> Option<Mutant> {
        match self {
            SingletonVariant::DoubleChecked => None,
            SingletonVariant::DoubleInit => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "check-then-act without the lock (created more than once)",
            )),
            SingletonVariant::RelaxedPublication => Some(
                Mutant::caught_as(
                    FailureKind::DataRace,
                    "the initialised flag is stored and loaded Relaxed (value read before it is \
                     visible)",
                )
                .escaping_shuttle("shuttle's atomics are all SeqCst"),
            ),
        }
    }
}

pub struct Singleton;

impl Scenario for Singleton {
    const NAME: &'static str = "singleton";
    const NOTES_CELL: &'static str = "In[45]-[74]";

    type Config = SingletonConfig;
    type Variant = SingletonVariant;
    type Outcome = SingletonOutcome;

    /// The notes' five lines, here from five threads racing on the first call.
    fn notes_config() -> SingletonConfig {
        SingletonConfig::new(notes::SINGLETON_CALLS).expect("5 threads")
    }

    /// Three threads (loom is exhaustive there in ~2.5k executions; five would exceed loom's
    /// thread limit), with the notes' printed r = 4, so that outcome tables do not depend on
    /// chance.
    fn model_config() -> SingletonConfig {
        SingletonConfig::new(3)
            .and_then(|config| config.with_r(notes::PRINTED_R))
            .expect("3 threads, r = 4")
    }

    /// `--threads`: the threads racing on `get_connection`, one line each.
    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<SingletonConfig, ConfigError> {
        match params.threads {
            None => Ok(Self::notes_config()),
            Some(threads) => SingletonConfig::new(threads),
        }
    }

    fn run<P: Primitives>(
        config: &SingletonConfig,
        variant: SingletonVariant,
        _world: World,
    ) -> Result<SingletonOutcome, RunError> {
        let creations = Arc::new(AtomicUsize::<P>::new(0));
        let pick = config.pick;
        let counted = Arc::clone(&creations);
        // The notes' class attribute `_conn` with its `get_connection`.
        let connection = Arc::new(LazyLock::<P, String, _>::with_flaw(
            move || {
                counted.fetch_add(1, Relaxed);
                create_connection(pick)
            },
            variant.flaw(),
        ));
        let threads = (0..config.threads)
            .map(|i| {
                let connection = Arc::clone(&connection);
                spawn::<P, _, _>(format!("Thread-{}", i + 1), move || {
                    connection.get().clone()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let lines = threads
            .into_iter()
            .map(|thread| thread.join())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SingletonOutcome {
            lines,
            creations: creations.load(Relaxed),
        })
    }

    fn invariant(config: &SingletonConfig, outcome: &SingletonOutcome) -> Result<(), String> {
        if outcome.creations != 1 {
            return Err(format!(
                "the connection was created {} times",
                outcome.creations
            ));
        }
        if outcome.lines.len() != config.threads {
            return Err(format!(
                "{} lines for {} threads",
                outcome.lines.len(),
                config.threads
            ));
        }
        let first = &outcome.lines[0];
        if let Some(other) = outcome.lines.iter().find(|line| *line != first) {
            return Err(format!("two connections: {first:?} and {other:?}"));
        }
        match parse_connection(first) {
            Some(r) if notes::CONNECTION_R.contains(&r) => Ok(()),
            _ => Err(format!(
                "{first:?} is not `SOME CONNECTION - r`, r in 1..=10"
            )),
        }
    }

    /// The notes' `print(DatabaseConnection.get_connection())`, once per thread.
    fn render(outcome: &SingletonOutcome) -> String {
        outcome
            .lines
            .iter()
            .map(|line| format!("{line}\n"))
            .collect()
    }
}

/// The notes' `f"SOME CONNECTION - {random.randint(1,10)}"`.
fn create_connection(pick: Pick) -> String {
    let r = match pick {
        Pick::Fixed(r) => r,
        Pick::Random => random_1_to_10(),
    };
    format!("{}{r}", notes::CONNECTION_PREFIX)
}

/// The r of a `SOME CONNECTION - r` line.
pub fn parse_connection(line: &str) -> Option<u32> {
    line.strip_prefix(notes::CONNECTION_PREFIX)?.parse().ok()
}

/// A number in [`notes::CONNECTION_R`] from a xorshift step over a randomly keyed hash (std's `RandomState`
/// draws its keys from the OS once per thread and steps them per instance).
fn random_1_to_10() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    let mut x = hasher.finish() | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    let (low, high) = (*notes::CONNECTION_R.start(), *notes::CONNECTION_R.end());
    (x % u64::from(high - low + 1)) as u32 + low
}
