//! The loom exploration's own tests: what starting again reports and charges.

use super::*;

/// Two `threadproof::std` atomics first used after the spawn, by both threads: one made
/// at zero (then one made before any thread serves), one not (its first uses are then
/// ordered after its making). The first execution finds the exploration needs both, and
/// it starts again with them. What it reports is what an exploration with the ordering
/// atomics from the start reports: the starts it abandoned are not counted, but said, and
/// charged to the budget. (Mutants caught: counting them; making the zero atomic where it
/// is first used, unordered, which loom reports as a causality violation; a fresh budget
/// for each pass.)
#[test]
fn a_restart_for_the_mirror_s_atomics_reports_as_if_they_were_on_from_the_start() {
    fn body() -> u32 {
        // Relaxed: SeqCst's fences would order the threads anyway.
        use crate::std::sync::atomic::{AtomicU32, Ordering::Relaxed};
        use crate::std::sync::Arc;
        let (zero, five) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(5)));
        let worker = {
            let (zero, five) = (Arc::clone(&zero), Arc::clone(&five));
            crate::std::thread::spawn(move || {
                zero.fetch_add(1, Relaxed);
                five.fetch_add(1, Relaxed);
            })
        };
        zero.fetch_add(2, Relaxed);
        five.fetch_add(2, Relaxed);
        worker.join().unwrap();
        zero.load(Relaxed) + five.load(Relaxed)
    }
    let config = LoomConfig::default();
    let learned = explore(&config, body, |total| {
        (*total == 11).then_some(()).ok_or(format!("{total}"))
    });
    let from_start = explore_from(
        &config,
        body,
        |total| (*total == 11).then_some(()).ok_or(format!("{total}")),
        true,
    );
    assert!(learned.passed(), "{}", learned.summary());
    assert!(from_start.passed(), "{}", from_start.summary());
    assert!(learned.executions > 1, "{}", learned.summary());
    assert_eq!(learned.executions, from_start.executions);
    assert_eq!(learned.outcomes, from_start.outcomes);
    assert!(!crate::std::rt::take_mirror_restart());
    // The passes that started again are said, apart from the executions counted.
    let restarts = learned
        .restarts
        .expect("the mirror's atomics started it again");
    assert!(restarts.times >= 1 && restarts.executions >= restarts.times);
    let said = format!("after {} executions not counted", restarts.executions);
    assert!(learned.summary().contains(&said), "{}", learned.summary());

    // And they are charged to the budget: one execution is left for the last pass.
    let config = LoomConfig {
        budget: Budget::executions(restarts.executions + 1),
        ..LoomConfig::default()
    };
    let charged = explore(&config, body, |_| Ok(()));
    assert_eq!(charged.restarts, Some(restarts), "{}", charged.summary());
    assert_eq!(charged.executions, 1, "{}", charged.summary());
    assert_eq!(charged.coverage, Coverage::BudgetExhausted);
}
