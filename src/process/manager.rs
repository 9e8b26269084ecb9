//! A manager: a server process owns a list; proxies in other processes append to it over IPC
//! (Python's `multiprocessing.Manager().list()`).
//!
//! Invariant: every append a client makes is in the list exactly once, whatever connection
//! breaks. A request is applied only once its whole frame has arrived, so a client killed
//! mid-request leaves no partial entry. A malformed frame gets an error reply and the
//! connection goes on; an oversized one gets an error reply and the connection is closed
//! (its body is never read). Either way the server keeps serving everyone else.
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
//! [`Conn`]: a Unix socket in production ([`Manager`] starts the server process), channels
//! between threads in the model checks ([`simulate`]).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::frame::{encode, read_frame, write_frame, FrameError, MAX_FRAME};
use super::ExitDesc;
use crate::sync::{channel, Receiver, Sender};
use crate::sync::{spawn, Mutex, Primitives, Std};

/// The environment variable that tells a manager server where to listen.
pub const SOCKET_ENV: &str = "THREADPROOF_MANAGER_SOCKET";

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
    Appended { index: usize },
    List(Vec<Value>),
    Error(String),
}

/// The server's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagerVariant {
    /// A repeated (client, seq) is answered from memory.
    AppliesOnce,
    /// Mutant: a repeated request is applied again.
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
    variant: ManagerVariant,
}

impl<P: Primitives> ManagerCore<P> {
    pub fn new(variant: ManagerVariant) -> Self {
        ManagerCore {
            state: Mutex::new(ListState::default()),
            variant,
        }
    }

    /// Applies one whole request.
    pub fn handle(&self, request: Request) -> Response {
        let mut state = self.state.lock();
        match request {
            Request::Snapshot => Response::List(state.items.clone()),
            Request::Append { client, seq, value } => {
                if self.variant == ManagerVariant::AppliesOnce {
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

/// The request loop: whole requests are applied and answered; a malformed one gets an error
/// reply and the loop goes on; a partial one is dropped; an oversized one ends the connection.
pub fn serve<P: Primitives, C: Conn>(core: &ManagerCore<P>, conn: &mut C) -> ServeEnd {
    loop {
        let response = match conn.recv() {
            Ok(Some(request)) => core.handle(request),
            Ok(None) => return ServeEnd::Closed,
            Err(FrameError::Truncated { .. }) => return ServeEnd::Truncated,
            Err(FrameError::Io(_)) => return ServeEnd::Gone,
            Err(e @ FrameError::TooLarge { .. }) => {
                let _ = conn.send(&Response::Error(format!("refused: {e}")));
                return ServeEnd::Refused;
            }
            Err(e @ FrameError::Malformed(_)) => Response::Error(format!("refused: {e}")),
        };
        if conn.send(&response).is_err() {
            return ServeEnd::Gone;
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
    pub fn append(&mut self, value: Value) -> Result<usize, String> {
        self.seq += 1;
        let request = Request::Append {
            client: self.id.clone(),
            seq: self.seq,
            value,
        };
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

// ---------------------------------------------------------------------------------------------
// Production: a server process on a Unix socket.

/// A connection over a Unix socket, either end.
pub struct UnixConn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl UnixConn {
    pub fn new(stream: UnixStream) -> io::Result<Self> {
        Ok(UnixConn {
            writer: stream.try_clone()?,
            reader: BufReader::new(stream),
        })
    }
}

impl Conn for UnixConn {
    fn recv(&mut self) -> Result<Option<Request>, FrameError> {
        read_frame(&mut self.reader, MAX_FRAME)
    }

    fn send(&mut self, response: &Response) -> Result<(), String> {
        write_frame(&mut self.writer, response).map_err(|e| e.to_string())
    }
}

/// A client connection to the server at `socket`, opened on first use.
pub struct UnixClientConn {
    socket: PathBuf,
    conn: Option<UnixConn>,
}

impl UnixClientConn {
    pub fn new(socket: PathBuf) -> Self {
        UnixClientConn { socket, conn: None }
    }
}

impl ClientConn for UnixClientConn {
    fn call(&mut self, request: &Request) -> Result<Response, String> {
        if self.conn.is_none() {
            self.reconnect()?;
        }
        let conn = self.conn.as_mut().expect("connected");
        let result = write_frame(&mut conn.writer, request)
            .and_then(|()| read_frame::<_, Response>(&mut conn.reader, MAX_FRAME))
            .map_err(|e| e.to_string())
            .and_then(|r| r.ok_or_else(|| "the manager closed the connection".to_string()));
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    fn reconnect(&mut self) -> Result<(), String> {
        let stream = UnixStream::connect(&self.socket)
            .map_err(|e| format!("{}: {e}", self.socket.display()))?;
        self.conn = Some(UnixConn::new(stream).map_err(|e| e.to_string())?);
        Ok(())
    }
}

/// A name no other client of any process has had.
fn new_client_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A handle on a manager's list that can travel to another process as a task argument (it is
/// the socket's path). In each process, each list has one client: one connection, one
/// numbering.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListProxy {
    socket: PathBuf,
}

type Clients = std::sync::Mutex<HashMap<PathBuf, Client<UnixClientConn>>>;

fn clients() -> &'static Clients {
    static CLIENTS: std::sync::OnceLock<Clients> = std::sync::OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

impl ListProxy {
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        ListProxy {
            socket: socket.into(),
        }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn with_client<R>(&self, f: impl FnOnce(&mut Client<UnixClientConn>) -> R) -> R {
        let mut clients = clients().lock().unwrap_or_else(|e| e.into_inner());
        let client = clients.entry(self.socket.clone()).or_insert_with(|| {
            Client::new(new_client_id(), UnixClientConn::new(self.socket.clone()))
        });
        f(client)
    }

    /// Appends `value` to the list, exactly once; returns its index.
    pub fn append(&self, value: Value) -> Result<usize, String> {
        self.with_client(|c| c.append(value))
    }

    /// The list as the server has it now.
    pub fn snapshot(&self) -> Result<Vec<Value>, String> {
        self.with_client(|c| c.snapshot())
    }

    /// Writes the first half of an append request on a new connection and leaves it there:
    /// what a client killed mid-request leaves behind (tests use it).
    pub fn write_partial_request(&self) -> io::Result<()> {
        let mut stream = UnixStream::connect(&self.socket)?;
        let request = Request::Append {
            client: new_client_id(),
            seq: 1,
            value: Value::String("PARTIAL".into()),
        };
        let bytes = encode(&request).map_err(io::Error::other)?;
        stream.write_all(&bytes[..bytes.len() / 2])?;
        stream.flush()?;
        // Keep the connection open for whoever ends this process.
        std::mem::forget(stream);
        Ok(())
    }
}

/// The server process, seen from the parent that started it.
pub struct Manager {
    child: Option<Child>,
    socket: PathBuf,
    dir: PathBuf,
}

impl Manager {
    /// Starts a server process of this very binary.
    pub fn start() -> io::Result<Self> {
        Self::with_program(std::env::current_exe()?)
    }

    /// Starts a server process of `program`, which must call
    /// [`super::worker_main_if_worker`] first thing in `main`.
    pub fn with_program(program: impl AsRef<Path>) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "threadproof-manager-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("list.sock");
        let mut manager = Manager {
            child: None,
            socket: socket.clone(),
            dir,
        };
        let mut child = super::os::spawn_worker(
            program.as_ref(),
            "manager",
            &[(SOCKET_ENV, socket.as_os_str())],
        )?;
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        manager.child = Some(child);
        match read_frame::<_, String>(&mut stdout, MAX_FRAME) {
            Ok(Some(ready)) if ready == "ready" => Ok(manager),
            other => Err(io::Error::other(format!(
                "the manager server did not start: {other:?}"
            ))),
        }
    }

    /// A proxy for the list, to pass to tasks.
    pub fn list(&self) -> ListProxy {
        ListProxy::new(self.socket.clone())
    }

    /// The server's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server (end of its input) and reaps it.
    pub fn shutdown(mut self) -> io::Result<ExitDesc> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<ExitDesc> {
        let result = match self.child.take() {
            Some(mut child) => {
                drop(child.stdin.take());
                child.wait().map(ExitDesc::from)
            }
            None => Ok(ExitDesc::Unknown),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        result
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The server process's `main`: serve connections on the socket, one thread each, until the
/// parent closes our stdin.
pub(super) fn server_main() -> i32 {
    let Some(socket) = std::env::var_os(SOCKET_ENV).map(PathBuf::from) else {
        eprintln!("threadproof manager: {SOCKET_ENV} is not set");
        return 2;
    };
    let listener = match UnixListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("threadproof manager: {}: {e}", socket.display());
            return 2;
        }
    };
    if write_frame(&mut io::stdout().lock(), &"ready").is_err() {
        return 2;
    }
    let watched = socket.clone();
    std::thread::spawn(move || {
        // End of input: the parent shut us down or died.
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        let _ = std::fs::remove_file(&watched);
        std::process::exit(0);
    });
    let core = Arc::new(ManagerCore::<Std>::new(ManagerVariant::AppliesOnce));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let core = Arc::clone(&core);
        std::thread::spawn(move || {
            if let Ok(mut conn) = UnixConn::new(stream) {
                serve(&core, &mut conn);
            }
        });
    }
    0
}

// ---------------------------------------------------------------------------------------------
// Model checks: one server thread, client threads, channels between them.

/// A message from a simulated client to the server: a request and where to answer.
struct SimCall<P: Primitives> {
    request: Request,
    answer: Sender<P, Option<Response>>,
}

/// The server's end of every simulated connection: requests from all clients on one channel.
struct SimServerConn<P: Primitives> {
    inbox: Receiver<P, SimCall<P>>,
    answer: Option<Sender<P, Option<Response>>>,
    /// Whose answer is lost once: `(client, seq)`.
    lose: Option<(String, u64)>,
    last: Option<(String, u64)>,
}

impl<P: Primitives> Conn for SimServerConn<P> {
    fn recv(&mut self) -> Result<Option<Request>, FrameError> {
        Ok(self.inbox.recv().map(|call| {
            self.last = match &call.request {
                Request::Append { client, seq, .. } => Some((client.clone(), *seq)),
                Request::Snapshot => None,
            };
            self.answer = Some(call.answer);
            call.request
        }))
    }

    fn send(&mut self, response: &Response) -> Result<(), String> {
        let answer = self.answer.take().ok_or("no request to answer")?;
        // The connection breaks after the request was applied, before its answer arrives.
        let lost = self.last.is_some() && self.last == self.lose;
        if lost {
            self.lose = None;
        }
        let _ = answer.send((!lost).then(|| response.clone()));
        Ok(())
    }
}

/// A simulated client connection.
struct SimClientConn<P: Primitives> {
    server: Sender<P, SimCall<P>>,
    answer_tx: Sender<P, Option<Response>>,
    answers: Receiver<P, Option<Response>>,
}

impl<P: Primitives> ClientConn for SimClientConn<P> {
    fn call(&mut self, request: &Request) -> Result<Response, String> {
        let call = SimCall {
            request: request.clone(),
            answer: self.answer_tx.clone(),
        };
        self.server
            .send(call)
            .map_err(|_| "the server is gone".to_string())?;
        match self.answers.recv() {
            Some(Some(response)) => Ok(response),
            _ => Err("connection lost".to_string()),
        }
    }

    fn reconnect(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// What a simulated manager run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulated {
    /// What each client's appends returned, client by client.
    pub returned: Vec<Vec<Value>>,
    /// The server's list at the end.
    pub list: Vec<Value>,
}

/// Runs a manager over simulated connections: one server thread, and one client thread per
/// entry of `appends`, each appending its values in order. The answer to client `c`'s `s`-th
/// append (both from 0) is lost once if `lose == Some((c, s))`: the client must retry.
pub fn simulate<P: Primitives>(
    appends: Vec<Vec<Value>>,
    lose: Option<(usize, usize)>,
    variant: ManagerVariant,
) -> Result<Simulated, String> {
    let core = Arc::new(ManagerCore::<P>::new(variant));
    let (server_tx, inbox) = channel::<P, SimCall<P>>();
    let client_id = |c: usize| format!("client-{c}");
    let mut conn = SimServerConn {
        inbox,
        answer: None,
        lose: lose.map(|(c, s)| (client_id(c), s as u64 + 1)),
        last: None,
    };
    let server_core = Arc::clone(&core);
    let server = spawn::<P, _, _>("manager", move || serve(&server_core, &mut conn))
        .map_err(|e| e.to_string())?;
    let clients = appends
        .into_iter()
        .enumerate()
        .map(|(c, values)| {
            let (answer_tx, answers) = channel::<P, Option<Response>>();
            let conn = SimClientConn {
                server: server_tx.clone(),
                answer_tx,
                answers,
            };
            spawn::<P, _, _>(format!("client-{c}"), move || {
                let mut client = Client::new(client_id(c), conn);
                values
                    .into_iter()
                    .map(|v| client.append(v.clone()).map(|_| v))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    drop(server_tx);
    let mut returned = Vec::new();
    for client in clients {
        returned.push(client.join().map_err(|p| p.to_string())??);
    }
    server.join().map_err(|p| p.to_string())?;
    Ok(Simulated {
        returned,
        list: core.items(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn append(client: &str, seq: u64, v: u32) -> Request {
        Request::Append {
            client: client.into(),
            seq,
            value: json!(v),
        }
    }

    #[test]
    fn a_repeated_request_is_answered_from_memory() {
        let core = ManagerCore::<Std>::new(ManagerVariant::AppliesOnce);
        assert_eq!(
            core.handle(append("a", 1, 10)),
            Response::Appended { index: 0 }
        );
        assert_eq!(
            core.handle(append("b", 1, 20)),
            Response::Appended { index: 1 }
        );
        assert_eq!(
            core.handle(append("a", 1, 10)),
            Response::Appended { index: 0 }
        );
        assert!(matches!(core.handle(append("a", 0, 5)), Response::Error(_)));
        assert_eq!(core.items(), vec![json!(10), json!(20)]);
    }

    #[test]
    fn the_mutant_applies_a_repeat_twice() {
        let core = ManagerCore::<Std>::new(ManagerVariant::AppliesTwice);
        core.handle(append("a", 1, 10));
        core.handle(append("a", 1, 10));
        assert_eq!(core.items(), vec![json!(10), json!(10)]);
    }

    #[test]
    fn a_lost_answer_is_retried_and_applied_once() {
        let values = vec![vec![json!(1), json!(2)], vec![json!(3)]];
        let out =
            simulate::<Std>(values.clone(), Some((0, 1)), ManagerVariant::AppliesOnce).unwrap();
        assert_eq!(out.returned, values);
        let mut list = out.list.clone();
        list.sort_by_key(|v| v.as_u64());
        assert_eq!(list, vec![json!(1), json!(2), json!(3)]);
        let bad = simulate::<Std>(values, Some((0, 1)), ManagerVariant::AppliesTwice).unwrap();
        assert_eq!(bad.list.len(), 4);
    }
}
