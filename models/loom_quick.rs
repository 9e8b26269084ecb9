//! Small loom models that run in plain `cargo test`: the same proofs as the deep suite
//! (`models/loom.rs`) at sizes that take seconds in a debug build, and one with spurious
//! wakeups explored.

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{Coverage, LoomConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_loom, Scenario};

/// Three appending threads: all 3! = 6 orders are reachable, and no other.
#[test]
fn appends_three_threads_reach_all_6_orders() {
    let config = AppendsConfig::with_threads(3).unwrap();
    let report = check_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
    common::show("appends k=3 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
    assert_eq!(orders.len(), 6);
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("appends_k3_loom_outcomes", orders.join("\n"));
}

/// Two threads taking turns to 4, every interleaving, with up to one spurious wakeup anywhere.
#[test]
fn turns_k2_n4_exhaustive_with_spurious_wakeups() {
    let config = TurnsConfig::new(2, 4).unwrap();
    let loom = LoomConfig::exhaustive().spurious_wakeups(1);
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &loom);
    common::show("turns k=2 n=4 spurious<=1", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
    let lines = report.outcomes.keys().next().unwrap();
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("turns_k2_n4_loom_outcome", Turns::render(lines));
}

/// The seed's notify_all version at a small size: correct, reaching only the rotation.
#[test]
fn turns_notify_all_k2_n3_exhaustive() {
    let config = TurnsConfig::new(2, 3).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::NotifyAll, &LoomConfig::exhaustive());
    common::show("turns notify-all k=2 n=3", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}

/// A one-thread rotation never waits: one execution, the numbers in order.
#[test]
fn turns_single_thread_is_one_execution() {
    let config = TurnsConfig::new(1, 5).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &LoomConfig::exhaustive());
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.executions, 1);
    let lines = report.outcomes.keys().next().unwrap();
    assert_eq!(
        Turns::render(lines),
        Turns::render(
            &Turns::run::<threadproof::sync::Std>(&config, TurnsVariant::Targeted).unwrap()
        )
    );
}
