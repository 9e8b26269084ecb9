//! The bug gallery: classic concurrency bugs from public sources, each one program with a
//! buggy and a fixed version, compiled unchanged against threadproof's loom and shuttle paths
//! and, where they can express it, raw loom and raw shuttle ([`rt`]).
//!
//! Invariant: every bug in [`ALL`] states, as data, what each threadproof checker sees on its
//! buggy version (caught, and as what; blind, and why; or cannot run it, and why) and whether
//! raw loom and raw shuttle can express it (and if not, why). The gallery's tests
//! (`gallery/main.rs`) and its measurement (`examples/gallery.rs`) both derive from it.
//!
//! Each bug file opens with its story and source; its items name primitives only through
//! `super::rt`, which each mount below sets to one runtime.

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

/// Each bug compiled against threadproof's loom paths (`threadproof::sync::loom`). The list is
/// written out here (not through [`mount!`]) so that rustfmt, which does not expand macros,
/// reaches every program file.
#[path = "."]
pub mod tp_loom {
    use super::rt::tp_loom as rt;

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

/// Each bug compiled against threadproof's shuttle paths (`threadproof::sync::shuttle`).
#[path = "."]
pub mod tp_shuttle {
    mount!(tp_shuttle:
        asyncappender, attach, bank, dcl, dekker, dining, futuretask, hashtable,
        if_not_while, keyring, pool149, pool162, recursive_read, semaphore, seqlock,
        straggler, treiber, vpx_once
    );
}

/// The bugs raw loom can express, compiled against it.
#[path = "."]
pub mod raw_loom {
    mount!(raw_loom:
        asyncappender, attach, dcl, dekker, dining, futuretask, hashtable, if_not_while,
        keyring, pool149, seqlock, treiber, vpx_once
    );
}

/// The bugs raw shuttle can express, compiled against it.
#[path = "."]
pub mod raw_shuttle {
    mount!(raw_shuttle:
        asyncappender, attach, bank, dcl, dekker, dining, futuretask, hashtable, if_not_while,
        keyring, pool149, seqlock, straggler, treiber, vpx_once
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

/// A raw engine's run of one program: the closure panics where the bug shows.
pub type RawBody = fn();

/// Whether a raw engine can express a bug.
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

/// The check of bug `$bug` under threadproof: its loom and shuttle mounts, its invariant.
macro_rules! threadproof {
    ($bug:ident) => {
        |portfolio: &Portfolio, version: Version| match version {
            Version::Buggy => rendered(check::check(
                portfolio,
                tp_loom::$bug::buggy,
                tp_shuttle::$bug::buggy,
                tp_loom::$bug::invariant,
            )),
            Version::Fixed => rendered(check::check(
                portfolio,
                tp_loom::$bug::fixed,
                tp_shuttle::$bug::fixed,
                tp_loom::$bug::invariant,
            )),
        }
    };
}

/// The replay of a token of bug `$bug` under threadproof.
macro_rules! replay {
    ($bug:ident) => {
        |token: &str, version: Version| {
            let report = match version {
                Version::Buggy => check::replay(
                    token,
                    tp_loom::$bug::buggy,
                    tp_shuttle::$bug::buggy,
                    tp_loom::$bug::invariant,
                ),
                Version::Fixed => check::replay(
                    token,
                    tp_loom::$bug::fixed,
                    tp_shuttle::$bug::fixed,
                    tp_loom::$bug::invariant,
                ),
            };
            report.map_outcomes(|o| format!("{o:?}"))
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
/// Why the raw engines cannot express a semaphore bug.
const NO_SEMAPHORE: &str = "no semaphore in its `sync`";
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
        fixed_loom_bound: None,
        check: threadproof!(futuretask),
        replay: replay!(futuretask),
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
        fixed_loom_bound: None,
        check: threadproof!(dining),
        replay: replay!(dining),
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
        raw_loom: Raw::CannotExpress("loom has no nondeterministic choice inside a model"),
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
        fixed_loom_bound: None,
        check: threadproof!(semaphore),
        replay: replay!(semaphore),
        raw_loom: Raw::CannotExpress(NO_SEMAPHORE),
        raw_shuttle: Raw::CannotExpress(NO_SEMAPHORE),
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
        pct: Misses(Invariant),
        urw: Misses(Invariant),
        fixed_loom_bound: None,
        check: threadproof!(pool162),
        replay: replay!(pool162),
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
