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
//! - Memory: a connection's next request waits while more than 4 MiB of its answers are
//!   unread, and all connections together hold at most 32 MiB of requests, reserved a whole
//!   frame at a time (`connection`), so no client can make the server grow without bound.
//! - Lifetime: the server is forked by the process-wide spawner ([`crate::process::ipc`]) and
//!   exits at end of input on its channel: when its parent shuts it down or dies.
//! - Clients time out ([`ListProxy::with_timeout`]): a server that stops answering (stopped,
//!   wedged) is an error after the timeout, never a client blocked forever.
//!
//! Files: [`client`] (a process's connections to a server, [`ListProxy`]), [`handle`] (the
//! parent's [`Manager`]: starts and stops the server), [`server`] (the server process's event
//! loop), [`connection`] (one connection's buffers and limits, and the budget they share). Here: what more than one of them needs.

mod client;
mod connection;
mod handle;
mod server;

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::client::{ListProxy, UnixClientConn};
pub use self::handle::Manager;
pub(crate) use self::server::server_main;

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
