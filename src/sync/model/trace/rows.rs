//! The rows of a trace as data: the operation ([`Op`]), what it read, wrote or returned
//! ([`Value`], [`Scalar`]), an atomic's ordering ([`Order`]), where a row stands in its call
//! ([`Phase`]), the row ([`Event`]) and the rows of one execution ([`Trace`]).
//!
//! Invariant: plain data, cheap to record (orderings are std's enum, labels shared `Arc`s);
//! nothing here formats a row for people: `explore::explain` does, above the runtime.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::sync::backend::Rmw;

/// An operation on a primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Spawn,
    Join,
    Lock,
    /// A `try_lock`: it took the lock, or found it held ([`Value::Acquired`]).
    TryLock,
    Unlock,
    /// An `RwLock`'s `read`, `write`, `try_read` and `try_write` (released by [`Op::Unlock`]).
    ReadLock,
    WriteLock,
    TryReadLock,
    TryWriteLock,
    /// Unlocks, sleeps, relocks.
    Wait,
    NotifyOne,
    NotifyAll,
    /// A barrier's `wait`: done once the generation's last thread arrived.
    BarrierWait,
    /// A semaphore's `acquire`, `try_acquire` and `release`.
    Acquire,
    TryAcquire,
    Release,
    /// Sleeps until unparked (or woken spuriously, or timed out).
    Park,
    Unpark,
    Send,
    Recv,
    TryRecv,
    Load,
    Store,
    Swap,
    /// A `fetch_*` read-modify-write.
    Fetch(Rmw),
    CompareExchange,
    CompareExchangeWeak,
    Fence,
    /// A read of a `sync::UnsafeCell`.
    Read,
    /// A write of a `sync::UnsafeCell`.
    Write,
    /// A value chosen by the checker (`sync::choose`).
    Choose,
}

impl Op {
    /// The method's name, as the user's code calls it.
    pub fn name(self) -> &'static str {
        self.name_ref()
    }

    /// [`Op::name`] by a thin reference: one word, which the progress watch keeps in an atomic.
    pub(crate) fn name_ref(self) -> &'static &'static str {
        match self {
            Op::Spawn => &"spawn",
            Op::Join => &"join",
            Op::Lock => &"lock",
            Op::TryLock => &"try_lock",
            Op::Unlock => &"unlock",
            Op::ReadLock => &"read",
            Op::WriteLock => &"write",
            Op::TryReadLock => &"try_read",
            Op::TryWriteLock => &"try_write",
            Op::Wait | Op::BarrierWait => &"wait",
            Op::NotifyOne => &"notify_one",
            Op::NotifyAll => &"notify_all",
            Op::Acquire => &"acquire",
            Op::TryAcquire => &"try_acquire",
            Op::Release => &"release",
            Op::Park => &"park",
            Op::Unpark => &"unpark",
            Op::Send => &"send",
            Op::Recv => &"recv",
            Op::TryRecv => &"try_recv",
            Op::Load => &"load",
            Op::Store => &"store",
            Op::Swap => &"swap",
            Op::Fetch(rmw) => rmw.name_ref(),
            Op::CompareExchange => &"compare_exchange",
            Op::CompareExchangeWeak => &"compare_exchange_weak",
            Op::Fence => &"fence",
            Op::Read => &"read",
            Op::Write => &"write",
            Op::Choose => &"choose",
        }
    }
}

/// A value an atomic held, read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Usize(usize),
    /// A signed integer of at most 64 bits.
    Int(i64),
    /// An unsigned integer of at most 64 bits other than `usize`. (Two 8-byte variants rather
    /// than one `i128` keep a row small: every row of every execution is copied.)
    Uint(u64),
    Bool(bool),
    /// A pointer's address (null shows as `null`).
    Ptr(usize),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Usize(v) => write!(f, "{v}"),
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Uint(v) => write!(f, "{v}"),
            Scalar::Bool(v) => write!(f, "{v}"),
            Scalar::Ptr(0) => write!(f, "null"),
            Scalar::Ptr(v) => write!(f, "{v:#x}"),
        }
    }
}

/// What an operation read, wrote or returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing to say beyond the operation (a lock, an unlock, a spawn, a cell access).
    None,
    /// A load saw this.
    Read(Scalar),
    /// A store wrote this.
    Wrote(Scalar),
    /// A swap or fetch_add: the value was `old` and is now `new`.
    Updated { old: Scalar, new: Scalar },
    /// A compare_exchange that found `expected` and wrote `new`.
    Exchanged { expected: Scalar, new: Scalar },
    /// A compare_exchange that expected `expected` and found `saw`: nothing written.
    NotExchanged {
        expected: Scalar,
        new: Scalar,
        saw: Scalar,
    },
    /// A compare_exchange_weak that failed spuriously (an explored fault), having read `saw`.
    FailedSpuriously {
        expected: Scalar,
        new: Scalar,
        saw: Scalar,
    },
    /// A fence's ordering.
    Ordering(Ordering),
    /// A `try_*` call: it acquired, or found no way to without waiting.
    Acquired(bool),
    /// A timed wait (a `park_timeout`, `recv_timeout`) that timed out.
    TimedOut,
    /// A condvar's timed wait that timed out, and relocked this mutex.
    TimedOutRelocked(Arc<str>),
    /// A park that returned with no unpark (an explored fault).
    Spuriously,
    /// A barrier wait: whether this thread was the generation's leader (the last to arrive).
    Leader(bool),
    /// `choose(of)` returned `value`.
    Chose { value: usize, of: usize },
    /// A `try_recv` that found nothing to receive; on a `recv` that waits, the channel was
    /// empty when it began to wait.
    Empty,
    /// A bounded channel's send found it full and waited: it held `capacity` messages (0: a
    /// rendezvous, whose send waits until a receiver takes its message).
    Full { capacity: usize },
    /// A wait began, unlocking this mutex.
    Unlocking(Arc<str>),
    /// A wait ended, woken by a notify (`spurious` false) or not, and relocked this mutex.
    Woke { spurious: bool, relocked: Arc<str> },
    /// The channel's message with this number (1 for the first sent) went in or came out.
    Message(u64),
    /// A receive found every sender gone, or a send found the receiver gone.
    Disconnected,
    /// A join returned: the thread ended by returning, or by panicking.
    Joined { panicked: bool },
}

/// The memory ordering an atomic call was given: one, or a compare-exchange's orderings on
/// success and on failure. Kept as std's enum; only the text of a report spells it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    One(Ordering),
    Exchange {
        success: Ordering,
        failure: Ordering,
    },
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Order::One(order) => write!(f, "{order:?}"),
            Order::Exchange { success, failure } => write!(f, "{success:?}/{failure:?}"),
        }
    }
}

/// Where a row stands in its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The whole call: it took effect without waiting.
    Done,
    /// A call that had to wait began here; its completion is the thread's next
    /// [`Phase::Completed`] row, and without one the thread was still waiting at the end.
    Began,
    /// The call the thread began earlier took effect here.
    Completed,
}

/// One recorded row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub thread: Arc<str>,
    pub op: Op,
    /// `Kind#n` numbered by first appearance in the execution, or the user's name for it.
    pub object: Arc<str>,
    /// The user's line that made the call.
    pub location: &'static Location<'static>,
    pub phase: Phase,
    pub value: Value,
    /// An atomic call's ordering, as the user's code gave it (`None` for every other row, and
    /// for the `Arc` counts, whose orderings are std's, not the user's).
    pub order: Option<Order>,
}

/// The rows of one execution, in the order their operations took effect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    pub events: Vec<Event>,
}

impl Trace {
    /// The threads in order of first appearance.
    pub fn threads(&self) -> Vec<&str> {
        let mut threads: Vec<&str> = Vec::new();
        for event in &self.events {
            if !threads.contains(&&*event.thread) {
                threads.push(&event.thread);
            }
        }
        threads
    }
}
