//! The parent's handle on a manager server process ([`Manager`]): starts it, hands out
//! proxies for its list, shuts it down.
//!
//! Invariant: the server lives until its handle is shut down or dropped (end of its input),
//! and is reaped then; a program that does not serve is reaped and named in the error.

use std::io;
use std::process::Child;
use std::time::{Duration, Instant};

use super::{ListProxy, ManagerOptions, Ready};
use crate::process::frame::{read_frame, write_frame, MAX_FRAME};
use crate::process::ipc::{NoSigpipe, Spawned};
use crate::process::os::OsTransport;
use crate::process::ExitDesc;

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
