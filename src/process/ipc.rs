//! How the parent starts a child process and talks to it: one socket pair per child, every
//! descriptor close-on-exec, writes that never raise `SIGPIPE`, and children that die with the
//! parent process, whichever of its threads started them.
//!
//! Invariant: a child this module starts has exactly one descriptor of ours, its end of a
//! socket pair, passed by number in [`CHANNEL_ENV`] and marked close-on-exec again by the
//! child as soon as it runs ([`channel_from_env`]), so that nothing the child starts in turn
//! holds it. Its stdin is `/dev/null` and its stdout goes to our stderr. Every child is forked
//! by one spawner thread that lives as long as the process: `PR_SET_PDEATHSIG` fires when the
//! *thread* that forked a child exits, so a child forked from a short-lived thread would be
//! killed with that thread; forked from the spawner, it is killed only when the process dies.
//!
//! ```text
//!   any thread ── spawn(command) ──► spawner thread (never exits) ── fork/exec ──► child
//!   parent end ◄════ socket pair (jobs, replies, ready) ════► fd $THREADPROOF_CHANNEL
//! ```
//!
//! A write to a peer that is gone fails with `EPIPE` instead of raising `SIGPIPE` in the host
//! program ([`send_all`] uses `MSG_NOSIGNAL`): a host whose `SIGPIPE` is at its default action
//! must not die because a worker did.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};

use rustix::net::SendFlags;

use super::{PARENT_ENV, WORKER_ENV};

/// The environment variable that tells a child the number of its channel's descriptor.
pub const CHANNEL_ENV: &str = "THREADPROOF_CHANNEL";

/// Writes all of `bytes` to `stream` without ever raising `SIGPIPE`; a peer that is gone is
/// an `EPIPE` error. A send timeout on the socket shows as [`io::ErrorKind::TimedOut`].
pub fn send_all(stream: &UnixStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::net::send(stream, bytes, SendFlags::NOSIGNAL) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer did not read in time",
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// One end of a channel: reads as a stream, writes without `SIGPIPE` ([`send_all`]).
#[derive(Debug)]
pub struct Channel(pub UnixStream);

impl Read for &Channel {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.0).read(buf)
    }
}

impl Write for &Channel {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match rustix::net::send(&self.0, buf, SendFlags::NOSIGNAL) {
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the peer did not read in time",
                    ))
                }
                other => return other.map_err(io::Error::from),
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        send_all(&self.0, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Runs `command.spawn()` on the spawner thread, which lives as long as the process.
fn spawn_from_long_lived_thread(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, inbox) = mpsc::channel::<SpawnRequest>();
        // The thread is never joined: it ends with the process. If it cannot be started, the
        // requests channel is dropped and every spawn below reports it.
        let _ = std::thread::Builder::new()
            .name("threadproof-spawner".into())
            .spawn(move || {
                for (mut command, answer) in inbox {
                    let _ = answer.send(command.spawn());
                }
            });
        Mutex::new(requests)
    });
    let (answer, result) = mpsc::channel();
    let sent = spawner
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((command, answer));
    if sent.is_err() {
        return Err(io::Error::other("the spawner thread could not be started"));
    }
    result
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("the spawner thread is gone")))
}

/// Starts `program args...` as a child in worker mode `role`, with a channel to it.
///
/// The child's stdin is `/dev/null`, its stdout our stderr (what its tasks print cannot be
/// taken for a message), its stderr ours. It gets `PR_SET_PDEATHSIG = SIGKILL` before it runs
/// a line of its own, and exits at once if its parent is already gone.
pub(crate) fn spawn_child(
    program: &Path,
    args: &[std::ffi::OsString],
    role: &str,
) -> io::Result<(Child, UnixStream)> {
    let (ours, theirs) = UnixStream::pair()?;
    // Above the standard descriptors, which the child's stdio setup overwrites (a host may
    // have closed its stdin, so the pair could have been given fd 0).
    let theirs: OwnedFd = rustix::io::fcntl_dupfd_cloexec(&theirs, 3)?;
    let fd = theirs.as_raw_fd();
    let stdout: OwnedFd = io::stderr().as_fd().try_clone_to_owned()?;
    let parent = std::process::id();
    let mut command = Command::new(program);
    command
        .args(args)
        .env(WORKER_ENV, role)
        .env(PARENT_ENV, parent.to_string())
        .env(CHANNEL_ENV, fd.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::inherit());
    // SAFETY: between fork and exec only async-signal-safe calls (prctl, getppid, fcntl,
    // _exit), on descriptors this closure owns a copy of.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl: then nobody would send the signal.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            // Our end of the pair is close-on-exec in the parent (so no other child inherits
            // it); this child alone keeps it across exec.
            if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = spawn_from_long_lived_thread(command)?;
    drop(theirs);
    Ok((child, ours))
}

/// In a child started by [`spawn_child`]: its channel to the parent, marked close-on-exec so
/// that processes it starts do not inherit it. `Err` when this process was not started so
/// (the variable is missing or names no socket).
pub(crate) fn channel_from_env() -> Result<UnixStream, String> {
    let value = std::env::var(CHANNEL_ENV)
        .map_err(|_| format!("{CHANNEL_ENV} is not set: this process was not started as one"))?;
    std::env::remove_var(CHANNEL_ENV);
    let fd: i32 = value
        .parse()
        .ok()
        .filter(|fd| *fd > 2)
        .ok_or_else(|| format!("{CHANNEL_ENV}={value:?} is not a descriptor number"))?;
    // SAFETY: fstat on any integer is safe; it only reports whether the descriptor is open.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut stat) } != 0 || stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(format!("{CHANNEL_ENV}={fd} is not an open socket"));
    }
    // SAFETY: the descriptor is open, a socket, and given to this process alone by its parent;
    // nothing else in this process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC).map_err(|e| e.to_string())?;
    Ok(UnixStream::from(owned))
}
