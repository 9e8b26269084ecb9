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
//! [`Conn`]: a Unix socket in production (`unix`: [`Manager`] starts the server process),
//! channels between threads in the model checks (`sim`: [`simulate`]).

mod client;
mod sim;
mod unix;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::frame::FrameError;
use crate::sync::{Mutex, Primitives};

#[cfg(test)]
pub(crate) use self::client::ClientMutant;
pub use self::client::{Client, ClientConn, ATTEMPTS};
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

/// What the server does with a repeated request: the correct handling, or a known-bad one (the
/// `manager` scenario's mutant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnRepeat {
    /// A repeated (client, seq) is answered from memory.
    AppliesOnce,
    /// A repeated request is applied again.
    AppliesTwice,
}

/// How many appends a client may have in flight ([`Client::extend`]); the server remembers the
/// answers to each client's last this many appends.
pub const WINDOW: usize = 64;

/// How many bytes of requests a client may have in flight: with the answers small, neither
/// side ever waits on the other's buffers.
const WINDOW_BYTES: usize = 64 * 1024;

/// What the server remembers of one client: its highest sequence number applied, and the
/// answers to its last [`WINDOW`] appends, so that every append of a pipelined window resent
/// on a new connection is answered from memory, not applied again.
#[derive(Default)]
struct Seen {
    last: u64,
    recent: VecDeque<(u64, usize)>,
}

#[derive(Default)]
struct ListState {
    items: Vec<Value>,
    clients: BTreeMap<String, Seen>,
}

/// The list and the memory of what each client last asked.
pub struct ManagerCore<P: Primitives> {
    state: Mutex<P, ListState>,
    flaw: OnRepeat,
}

impl<P: Primitives> Default for ManagerCore<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P: Primitives> ManagerCore<P> {
    /// An empty list.
    pub fn new() -> Self {
        Self::with_flaw(OnRepeat::AppliesOnce)
    }

    /// A core with a known-bad request handling: for the `manager` scenario's mutant.
    pub(crate) fn with_flaw(flaw: OnRepeat) -> Self {
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
                if !(P::MODEL && self.flaw == OnRepeat::AppliesTwice) {
                    if let Some(seen) = state.clients.get(&client) {
                        if seq <= seen.last {
                            return match seen.recent.iter().find(|(s, _)| *s == seq) {
                                Some(&(_, index)) => Response::Appended { index },
                                None => Response::Error(format!(
                                    "stale request {seq} from {client} (last was {})",
                                    seen.last
                                )),
                            };
                        }
                    }
                }
                state.items.push(value);
                let index = state.items.len() - 1;
                let seen = state.clients.entry(client).or_default();
                seen.last = seen.last.max(seq);
                seen.recent.push_back((seq, index));
                if seen.recent.len() > WINDOW {
                    seen.recent.pop_front();
                }
                Response::Appended { index }
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

/// A model check of the pipelined protocol ([`Client::extend`]) over simulated connections:
/// a server thread running [`serve`], two clients, and one answer lost (the connection
/// breaks after the server applied the append) while other appends of the same window are in
/// flight. Every append must land exactly once; the client that resends under new numbers
/// (a double) and the server without the memory (applies-twice) are caught.
#[cfg(test)]
mod pipeline_model {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::explore::{Checker, FailureKind, LoomConfig, Report, ShuttleConfig};
    use crate::sync::{channel, spawn, Loom, Receiver, Sender, Shuttle};

    /// An answer, or `None`: the connection broke.
    type Answer = Option<Response>;

    /// The server's end of every connection: requests with where to answer them.
    struct ServerEnd<P: Primitives> {
        inbox: Receiver<P, (Request, Sender<P, Answer>)>,
        answer: Option<Sender<P, Answer>>,
        current: Option<(String, u64)>,
        /// The append whose answer is lost once: `(client, seq)`.
        lose: Option<(String, u64)>,
    }

    impl<P: Primitives> Conn for ServerEnd<P> {
        fn recv(&mut self) -> Result<Option<Request>, FrameError> {
            Ok(self.inbox.recv().map(|(request, answer)| {
                self.current = match &request {
                    Request::Append { client, seq, .. } => Some((client.clone(), *seq)),
                    Request::Snapshot => None,
                };
                self.answer = Some(answer);
                request
            }))
        }

        fn send(&mut self, response: &Response) -> Result<(), String> {
            let answer = self.answer.take().ok_or("no request to answer")?;
            let lost = self.current.is_some() && self.current == self.lose;
            if lost {
                self.lose = None;
            }
            let _ = answer.send((!lost).then(|| response.clone()));
            Ok(())
        }
    }

    /// A client's connection: requests go to the server with this connection's answer
    /// channel; a new connection is a new channel, so answers sent on a broken one are never
    /// read.
    struct ClientEnd<P: Primitives> {
        server: Sender<P, (Request, Sender<P, Answer>)>,
        answers: (Sender<P, Answer>, Receiver<P, Answer>),
    }

    impl<P: Primitives> ClientConn for ClientEnd<P> {
        fn call(&mut self, request: &Request) -> Result<Response, String> {
            self.send(request)?;
            self.recv()
        }
        fn reconnect(&mut self) -> Result<(), String> {
            self.answers = channel();
            Ok(())
        }
        fn pipelines(&self) -> bool {
            true
        }
        fn send(&mut self, request: &Request) -> Result<(), String> {
            let answer = self.answers.0.clone();
            self.server
                .send((request.clone(), answer))
                .map_err(|_| "the server is gone".to_string())
        }
        fn recv(&mut self) -> Result<Response, String> {
            match self.answers.1.recv() {
                Some(Some(response)) => Ok(response),
                _ => Err("connection lost".into()),
            }
        }
    }

    /// What each client's `extend` returned (values at their indexes), and the list.
    type Outcome = (Vec<Result<Vec<(usize, String)>, String>>, Vec<String>);

    /// Client 0 extends by `a0 a1 a2` (all in flight at once), client 1 by `b0`; the answer to
    /// client 0's first append is lost.
    fn run<P: Primitives>(flaw: OnRepeat, mutant: ClientMutant) -> Outcome {
        let core = Arc::new(ManagerCore::<P>::with_flaw(flaw));
        let (server_tx, inbox) = channel::<P, (Request, Sender<P, Answer>)>();
        let mut end = ServerEnd {
            inbox,
            answer: None,
            current: None,
            lose: Some(("c0".into(), 1)),
        };
        let server_core = Arc::clone(&core);
        let server = spawn::<P, _, _>("manager", move || serve(&server_core, &mut end)).unwrap();
        let values = [
            vec![json!("a0"), json!("a1"), json!("a2")],
            vec![json!("b0")],
        ];
        let clients: Vec<_> = values
            .into_iter()
            .enumerate()
            .map(|(c, values)| {
                let conn = ClientEnd {
                    server: server_tx.clone(),
                    answers: channel(),
                };
                spawn::<P, _, _>(format!("client-{c}"), move || {
                    let mut client = Client::new(format!("c{c}"), conn);
                    client.mutant = mutant;
                    let indexes = client.extend(values.clone())?;
                    let values = values.iter().map(Value::to_string);
                    Ok(indexes.into_iter().zip(values).collect())
                })
                .unwrap()
            })
            .collect();
        drop(server_tx);
        let returned = clients.into_iter().map(|c| c.join().unwrap()).collect();
        server.join().unwrap();
        let list = core.items().iter().map(Value::to_string).collect();
        (returned, list)
    }

    fn invariant((returned, list): &Outcome) -> Result<(), String> {
        let mut expected: Vec<String> = ["a0", "a1", "a2", "b0"]
            .iter()
            .map(|v| json!(v).to_string())
            .collect();
        let mut got = list.clone();
        expected.sort();
        got.sort();
        if got != expected {
            return Err(format!(
                "the list is {list:?}: not each append exactly once"
            ));
        }
        for result in returned {
            for (index, value) in result.as_ref().map_err(Clone::clone)? {
                if list.get(*index) != Some(value) {
                    return Err(format!("{value} was answered with index {index}: {list:?}"));
                }
            }
        }
        Ok(())
    }

    fn check(checker: Checker, flaw: OnRepeat, mutant: ClientMutant) -> Report<Outcome> {
        checker.explore_either(
            move || run::<Loom>(flaw, mutant),
            move || run::<Shuttle>(flaw, mutant),
            invariant,
        )
    }

    /// Loom within preemption bound 1 (bound 2: 71,672 executions, about 10 s in a debug
    /// build, also passes), and shuttle's random schedules.
    fn checkers() -> [Checker; 2] {
        [
            Checker::Loom(LoomConfig::exhaustive().preemption_bound(1)),
            Checker::Shuttle(ShuttleConfig::random(500)),
        ]
    }

    #[test]
    fn pipelined_appends_land_exactly_once_when_an_answer_is_lost() {
        for checker in checkers() {
            let report = check(checker, OnRepeat::AppliesOnce, ClientMutant::None);
            println!("pipelined: {}", report.summary());
            assert!(report.passed(), "{}", report.summary());
            assert!(report.outcomes.len() > 1, "{}", report.summary());
        }
    }

    #[test]
    fn a_client_that_renumbers_its_resends_and_a_server_without_memory_are_caught() {
        for (flaw, mutant) in [
            (OnRepeat::AppliesOnce, ClientMutant::RenumbersOnResend),
            (OnRepeat::AppliesTwice, ClientMutant::None),
        ] {
            for checker in checkers() {
                let report = check(checker, flaw, mutant);
                println!("{flaw:?} {mutant:?}: {}", report.summary());
                assert_eq!(
                    report.failure_kind(),
                    Some(FailureKind::InvariantViolated),
                    "{}",
                    report.summary()
                );
                let message = &report.failure.as_ref().unwrap().message;
                assert!(
                    message.contains("not each append exactly once"),
                    "{message}"
                );
            }
        }
    }
}
