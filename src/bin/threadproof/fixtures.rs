//! The test suite's fault fixtures, served only by this binary's worker processes.
//!
//! Invariant: the library's [`Registry::builtin`] never serves these, so a user's worker
//! cannot be asked to hang or to break its manager's protocol; the tests in `tests/` start
//! their pools and managers on this binary, which adds them to the builtin tasks.
//!
//! | task | arguments | result |
//! |---|---|---|
//! | `hang` | `pidfile` | writes its pid to the file, then never returns |
//! | `partial_append` | `list` | writes half an append request to the manager, then aborts |
//! | `fd_target` | `fd` | what this process's descriptor `fd` points at (`/proc/self/fd`), or `null` |
//! | `start_sleeper` | `seconds` | starts `sleep seconds` in the background (inheriting what a child inherits), returns its pid |

use threadproof::process::manager::ListProxy;
use threadproof::process::Registry;

/// The builtin tasks and this binary's fixtures.
pub fn registry() -> Registry {
    Registry::builtin()
        .register("fd_target", |fd: u32| {
            std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .ok()
                .map(|target| target.to_string_lossy().into_owned())
        })
        .register_fallible("start_sleeper", |seconds: u32| {
            std::process::Command::new("sleep")
                .arg(seconds.to_string())
                .stdin(std::process::Stdio::inherit())
                .stdout(std::process::Stdio::inherit())
                .spawn()
                .map(|child| child.id())
                .map_err(|e| format!("sleep: {e}"))
        })
        .register_fallible("hang", |pidfile: String| -> Result<(), String> {
            std::fs::write(&pidfile, std::process::id().to_string())
                .map_err(|e| format!("{pidfile}: {e}"))?;
            loop {
                std::thread::park();
            }
        })
        .register_fallible("partial_append", |list: ListProxy| -> Result<(), String> {
            list.write_partial_request().map_err(|e| e.to_string())?;
            std::process::abort()
        })
}
