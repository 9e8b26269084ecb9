//! How the parent starts a child process and talks to it: two pipes per child, every
//! descriptor close-on-exec, writes that never raise `SIGPIPE`, and children that die with the
//! parent process, whichever of its threads started them.
//!
//! Invariant: a child this module starts has exactly two descriptors of ours, the read end of
//! its input pipe and the write end of its output pipe, passed by number in [`CHANNEL_ENV`]
//! and marked close-on-exec again by the child as soon as it runs (`channel_from_env`), so
//! that nothing the child starts in turn holds them. Its stdin is `/dev/null` and its stdout
//! goes to our stderr. Every child is forked by one spawner thread that lives as long as the
//! process: `PR_SET_PDEATHSIG` fires when the *thread* that forked a child exits, so a child
//! forked from a short-lived thread would be killed with that thread; forked from the spawner,
//! it is killed only when the process dies.
//!
//! ```text
//!   any thread ── spawn(command) ──► spawner thread (never exits) ── fork/exec ──► child
//!   parent: to_child   ══ pipe ══►  fd R of $THREADPROOF_CHANNEL=R,W
//!   parent: from_child ◄══ pipe ══  fd W
//! ```
//!
//! Pipes, not a socket pair: a round trip over a pipe measured 1.6–2× faster here. A write to
//! a pipe whose reader is gone raises `SIGPIPE` in the writing thread, and a host program
//! whose `SIGPIPE` is at its default action would die because a worker did; so every write
//! goes through [`write_all`], which blocks `SIGPIPE` in the calling thread for the write,
//! takes back the signal it raised, and reports `EPIPE` (the technique of curl and OpenSSL).
//! A thread of our own that writes all the time (a pool's dispatcher) blocks `SIGPIPE` once
//! for its whole life instead (`block_sigpipe_in_this_thread`): the three signal-mask calls
//! per write cost a quarter of a pipe round trip.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};

use super::{PARENT_ENV, WORKER_ENV};

/// The environment variable that tells a child the numbers of its channel's descriptors:
/// `R,W` (it reads its input from R and writes its output to W).
pub const CHANNEL_ENV: &str = "THREADPROOF_CHANNEL";

thread_local! {
    /// Whether this thread blocks `SIGPIPE` for good (`block_sigpipe_in_this_thread`).
    static SIGPIPE_BLOCKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The signal set holding `SIGPIPE` alone.
fn sigpipe_set() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset initialise the set they are given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        set
    }
}

/// Takes back a pending `SIGPIPE` of this thread (which must have it blocked).
fn take_back_sigpipe(set: &libc::sigset_t) {
    let now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: sigtimedwait with a valid set and a zero timeout: returns at once.
    while unsafe { libc::sigtimedwait(set, std::ptr::null_mut(), &now) } == -1
        && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
}

/// Blocks `SIGPIPE` in the calling thread for the rest of its life, so that [`write_all`]
/// there needs no signal-mask calls. Only for threads that run nothing but our own code.
pub(crate) fn block_sigpipe_in_this_thread() {
    if SIGPIPE_BLOCKED.get() {
        return;
    }
    let set = sigpipe_set();
    // SAFETY: pthread_sigmask on this thread with a valid set.
    if unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) } == 0 {
        SIGPIPE_BLOCKED.set(true);
    }
}

/// Runs `write` with `SIGPIPE` blocked in this thread; a `SIGPIPE` it raised (an `EPIPE`
/// error) is taken back before the mask is restored, so it is never delivered.
fn without_sigpipe<R>(write: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
    let epipe =
        |result: &io::Result<R>| matches!(result, Err(e) if e.raw_os_error() == Some(libc::EPIPE));
    let sigpipe = sigpipe_set();
    if SIGPIPE_BLOCKED.get() {
        let result = write();
        if epipe(&result) {
            take_back_sigpipe(&sigpipe);
        }
        return result;
    }
    // SAFETY: signal-mask calls on this thread with valid sets; the old mask is restored
    // before returning.
    unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &sigpipe, &mut old);
        let mut pending: libc::sigset_t = std::mem::zeroed();
        libc::sigpending(&mut pending);
        let was_pending = libc::sigismember(&pending, libc::SIGPIPE) == 1;
        let result = write();
        if !was_pending && epipe(&result) {
            take_back_sigpipe(&sigpipe);
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        result
    }
}

/// Writes all of `bytes` to `fd` (a pipe, a file, a socket) without ever raising `SIGPIPE`: a
/// reader that is gone is an `EPIPE` error.
pub fn write_all(fd: impl AsFd, mut bytes: &[u8]) -> io::Result<()> {
    without_sigpipe(|| {
        while !bytes.is_empty() {
            match rustix::io::write(&fd, bytes) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })
}

/// A descriptor that writes through [`write_all`]: for `write_frame`.
#[derive(Debug)]
pub struct NoSigpipe<F: AsFd>(pub F);

impl<F: AsFd> Write for NoSigpipe<F> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_all(&self.0, buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all(&self.0, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<F: AsFd + Read> Read for NoSigpipe<F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
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

/// A close-on-exec pipe whose ends are both above the standard descriptors (which a child's
/// stdio setup overwrites; a host may have closed its stdin, so a pipe could get fd 0).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let high = |fd: OwnedFd| -> io::Result<OwnedFd> {
        if fd.as_raw_fd() > 2 {
            Ok(fd)
        } else {
            Ok(rustix::io::fcntl_dupfd_cloexec(&fd, 3)?)
        }
    };
    Ok((high(read)?, high(write)?))
}

/// A child and the parent's ends of its channel.
pub(crate) struct Spawned {
    pub child: Child,
    /// Writes to the child's input.
    pub to_child: File,
    /// Reads the child's output.
    pub from_child: File,
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
) -> io::Result<Spawned> {
    let (child_reads, to_child) = pipe()?;
    let (from_child, child_writes) = pipe()?;
    let (r, w) = (child_reads.as_raw_fd(), child_writes.as_raw_fd());
    let stdout: OwnedFd = io::stderr().as_fd().try_clone_to_owned()?;
    let parent = std::process::id();
    let mut command = Command::new(program);
    command
        .args(args)
        .env(WORKER_ENV, role)
        .env(PARENT_ENV, parent.to_string())
        .env(CHANNEL_ENV, format!("{r},{w}"))
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
            // The child's ends are close-on-exec in the parent (so no other child inherits
            // them); this child alone keeps them across exec.
            for fd in [r, w] {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = spawn_from_long_lived_thread(command)?;
    drop((child_reads, child_writes));
    Ok(Spawned {
        child,
        to_child: File::from(to_child),
        from_child: File::from(from_child),
    })
}

/// In a child started by [`spawn_child`]: its channel to the parent (input, output), marked
/// close-on-exec so that processes it starts do not inherit it. `Err` when this process was
/// not started so (the variable is missing or names no pipes).
pub(crate) fn channel_from_env() -> Result<(File, File), String> {
    let value = std::env::var(CHANNEL_ENV)
        .map_err(|_| format!("{CHANNEL_ENV} is not set: this process was not started as one"))?;
    std::env::remove_var(CHANNEL_ENV);
    let bad = || format!("{CHANNEL_ENV}={value:?} does not name two descriptors");
    let (r, w) = value.split_once(',').ok_or_else(bad)?;
    let (r, w): (i32, i32) = (r.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    let mut ends = Vec::new();
    for fd in [r, w] {
        // SAFETY: fstat on any integer is safe; it only reports whether the descriptor is
        // open and what it is.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        let open = fd > 2 && unsafe { libc::fstat(fd, &mut stat) } == 0;
        if !open || stat.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return Err(format!("{CHANNEL_ENV}: {fd} is not an open pipe"));
        }
        // SAFETY: the descriptor is open, a pipe, and given to this process alone by its
        // parent; nothing else in this process owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        rustix::io::fcntl_setfd(&owned, rustix::io::FdFlags::CLOEXEC).map_err(|e| e.to_string())?;
        ends.push(File::from(owned));
    }
    let output = ends.pop().expect("two ends");
    let input = ends.pop().expect("two ends");
    Ok((input, output))
}
