//! Named threads over any backend: [`spawn`], [`JoinHandle::join`] (a panic comes back as an
//! error, never as a panic in the joiner), the current thread's name, and yielding.
//!
//! Invariant: a thread's name is the one it was spawned with on every backend, so traces,
//! outputs and reports name the same threads.

use std::fmt;
use std::io;
use std::sync::Arc;

use super::trace::{self, Object, Op};
use super::{record, Primitives};

/// An owned permission to join a spawned thread.
pub struct JoinHandle<P: Primitives, T: Send + 'static> {
    raw: P::JoinHandle<T>,
    name: Arc<str>,
}

/// A thread ended by a panic; carries the panic's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

impl fmt::Display for Panicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "thread panicked: {}", self.0)
    }
}

impl ::std::error::Error for Panicked {}

/// The message of a panic payload, for errors and reports.
pub fn panic_message(payload: &(dyn ::std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

impl<P: Primitives, T: Send + 'static> JoinHandle<P, T> {
    /// Waits for the thread; its panic comes back as an error, never as a panic here.
    #[track_caller]
    pub fn join(self) -> Result<T, Panicked> {
        let step = record::<P>(Op::Join, Object::Named(Arc::clone(&self.name)), false);
        let joined = P::join(self.raw).map_err(|payload| Panicked(panic_message(&*payload)));
        trace::done(step);
        joined
    }

    /// The name the thread was spawned with.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Spawns a named thread of backend `P`.
#[track_caller]
pub fn spawn<P, T, F>(name: impl Into<String>, body: F) -> io::Result<JoinHandle<P, T>>
where
    P: Primitives,
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let name: String = name.into();
    let label: Arc<str> = Arc::from(name.as_str());
    record::<P>(Op::Spawn, Object::Named(Arc::clone(&label)), true);
    P::spawn(name, body).map(|raw| JoinHandle { raw, name: label })
}

/// The name the current thread was spawned with, if any.
pub fn current_thread_name<P: Primitives>() -> Option<String> {
    P::current_thread_name()
}

/// Offers the scheduler a chance to run another thread.
pub fn yield_now<P: Primitives>() {
    P::yield_now()
}
