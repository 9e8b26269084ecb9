//! The bug gallery: classic concurrency bugs from public sources, each one program with a
//! buggy and a fixed version, written as plain std code and compiled unchanged against four
//! runtimes ([`rt`]): std itself (production), threadproof's std mirror (one build, run by
//! every checker), raw loom and raw shuttle.
//!
//! Invariant: every bug in [`ALL`] states, as data, what each threadproof checker sees on its
//! buggy version (caught, and as what; blind, and why; or cannot run it, and why), whether
//! std runs its fixed version, and whether raw loom and raw shuttle can express it (and if
//! not, why). The gallery's tests (`gallery/main.rs`) and its measurement
//! (`examples/gallery.rs`) both derive from it.
//!
//! Each bug file opens with its story and source; its items name primitives only through
//! `super::rt`, which each mount below sets to one runtime, as a user's crate names them
//! through its two-line `#[cfg]` swap.

// Shared by the `gallery` test target and the `gallery` example, which use different parts.
#![allow(dead_code)]
// The same program is mounted once per runtime: that is the point.
#![allow(clippy::duplicate_mod)]

pub mod rt;

use threadproof::check::{self, Portfolio, Verdicts};
use threadproof::explore::{CheckerKind, Failure, FailureKind, Report};

/// Mounts the named program files (`models/gallery/bugs/NAME.rs`) as modules of one runtime,
/// each seeing that runtime as `rt`. The module it expands in must be `#[path = "."]`, so
/// that its files are this folder's.
macro_rules! mount {
    ($runtime:ident: $($bug:ident),+ $(,)?) => {
        use super::rt::$runtime as rt;
        $(pub mod $bug;)+
    };
}

/// Each bug compiled against threadproof's std mirror (`threadproof::std`): the one build
/// every checker runs. The list is written out here (not through [`mount!`]) so that
/// rustfmt, which does not expand macros, reaches every program file.
#[path = "."]
pub mod mirror {
    use super::rt::mirror as rt;

    pub mod asyncappender;
    pub mod attach;
    pub mod bank;
    pub mod dcl;
    pub mod dekker;
    pub mod dining;
    pub mod futuretask;
    pub mod hashtable;
    pub mod if_not_while;
    pub mod keyring;
    pub mod pool149;
    pub mod pool162;
    pub mod recursive_read;
    pub mod semaphore;
    pub mod seqlock;
    pub mod straggler;
    pub mod treiber;
    pub mod vpx_once;
}

/// Each bug compiled against std itself, as in production: every program but the one that
/// needs `choose`, which std does not have.
#[path = "."]
pub mod production {
    mount!(production:
        asyncappender, attach, dcl, dekker, dining, futuretask, hashtable, if_not_while,
        keyring, pool149, pool162, recursive_read, semaphore, seqlock, straggler, treiber,
        vpx_once
    );
}

/// Each bug compiled against raw loom: every program but the one that needs `choose`. (Some
/// compile without expressing their bug there: [`Bug::raw_loom`] says which and why.)
#[path = "."]
pub mod raw_loom {
    mount!(raw_loom:
        asyncappender, attach, dcl, dekker, dining, futuretask, hashtable, if_not_while,
        keyring, pool149, pool162, recursive_read, semaphore, seqlock, straggler, treiber,
        vpx_once
    );
}

/// Each bug compiled against raw shuttle: every program.
#[path = "."]
pub mod raw_shuttle {
    mount!(raw_shuttle:
        asyncappender, attach, bank, dcl, dekker, dining, futuretask, hashtable, if_not_while,
        keyring, pool149, pool162, recursive_read, semaphore, seqlock, straggler, treiber,
        vpx_once
    );
}

/// Which version of a bug's program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Buggy,
    Fixed,
}

/// How a failure shows, in the gallery's words: a data race is loom's panic on a `Cell`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Deadlock,
    Invariant,
    Panic,
    DataRace,
}

impl Kind {
    /// The kind of a threadproof failure.
    pub fn of(failure: &Failure) -> Kind {
        match failure.kind {
            FailureKind::Deadlock => Kind::Deadlock,
            FailureKind::InvariantViolated => Kind::Invariant,
            FailureKind::DataRace => Kind::DataRace,
            FailureKind::Panicked if failure.message.starts_with("data race") => Kind::DataRace,
            FailureKind::Panicked => Kind::Panic,
        }
    }

    /// The kind of a raw engine's panic, from its message (loom and shuttle both say
    /// "deadlock"; loom's race report is a "Causality violation").
    pub fn of_raw(message: &str) -> Kind {
        if message.contains("deadlock") {
            Kind::Deadlock
        } else if message.contains("Causality violation") {
            Kind::DataRace
        } else if message.contains(INVARIANT) {
            Kind::Invariant
        } else {
            Kind::Panic
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Deadlock => "deadlock",
            Kind::Invariant => "invariant",
            Kind::Panic => "panic",
            Kind::DataRace => "data race",
        }
    }
}

/// What the raw runners' panic says when a program's invariant fails.
pub const INVARIANT: &str = "invariant violated: ";

/// What a threadproof checker sees on a bug's buggy version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sees {
    /// Caught, as this kind, within the test's budget.
    Catches(Kind),
    /// Explores it and passes: the bug is outside what it models (the reason).
    Blind(&'static str),
    /// Cannot run it (the reason): the report says so.
    CannotRun(&'static str),
    /// Can express it (as this kind) but did not catch it within the standard portfolio's
    /// budget and seed: docs/gallery.md has its measured rate over seeds. A test asserts only
    /// that a failure it finds is of this kind.
    Misses(Kind),
}

/// A run of one program on std or a raw engine: the closure panics where the bug shows.
pub type RawBody = fn();

/// Whether std or a raw engine can express a bug.
#[derive(Clone, Copy, Debug)]
pub enum Raw {
    /// The same program, buggy and fixed, each asserting its invariant at the end.
    Runs { buggy: RawBody, fixed: RawBody },
    /// It cannot (the reason).
    CannotExpress(&'static str),
}

/// One bug of the gallery.
#[derive(Clone, Copy, Debug)]
pub struct Bug {
    pub name: &'static str,
    pub class: &'static str,
    pub source: &'static str,
    /// threadproof's loom on the buggy version.
    pub loom: Sees,
    /// threadproof's shuttle schedulers on the buggy version.
    pub random: Sees,
    pub pct: Sees,
    pub urw: Sees,
    /// The preemption bound under which loom proves the fixed version within the standard
    /// budget (`None`: every interleaving).
    pub fixed_loom_bound: Option<usize>,
    /// Runs `portfolio` on one version, outcomes rendered with `{:?}`.
    pub check: fn(&Portfolio, Version) -> Verdicts<String>,
    /// Replays a failure's token on one version.
    pub replay: fn(&str, Version) -> Report<String>,
    /// std itself, real threads (the program in production): its fixed version is run.
    pub production: Raw,
    pub raw_loom: Raw,
    pub raw_shuttle: Raw,
}

/// The verdicts with each outcome rendered, so that every bug's have one type.
fn rendered<O: std::fmt::Debug>(verdicts: Verdicts<O>) -> Verdicts<String> {
    let reports = verdicts.reports.into_iter();
    Verdicts {
        reports: reports
            .map(|(kind, report)| (kind, report.map_outcomes(|o| format!("{o:?}"))))
            .collect(),
        replay_with: verdicts.replay_with,
    }
}

/// `body` as the mirror's one build, once per explorer: the same compiled function, each
/// execution told which checker runs it (for [`rt::mirror::RaceCell`], the one type the mirror
/// lacks; every other mirror type dispatches by itself).
fn on_mirror<O>(body: fn() -> O) -> (impl Fn() -> O, impl Fn() -> O) {
    use rt::mirror::{as_engine, Engine};
    (
        move || as_engine(Engine::Loom, body),
        move || as_engine(Engine::Shuttle, body),
    )
}

/// Runs `portfolio` on `body` compiled against the mirror, as `check::check_once` does (its
/// verdicts name `replay!`).
fn check_mirror<O>(
    portfolio: &Portfolio,
    body: fn() -> O,
    invariant: fn(&O) -> Result<(), String>,
) -> Verdicts<String>
where
    O: Ord + std::fmt::Debug + Send + 'static,
{
    let (on_loom, on_shuttle) = on_mirror(body);
    rendered(Verdicts {
        replay_with: "replay",
        ..check::check(portfolio, on_loom, on_shuttle, invariant)
    })
}

/// Replays `token` on `body` compiled against the mirror.
fn replay_mirror<O>(
    token: &str,
    body: fn() -> O,
    invariant: fn(&O) -> Result<(), String>,
) -> Report<String>
where
    O: Ord + std::fmt::Debug + Send + 'static,
{
    let (on_loom, on_shuttle) = on_mirror(body);
    check::replay(token, on_loom, on_shuttle, invariant).map_outcomes(|o| format!("{o:?}"))
}

/// The check of bug `$bug` under threadproof: its mirror mount, its invariant.
macro_rules! threadproof {
    ($bug:ident) => {
        |portfolio: &Portfolio, version: Version| {
            let body = match version {
                Version::Buggy => mirror::$bug::buggy,
                Version::Fixed => mirror::$bug::fixed,
            };
            check_mirror(portfolio, body, mirror::$bug::invariant)
        }
    };
}

/// The replay of a token of bug `$bug` under threadproof.
macro_rules! replay {
    ($bug:ident) => {
        |token: &str, version: Version| {
            let body = match version {
                Version::Buggy => mirror::$bug::buggy,
                Version::Fixed => mirror::$bug::fixed,
            };
            replay_mirror(token, body, mirror::$bug::invariant)
        }
    };
}

/// Bug `$bug` on the raw engine `$engine` (a mount): each version, its invariant asserted.
macro_rules! raw {
    ($engine:ident, $bug:ident) => {
        Raw::Runs {
            buggy: || {
                let outcome = $engine::$bug::buggy();
                if let Err(why) = $engine::$bug::invariant(&outcome) {
                    panic!("{INVARIANT}{why} (outcome {outcome:?})");
                }
            },
            fixed: || {
                let outcome = $engine::$bug::fixed();
                if let Err(why) = $engine::$bug::invariant(&outcome) {
                    panic!("{INVARIANT}{why} (outcome {outcome:?})");
                }
            },
        }
    };
}

use Kind::*;
use Sees::*;

/// Why shuttle is blind to the weak-memory bugs.
const SEQ_CST: &str = "shuttle runs every atomic SeqCst: no weak memory";
/// Why loom cannot run the many-thread bug.
const LOOM_CAP: &str = "22 threads; loom allows 4 besides main";
const LOOM_CAP_RAW: &str = "22 threads; loom allows 4 besides main (it panics past them)";
/// Why std and raw loom cannot express a bug that draws a value with `choose`.
const NO_CHOOSE: &str = "no nondeterministic choice";
/// Why the raw engines cannot express a timeout bug.
const NO_TIMEOUTS: &str = "its `wait_timeout` never times out";

/// Every bug of the gallery, in the order docs/gallery.md lists them.
pub const ALL: &[Bug] = &[
    Bug {
        name: "keyring-revoke-toctou",
        class: "check-then-act → NULL dereference",
        source: "CVE-2015-7550; ConVul `cve-benchmark/2015-7550.cpp`",
        loom: Catches(Panic),
        random: Catches(Panic),
        pct: Catches(Panic),
        urw: Catches(Panic),
        fixed_loom_bound: None,
        check: threadproof!(keyring),
        replay: replay!(keyring),
        production: raw!(production, keyring),
        raw_loom: raw!(raw_loom, keyring),
        raw_shuttle: raw!(raw_shuttle, keyring),
    },
    Bug {
        name: "futuretask-set-order",
        class: "order violation: done before the result",
        source: "JDK-7132378; JaConTeBe `jdk7/src/Test7132378.java`",
        loom: Catches(Invariant),
        random: Catches(Invariant),
        pct: Catches(Invariant),
        urw: Catches(Invariant),
        fixed_loom_bound: Some(4),
        check: threadproof!(futuretask),
        replay: replay!(futuretask),
        production: raw!(production, futuretask),
        raw_loom: raw!(raw_loom, futuretask),
        raw_shuttle: raw!(raw_shuttle, futuretask),
    },
    Bug {
        name: "attach-lost-update",
        class: "lost update: get-and-set in two steps",
        source: "JDK-6436220; JaConTeBe `jdk6/src/Test6436220.java`",
        loom: Catches(Invariant),
        random: Catches(Invariant),
        pct: Catches(Invariant),
        urw: Catches(Invariant),
        fixed_loom_bound: None,
        check: threadproof!(attach),
        replay: replay!(attach),
        production: raw!(production, attach),
        raw_loom: raw!(raw_loom, attach),
        raw_shuttle: raw!(raw_shuttle, attach),
    },
    Bug {
        name: "vpx-once-last-one-out",
        class: "plain data race → use after free",
        source: "CVE-2016-1972; ConVul `cve-benchmark/2016-1972.cpp`; libvpx `vpx_once.h`",
        loom: Catches(DataRace),
        random: Catches(Panic),
        pct: Catches(Panic),
        urw: Catches(Panic),
        fixed_loom_bound: None,
        check: threadproof!(vpx_once),
        replay: replay!(vpx_once),
        production: raw!(production, vpx_once),
        raw_loom: raw!(raw_loom, vpx_once),
        raw_shuttle: raw!(raw_shuttle, vpx_once),
    },
    Bug {
        name: "dining-philosophers",
        class: "circular-wait deadlock (3 philosophers)",
        source: "Downey, *Little Book of Semaphores* 2.1.5, \"Deadlock #5\"",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Catches(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: Some(4),
        check: threadproof!(dining),
        replay: replay!(dining),
        production: raw!(production, dining),
        raw_loom: raw!(raw_loom, dining),
        raw_shuttle: raw!(raw_shuttle, dining),
    },
    Bug {
        name: "bank-transfer-chosen-accounts",
        class: "lock order from accounts picked by `choose`",
        source: "JCIP Listings 10.2–10.4 (`DynamicOrderDeadlock`)",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Catches(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: None,
        check: threadproof!(bank),
        replay: replay!(bank),
        production: Raw::CannotExpress(NO_CHOOSE),
        raw_loom: Raw::CannotExpress(NO_CHOOSE),
        raw_shuttle: raw!(raw_shuttle, bank),
    },
    Bug {
        name: "asyncappender-edge-notify",
        class: "lost wakeup: edge-triggered `notify_one`",
        source: "log4j Bugzilla 38137; JaConTeBe `log4j/.../Test38137.java`",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Misses(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: Some(2),
        check: threadproof!(asyncappender),
        replay: replay!(asyncappender),
        production: raw!(production, asyncappender),
        raw_loom: raw!(raw_loom, asyncappender),
        raw_shuttle: raw!(raw_shuttle, asyncappender),
    },
    Bug {
        name: "pool-latch-notify-before-wait",
        class: "lost wakeup: signal before wait",
        source: "POOL-149; JaConTeBe `pool/src/Test149.java`",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Catches(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: None,
        check: threadproof!(pool149),
        replay: replay!(pool149),
        production: raw!(production, pool149),
        raw_loom: raw!(raw_loom, pool149),
        raw_shuttle: raw!(raw_shuttle, pool149),
    },
    Bug {
        name: "if-not-while",
        class: "`if` around `wait`: a stolen wakeup",
        source: "shuttle `tests/basic/condvar.rs` (OSTEP Fig. 30.8); KAFKA-17929",
        loom: Catches(Panic),
        random: Catches(Panic),
        pct: Catches(Panic),
        urw: Catches(Panic),
        fixed_loom_bound: Some(3),
        check: threadproof!(if_not_while),
        replay: replay!(if_not_while),
        production: raw!(production, if_not_while),
        raw_loom: raw!(raw_loom, if_not_while),
        raw_shuttle: raw!(raw_shuttle, if_not_while),
    },
    Bug {
        name: "dcl-relaxed-atomicptr",
        class: "double-checked locking, `Relaxed` `AtomicPtr`",
        source: "\"The Double-Checked Locking is Broken Declaration\" (Pugh et al.)",
        loom: Catches(DataRace),
        random: Blind(SEQ_CST),
        pct: Blind(SEQ_CST),
        urw: Blind(SEQ_CST),
        fixed_loom_bound: None,
        check: threadproof!(dcl),
        replay: replay!(dcl),
        production: raw!(production, dcl),
        raw_loom: raw!(raw_loom, dcl),
        raw_shuttle: raw!(raw_shuttle, dcl),
    },
    Bug {
        name: "dekker-store-buffering",
        class: "store buffering breaks mutual exclusion",
        source: "GenMC `tests/wrong/safety/dekker_rlx`; CDSChecker `dekker-fences`",
        loom: Catches(DataRace),
        random: Blind(SEQ_CST),
        pct: Blind(SEQ_CST),
        urw: Blind(SEQ_CST),
        fixed_loom_bound: None,
        check: threadproof!(dekker),
        replay: replay!(dekker),
        production: raw!(production, dekker),
        raw_loom: raw!(raw_loom, dekker),
        raw_shuttle: raw!(raw_shuttle, dekker),
    },
    Bug {
        name: "seqlock-missing-fence",
        class: "seqlock accepts a torn read",
        source: "CDSChecker benchmarks `seqlock/seqlock.cc` (injection #2)",
        loom: Catches(Invariant),
        random: Blind(SEQ_CST),
        pct: Blind(SEQ_CST),
        urw: Blind(SEQ_CST),
        fixed_loom_bound: None,
        check: threadproof!(seqlock),
        replay: replay!(seqlock),
        production: raw!(production, seqlock),
        raw_loom: raw!(raw_loom, seqlock),
        raw_shuttle: raw!(raw_shuttle, seqlock),
    },
    Bug {
        name: "treiber-aba",
        class: "ABA on a lock-free stack",
        source: "Wikipedia \"ABA problem\"; Treiber IBM RJ 5118; CDSChecker `treiber-stack`",
        loom: Catches(Invariant),
        random: Catches(Invariant),
        pct: Catches(Invariant),
        urw: Catches(Invariant),
        fixed_loom_bound: None,
        check: threadproof!(treiber),
        replay: replay!(treiber),
        production: raw!(production, treiber),
        raw_loom: raw!(raw_loom, treiber),
        raw_shuttle: raw!(raw_shuttle, treiber),
    },
    Bug {
        name: "semaphore-release-unacquired",
        class: "permit released without acquiring",
        source: "sirixdb/sirix #1072; files-community/Files PR #7112",
        loom: Catches(Invariant),
        random: Catches(Invariant),
        pct: Catches(Invariant),
        urw: Catches(Invariant),
        fixed_loom_bound: Some(4),
        check: threadproof!(semaphore),
        replay: replay!(semaphore),
        production: raw!(production, semaphore),
        raw_loom: raw!(raw_loom, semaphore),
        raw_shuttle: raw!(raw_shuttle, semaphore),
    },
    Bug {
        name: "recursive-read-queued-writer",
        class: "recursive read behind a queued writer",
        source: "fasterthanli.me \"A Rust match made in hell\"; shuttle `async_match_deadlock.rs`",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Catches(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: None,
        check: threadproof!(recursive_read),
        replay: replay!(recursive_read),
        production: raw!(production, recursive_read),
        raw_loom: Raw::CannotExpress(
            "loom's `RwLock` has no writer preference: the recursive read never blocks",
        ),
        raw_shuttle: Raw::CannotExpress(
            "shuttle's `RwLock` panics on any second read guard, whatever the interleaving",
        ),
    },
    Bug {
        name: "pool-abandoned-latch-timeout",
        class: "a timeout path leaks the object",
        source: "POOL-162; JaConTeBe `pool/src/Test162.java`",
        loom: Catches(Invariant),
        random: Misses(Invariant),
        pct: Catches(Invariant),
        urw: Misses(Invariant),
        fixed_loom_bound: Some(3),
        check: threadproof!(pool162),
        replay: replay!(pool162),
        production: raw!(production, pool162),
        raw_loom: Raw::CannotExpress(NO_TIMEOUTS),
        raw_shuttle: Raw::CannotExpress(NO_TIMEOUTS),
    },
    Bug {
        name: "hashtable-equals-lock-order",
        class: "lock-order inversion",
        source: "JDK-6582568; JaConTeBe `jdk6/src/Test6582568.java`",
        loom: Catches(Deadlock),
        random: Catches(Deadlock),
        pct: Catches(Deadlock),
        urw: Catches(Deadlock),
        fixed_loom_bound: None,
        check: threadproof!(hashtable),
        replay: replay!(hashtable),
        production: raw!(production, hashtable),
        raw_loom: raw!(raw_loom, hashtable),
        raw_shuttle: raw!(raw_shuttle, hashtable),
    },
    Bug {
        name: "straggler",
        class: "many threads, one must run late",
        source: "ours, after shuttle `tests/demo/surw.rs` and SURW (ASPLOS 2025)",
        loom: CannotRun(LOOM_CAP),
        random: Misses(Invariant),
        pct: Misses(Invariant),
        urw: Catches(Invariant),
        fixed_loom_bound: None,
        check: threadproof!(straggler),
        replay: replay!(straggler),
        production: raw!(production, straggler),
        raw_loom: Raw::CannotExpress(LOOM_CAP_RAW),
        raw_shuttle: raw!(raw_shuttle, straggler),
    },
];

/// The bug named `name`.
pub fn find(name: &str) -> Option<&'static Bug> {
    ALL.iter().find(|bug| bug.name == name)
}

/// What each threadproof checker sees on `bug`'s buggy version, in the portfolio's order.
pub fn sees(bug: &Bug) -> [(CheckerKind, Sees); 4] {
    [
        (CheckerKind::Loom, bug.loom),
        (CheckerKind::Random, bug.random),
        (CheckerKind::Pct, bug.pct),
        (CheckerKind::Urw, bug.urw),
    ]
}
