//! The production manager: a server process of this binary listening on a Unix socket in the
//! abstract namespace, and the clients that reach it from any process of the same user.
//!
//! Invariant: only processes of the user that started the server ever reach its list, and the
//! server lives until its parent shuts it down or dies, whatever the load.
//!
//! - No path: the socket lives in Linux's abstract namespace under an unpredictable name (128
//!   random bits), so there is no file to pre-create, swap, leave behind on `SIGINT`, `SIGTERM`
//!   or `SIGKILL`, or open up with a loose umask; the name disappears with the server. A name
//!   in that namespace has no permissions, so both ends check the other's credentials
//!   (`SO_PEERCRED`): the server drops every connection from another user before reading a
//!   byte, and a client refuses a server run by another user.
//! - Load: one thread serves every connection (a `mio` event loop), so no connection costs a
//!   thread and a failed thread start cannot kill the server. Connections are bounded (by
//!   [`ManagerOptions::max_connections`], by default the descriptors the server may open); at
//!   the bound, or when the process is out of descriptors, the connection idle the longest is
//!   closed to make room (its client reconnects and resends: exactly once still holds, through
//!   the sequence numbers), and connections idle for [`ManagerOptions::idle_timeout`] are
//!   closed. Idle connections cannot starve real clients.
//! - Size: one request frame is at most [`MAX_FRAME`] bytes; a snapshot of any size is sent
//!   as pages of at most one frame each.
//! - Lifetime: the server is forked by the process-wide spawner ([`crate::process::ipc`]) and
//!   exits at end of input on its channel: when its parent shuts it down or dies.
//! - Clients time out ([`ListProxy::with_timeout`]): a server that stops answering (stopped,
//!   wedged) is an error after the timeout, never a client blocked forever.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{UnixListener as MioListener, UnixStream as MioStream};
use mio::{Events, Interest, Poll, Token};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{answer, Client, ClientConn, ManagerCore, Request, Response};
use crate::process::frame::{
    complete_frame, encode, read_frame, write_frame, FrameError, MAX_FRAME,
};
use crate::process::ipc::{NoSigpipe, Spawned};
use crate::process::os::OsTransport;
use crate::process::ExitDesc;
use crate::sync::Std;

/// How a manager server runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerOptions {
    /// Connections served at once; `None`: as many as the server's descriptor limit allows.
    pub max_connections: Option<usize>,
    /// A connection with no traffic for this long is closed (its client reconnects when it
    /// next needs to).
    pub idle_timeout: Duration,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        ManagerOptions {
            max_connections: None,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// What the server tells its parent once it listens.
#[derive(Debug, Serialize, Deserialize)]
struct Ready {
    address: String,
}

/// How long a client waits for the server by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The abstract address `name`.
fn abstract_address(name: &str) -> io::Result<SocketAddr> {
    SocketAddr::from_abstract_name(name.as_bytes())
}

/// Whether `stream`'s peer runs as this process's user.
fn same_user(stream: &impl std::os::fd::AsFd) -> io::Result<Result<(), u32>> {
    let peer = rustix::net::sockopt::socket_peercred(stream)?;
    let me = rustix::process::geteuid();
    Ok(if peer.uid == me {
        Ok(())
    } else {
        Err(peer.uid.as_raw())
    })
}

/// Writes all of `bytes` to a socket without ever raising `SIGPIPE` (`MSG_NOSIGNAL`); a send
/// timeout on the socket shows as [`io::ErrorKind::TimedOut`].
fn send_all(stream: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::net::send(stream, bytes, rustix::net::SendFlags::NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => return Err(io::ErrorKind::TimedOut.into()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A client connection to the server at an abstract address, opened on first use.
pub struct UnixClientConn {
    address: String,
    timeout: Duration,
    conn: Option<BufReader<UnixStream>>,
    /// Pipelined requests not yet sent ([`ClientConn::send`]).
    pending: Vec<u8>,
}

impl UnixClientConn {
    pub fn new(address: String, timeout: Duration) -> Self {
        UnixClientConn {
            address,
            timeout,
            conn: None,
            pending: Vec::new(),
        }
    }

    /// Sends `bytes` on the connection, naming a timeout as such.
    fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), String> {
        if self.conn.is_none() {
            self.reconnect()?;
        }
        let stream = self.conn.as_ref().expect("connected").get_ref();
        send_all(stream, bytes).map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut => format!(
                "the manager did not take the request within {:?}",
                self.timeout
            ),
            _ => e.to_string(),
        })
    }

    /// `result`, dropping the connection if it is an error: the next call reconnects.
    fn or_drop<T>(&mut self, result: Result<T, String>) -> Result<T, String> {
        if result.is_err() {
            self.conn = None;
            self.pending.clear();
        }
        result
    }

    /// Reads one response frame, naming a timeout as such.
    fn read_response(&mut self) -> Result<Response, String> {
        let reader = self.conn.as_mut().expect("connected");
        match read_frame::<_, Response>(reader, MAX_FRAME) {
            Ok(Some(response)) => Ok(response),
            Ok(None) => Err("the manager closed the connection".into()),
            Err(FrameError::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Err(format!(
                    "the manager did not answer within {:?}",
                    self.timeout
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn exchange(&mut self, request: &Request) -> Result<Response, String> {
        let bytes = encode(request).map_err(|e| e.to_string())?;
        self.send_bytes(&bytes)?;
        // A snapshot comes in pages: every `ListPart`, then the `List` that ends it.
        let mut pages = Vec::new();
        loop {
            match self.read_response()? {
                Response::ListPart(items) => pages.extend(items),
                Response::List(items) if !pages.is_empty() => {
                    pages.extend(items);
                    return Ok(Response::List(pages));
                }
                response => return Ok(response),
            }
        }
    }
}

impl ClientConn for UnixClientConn {
    fn call(&mut self, request: &Request) -> Result<Response, String> {
        let result = self.exchange(request);
        self.or_drop(result)
    }

    fn pipelines(&self) -> bool {
        true
    }

    fn send(&mut self, request: &Request) -> Result<(), String> {
        let bytes = encode(request).map_err(|e| e.to_string())?;
        self.pending.extend_from_slice(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let result = self.send_bytes(&pending);
        self.pending = pending;
        self.pending.clear();
        self.or_drop(result)
    }

    fn recv(&mut self) -> Result<Response, String> {
        let result = match self.conn {
            Some(_) => self.read_response(),
            None => Err("not connected".into()),
        };
        self.or_drop(result)
    }

    fn reconnect(&mut self) -> Result<(), String> {
        self.conn = None;
        self.pending.clear();
        let describe = |e: io::Error| format!("manager @{}: {e}", self.address);
        let stream = UnixStream::connect_addr(&abstract_address(&self.address).map_err(describe)?)
            .map_err(describe)?;
        if let Err(uid) = same_user(&stream).map_err(describe)? {
            return Err(format!(
                "manager @{}: the server runs as user {uid}, not as this process's user; \
                 refusing to talk to it",
                self.address
            ));
        }
        stream
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)))
            .map_err(describe)?;
        self.conn = Some(BufReader::new(stream));
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

/// A handle on a manager's list that can travel to another process as a task argument (the
/// server's abstract address and the client's timeout). In each process, each list has one
/// client: one connection, one numbering.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListProxy {
    address: String,
    timeout_ms: u64,
}

/// The clients of this process, by proxy; at most [`MAX_CLIENTS`], the least recently used
/// dropped first (its connection closed: a list used again later gets a new client).
type Clients = std::sync::Mutex<(u64, HashMap<ListProxy, (u64, SharedClient)>)>;

/// One list's client, shared by the callers in this process; evicted from the table while in
/// use, it lives on until its last caller is done.
type SharedClient = Arc<std::sync::Mutex<Client<UnixClientConn>>>;

/// Lists this process talks to at once before the least recently used one's client is
/// dropped: a long-lived worker that served tasks for many managers keeps no connection to
/// each.
const MAX_CLIENTS: usize = 16;

fn clients() -> &'static Clients {
    static CLIENTS: std::sync::OnceLock<Clients> = std::sync::OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

impl ListProxy {
    /// A proxy for the server at abstract address `address`.
    pub fn new(address: impl Into<String>) -> Self {
        ListProxy {
            address: address.into(),
            timeout_ms: DEFAULT_TIMEOUT.as_millis() as u64,
        }
    }

    /// The server's address in the abstract namespace (without the leading NUL).
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The same list, with calls that give up after `timeout` without an answer (each of the
    /// client's attempts).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout_ms = timeout.as_millis().clamp(1, u64::MAX as u128) as u64;
        self
    }

    /// A raw connection to the server, for tests that speak the protocol by hand.
    pub fn connect(&self) -> io::Result<UnixStream> {
        UnixStream::connect_addr(&abstract_address(&self.address)?)
    }

    /// Runs `f` on this process's client of the list. The table's lock is held only to find
    /// or make the client, never across its I/O: a stopped server delays only its own list's
    /// callers, not every list of the process.
    fn with_client<R>(&self, f: impl FnOnce(&mut Client<UnixClientConn>) -> R) -> R {
        let client = {
            let mut guard = clients().lock().unwrap_or_else(|e| e.into_inner());
            let (clock, clients) = &mut *guard;
            *clock += 1;
            if !clients.contains_key(self) && clients.len() >= MAX_CLIENTS {
                let oldest = clients
                    .iter()
                    .min_by_key(|(_, (used, _))| *used)
                    .map(|(proxy, _)| proxy.clone());
                if let Some(oldest) = oldest {
                    clients.remove(&oldest);
                }
            }
            let (used, client) = clients.entry(self.clone()).or_insert_with(|| {
                let timeout = Duration::from_millis(self.timeout_ms);
                let conn = UnixClientConn::new(self.address.clone(), timeout);
                let client = Client::new(new_client_id(), conn);
                (0, Arc::new(std::sync::Mutex::new(client)))
            });
            *used = *clock;
            Arc::clone(client)
        };
        // One client per list: its callers in this process take turns, as on one connection.
        let mut client = client.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut client)
    }

    /// Drops this process's clients of the server at `address`: their connections close.
    fn forget(address: &str) {
        let mut guard = clients().lock().unwrap_or_else(|e| e.into_inner());
        guard.1.retain(|proxy, _| proxy.address != address);
    }

    /// Appends `value` to the list, exactly once; returns its index.
    pub fn append(&self, value: Value) -> Result<usize, String> {
        self.with_client(|c| c.append(value))
    }

    /// Appends every value, in order, each exactly once, pipelined ([`Client::extend`]):
    /// many appends per round trip. Returns their indexes.
    pub fn extend(&self, values: Vec<Value>) -> Result<Vec<usize>, String> {
        self.with_client(|c| c.extend(values))
    }

    /// The list as the server has it now.
    pub fn snapshot(&self) -> Result<Vec<Value>, String> {
        self.with_client(|c| c.snapshot())
    }

    /// Writes the first half of an append request on a new connection and leaves it there:
    /// what a client killed mid-request leaves behind (tests use it).
    pub fn write_partial_request(&self) -> io::Result<()> {
        let mut stream = self.connect()?;
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
    /// The server's input: closing it shuts the server down.
    to_server: Option<std::fs::File>,
    address: String,
}

impl Manager {
    /// Starts a server process of this very binary.
    pub fn start() -> io::Result<Self> {
        Self::with_program(std::env::current_exe()?)
    }

    /// Starts a server process of `program`, which must call
    /// [`crate::process::worker_main_if_worker`] first thing in `main`.
    pub fn with_program(program: impl AsRef<std::path::Path>) -> io::Result<Self> {
        Self::with_options(program, ManagerOptions::default())
    }

    /// [`Manager::with_program`], with `options`.
    pub fn with_options(
        program: impl AsRef<std::path::Path>,
        options: ManagerOptions,
    ) -> io::Result<Self> {
        let transport = OsTransport::program(program.as_ref())?;
        let Spawned {
            child,
            to_child,
            mut from_child,
        } = transport.spawn("manager")?;
        let mut manager = Manager {
            child: Some(child),
            to_server: Some(to_child),
            address: String::new(),
        };
        let to_server = manager.to_server.as_ref().expect("set");
        let ready = write_frame(&mut NoSigpipe(to_server), &options)
            .map_err(|e| e.to_string())
            .and_then(
                |()| match read_frame::<_, Ready>(&mut from_child, MAX_FRAME) {
                    Ok(Some(ready)) => Ok(ready),
                    Ok(None) => Err("it closed its channel".to_string()),
                    Err(e) => Err(e.to_string()),
                },
            );
        match ready {
            Ok(ready) => {
                manager.address = ready.address;
                Ok(manager)
            }
            Err(why) => Err(manager.did_not_serve(program.as_ref(), &why)),
        }
    }

    /// The error for a server that did not say it serves (a program that is not threadproof,
    /// or one that crashed at startup): how it ended, reaped; killed first if it still runs.
    fn did_not_serve(&mut self, program: &std::path::Path, why: &str) -> io::Error {
        self.to_server = None;
        let Some(mut child) = self.child.take() else {
            return io::Error::other(why.to_string());
        };
        // Its end of output came as it exited; give the exit a moment to become a status.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut status = child.try_wait();
        while matches!(status, Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            status = child.try_wait();
        }
        let ended = match status {
            Ok(Some(status)) => format!("exited without serving: it {}", ExitDesc::from(status)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                format!("did not serve ({why}) and was killed")
            }
        };
        io::Error::other(format!(
            "{}: the manager server {ended}; the program must call \
             threadproof::process::worker_main_if_worker first thing in main",
            program.display()
        ))
    }

    /// A proxy for the list, to pass to tasks.
    pub fn list(&self) -> ListProxy {
        ListProxy::new(self.address.clone())
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
        ListProxy::forget(&self.address);
        self.to_server = None;
        match self.child.take() {
            Some(mut child) => child.wait().map(ExitDesc::from),
            None => Ok(ExitDesc::Unknown),
        }
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Binds a listener at a fresh unpredictable abstract address.
fn bind_unpredictable() -> io::Result<(UnixListener, String)> {
    let mut last = io::Error::other("no address tried");
    for _ in 0..16 {
        let mut random = [0u8; 16];
        rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty())?;
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("threadproof-manager-{hex}");
        match UnixListener::bind_addr(&abstract_address(&name)?) {
            Ok(listener) => return Ok((listener, name)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The server process's `main`: serve connections until the parent closes our input.
pub(crate) fn server_main((mut from_parent, to_parent): (std::fs::File, std::fs::File)) -> i32 {
    let options = match read_frame::<_, ManagerOptions>(&mut from_parent, MAX_FRAME) {
        Ok(Some(options)) => options,
        other => {
            eprintln!("threadproof manager: no options from the parent: {other:?}");
            return 2;
        }
    };
    let (listener, address) = match bind_unpredictable() {
        Ok(bound) => bound,
        Err(e) => {
            eprintln!("threadproof manager: cannot listen: {e}");
            return 2;
        }
    };
    if write_frame(&mut NoSigpipe(to_parent), &Ready { address }).is_err() {
        return 2;
    }
    match Server::new(listener, from_parent, options).and_then(Server::run) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("threadproof manager: {e}");
            2
        }
    }
}

const LISTENER: Token = Token(0);
const PARENT: Token = Token(1);
/// How much reply a slow reader may have pending before its requests wait.
const OUTPUT_HIGH: usize = 4 * MAX_FRAME;
/// Descriptors kept back from connections: the listener, the parent channel, the poller.
const RESERVED_FDS: u64 = 16;

/// One client connection in the event loop.
struct Connection {
    stream: MioStream,
    input: Vec<u8>,
    output: Vec<u8>,
    /// How much of `output` is written.
    written: usize,
    last_active: Instant,
    /// Close once `output` is written (the request was refused).
    closing: bool,
    /// Registered for writability: answers wait for room in the socket.
    waits_to_write: bool,
}

/// The event loop: the list, the listener, the parent's channel and every connection.
struct Server {
    core: ManagerCore<Std>,
    poll: Poll,
    listener: MioListener,
    /// The parent's end of our input: end of input is the parent's shutdown or death.
    parent: mio::unix::pipe::Receiver,
    connections: HashMap<Token, Connection>,
    next_token: usize,
    max_connections: usize,
    idle_timeout: Duration,
    /// Accepting failed for want of descriptors with nothing to evict: retry shortly.
    accept_stalled: bool,
    /// Where every connection's input is read into, once allocated.
    scratch: Vec<u8>,
}

impl Server {
    fn new(
        listener: UnixListener,
        parent: std::fs::File,
        options: ManagerOptions,
    ) -> io::Result<Self> {
        listener.set_nonblocking(true)?;

        let poll = Poll::new()?;
        let mut listener = MioListener::from_std(listener);
        let mut parent = mio::unix::pipe::Receiver::from(std::os::fd::OwnedFd::from(parent));
        parent.set_nonblocking(true)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        poll.registry()
            .register(&mut parent, PARENT, Interest::READABLE)?;
        let fd_limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let by_fds = fd_limit.saturating_sub(RESERVED_FDS).max(1);
        let max_connections = options
            .max_connections
            .map_or(by_fds, |m| (m as u64).min(by_fds))
            .max(1) as usize;
        Ok(Server {
            core: ManagerCore::new(),
            poll,
            listener,
            parent,
            connections: HashMap::new(),
            next_token: 2,
            max_connections,
            idle_timeout: options.idle_timeout.max(Duration::from_millis(1)),
            accept_stalled: false,
            scratch: vec![0; 64 * 1024],
        })
    }

    fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(256);
        let sweep_every =
            (self.idle_timeout / 4).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let mut next_sweep = Instant::now() + sweep_every;
        loop {
            let now = Instant::now();
            let mut wait = next_sweep.saturating_duration_since(now);
            if self.accept_stalled {
                wait = wait.min(Duration::from_millis(20));
            }
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(),
                    PARENT => {
                        if self.parent_gone() {
                            return Ok(());
                        }
                    }
                    token => self.serve(token),
                }
            }
            if self.accept_stalled {
                self.accept();
            }
            let now = Instant::now();
            if now >= next_sweep {
                self.close_idle(now);
                next_sweep = now + sweep_every;
            }
        }
    }

    /// Whether the parent closed our channel (shutdown, or its death).
    fn parent_gone(&mut self) -> bool {
        let mut buf = [0u8; 64];
        loop {
            match (&self.parent).read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }

    /// Accepts every pending connection from our own user; at the bound, or out of
    /// descriptors, makes room by closing the connection idle the longest.
    fn accept(&mut self) {
        self.accept_stalled = false;
        loop {
            if self.connections.len() >= self.max_connections {
                self.evict_oldest();
            }
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    // Another user's connection is closed before a byte of it is read.
                    if !matches!(same_user(&stream), Ok(Ok(()))) {
                        continue;
                    }
                    let token = Token(self.next_token);
                    self.next_token += 1;
                    // Writable too only while answers wait (see `serve`): a writable edge after
                    // every answer would wake the loop for nothing.
                    if self
                        .poll
                        .registry()
                        .register(&mut stream, token, Interest::READABLE)
                        .is_err()
                    {
                        continue;
                    }
                    let connection = Connection {
                        stream,
                        input: Vec::new(),
                        output: Vec::new(),
                        written: 0,
                        last_active: Instant::now(),
                        closing: false,
                        waits_to_write: false,
                    };
                    self.connections.insert(token, connection);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE)
                            | Some(libc::ENFILE)
                            | Some(libc::ENOBUFS)
                            | Some(libc::ENOMEM)
                    ) =>
                {
                    if !self.evict_oldest() {
                        self.accept_stalled = true;
                        return;
                    }
                }
                // The client gave up before we accepted (ECONNABORTED) and the like.
                Err(_) => {}
            }
        }
    }

    /// Closes the connection idle the longest; false if there is none.
    fn evict_oldest(&mut self) -> bool {
        let oldest = self
            .connections
            .iter()
            .min_by_key(|(_, c)| c.last_active)
            .map(|(token, _)| *token);
        match oldest {
            Some(token) => {
                self.close(token);
                true
            }
            None => false,
        }
    }

    fn close_idle(&mut self, now: Instant) {
        let idle: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| now.duration_since(c.last_active) >= self.idle_timeout)
            .map(|(token, _)| *token)
            .collect();
        for token in idle {
            self.close(token);
        }
    }

    fn close(&mut self, token: Token) {
        if let Some(mut connection) = self.connections.remove(&token) {
            let _ = self.poll.registry().deregister(&mut connection.stream);
        }
    }

    /// Reads what arrived, answers every whole request, writes what it can.
    fn serve(&mut self, token: Token) {
        let Some(connection) = self.connections.get_mut(&token) else {
            return;
        };
        connection.last_active = Instant::now();
        let mut open = connection.pump(&self.core, &mut self.scratch);
        let waits = connection.written < connection.output.len();
        if open && waits != connection.waits_to_write {
            let interest = if waits {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            let registry = self.poll.registry();
            open = registry
                .reregister(&mut connection.stream, token, interest)
                .is_ok();
            connection.waits_to_write = waits;
        }
        if !open {
            self.close(token);
        }
    }
}

impl Connection {
    /// Writes pending output, reads and answers input while the output is not backed up;
    /// false once the connection is to be closed.
    fn pump(&mut self, core: &ManagerCore<Std>, buf: &mut [u8]) -> bool {
        // A short read took everything the socket held; what comes later raises a new
        // readable edge. So no read is spent just to hear "would block".
        let mut drained = false;
        loop {
            if !self.flush() {
                return false;
            }
            if self.closing {
                return self.written < self.output.len();
            }
            if drained || self.output.len() - self.written > OUTPUT_HIGH {
                // (Over the mark: a slow reader, whose requests wait until it has read its
                // answers.)
                return true;
            }
            match self.stream.read(buf) {
                Ok(0) => {
                    // End of input: whole requests already answered; a partial one is dropped
                    // unapplied. Answers still pending are written if the peer reads them.
                    self.answer_frames(core);
                    self.flush();
                    return false;
                }
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    self.answer_frames(core);
                    drained = n < buf.len();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Answers every whole frame in the input, in order.
    fn answer_frames(&mut self, core: &ManagerCore<Std>) {
        let mut used = 0;
        while !self.closing {
            let received = match complete_frame(&self.input[used..], MAX_FRAME) {
                Ok(None) => break,
                Ok(Some(len)) => {
                    let body = &self.input[used + 4..used + 4 + len];
                    used += 4 + len;
                    serde_json::from_slice::<Request>(body)
                        .map_err(|e| FrameError::Malformed(e.to_string()))
                }
                Err(e) => Err(e),
            };
            let (response, goes_on) = answer(core, received);
            encode_response(&response, &mut self.output);
            self.closing = !goes_on;
        }
        self.input.drain(..used);
    }

    /// Writes as much pending output as the socket takes; false if the peer is gone.
    fn flush(&mut self) -> bool {
        while self.written < self.output.len() {
            match rustix::net::send(
                &self.stream,
                &self.output[self.written..],
                rustix::net::SendFlags::NOSIGNAL,
            ) {
                Ok(n) => self.written += n,
                Err(rustix::io::Errno::AGAIN) => return true,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return false,
            }
        }
        self.output.clear();
        self.written = 0;
        true
    }
}

/// Appends `response`'s frames to `out`: one frame, or for a list too large for one, pages of
/// at most [`MAX_FRAME`] bytes ([`Response::ListPart`]s, then the closing [`Response::List`]).
fn encode_response(response: &Response, out: &mut Vec<u8>) {
    let Response::List(items) = response else {
        let bytes = encode(response).expect("a response encodes");
        out.extend_from_slice(&bytes);
        return;
    };
    const PART: &[u8] = br#"{"ListPart":["#;
    const LAST: &[u8] = br#"{"List":["#;
    const END: &[u8] = b"]}";
    let page_max = MAX_FRAME - PART.len() - END.len();
    let mut page: Vec<u8> = Vec::new();
    let emit = |out: &mut Vec<u8>, page: &[u8], head: &[u8]| {
        let len = (head.len() + page.len() + END.len()) as u32;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(page);
        out.extend_from_slice(END);
    };
    for item in items {
        let bytes = serde_json::to_vec(item).expect("a value encodes");
        if bytes.len() > page_max {
            // Cannot happen for an item that arrived in one frame; answer rather than send a
            // frame the client would refuse.
            let error = Response::Error(format!(
                "an item of {} bytes does not fit in a frame",
                bytes.len()
            ));
            out.extend_from_slice(&encode(&error).expect("an error encodes"));
            return;
        }
        if !page.is_empty() && page.len() + 1 + bytes.len() > page_max {
            emit(out, &page, PART);
            page.clear();
        }
        if !page.is_empty() {
            page.push(b',');
        }
        page.extend_from_slice(&bytes);
    }
    emit(out, &page, LAST);
}
