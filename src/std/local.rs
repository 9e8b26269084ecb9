//! Per-model-thread state of the mirror: [`LocalKey`] (what [`crate::thread_local!`] makes),
//! and each model thread's count of the children it spawned (for their `ThreadId`).
//!
//! Invariant: outside the checkers a `LocalKey` is std's own `thread_local!`. Under a checker,
//! every model thread of an execution runs on one OS thread, so values live in an OS-thread
//! table keyed by the model thread's place in the spawn tree, for the current execution only:
//! a new execution starts with none; a model thread's values are dropped when its body
//! returns (the main thread's when the `check!` body returns). Values of an execution that
//! stopped early are leaked, never dropped: they may hold that execution's model objects.

use std::any::Any;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;

use super::rt::{engine, key, Engine, Key};
use crate::sync::model::{self, ThreadKey};
use crate::sync::{Loom, Shuttle};

#[derive(Default)]
struct ThreadState {
    children: u32,
    /// Values by their key's address, in the order they were made.
    values: Vec<(usize, Box<dyn Any>)>,
}

struct Table {
    execution: Option<Key>,
    threads: HashMap<ThreadKey, ThreadState>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table {
        execution: None,
        threads: HashMap::new(),
    });
}

/// `f` on the running model thread's state, in a table emptied at each new execution.
fn with_state<R>(f: impl FnOnce(&mut ThreadState) -> R) -> R {
    let thread = current_key().expect("a model thread");
    let now = key();
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        if table.execution != Some(now) {
            // An earlier execution's values: see the module's docs.
            std::mem::forget(std::mem::take(&mut table.threads));
            table.execution = Some(now);
        }
        f(table.threads.entry(thread).or_default())
    })
}

/// The running model thread's key (`None` outside the checkers).
pub(crate) fn current_key() -> Option<ThreadKey> {
    match engine() {
        Engine::Loom => Some(model::with_context::<Loom, _>(|c| c.key.clone())),
        Engine::Shuttle => Some(model::with_context::<Shuttle, _>(|c| c.key.clone())),
        Engine::Std => None,
    }
}

/// The index of the next child the running model thread spawns.
pub(crate) fn next_child() -> u32 {
    with_state(|s| {
        s.children += 1;
        s.children - 1
    })
}

/// The running model thread's body returned: its values are dropped, last made first.
pub(crate) fn thread_exit() {
    if engine() == Engine::Std {
        return;
    }
    let values = with_state(|s| std::mem::take(&mut s.values));
    for value in values.into_iter().rev() {
        drop(value);
    }
}

/// std's `LocalKey`: made by [`crate::thread_local!`].
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
    std: fn() -> &'static std::thread::LocalKey<OnceCell<T>>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new(
        init: fn() -> T,
        std: fn() -> &'static std::thread::LocalKey<OnceCell<T>>,
    ) -> Self {
        LocalKey { init, std }
    }

    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        if engine() == Engine::Std {
            return (self.std)().with(|cell| f(cell.get_or_init(self.init)));
        }
        let id = self as *const Self as usize;
        let found = with_state(|s| {
            let (_, value) = s.values.iter().find(|(k, _)| *k == id)?;
            Some(value.downcast_ref::<T>().expect("one type per key") as *const T)
        });
        let value = match found {
            Some(value) => value,
            None => {
                // Made with the table released: `init` may use other thread-locals.
                let made: Box<dyn Any> = Box::new((self.init)());
                with_state(|s| {
                    let value = made.downcast_ref::<T>().expect("made as T") as *const T;
                    s.values.push((id, made));
                    value
                })
            }
        };
        // SAFETY: boxed, and dropped only when this model thread's body returns (or leaked
        // with its execution), never while the thread is inside `with`.
        f(unsafe { &*value })
    }

    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, std::thread::AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        Ok(self.with(f))
    }
}

impl<T: 'static> LocalKey<Cell<T>> {
    pub fn set(&'static self, value: T) {
        self.with(|cell| cell.set(value))
    }

    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(Cell::get)
    }

    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(Cell::take)
    }

    pub fn replace(&'static self, value: T) -> T {
        self.with(|cell| cell.replace(value))
    }
}

impl<T: 'static> LocalKey<RefCell<T>> {
    pub fn with_borrow<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        self.with(|cell| f(&cell.borrow()))
    }

    pub fn with_borrow_mut<F: FnOnce(&mut T) -> R, R>(&'static self, f: F) -> R {
        self.with(|cell| f(&mut cell.borrow_mut()))
    }

    pub fn set(&'static self, value: T) {
        self.with(|cell| *cell.borrow_mut() = value)
    }

    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(RefCell::take)
    }

    pub fn replace(&'static self, value: T) -> T {
        self.with(|cell| cell.replace(value))
    }
}

impl<T: 'static> std::fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey").finish_non_exhaustive()
    }
}
