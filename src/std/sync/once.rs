//! std's `Once`, `OnceLock` and `LazyLock`, and `Barrier`, over the backend of the running
//! checker: each is `const` and empty again in every execution.
//!
//! Invariant: the state (the value of a `OnceLock`, whether a `Once` ran, a barrier's count)
//! lives in the execution's [`PerExec`] slot, built on [`crate::sync::OnceLock`] and
//! [`crate::sync::Barrier`]; nothing of one execution is seen by the next, so a
//! `static CONFIG: OnceLock<_>` is initialised once per execution, by whichever thread the
//! checker lets win. As in std, a panicking initialiser leaves a `OnceLock` empty for the next
//! caller (no poisoning), and poisons a `Once` and a `LazyLock`.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::std::rt::{by_engine, each, By, PerExec};
pub use crate::sync::BarrierWaitResult;
use crate::sync::OnceLock as ModelOnceLock;
use crate::sync::{self, Loom, Shuttle, Std};

type RawOnce<T> = By<ModelOnceLock<Loom, T>, ModelOnceLock<Shuttle, T>, ModelOnceLock<Std, T>>;

/// std's `OnceLock`.
pub struct OnceLock<T> {
    per: PerExec<RawOnce<T>>,
}

impl<T> OnceLock<T> {
    pub const fn new() -> Self {
        OnceLock {
            per: PerExec::new(),
        }
    }
}

impl<T: Send> OnceLock<T> {
    fn raw(&self) -> &RawOnce<T> {
        self.per.get(|| by_engine!(ModelOnceLock::<P, T>::new())).0
    }

    pub fn get(&self) -> Option<&T> {
        each!(self.raw(), v => v.get())
    }

    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        // A `static` cell is never dropped: what it holds is not a leak (see `leak`).
        each!(self.raw(), v => v.get_or_init(|| super::leak::exempt(f)))
    }

    /// Stores `value` if the cell is empty; gives it back otherwise.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init(|| value.take().expect("initialised once"));
        match value {
            None => Ok(()),
            Some(value) => Err(value),
        }
    }

    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    pub fn take(&mut self) -> Option<T> {
        each!(self.per.take()?, v => v.into_inner())
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T: Send + fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceLock").field(&self.get()).finish()
    }
}

/// std's `LazyLock`: `init` runs on first access, once per execution (so it is `Fn`, where
/// std's is `FnOnce`: a `fn` item or a closure that captures nothing, as in a `static`).
/// Poisoned as std's is: once `init` panicked, every access panics, and `init` never runs
/// again in that execution.
pub struct LazyLock<T, F = fn() -> T> {
    cell: OnceLock<T>,
    /// Run through once per execution; a panicking `init` poisons it.
    once: Once,
    init: F,
}

impl<T, F> LazyLock<T, F> {
    pub const fn new(f: F) -> Self {
        LazyLock {
            cell: OnceLock::new(),
            once: Once::new(),
            init: f,
        }
    }
}

impl<T: Send, F: Fn() -> T> LazyLock<T, F> {
    pub fn force(this: &LazyLock<T, F>) -> &T {
        if let Some(value) = this.cell.get() {
            return value;
        }
        // A poisoned `Once` runs a forced closure, told so: it then completes with the cell
        // left empty, and every later access finds it empty.
        this.once.call_once_force(|state| {
            if !state.is_poisoned() {
                let _ = this.cell.set((this.init)());
            }
        });
        match this.cell.get() {
            Some(value) => value,
            None => panic!("LazyLock instance has previously been poisoned"),
        }
    }
}

impl<T: Send, F: Fn() -> T> Deref for LazyLock<T, F> {
    type Target = T;
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: Send + fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LazyLock").field(&self.cell.get()).finish()
    }
}

/// std's `Once`, poisoned as std's is: a closure that panics leaves it incomplete, after
/// which `call_once` panics and `call_once_force` runs its closure, told so.
pub struct Once {
    done: OnceLock<()>,
    /// Whether the last closure to run panicked, in this execution. Read and written only
    /// inside `done`'s initialisation, which the checkers order as a lock.
    poisoned: PerExec<AtomicBool>,
}

/// std's `OnceState`: what `call_once_force`'s closure is told.
#[derive(Debug)]
pub struct OnceState {
    poisoned: bool,
}

impl OnceState {
    /// Whether an earlier closure of this `Once` panicked.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

impl Once {
    pub const fn new() -> Self {
        Once {
            done: OnceLock::new(),
            poisoned: PerExec::new(),
        }
    }

    /// Runs `f` if no closure has completed yet; waits for one running elsewhere. Panics if
    /// an earlier closure panicked, as std's does.
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        self.run(false, |_| f());
    }

    /// [`Once::call_once`], but runs `f` on a poisoned `Once` too, telling it so.
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        self.run(true, f);
    }

    pub fn is_completed(&self) -> bool {
        self.done.get().is_some()
    }

    fn run(&self, force: bool, f: impl FnOnce(&OnceState)) {
        self.done.get_or_init(|| {
            // No loom object in it: its first use needs no ordering after its making.
            let poisoned = self.poisoned.get_unordered(|| AtomicBool::new(false)).0;
            let state = OnceState {
                poisoned: poisoned.load(Ordering::Relaxed),
            };
            if state.poisoned && !force {
                panic!("Once instance has previously been poisoned");
            }
            // Poisoned unless `f` returns.
            poisoned.store(true, Ordering::Relaxed);
            f(&state);
            poisoned.store(false, Ordering::Relaxed);
        });
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once").finish_non_exhaustive()
    }
}

/// std's `Barrier`.
pub struct Barrier {
    n: usize,
    per: PerExec<By<sync::Barrier<Loom>, sync::Barrier<Shuttle>, sync::Barrier<Std>>>,
}

impl Barrier {
    pub const fn new(n: usize) -> Self {
        Barrier {
            n,
            per: PerExec::new(),
        }
    }

    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let n = self.n;
        let raw = self.per.get(|| by_engine!(sync::Barrier::<P>::new(n))).0;
        each!(raw, b => b.wait())
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
