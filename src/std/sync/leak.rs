//! Leak detection for the modelled `Arc`: every allocation of the running execution with its
//! location, until its strong count reaches zero; one left when the execution ends fails it,
//! as loom's `Arc leaked` does.
//!
//! Invariant: the register is the OS thread's (loom and shuttle run every model thread of an
//! execution on it) and belongs to one execution: the first allocation of the next one clears
//! it. An allocation made by a `OnceLock` or `LazyLock` initialiser is not checked: such a
//! cell is fresh in every execution but, in a `static`, never dropped, so its `Arc` would
//! look leaked in every execution.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe, Location};

use crate::std::rt::{self, Key};
use crate::sync::model::{self, Stop};

/// A modelled allocation's number in its execution (`Arc#1` is the first `Arc::new`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Id(u64);

impl Id {
    pub(super) fn number(self) -> u64 {
        self.0
    }
}

/// Why an `Arc` cannot be used: its counts belong to an execution that is over.
pub(super) const OTHER_EXECUTION: &str = "an Arc of threadproof::std made in one execution is \
     used in another: it outlived its execution (in the data of a static Mutex or RwLock, \
     which is not rebuilt). Keep it in a LazyLock or OnceLock, fresh in every execution";

struct Live {
    key: Option<Key>,
    made: u64,
    /// By number: where it was made and how many `Arc`s hold it (for the report).
    entries: BTreeMap<u64, Entry>,
}

struct Entry {
    at: &'static Location<'static>,
    strong: usize,
}

thread_local! {
    static LIVE: RefCell<Live> = const {
        RefCell::new(Live { key: None, made: 0, entries: BTreeMap::new() })
    };
    /// Inside a `OnceLock`/`LazyLock` initialiser: allocations made now are not checked.
    static EXEMPT: Cell<u32> = const { Cell::new(0) };
}

/// Registers a new allocation made at `at` in the current execution.
pub(super) fn register(at: &'static Location<'static>) -> Id {
    let key = rt::key();
    LIVE.with(|live| {
        let mut live = live.borrow_mut();
        if live.key != Some(key) {
            live.key = Some(key);
            live.made = 0;
            live.entries.clear();
        }
        live.made += 1;
        let number = live.made;
        if EXEMPT.with(Cell::get) == 0 {
            live.entries.insert(number, Entry { at, strong: 1 });
        }
        Id(number)
    })
}

fn with_entry(id: Id, f: impl FnOnce(&mut Entry)) {
    LIVE.with(|live| {
        if let Some(entry) = live.borrow_mut().entries.get_mut(&id.0) {
            f(entry);
        }
    });
}

/// One more `Arc` holds the allocation (a clone, an upgrade).
pub(super) fn cloned(id: Id) {
    with_entry(id, |e| e.strong += 1);
}

/// One `Arc` let go of it, not the last.
pub(super) fn dropped_one(id: Id) {
    with_entry(id, |e| e.strong = e.strong.saturating_sub(1));
}

/// Its strong count reached zero: its value is dropped, it cannot leak.
pub(super) fn released(id: Id) {
    LIVE.with(|live| live.borrow_mut().entries.remove(&id.0));
}

/// Runs `init` (a `OnceLock`'s or `LazyLock`'s initialiser) with the allocations it makes
/// exempt from the leak check (see the module docs).
pub(crate) fn exempt<R>(init: impl FnOnce() -> R) -> R {
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            EXEMPT.with(|e| e.set(e.get() - 1));
        }
    }
    EXEMPT.with(|e| e.set(e.get() + 1));
    let _leave = Leave;
    init()
}

/// Runs a drop's count updates: always, except while the execution is being stopped (the
/// checker's objects must not be touched again). A second panic raised by the checker while a
/// first one unwinds (loom's reaction to a failure already under way) is dropped: escaping a
/// drop it would abort the process, and the first one is what the report names.
pub(super) fn in_drop(release: impl FnOnce()) {
    if !std::thread::panicking() {
        return release();
    }
    if model::stop_requested() {
        return;
    }
    let _ = panic::catch_unwind(AssertUnwindSafe(release));
}

/// Called by the harness when an execution's body returned: fails the execution if an `Arc`
/// made in it was never released, naming where it was made. Checked only once every model
/// thread has finished (joined or not): a running thread may still drop its clones.
pub(crate) fn check_at_end() {
    if model::live_threads() > 0 {
        return;
    }
    let key = rt::key();
    let leaked = LIVE.with(|live| {
        let live = live.borrow();
        if live.key != Some(key) {
            return None;
        }
        let (&number, entry) = live.entries.iter().next()?;
        Some((number, entry.at, entry.strong, live.entries.len()))
    });
    let Some((number, at, strong, count)) = leaked else {
        return;
    };
    let others = match count {
        1 => String::new(),
        2 => " (and 1 other Arc)".to_string(),
        n => format!(" (and {} other Arcs)", n - 1),
    };
    let message = format!(
        "Arc leaked: Arc#{number}, made at {}:{}, still had {strong} strong reference{} when \
         the execution ended (a reference cycle, or an Arc forgotten){others}",
        at.file(),
        at.line(),
        if strong == 1 { "" } else { "s" }
    );
    fail(message, at);
}

/// Ends the execution with `message`, raised at `at`: quietly under shuttle (threadproof's
/// scheduler stops it), by unwinding into loom otherwise.
fn fail(message: String, at: &'static Location<'static>) {
    if model::quiet_stops() {
        model::request_stop(Stop::Panicked {
            message,
            location: Some(at.to_string()),
        });
    } else {
        // Noted as the panic hook notes a panic, with the allocation's location for the
        // report; `resume_unwind` then skips the hook.
        model::note_panic(message.clone(), at.to_string());
        panic::resume_unwind(Box::new(message));
    }
}
