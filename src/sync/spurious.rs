//! Spurious condvar wakeups as an explored choice of the model backends.
//!
//! Invariant: outside an exploration that installed a [`Policy`], no wait ever wakes
//! spuriously. Inside one, the choice is replayable, and it is a function of the waiting
//! thread's own history: the k-th wait of a thread is keyed by the thread's place in the spawn
//! tree and k ([`Choice`]), never by when it happened relative to other threads.
//!
//! Why per-thread keys: loom's DPOR explores one interleaving out of each class of equivalent
//! ones, judging equivalence by the operations it sees. A choice keyed by a global ordinal ("the
//! 3rd wait of the execution") depends on the interleaving through a counter loom cannot see,
//! so two interleavings loom deems equivalent could spur different waits under one plan, and
//! DPOR would explore only one of them. Keyed by (thread, k), a choice is the thread's own
//! business, as DPOR assumes of thread-local code.
//!
//! Loom has no public "choose a value" primitive (its `Notify` spurs once per object, and the
//! caller cannot tell whether it did), so the loom exploration enumerates [`Plan`]s: first none,
//! then each plan extended by one choice that its runs reached, up to a bound, with a full
//! exhaustive exploration per plan. Any execution with at most `bound` spurious wakeups is
//! explored under the plan naming exactly its choices: the plan of its first i spurious waits
//! is explored, and the runs under it reach its (i+1)-th, so the plan of the first i+1 is
//! queued. Under shuttle each wait asks the run's scheduler for a value ([`choose`]), which
//! threadproof's scheduler records and replays.
//!
//! The policy lives in a thread-local of the OS thread running the exploration: loom and
//! shuttle run every model thread as a coroutine on that thread.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use super::model::{self, ThreadKey};
use super::Primitives;

/// One explored choice: the `ordinal`-th (from 0) choice made by one thread.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Choice {
    pub thread: ThreadKey,
    pub ordinal: u32,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.thread, self.ordinal)
    }
}

/// Which choices of one loom execution take a value other than the default 0; for a wait, 1
/// means it wakes spuriously.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Plan(pub BTreeMap<Choice, usize>);

impl Plan {
    /// How many choices it sets (spurious wakeups, for waits).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same plan with `choice` set to `value`.
    pub fn with(&self, choice: Choice, value: usize) -> Plan {
        let mut plan = self.clone();
        plan.0.insert(choice, value);
        plan
    }

    /// Parses the display form: `none`, or choices `t0#1` (value 1) or `t0#1=2` joined by `+`.
    pub fn parse(text: &str) -> Option<Plan> {
        if text == "none" {
            return Some(Plan::default());
        }
        let mut plan = Plan::default();
        for item in text.split('+') {
            let (choice, value) = match item.split_once('=') {
                Some((choice, value)) => (choice, value.parse().ok()?),
                None => (item, 1),
            };
            let (thread, ordinal) = choice.split_once('#')?;
            let choice = Choice {
                thread: ThreadKey::parse(thread)?,
                ordinal: ordinal.parse().ok()?,
            };
            plan.0.insert(choice, value);
        }
        Some(plan)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "none");
        }
        for (i, (choice, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            match value {
                1 => write!(f, "{choice}")?,
                v => write!(f, "{choice}={v}")?,
            }
        }
        Ok(())
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
    /// Each wait spurs with probability `1/one_in`, the value coming from the shuttle run's
    /// scheduler (shuttle).
    Coin { one_in: u32 },
}

#[derive(Default)]
struct State {
    policy: Policy,
    /// The choices the executions under the policy reached, with how many values each had.
    reached: BTreeMap<Choice, usize>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// The choice being drawn from shuttle's scheduler and its number of values, for it to
    /// record a value in `0..n` keyed by the choice (none while no choice is being drawn).
    static CHOOSING: RefCell<Option<(Choice, u64)>> = const { RefCell::new(None) };
}

/// Restores the previous policy when dropped.
pub(crate) struct Installed(Option<Policy>);

/// Makes `policy` govern the waits of this OS thread's model executions until the guard drops.
pub(crate) fn install(policy: Policy) -> Installed {
    let previous = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.reached.clear();
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

/// The choices reached since the policy was installed, with how many values each had.
pub(crate) fn reached() -> BTreeMap<Choice, usize> {
    STATE.with(|s| s.borrow().reached.clone())
}

/// The choice being drawn now and its number of values, for shuttle's scheduler.
pub(crate) fn choosing() -> Option<(Choice, u64)> {
    CHOOSING.with(|c| c.borrow().clone())
}

/// Called by the model backends before every wait: does this one wake spuriously?
pub(crate) fn next_wait_spurs<P: Primitives>() -> bool {
    enum Decision {
        Never,
        Planned,
        Coin(u64),
    }
    let decision = STATE.with(|s| match &s.borrow().policy {
        Policy::Off => Decision::Never,
        Policy::Plan(_) => Decision::Planned,
        Policy::Coin { one_in } => Decision::Coin(u64::from((*one_in).max(1))),
    });
    match decision {
        Decision::Never => false,
        Decision::Planned => planned::<P>(2) == 1,
        // Spurs on the last of `one_in` values; the default, 0, does not (unless one_in is 1).
        Decision::Coin(one_in) => choose::<P>(one_in) == one_in - 1,
    }
}

/// The running thread's next choice.
fn next_choice<P: Primitives>() -> Choice {
    model::with_context::<P, _>(|c| Choice {
        thread: c.key.clone(),
        ordinal: c.next_choice(),
    })
}

/// The value the loom plan gives this thread's next choice among `n` (0 when it names none),
/// noting the choice as reached.
fn planned<P: Primitives>(n: usize) -> usize {
    let choice = next_choice::<P>();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let value = match &s.policy {
            Policy::Plan(plan) => plan.0.get(&choice).copied().unwrap_or(0).min(n - 1),
            _ => 0,
        };
        let most = s.reached.entry(choice).or_insert(0);
        *most = (*most).max(n);
        value
    })
}

/// A value in `0..n` for the running thread's next choice, from the shuttle run's scheduler:
/// recorded with its schedule, and under threadproof's scheduler 0 unless the schedule says
/// otherwise. Any other shuttle scheduler gives a random `u64`, taken modulo `n`.
fn choose<P: Primitives>(n: u64) -> u64 {
    use ::shuttle::rand::RngCore;
    let choice = next_choice::<P>();
    CHOOSING.with(|c| *c.borrow_mut() = Some((choice, n)));
    let value = ::shuttle::rand::thread_rng().next_u64();
    CHOOSING.with(|c| *c.borrow_mut() = None);
    value % n
}
