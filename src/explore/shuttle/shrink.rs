//! The shrinker: takes choices out of a failing shuttle schedule while it still fails the same
//! way, fewest preemptions first, as dejafu does.
//!
//! Invariant: the schedule it returns fails with the same kind of failure as the one it was
//! given, and is no less simple (preemptions, then context switches).

use std::time::{Duration, Instant};

use super::driver::{Replayed, Runs, Simplicity};
use super::{Decisions, Switch};
use crate::explore::{FailureKind, Found, RunEnd};

/// A failing schedule while shrinking.
pub(super) struct Shrunk {
    pub(super) found: Found,
    pub(super) decisions: Decisions,
    pub(super) simplicity: Simplicity,
    /// For each switch of `decisions`, whether it preempted.
    pub(super) preempting: Vec<bool>,
}

/// How many random fillings of the blocking points each single-preemption candidate gets.
const FILLS: u64 = 6;

/// At most this many replays shrink one failure.
const MAX_SHRINK_REPLAYS: u64 = 2_000;

/// At most this long shrinking one failure.
const MAX_SHRINK_TIME: Duration = Duration::from_secs(10);

/// Shrinks a failing schedule, as dejafu does, to fewest preemptions, then fewest context
/// switches. Delta debugging first: take out chunks of its decisions, halving the chunk size
/// when none can go, keeping a smaller schedule when its replay fails the same way with no more
/// preemptions and context switches. Then, if preemptions are left, a bounded search for
/// fewer: the schedule without its preemptions (keeping its other choices), and with each
/// single preemption it allows; delta debugging again on a find. Returns the simplest failing
/// schedule found, the replays it took, whether delta debugging finished (no single decision
/// can be taken out) and whether the search for fewer preemptions did, before the limits on
/// replays and time.
pub(super) fn shrink<O, B, I>(runs: &Runs<O, B, I>, failing: Shrunk) -> (Shrunk, u64, bool, bool)
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let started = Instant::now();
    let kind: FailureKind = failing.found.kind;
    let mut replays = 0;
    let out_of_time =
        |replays: u64| replays >= MAX_SHRINK_REPLAYS || started.elapsed() >= MAX_SHRINK_TIME;
    // The replay of `trial`, if it fails the same way.
    let attempt_filling = |trial: &Decisions, fill: Option<u64>, replays: &mut u64| {
        *replays += 1;
        let mut replayed = runs.replay_filling(trial, fill);
        let end = std::mem::replace(&mut replayed.end, RunEnd::Completed);
        let shrunk = match end {
            RunEnd::Failed(found) if found.kind == kind => Some(Shrunk {
                found,
                decisions: replayed.decisions.clone(),
                simplicity: replayed.simplicity,
                preempting: replayed.preempting.clone(),
            }),
            _ => None,
        };
        (shrunk, replayed)
    };
    let attempt = |trial: &Decisions, replays: &mut u64| -> (Option<Shrunk>, Replayed) {
        attempt_filling(trial, None, replays)
    };
    let not_worse = |s: &Simplicity, than: &Simplicity| {
        (s.preemptions, s.context_switches) <= (than.preemptions, than.context_switches)
    };
    let fewer = |s: &Simplicity, than: &Simplicity| {
        (s.preemptions, s.context_switches) < (than.preemptions, than.context_switches)
    };

    let mut best = failing;
    let mut searched = false;
    let mut search_finished = true;
    let mut finished;
    loop {
        // Delta debugging.
        finished = true;
        let mut chunk = best.decisions.len().div_ceil(2).max(1);
        'ddmin: while best.decisions.len() > 0 {
            let mut start = 0;
            let mut progressed = false;
            while start < best.decisions.len() {
                if out_of_time(replays) {
                    finished = false;
                    break 'ddmin;
                }
                let removed: Vec<usize> =
                    (start..(start + chunk).min(best.decisions.len())).collect();
                match attempt(&best.decisions.without(&removed), &mut replays).0 {
                    Some(shrunk)
                        if not_worse(&shrunk.simplicity, &best.simplicity)
                            && shrunk.decisions.len() < best.decisions.len() =>
                    {
                        best = shrunk;
                        progressed = true;
                    }
                    _ => start += chunk,
                }
            }
            if !progressed {
                if chunk == 1 {
                    break;
                }
                chunk = chunk.div_ceil(2);
            }
        }
        if searched || best.simplicity.preemptions == 0 || out_of_time(replays) {
            break;
        }
        searched = true;
        // Fewer preemptions: none, or each single one the schedule without them allows.
        let preemptive: Vec<usize> = (0..best.decisions.switches.len())
            .filter(|i| best.preempting.get(*i).copied().unwrap_or(true))
            .collect();
        let base = best.decisions.without(&preemptive);
        let (found, baseline) = attempt(&base, &mut replays);
        let mut improved = found.filter(|f| fewer(&f.simplicity, &best.simplicity));
        if improved.is_none() && best.simplicity.preemptions > 1 {
            'points: for (from, at, others) in baseline.preemptible {
                for to in others {
                    if out_of_time(replays) {
                        search_finished = false;
                        break 'points;
                    }
                    let mut trial = base.clone();
                    trial.switches.push(Switch { from, at, to });
                    // The preemption may need other choices where threads block: try the
                    // schedule's own, then a few random ones.
                    for fill in std::iter::once(None).chain((1..=FILLS).map(Some)) {
                        if let Some(found) = attempt_filling(&trial, fill, &mut replays).0 {
                            if fewer(&found.simplicity, &best.simplicity)
                                && improved
                                    .as_ref()
                                    .is_none_or(|i| fewer(&found.simplicity, &i.simplicity))
                            {
                                improved = Some(found);
                            }
                        }
                    }
                }
            }
        }
        match improved {
            Some(simpler) => best = simpler,
            None => break,
        }
    }
    (best, replays, finished, search_finished)
}
