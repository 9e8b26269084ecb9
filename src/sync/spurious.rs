//! Spurious condvar wakeups as an explored choice of the model backends.
//!
//! Invariant: outside an exploration that installed a [`Policy`], no wait ever wakes
//! spuriously. Inside one, the choice is replayable: a loom [`Plan`] names exactly which waits
//! of an execution spur, and shuttle's coin comes from `shuttle::rand`, which its schedule
//! records.
//!
//! Loom has no public "choose a bool" primitive (its `Notify` spurs, but prints a `dbg!` line
//! on every wait in 0.7.x), so the loom exploration enumerates plans instead: first none, then
//! each wait ordinal that the previous runs reached, up to a bound, with a full exhaustive
//! exploration per plan. Any execution with at most `bound` spurious wakeups is explored under
//! the plan naming its ordinals, so the union is exhaustive for that bound.
//!
//! The policy lives in a thread-local of the OS thread running the exploration: loom and
//! shuttle run every model thread as a coroutine on that thread.

use std::cell::RefCell;

/// Which waits of one loom execution wake spuriously, by ordinal: the n-th wait started in the
/// execution, counted from 0 over all threads.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Plan(pub Vec<usize>);

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return write!(f, "none");
        }
        let ordinals: Vec<String> = self.0.iter().map(usize::to_string).collect();
        write!(f, "{}", ordinals.join(","))
    }
}

/// How waits decide whether to spur.
#[derive(Clone, Debug, Default)]
pub enum Policy {
    /// Never (production, and model runs with spurious wakeups off).
    #[default]
    Off,
    /// Exactly the waits the plan names (loom).
    Plan(Plan),
    /// Each wait spurs with probability `1/one_in`, drawn from `shuttle::rand` (shuttle).
    Coin { one_in: u32 },
}

#[derive(Default)]
struct State {
    policy: Policy,
    waits_in_execution: usize,
    most_waits: usize,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

/// Restores the previous policy when dropped.
pub(crate) struct Installed(Option<Policy>);

/// Makes `policy` govern the waits of this OS thread's model executions until the guard drops.
pub(crate) fn install(policy: Policy) -> Installed {
    let previous = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.most_waits = 0;
        s.waits_in_execution = 0;
        std::mem::replace(&mut s.policy, policy)
    });
    Installed(Some(previous))
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            STATE.with(|s| s.borrow_mut().policy = previous);
        }
    }
}

/// Starts counting the waits of a new execution.
pub(crate) fn begin_execution() {
    STATE.with(|s| s.borrow_mut().waits_in_execution = 0);
}

/// The most waits any execution made since the policy was installed.
pub(crate) fn most_waits() -> usize {
    STATE.with(|s| s.borrow().most_waits)
}

/// Called by the model backends before every wait: does this one wake spuriously?
pub(crate) fn next_wait_spurs() -> bool {
    enum Decision {
        Fixed(bool),
        Coin(u32),
    }
    let decision = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let ordinal = s.waits_in_execution;
        s.waits_in_execution += 1;
        s.most_waits = s.most_waits.max(s.waits_in_execution);
        match &s.policy {
            Policy::Off => Decision::Fixed(false),
            Policy::Plan(plan) => Decision::Fixed(plan.0.contains(&ordinal)),
            Policy::Coin { one_in } => Decision::Coin((*one_in).max(1)),
        }
    });
    match decision {
        Decision::Fixed(spurs) => spurs,
        Decision::Coin(one_in) => {
            use ::shuttle::rand::Rng;
            ::shuttle::rand::thread_rng().gen_ratio(1, one_in)
        }
    }
}
