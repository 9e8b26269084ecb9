//! The manager server process: `server_main` binds an unpredictable abstract address, tells
//! the parent, and runs one `mio` event loop over the listener, the parent's channel and every
//! connection.
//!
//! Invariant: the server drops a connection from another user before reading a byte, serves
//! at most `max_connections` at once (evicting the idlest), applies a request only once its
//! whole frame has arrived, and exits at end of input from its parent.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use mio::net::{UnixListener as MioListener, UnixStream as MioStream};
use mio::{Events, Interest, Poll, Token};

use super::super::{answer, ManagerCore, Request, Response};
use super::{abstract_address, same_user, ManagerOptions, Ready};
use crate::process::frame::{
    complete_frame, encode, read_frame, write_frame, FrameError, MAX_FRAME,
};
use crate::process::ipc::NoSigpipe;
use crate::sync::Std;

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
