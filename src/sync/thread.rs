//! Named threads over any backend: [`spawn`], [`JoinHandle::join`] (a panic comes back as an
//! error, never as a panic in the joiner), the current thread's name, and yielding.
//!
//! Invariant: a thread's name is the one it was spawned with on every backend, so traces,
//! outputs and reports name the same threads. Under the model backends a spawned thread gets
//! its [`model::ThreadContext`] before its body runs, a spawn past the checker's thread cap
//! raises [`model::TooManyThreads`] instead of spawning, and a panic in a thread's body ends
//! the execution as the explorer asked ([`model::thread_panicked`]).

use std::fmt;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::Arc;

use super::model;
use super::trace::{self, Object, Op, Value};
use super::Primitives;

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
        let attempt = trace::attempt::<P>(Op::Join, Object::Thread(&self.name), Location::caller());
        let joined = P::join(self.raw).map_err(|payload| Panicked(panic_message(&*payload)));
        attempt.took_effect(Value::Joined {
            panicked: joined.is_err(),
        });
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
    if !P::MODEL {
        return P::spawn(name, body).map(|raw| JoinHandle { raw, name: label });
    }
    let at = Location::caller();
    let spawned = model::count_spawn();
    if let Some(limit) = P::MAX_SPAWNED.filter(|limit| spawned > *limit) {
        panic::panic_any(model::TooManyThreads { spawned, limit, at });
    }
    let context = model::with_context::<P, _>(|c| c.next_child(Arc::clone(&label)));
    model::thread_started();
    let raw = P::spawn(name, move || {
        P::with_thread_context(|slot| *slot.borrow_mut() = Some(context));
        let ran = panic::catch_unwind(AssertUnwindSafe(body));
        model::thread_finished();
        ran.unwrap_or_else(|payload| model::thread_panicked(payload, P::yield_now))
    })
    .inspect_err(|_| model::thread_finished())?;
    // Neither checker switches threads inside a spawn: the child has not run yet.
    trace::effect::<P>(Op::Spawn, Object::Thread(&label), Value::None, at);
    Ok(JoinHandle { raw, name: label })
}

/// The name the current thread was spawned with, if any.
pub fn current_thread_name<P: Primitives>() -> Option<String> {
    P::current_thread_name()
}

/// Offers the scheduler a chance to run another thread.
pub fn yield_now<P: Primitives>() {
    P::yield_now()
}
