//! Explored choices of the model backends, on one mechanism: faults (a condvar wait or a
//! `park` that wakes spuriously, a `compare_exchange_weak` that fails spuriously) and the
//! body's own values ([`choose`]`(n)`).
//!
//! Invariant: outside an exploration that installed a `Policy`, no fault happens and every
//! value is 0. Inside one, each choice is replayable, and it is a function of the choosing
//! thread's own history: the k-th choice of a thread is keyed by the thread's place in the
//! spawn tree and k ([`Choice`]), never by when it happened relative to other threads. Values
//! are explored exhaustively by loom (every value at every choice reached); faults are bounded
//! by a count per execution, since every wait and weak exchange could fault.
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
//! then each plan extended by one choice that its runs reached (a fault only while the plan has
//! fewer faults than the bound), with a full exhaustive exploration per plan. Any execution
//! whose non-default choices are S (with at most `bound` faults) is explored under the plan S:
//! the plan of its first i non-default choices is explored, and the runs under it reach its
//! (i+1)-th, so the plan of the first i+1 is queued. Under shuttle each choice asks the run's
//! scheduler for a value, which threadproof's scheduler records and replays: a value uniformly
//! among `n`, a fault with probability `1/one_in`.
//!
//! The policy lives in a thread-local of the OS thread running the exploration: loom and
//! shuttle run every model thread as a coroutine on that thread.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;

use super::context::{with_context, ThreadKey};
use super::trace;
use crate::sync::Primitives;

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

/// What a choice decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Whether a wait wakes (or a weak exchange fails) spuriously: 1 means it does.
    Fault,
    /// A value the body asked for with [`choose`].
    Value,
}

/// A choice's value in a plan, and what kind of choice it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pick {
    pub value: usize,
    pub kind: Kind,
}

impl Pick {
    /// The fault happens.
    pub const FAULT: Pick = Pick {
        value: 1,
        kind: Kind::Fault,
    };

    pub fn value(value: usize) -> Pick {
        Pick {
            value,
            kind: Kind::Value,
        }
    }
}

/// Which choices of one loom execution take a value other than the default 0.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Plan(pub BTreeMap<Choice, Pick>);

impl Plan {
    /// How many choices it sets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many faults it makes happen (spurious wakeups and failures).
    pub fn faults(&self) -> usize {
        self.0.values().filter(|p| p.kind == Kind::Fault).count()
    }

    /// The same plan with `choice` set to `pick`.
    pub fn with(&self, choice: Choice, pick: Pick) -> Plan {
        let mut plan = self.clone();
        plan.0.insert(choice, pick);
        plan
    }

    /// The plan's faults, and its values, each in display form (`none` when empty).
    pub fn describe(&self, kind: Kind) -> Option<String> {
        let items: Vec<String> = (self.0.iter())
            .filter(|(_, pick)| pick.kind == kind)
            .map(|(choice, pick)| match kind {
                Kind::Fault => choice.to_string(),
                Kind::Value => format!("{choice}={}", pick.value),
            })
            .collect();
        (!items.is_empty()).then(|| items.join(" "))
    }

    /// Parses the display form: `none`, or items joined by `+`: a fault `t0#1`, a value
    /// `t0#1=2`.
    pub fn parse(text: &str) -> Option<Plan> {
        if text == "none" {
            return Some(Plan::default());
        }
        let mut plan = Plan::default();
        for item in text.split('+') {
            let (choice, pick) = match item.split_once('=') {
                Some((choice, value)) => (choice, Pick::value(value.parse().ok()?)),
                None => (item, Pick::FAULT),
            };
            let (thread, ordinal) = choice.split_once('#')?;
            let choice = Choice {
                thread: ThreadKey::parse(thread)?,
                ordinal: ordinal.parse().ok()?,
            };
            plan.0.insert(choice, pick);
        }
        Some(plan)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "none");
        }
        for (i, (choice, pick)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            match pick.kind {
                Kind::Fault => write!(f, "{choice}")?,
                Kind::Value => write!(f, "{choice}={}", pick.value)?,
            }
        }
        Ok(())
    }
}

/// How choices are decided.
#[derive(Clone, Debug, Default)]
pub(crate) enum Policy {
    /// No fault, every value 0 (production, and outside explorations).
    #[default]
    Off,
    /// Exactly the choices the plan names (loom); faults are considered only if `faults`.
    Plan { plan: Plan, faults: bool },
    /// From the shuttle run's scheduler: values uniformly, each fault with probability
    /// `1/one_in` (none if `one_in` is 0).
    Coin { one_in: u32 },
}

/// A choice reached by an execution: how many values it had, and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reached {
    pub(crate) values: usize,
    pub(crate) kind: Kind,
}

#[derive(Default)]
struct State {
    policy: Policy,
    /// The choices the executions under the policy reached.
    reached: BTreeMap<Choice, Reached>,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    /// The choice being drawn from shuttle's scheduler, for it to record a value in `0..n`
    /// keyed by the choice (none while no choice is being drawn).
    static CHOOSING: RefCell<Option<Drawing>> = const { RefCell::new(None) };
}

/// A choice being drawn from shuttle's scheduler.
#[derive(Clone, Debug)]
pub(crate) struct Drawing {
    pub choice: Choice,
    pub values: u64,
    pub kind: Kind,
}

/// Restores the previous policy when dropped.
pub(crate) struct Installed(Option<Policy>);

/// Makes `policy` govern the choices of this OS thread's model executions until the guard
/// drops.
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

/// The choices reached since the policy was installed.
pub(crate) fn reached() -> BTreeMap<Choice, Reached> {
    STATE.with(|s| s.borrow().reached.clone())
}

/// The choice being drawn now, for shuttle's scheduler.
pub(crate) fn choosing() -> Option<Drawing> {
    CHOOSING.with(|c| c.borrow().clone())
}

/// Whether the fault about to be possible happens (a wait wakes spuriously, a weak exchange
/// fails spuriously): the model backends ask before every such operation.
pub(crate) fn fault<P: Primitives>() -> bool {
    enum Decision {
        Never,
        Planned,
        Coin(u64),
    }
    let decision = STATE.with(|s| match &s.borrow().policy {
        Policy::Off | Policy::Plan { faults: false, .. } | Policy::Coin { one_in: 0 } => {
            Decision::Never
        }
        Policy::Plan { faults: true, .. } => Decision::Planned,
        Policy::Coin { one_in } => Decision::Coin(u64::from(*one_in)),
    });
    match decision {
        Decision::Never => false,
        Decision::Planned => planned::<P>(2, Kind::Fault) == 1,
        // Faults on the last of `one_in` values; the default, 0, does not (unless one_in is 1).
        Decision::Coin(one_in) => drawn::<P>(one_in, Kind::Fault) == one_in - 1,
    }
}

/// The condvar wrapper's question before every wait (see [`fault`]).
pub(crate) fn next_wait_spurs<P: Primitives>() -> bool {
    fault::<P>()
}

/// A value in `0..n` chosen by the checker: loom explores every value, shuttle draws one at
/// random (uniformly, replayably); production backends draw one at random too. `n` must be at
/// least 1.
#[track_caller]
pub fn choose<P: Primitives>(n: usize) -> usize {
    assert!(n > 0, "choose(0): there is no value to choose from");
    if !P::MODEL {
        return production_value(n);
    }
    let value = choose_quietly::<P>(n);
    trace::chose::<P>(value, n, std::panic::Location::caller());
    value
}

/// [`choose`] for the model's own machinery (the timer picking which timed wait fires): the
/// same exploration, no trace row.
pub(crate) fn choose_quietly<P: Primitives>(n: usize) -> usize {
    let policy = STATE.with(|s| match &s.borrow().policy {
        Policy::Off => None,
        Policy::Plan { .. } => Some(true),
        Policy::Coin { .. } => Some(false),
    });
    match policy {
        None => 0,
        Some(true) => planned::<P>(n, Kind::Value),
        Some(false) => drawn::<P>(n as u64, Kind::Value) as usize,
    }
}

/// A random value in `0..n` for production backends (xorshift, seeded per thread).
fn production_value(n: usize) -> usize {
    use std::cell::Cell;
    use std::hash::{BuildHasher, RandomState};
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(0u64) | 1);
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        (x % n as u64) as usize
    })
}

/// The running thread's next choice.
fn next_choice<P: Primitives>() -> Choice {
    with_context::<P, _>(|c| Choice {
        thread: c.key.clone(),
        ordinal: c.next_choice(),
    })
}

/// The value the loom plan gives this thread's next choice among `n` (0 when it names none),
/// noting the choice as reached.
fn planned<P: Primitives>(n: usize, kind: Kind) -> usize {
    let choice = next_choice::<P>();
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        let value = match &s.policy {
            Policy::Plan { plan, .. } => plan.0.get(&choice).map_or(0, |p| p.value).min(n - 1),
            _ => 0,
        };
        let reached = s
            .reached
            .entry(choice)
            .or_insert(Reached { values: 0, kind });
        reached.values = reached.values.max(n);
        value
    })
}

/// A value in `0..n` for the running thread's next choice, from the shuttle run's scheduler:
/// recorded with its schedule, and under threadproof's scheduler 0 unless the schedule says
/// otherwise. Any other shuttle scheduler gives a random `u64`, taken modulo `n`.
fn drawn<P: Primitives>(n: u64, kind: Kind) -> u64 {
    use ::shuttle::rand::RngCore;
    let choice = next_choice::<P>();
    CHOOSING.with(|c| {
        *c.borrow_mut() = Some(Drawing {
            choice,
            values: n,
            kind,
        })
    });
    let value = ::shuttle::rand::thread_rng().next_u64();
    CHOOSING.with(|c| *c.borrow_mut() = None);
    value % n
}
