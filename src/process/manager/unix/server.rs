//! The manager server process: `server_main` binds an unpredictable abstract address, tells
//! the parent, and runs one `mio` event loop over the listener, the parent's channel and every
//! connection ([`super::connection`]: one connection's buffers and limits).
//!
//! Invariant: the server drops a connection from another user before reading a byte, serves
//! at most `max_connections` at once (evicting the idlest), applies a request only once its
//! whole frame has arrived, holds at most `INPUT_BUDGET` bytes of requests across all
//! connections (a connection waiting for budget is served again as soon as it fits, first come
//! first served), and exits at end of input from its parent.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use mio::net::UnixListener as MioListener;
use mio::{Events, Interest, Poll, Token};

use super::super::ManagerCore;
use super::connection::{Connection, InputBudget, Pumped, INPUT_BUDGET, READ_CHUNK};
use super::{abstract_address, same_user, ManagerOptions, Ready};
use crate::process::frame::{read_frame, write_frame, MAX_FRAME};
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
/// Descriptors kept back from connections: the listener, the parent channel, the poller.
const RESERVED_FDS: u64 = 16;

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
    /// Where every connection's input is read into.
    scratch: Vec<u8>,
    /// Bytes of requests all connections may hold, and who waits for them.
    budget: InputBudget,
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
            scratch: vec![0; READ_CHUNK],
            budget: InputBudget::new(INPUT_BUDGET),
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
                    token => self.serve(token, event.is_read_closed() || event.is_error()),
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
            self.wake_waiters();
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
                    self.connections.insert(token, Connection::new(stream));
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

    /// Closes connections idle for the idle timeout, and those whose unfinished request has
    /// been arriving for as long (so no reservation of the budget is held longer).
    fn close_idle(&mut self, now: Instant) {
        let too_old = |since: Instant| now.duration_since(since) >= self.idle_timeout;
        let idle: Vec<Token> = self
            .connections
            .iter()
            .filter(|(_, c)| too_old(c.last_active) || c.frame_since.is_some_and(too_old))
            .map(|(token, _)| *token)
            .collect();
        for token in idle {
            self.close(token);
        }
    }

    fn close(&mut self, token: Token) {
        if let Some(mut connection) = self.connections.remove(&token) {
            let _ = self.poll.registry().deregister(&mut connection.stream);
            self.budget.give(connection.reserved);
            if connection.wants > 0 {
                self.budget.waiting.retain(|t| *t != token);
            }
        }
    }

    /// Serves the connections waiting for budget (for large frames), first come first served,
    /// while the first one's need fits: a connection paused for budget has no readable edge
    /// left to wake it.
    fn wake_waiters(&mut self) {
        while let Some(&token) = self.budget.waiting.front() {
            let Some(connection) = self.connections.get_mut(&token) else {
                self.budget.waiting.pop_front();
                continue;
            };
            let extra = connection.wants.saturating_sub(connection.reserved);
            if !self.budget.fits(extra) {
                return;
            }
            self.budget.waiting.pop_front();
            self.budget.free -= extra;
            connection.reserved += extra;
            connection.wants = 0;
            self.serve(token, false);
        }
    }

    /// Reads what arrived, answers every whole request, writes what it can; `read_closed`:
    /// the event says the peer will send no more.
    fn serve(&mut self, token: Token, read_closed: bool) {
        let Some(connection) = self.connections.get_mut(&token) else {
            return;
        };
        connection.read_closed |= read_closed;
        connection.last_active = Instant::now();
        let pumped = connection.pump(&self.core, &mut self.scratch, &mut self.budget);
        if pumped == Pumped::Waits {
            self.budget.waiting.push_back(token);
        }
        let mut open = pumped != Pumped::Closed;
        let waits = connection.waits();
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
