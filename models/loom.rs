//! The deep loom suite: exhaustive proofs at the Python notes' sizes.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --test loom -- --nocapture`; each
//! model prints its executions, distinct outcomes and time. Spurious wakeups are off here
//! (they multiply the state space by the number of waits, see design.md): `if-not-while` is
//! the mutant that needs them, and the kill matrix (`--test mutants`) explores them.
#![cfg(loom)]

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{Coverage, LoomConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_loom, Scenario};

/// Appends with the seed's 4 threads (loom's maximum with main), every interleaving: all 4! =
/// 24 orders of the list are reachable, and no other.
#[test]
fn appends_seed_exhaustive_reaches_all_24_orders() {
    let config = AppendsConfig::seed();
    let report = check_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
    common::show("appends k=4 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 24);
    let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("appends_loom_outcomes", orders.join("\n"));
}

/// Turns at k=3, n=6, every interleaving: only the strict rotation is reachable.
#[test]
fn turns_k3_n6_exhaustive() {
    let config = TurnsConfig::new(3, 6).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &LoomConfig::exhaustive());
    common::show("turns k=3 n=6 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}

/// Turns at the seed's k=3, n=15, every interleaving with at most 3 preemptions.
#[test]
fn turns_seed_preemption_bound_3() {
    let config = Turns::seed_config();
    let report = check_loom::<Turns>(
        &config,
        TurnsVariant::Targeted,
        &LoomConfig::exhaustive().preemption_bound(3),
    );
    common::show("turns k=3 n=15 preemption bound 3", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}
