//! What every scenario file of the model tests shares: printing a report's figures, the
//! shuttle knob and schedule kinds, and the assertions a proof or a sampled run makes.
//!
//! Invariant: the shuttle budget of every sampled run comes from [`iterations`], so the one
//! knob `THREADPROOF_SHUTTLE_ITERATIONS` deepens every one of them.

use threadproof::explore::{CheckerKind, Coverage, LoomConfig, Report, ShuttleConfig};
use threadproof::scenarios::{explore_loom, Scenario, Variant};

/// Prints a model run's report line, so `--nocapture` runs show executions, outcomes and time.
pub fn show<O>(name: &str, report: &Report<O>) {
    println!("{name}: {}", report.summary());
}

/// Schedules per sampled run. Knob: `THREADPROOF_SHUTTLE_ITERATIONS` (default 500). The cost
/// is linear in it: at 500 every test takes under a second on 2 cores (debug profile). The
/// nightly CI job's 200,000 in release mode takes 2-13 s per appends/turns test and ~100 s for
/// a test that loops over 6 explorations; a 4-way shard of the suite took ~110 s on 2 cores.
pub fn iterations() -> usize {
    match std::env::var("THREADPROOF_SHUTTLE_ITERATIONS") {
        Ok(value) => value
            .parse()
            .expect("THREADPROOF_SHUTTLE_ITERATIONS is a number of schedules"),
        Err(_) => 500,
    }
}

/// PCT's bug depth: deep enough for the mutants' bugs, which need two or three ordering
/// constraints.
pub const DEPTH: usize = 3;

/// [`iterations`] uniformly random schedules.
pub fn random() -> ShuttleConfig {
    ShuttleConfig::random(iterations())
}

/// [`iterations`] PCT schedules of depth [`DEPTH`]. PCT starts at two threads: shuttle's PCT
/// rejects a body without concurrency.
pub fn pct() -> ShuttleConfig {
    ShuttleConfig::pct(DEPTH, iterations())
}

/// A proof: shown, passed, and every interleaving (within the config's bounds) explored.
pub fn assert_proved<O>(name: &str, report: &Report<O>) {
    show(name, report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
}

/// A sampled run: shown, passed, and every one of [`iterations`] schedules run.
pub fn assert_sampled<O>(name: &str, report: &Report<O>) {
    show(name, report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Sampled);
    assert_eq!(report.executions, iterations() as u64);
}

/// Runs every mutant of `S` at `config` under `loom` and asserts each ends as its own data
/// says ([`Variant::expected`]): a proof of the correct variant is followed by its mutants at
/// the same size and bound, so the model is shown able to fail.
pub fn assert_mutants_caught<S: Scenario>(config: &S::Config, loom: &LoomConfig) {
    for &variant in S::Variant::ALL.iter().filter(|v| v.is_mutant()) {
        let expected = variant.expected(CheckerKind::Loom, loom.spurious_wakeups > 0);
        let report = explore_loom::<S>(config, variant, loom);
        show(&format!("{} {} (mutant)", S::NAME, variant.name()), &report);
        assert!(
            expected.met_by(report.failure_kind()),
            "{} {}: expected {}: {}",
            S::NAME,
            variant.name(),
            expected.describe(),
            report.summary()
        );
    }
}

/// `$name: $($arg),+;` becomes `#[test] fn $name() { $run($($arg),+) }`: one test per size
/// and schedule kind rather than a loop over them, so that
/// `cargo nextest run --partition count:i/N` deals them out evenly.
macro_rules! one_test_each {
    ($run:ident: $($name:ident: $($arg:expr),+;)*) => {$(
        #[test]
        fn $name() {
            $run($($arg),+);
        }
    )*};
}
pub(crate) use one_test_each;

/// A writer stores 1 while main (the reader) loads: the outcome is what main saw, 1 only if
/// the writer ran before main's load.
pub fn writer_reader<P: threadproof::sync::Primitives>() -> usize {
    use std::sync::atomic::Ordering::SeqCst;
    let value = std::sync::Arc::new(threadproof::sync::AtomicUsize::<P>::new(0));
    let written = std::sync::Arc::clone(&value);
    let writer =
        threadproof::sync::spawn::<P, _, _>("writer", move || written.store(1, SeqCst)).unwrap();
    let seen = value.load(SeqCst);
    writer.join().unwrap();
    seen
}
