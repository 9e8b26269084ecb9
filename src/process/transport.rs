//! What travels between a pool and its workers, and the interface that starts them.
//!
//! Invariant: a worker speaks only in these messages: it gets [`Job`]s, answers each with one
//! [`Reply`], and ends with exactly one [`Event::Exited`] once it is gone. The same messages
//! cross real pipes ([`super::OsTransport`]) and simulated channels ([`super::sim`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ExitDesc;
use crate::sync::{Primitives, Sender};

/// A request to a worker: run `task` with `args`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub task: String,
    pub args: Value,
}

/// A worker's answer to the [`Job`] with the same `id`: the task's value or its error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub id: u64,
    pub result: Result<Value, String>,
}

/// The id of the frame a worker of a handshaking transport ([`Transport::handshake`]) sends
/// once, before any reply: "I can take tasks now". Task ids count from 0 and never reach it.
pub const READY: u64 = u64::MAX;

/// Which worker: its slot in the pool, and which incarnation of that slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkerId {
    pub slot: usize,
    pub generation: u64,
}

/// What the dispatcher reacts to.
#[derive(Debug)]
pub enum Event {
    Submit(Job),
    Shutdown,
    /// Shut down, and terminate whatever is still running after this long.
    ShutdownWithin(Duration),
    /// Cancel the queued tasks, kill the workers running tasks (their tasks fail), and stop.
    Terminate,
    /// A slot's restart after a startup failure is due ([`Transport::send_later`]).
    Restart {
        slot: usize,
    },
    /// The workers still alive this long after [`Event::Terminate`] are killed, idle or not: a
    /// stopped (`SIGSTOP`) or wedged worker cannot hold the pool.
    KillStragglers,
    /// The worker can take tasks ([`Transport::handshake`]).
    Ready {
        worker: WorkerId,
    },
    Reply {
        worker: WorkerId,
        reply: Reply,
    },
    /// The worker is gone and reaped: the last event about it.
    Exited {
        worker: WorkerId,
        status: ExitDesc,
    },
}

/// How the dispatcher starts workers. A worker reports through `events`: a
/// [`Event::Reply`] per job, then exactly one [`Event::Exited`] when it is gone.
pub trait Transport<P: Primitives>: Send + 'static {
    type Link: Link;
    fn start(&mut self, worker: WorkerId, events: Sender<P, Event>) -> Result<Self::Link, String>;

    /// Whether its workers say [`Event::Ready`] once they can take tasks; without a handshake
    /// a started worker is taken as ready at once. Only a worker that dies before it is ready
    /// counts toward giving up its slot: a death after it fails the worker's task, no more.
    fn handshake(&self) -> bool {
        false
    }

    /// Called once on the dispatcher's thread before anything else: the thread is the pool's
    /// own, and the transport may set it up (the OS transport blocks `SIGPIPE` there).
    fn adopt_thread(&mut self) {}

    /// Sends `event` on `events` after `delay`, by the transport's clock. The simulated world
    /// has no clock: it sends at once, so the model explores the same orders of events without
    /// the waiting.
    fn send_later(&mut self, delay: Duration, events: Sender<P, Event>, event: Event) {
        let _ = delay;
        let _ = events.send(event);
    }
}

/// The parent's end of one worker.
pub trait Link: Send + 'static {
    /// Hands the worker a job. An error means the worker is unreachable; its
    /// [`Event::Exited`] follows.
    fn send(&mut self, job: &Job) -> Result<(), String>;
    /// Ends the worker's input: it finishes and exits.
    fn close(&mut self);
    /// Ends the worker now, mid-task if need be; its [`Event::Exited`] follows. A transport
    /// that cannot kill closes its input: the worker ends after its current job.
    fn kill(&mut self) {
        self.close();
    }
    /// After its [`Event::Exited`]: waits for the transport's helpers (threads) to end.
    fn join(self);
}
