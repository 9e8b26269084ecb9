//! The bug gallery's tests (`cargo test --test gallery`): for each bug of [`bugs::ALL`], its
//! buggy version is caught by every threadproof checker that can express it, as the kind of
//! failure the bug's data says, explained, with a replay token that reproduces it; a checker
//! blind to it passes it and its report says what it cannot see; a checker that cannot run it
//! says why; and the fixed version passes every checker, loom exhaustively. The checkers run
//! each program compiled once against threadproof's std mirror; the same source compiled
//! against std itself runs on real threads ([`fixed_versions_run_on_std`]).
//!
//! Invariant: every bug of [`bugs::ALL`] has its test here ([`every_bug_has_its_test`]).
//! Knob: `THREADPROOF_SHUTTLE_ITERATIONS` (default 1,000, the standard portfolio's) sets the
//! schedules per shuttle scheduler.

mod bugs;

use bugs::{Bug, Kind, Raw, Sees, Version};
use threadproof::check::{Portfolio, Verdicts, SHUTTLE_ITERATIONS};
use threadproof::explore::{CheckerKind, Coverage, Failure, Report};

/// Schedules per shuttle scheduler: the standard portfolio's unless the knob says otherwise.
fn iterations() -> usize {
    match std::env::var("THREADPROOF_SHUTTLE_ITERATIONS") {
        Ok(value) => value
            .parse()
            .expect("THREADPROOF_SHUTTLE_ITERATIONS is a number of schedules"),
        Err(_) => SHUTTLE_ITERATIONS,
    }
}

/// The bug's buggy version caught as its data says, and its fixed version passed.
fn gallery(name: &str) {
    let bug: &Bug = bugs::find(name).unwrap_or_else(|| panic!("{name} is not in the gallery"));
    let portfolio = Portfolio::with_iterations(iterations());
    caught(bug, &portfolio);
    fixed_passes(bug, &portfolio);
}

fn caught(bug: &Bug, portfolio: &Portfolio) {
    let verdicts = (bug.check)(portfolio, Version::Buggy);
    println!("{} (buggy):\n{}", bug.name, verdicts.table());
    let expected = bugs::sees(bug)
        .iter()
        .any(|(_, sees)| matches!(sees, Sees::Catches(_)));
    if expected {
        assert!(!verdicts.passed(), "{}: nothing caught it", bug.name);
    }
    for (checker, sees) in bugs::sees(bug) {
        let report = verdicts.report(checker).expect("in the portfolio");
        match sees {
            Sees::Catches(kind) => {
                let failure = (report.failure.as_ref()).unwrap_or_else(|| {
                    panic!("{checker} must catch {}:\n{}", bug.name, verdicts.explain())
                });
                explained_and_replayed(bug, checker, failure, kind);
            }
            Sees::Misses(kind) => {
                if let Some(failure) = &report.failure {
                    explained_and_replayed(bug, checker, failure, kind);
                }
            }
            Sees::Blind(why) => blind(bug, report, why),
            Sees::CannotRun(why) => cannot_run(bug, &verdicts, report, why),
        }
    }
}

/// A failure of the right kind, which says what happened up front, shows the interleaving,
/// names its replay token, and whose token replays the same failure.
fn explained_and_replayed(bug: &Bug, checker: CheckerKind, failure: &Failure, kind: Kind) {
    let explained = failure.explain();
    assert_eq!(
        Kind::of(failure),
        kind,
        "{checker} on {}:\n{explained}",
        bug.name
    );
    let headline = format!("{} at execution {}: ", failure.kind, failure.execution);
    assert!(explained.starts_with(&headline), "{explained}");
    assert!(
        explained.contains("the failing interleaving"),
        "{explained}"
    );
    let token = failure.replay.to_string();
    assert!(explained.contains(&token), "{explained}");
    let replayed = (bug.replay)(&token, Version::Buggy);
    let again = replayed.failure.as_ref().unwrap_or_else(|| {
        panic!(
            "{checker}'s token {token} did not reproduce {}: {}",
            bug.name,
            replayed.summary()
        )
    });
    assert_eq!(
        (again.kind, &again.message),
        (failure.kind, &failure.message),
        "{token}"
    );
}

/// A blind checker explores the buggy version and passes it, its report naming what it
/// cannot see: the scope of its pass, never a false claim.
fn blind(bug: &Bug, report: &Report<String>, why: &str) {
    assert!(
        report.passed(),
        "blind to {} ({why}): {}",
        bug.name,
        report.summary()
    );
    assert!(
        report
            .blind_spots
            .iter()
            .any(|spot| spot.contains("weak memory")),
        "it must say it cannot see weak memory: {:?}",
        report.blind_spots
    );
}

/// A checker that cannot run a bug says so in its row, and why.
fn cannot_run(bug: &Bug, verdicts: &Verdicts<String>, report: &Report<String>, why: &str) {
    let unsupported = (report.unsupported())
        .unwrap_or_else(|| panic!("cannot run {} ({why}): {}", bug.name, report.summary()));
    assert!(
        unsupported.reason.contains("loom allows 4 besides main"),
        "{unsupported}"
    );
    assert!(verdicts.table().contains("skipped: unsupported by loom"));
}

fn fixed_passes(bug: &Bug, portfolio: &Portfolio) {
    let mut portfolio = portfolio.clone();
    if let Some(loom) = &mut portfolio.loom {
        loom.preemption_bound = bug.fixed_loom_bound;
    }
    let verdicts = (bug.check)(&portfolio, Version::Fixed);
    println!("{} (fixed):\n{}", bug.name, verdicts.table());
    assert!(
        verdicts.passed(),
        "{} (fixed):\n{}",
        bug.name,
        verdicts.explain()
    );
    let loom = verdicts
        .report(CheckerKind::Loom)
        .expect("in the portfolio");
    if !matches!(bug.loom, Sees::CannotRun(_)) {
        assert_eq!(loom.coverage, Coverage::Exhaustive, "{}", loom.summary());
    }
    for checker in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
        let report = verdicts.report(checker).expect("in the portfolio");
        assert_eq!(report.coverage, Coverage::Sampled, "{}", report.summary());
        assert_eq!(
            report.executions,
            iterations() as u64,
            "{}",
            report.summary()
        );
    }
}

/// Runs of each fixed program on std.
const STD_RUNS: usize = 20;

/// The programs as they are in production: the same source, compiled against `std` (the
/// `production` mount), runs on real threads, and each fixed version keeps its invariant on
/// every run. Only the program that draws a value with `choose` has no std build.
#[test]
fn fixed_versions_run_on_std() {
    let mut ran = Vec::new();
    for bug in bugs::ALL {
        match bug.production {
            Raw::Runs { fixed, .. } => {
                for _ in 0..STD_RUNS {
                    fixed();
                }
                ran.push(bug.name);
            }
            Raw::CannotExpress(why) => {
                assert_eq!(bug.name, "bank-transfer-chosen-accounts", "{why}");
                assert!(matches!(bug.raw_loom, Raw::CannotExpress(w) if w == why));
            }
        }
    }
    assert_eq!(ran.len(), bugs::ALL.len() - 1, "{ran:?}");
}

/// `$test: "bug-name";` becomes a test of that bug.
macro_rules! gallery_tests {
    ($($test:ident: $name:literal;)*) => {
        $(
            #[test]
            fn $test() {
                gallery($name);
            }
        )*

        /// Every bug of the gallery has its test above.
        #[test]
        fn every_bug_has_its_test() {
            let tested = [$($name),*];
            for bug in bugs::ALL {
                assert!(tested.contains(&bug.name), "{} has no test", bug.name);
            }
        }
    };
}

gallery_tests! {
    keyring_revoke_toctou: "keyring-revoke-toctou";
    futuretask_set_order: "futuretask-set-order";
    attach_lost_update: "attach-lost-update";
    vpx_once_last_one_out: "vpx-once-last-one-out";
    dining_philosophers: "dining-philosophers";
    bank_transfer_chosen_accounts: "bank-transfer-chosen-accounts";
    asyncappender_edge_notify: "asyncappender-edge-notify";
    pool_latch_notify_before_wait: "pool-latch-notify-before-wait";
    if_not_while: "if-not-while";
    dcl_relaxed_atomicptr: "dcl-relaxed-atomicptr";
    dekker_store_buffering: "dekker-store-buffering";
    seqlock_missing_fence: "seqlock-missing-fence";
    treiber_aba: "treiber-aba";
    semaphore_release_unacquired: "semaphore-release-unacquired";
    recursive_read_queued_writer: "recursive-read-queued-writer";
    pool_abandoned_latch_timeout: "pool-abandoned-latch-timeout";
    hashtable_equals_lock_order: "hashtable-equals-lock-order";
    straggler: "straggler";
}
