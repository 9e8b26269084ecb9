//! How a process ended ([`ExitDesc`]) and the names of the signals that end processes, for
//! messages.
//!
//! Invariant: an exit is described from what `wait` reported, never guessed: a status with
//! neither a code nor a signal is `Unknown`.

use std::fmt;

/// How a process ended, as the parent saw it in `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitDesc {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// `wait` failed.
    Unknown,
}

impl From<std::process::ExitStatus> for ExitDesc {
    fn from(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitDesc::Exited(code),
            (None, Some(signal)) => ExitDesc::Signaled(signal),
            (None, None) => ExitDesc::Unknown,
        }
    }
}

/// The usual name of a signal, for messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "unknown signal",
    }
}

impl fmt::Display for ExitDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitDesc::Exited(code) => write!(f, "exited with status {code}"),
            ExitDesc::Signaled(signal) => {
                write!(
                    f,
                    "was killed by signal {signal} ({})",
                    signal_name(*signal)
                )
            }
            ExitDesc::Unknown => write!(f, "ended with an unknown status"),
        }
    }
}
