//! The production manager: a server process of this binary listening on a Unix socket, and
//! the clients that reach it from any process.
//!
//! Invariant: the server applies only whole requests (see [`super`]), serves each connection
//! on a thread of its own, and exits once its parent closes its stdin; the parent's
//! [`Manager`] reaps it and removes its socket.

use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{serve, Client, ClientConn, Conn, ManagerCore, Request, Response};
use crate::process::frame::{encode, read_frame, write_frame, FrameError, MAX_FRAME};
use crate::process::ExitDesc;
use crate::sync::Std;

/// The environment variable that tells a manager server where to listen.
pub const SOCKET_ENV: &str = "THREADPROOF_MANAGER_SOCKET";

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
    /// [`crate::process::worker_main_if_worker`] first thing in `main`.
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
        let mut child = crate::process::os::spawn_worker(
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
pub(crate) fn server_main() -> i32 {
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
    let core = Arc::new(ManagerCore::<Std>::new());
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
