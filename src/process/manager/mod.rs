//! A manager: a server process owns a list; proxies in other processes append to it over IPC
//! (Python's `multiprocessing.Manager().list()`).
//!
//! Invariant: every append a client makes is in the list exactly once, whatever connection
//! breaks. A request is applied only once its whole frame has arrived, so a client killed
//! mid-request leaves no partial entry. A malformed frame gets an error reply and the
//! connection goes on; an oversized one gets an error reply and the connection is closed
//! (its body is never read). Either way the server keeps serving everyone else. An append
//! whose request would exceed the frame limit is refused by the client before anything is
//! sent; a list of any size reads back, in pages of at most one frame each
//! ([`Response::ListPart`]).
//!
//! ```text
//!   worker process                        manager server process
//!   ──────────────                        ──────────────────────
//!   ListProxy::append(v) ─Append{client, seq, v}─► serve(conn) ─► ManagerCore::handle
//!        ▲   on a broken connection: reconnect,          │  (client, seq) seen before:
//!        │   resend the same (client, seq)               │  its first reply, not a 2nd append
//!        └──────────────── Appended{index} ◄─────────────┘
//! ```
//!
//! Exactly once needs both halves: the client retries a request whose reply it lost (at least
//! once), and the server remembers each client's last sequence number and answers a repeat
//! from memory (at most once). The mutant `applies-twice` forgets the second half.
//!
//! [`ManagerCore`] and the request loop [`serve`] are written against [`Primitives`] and a
//! [`Conn`]: a Unix socket in production ([`unix`]: [`Manager`] starts the server process),
//! channels between threads in the model checks ([`sim`]).

mod sim;
mod unix;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::frame::{encoded_len, FrameError, MAX_FRAME};
use crate::sync::{Mutex, Primitives};

pub(crate) use self::sim::simulate_with_flaw;
pub use self::sim::{simulate, Simulated};
pub(super) use self::unix::server_main;
pub use self::unix::{ListProxy, Manager, ManagerOptions, UnixClientConn};

/// What a client asks the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    /// Append `value`; `seq` numbers this client's appends from 1, and a repeat is a retry.
    Append {
        client: String,
        seq: u64,
        value: Value,
    },
    /// The list as it is.
    Snapshot,
}

/// What the server answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Response {
    Appended {
        index: usize,
    },
    /// The list, or its last page.
    List(Vec<Value>),
    /// A page of the list that does not fit in one frame; more pages follow, the last as
    /// [`Response::List`].
    ListPart(Vec<Value>),
    Error(String),
}

/// The server's handling of a repeated request: correct, or a known-bad variant (the
/// `manager` scenario's mutant).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flaw {
    /// A repeated (client, seq) is answered from memory.
    AppliesOnce,
    /// A repeated request is applied again.
    AppliesTwice,
}

#[derive(Default)]
struct ListState {
    items: Vec<Value>,
    /// Each client's last sequence number and the answer it got.
    last: BTreeMap<String, (u64, Response)>,
}

/// The list and the memory of what each client last asked.
pub struct ManagerCore<P: Primitives> {
    state: Mutex<P, ListState>,
    flaw: Flaw,
}

impl<P: Primitives> Default for ManagerCore<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Primitives> ManagerCore<P> {
    /// An empty list.
    pub fn new() -> Self {
        Self::with_flaw(Flaw::AppliesOnce)
    }

    /// A core with a known-bad request handling: for the `manager` scenario's mutant.
    pub(crate) fn with_flaw(flaw: Flaw) -> Self {
        ManagerCore {
            state: Mutex::new(ListState::default()),
            flaw,
        }
    }

    /// Applies one whole request.
    pub fn handle(&self, request: Request) -> Response {
        let mut state = self.state.lock();
        match request {
            Request::Snapshot => Response::List(state.items.clone()),
            Request::Append { client, seq, value } => {
                // MUTANT applies-twice: skips this memory, so a retried append lands again. A
                // flaw is honoured only under a model backend.
                if !(P::MODEL && self.flaw == Flaw::AppliesTwice) {
                    if let Some((last, response)) = state.last.get(&client) {
                        if seq == *last {
                            return response.clone();
                        }
                        if seq < *last {
                            return Response::Error(format!(
                                "stale request {seq} from {client} (last was {last})"
                            ));
                        }
                    }
                }
                state.items.push(value);
                let response = Response::Appended {
                    index: state.items.len() - 1,
                };
                state.last.insert(client, (seq, response.clone()));
                response
            }
        }
    }

    /// The list as it is.
    pub fn items(&self) -> Vec<Value> {
        self.state.lock().items.clone()
    }
}

/// The server's end of one client connection.
pub trait Conn {
    /// The next whole request; `Ok(None)` when the client closed the connection.
    fn recv(&mut self) -> Result<Option<Request>, FrameError>;
    /// Answers the last request; an error means the client is gone.
    fn send(&mut self, response: &Response) -> Result<(), String>;
}

/// How a connection's request loop ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeEnd {
    /// The client closed the connection between requests.
    Closed,
    /// The client vanished mid-request: the partial request was dropped unapplied.
    Truncated,
    /// The client sent a frame above the maximum: refused with an error reply, then closed.
    Refused,
    /// The connection failed.
    Gone,
}

/// The answer to one frame as it arrived, and whether the connection goes on: a whole request
/// is applied; a malformed one is refused and the connection goes on; an oversized one is
/// refused and ends the connection. Every server loop (blocking [`serve`], the production
/// event loop) answers through here.
pub(crate) fn answer<P: Primitives>(
    core: &ManagerCore<P>,
    received: Result<Request, FrameError>,
) -> (Response, bool) {
    match received {
        Ok(request) => (core.handle(request), true),
        Err(e @ FrameError::TooLarge { .. }) => (Response::Error(format!("refused: {e}")), false),
        Err(e) => (Response::Error(format!("refused: {e}")), true),
    }
}

/// The request loop: whole requests are applied and answered; a malformed one gets an error
/// reply and the loop goes on; a partial one is dropped; an oversized one ends the connection.
pub fn serve<P: Primitives, C: Conn>(core: &ManagerCore<P>, conn: &mut C) -> ServeEnd {
    loop {
        let received = match conn.recv() {
            Ok(Some(request)) => Ok(request),
            Ok(None) => return ServeEnd::Closed,
            Err(FrameError::Truncated { .. }) => return ServeEnd::Truncated,
            Err(FrameError::Io(_)) => return ServeEnd::Gone,
            Err(e) => Err(e),
        };
        let (response, goes_on) = answer(core, received);
        if conn.send(&response).is_err() {
            return ServeEnd::Gone;
        }
        if !goes_on {
            return ServeEnd::Refused;
        }
    }
}

/// A client's end of a connection.
pub trait ClientConn {
    /// Sends `request` and waits for its answer; an error means the connection broke.
    fn call(&mut self, request: &Request) -> Result<Response, String>;
    /// Opens a new connection in place of a broken one.
    fn reconnect(&mut self) -> Result<(), String>;
}

/// How many times a client sends one request before it gives up.
pub const ATTEMPTS: usize = 3;

/// A client's identity and the numbering of its appends.
pub struct Client<C: ClientConn> {
    id: String,
    seq: u64,
    conn: C,
}

impl<C: ClientConn> Client<C> {
    pub fn new(id: String, conn: C) -> Self {
        Client { id, seq: 0, conn }
    }

    /// Appends `value` exactly once: a lost answer is asked for again with the same number.
    /// A request over the frame limit is refused here, before anything is sent.
    pub fn append(&mut self, value: Value) -> Result<usize, String> {
        let request = Request::Append {
            client: self.id.clone(),
            seq: self.seq + 1,
            value,
        };
        let size = encoded_len(&request);
        if size > MAX_FRAME {
            return Err(format!(
                "append not sent: its request of {size} bytes exceeds the frame limit of \
                 {MAX_FRAME} bytes"
            ));
        }
        self.seq += 1;
        match self.call(&request)? {
            Response::Appended { index } => Ok(index),
            Response::Error(e) => Err(e),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    /// The list as the server has it.
    pub fn snapshot(&mut self) -> Result<Vec<Value>, String> {
        match self.call(&Request::Snapshot)? {
            Response::List(items) => Ok(items),
            Response::Error(e) => Err(e),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    fn call(&mut self, request: &Request) -> Result<Response, String> {
        let mut last_error = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                if let Err(e) = self.conn.reconnect() {
                    last_error = e;
                    continue;
                }
            }
            match self.conn.call(request) {
                Ok(response) => return Ok(response),
                Err(e) => last_error = e,
            }
        }
        Err(format!(
            "the manager did not answer after {ATTEMPTS} attempts: {last_error}"
        ))
    }
}
