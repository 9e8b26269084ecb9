//! The client side of the production manager: one connection per list per process
//! ([`UnixClientConn`]) and the proxy a task carries ([`ListProxy`]), with this process's
//! cache of clients.
//!
//! Invariant: in each process each list has one client (one connection, one numbering of
//! appends), so exactly once holds across the process's callers; a client refuses a server
//! run by another user, and never waits on a server longer than its timeout.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::{Client, ClientConn, Request, Response};
use super::{abstract_address, same_user};
use crate::process::frame::{encode, read_frame, FrameError, MAX_FRAME};

/// How long a client waits for the server by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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

    /// A raw connection to the server, for tests that speak the protocol by hand (hidden: not
    /// part of the proxy's API).
    #[doc(hidden)]
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
    pub(super) fn forget(address: &str) {
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
    /// what a client killed mid-request leaves behind (a test fixture of the `threadproof`
    /// binary's workers; hidden: not part of the proxy's API).
    #[doc(hidden)]
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
