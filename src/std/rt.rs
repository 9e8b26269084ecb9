//! The mirror's run-time dispatch: which checker runs the current execution on this OS thread,
//! and objects made afresh in every execution ([`PerExec`]).
//!
//! Invariant: loom and shuttle run all of an execution's model threads as coroutines on the OS
//! thread that called the explorer, so an OS-thread-local set when each execution begins
//! ([`begin_execution`]) names the engine and the execution for every model thread of it.
//! Outside an exploration the engine is [`Engine::Std`], shared by all real threads under one
//! key. A mirror object's backend primitive lives in a [`PerExec`] slot keyed by
//! ([`worker`], execution), so two explorations running at once on two OS threads never share
//! one, and a `static` gets a fresh primitive in every execution.

use crate::sync::NeedsMirrorMakers;
use std::any::{Any, TypeId};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Who runs the current execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    /// No checker: std's primitives, real threads.
    Std,
    Loom,
    Shuttle,
}

/// One slot's owner: the OS thread running explorations (0 for [`Engine::Std`]) and the
/// execution on it (0 outside one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    worker: u64,
    execution: u64,
}

const STD_KEY: Key = Key {
    worker: 0,
    execution: 0,
};

static NEXT_EXECUTION: AtomicU64 = AtomicU64::new(1);
static NEXT_WORKER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CURRENT: Cell<(Engine, Key)> = const { Cell::new((Engine::Std, STD_KEY)) };
    static WORKER: Cell<u64> = const { Cell::new(0) };
    /// Under loom, the atomics through which a model thread's first use of a mirror object
    /// happens after that object's making (see [`PerExec::get`]): the `i`-th object made in
    /// an execution is ordered through atomic `i % MAKERS`. Made when the execution begins,
    /// before any thread is spawned, so every thread may use them; but only in explorations
    /// that need them ([`set_mirror_makers`]): making them costs loom about a tenth of a
    /// small execution, and a body on the per-backend primitives, or one that makes every
    /// mirror object before its first spawn, never uses them.
    static MADE: std::cell::RefCell<Option<Box<[::loom::sync::atomic::AtomicUsize; MAKERS]>>> =
        const { std::cell::RefCell::new(None) };
    /// Objects made so far in this loom execution, to pick the next one's atomic.
    static MADE_COUNT: Cell<usize> = const { Cell::new(0) };
    /// Whether an object was made after the first spawn (taken from [`POOL`], or ordered
    /// for another thread's first use: see [`MADE_LATE_HIDES`]), since [`take_made_late`]
    /// last asked.
    static MADE_LATE: Cell<bool> = const { Cell::new(false) };
    /// Whether this OS thread's loom executions make [`MADE`], and whether one needed them
    /// without (the exploration then starts again with them: [`NeedsMirrorMakers`]).
    static MAKERS_ON: Cell<bool> = const { Cell::new(false) };
    static MAKERS_NEEDED: Cell<bool> = const { Cell::new(false) };
    /// Whether an execution found none of its kind left in [`POOL`].
    static POOL_NEEDED: Cell<bool> = const { Cell::new(false) };
    /// Under loom, objects made when the execution begins, before any thread, for mirror
    /// objects first used after a spawn that need nothing but a plain value to be made (an
    /// atomic, by its initial bits; an `RwLock`'s lock): taking one needs no ordering, as a
    /// raw loom atomic made in main needs none, where ordering the first uses would add a
    /// read-modify-write per thread for loom to interleave. How many of each kind and value
    /// is learned: an execution that finds none left starts the exploration again with twice
    /// as many (the plan is fixed for a whole exploration, as loom's replays of a prefix need
    /// the same objects every time), for the values [`POOLED_VALUES`] names.
    static POOL: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool { plan: Vec::new(), ready: Vec::new() })
    };
}

struct Pool {
    plan: Vec<Planned>,
    /// This execution's, not taken yet.
    ready: Vec<(Pooled, Vec<Box<dyn Any>>)>,
}

/// How many objects of one kind and initial value each execution makes beforehand, and how.
struct Planned {
    kind: Pooled,
    make: fn(u64) -> Box<dyn Any>,
    count: usize,
}

/// A kind of pooled object (keyed by a type) and the value it is made with (an atomic's bits).
type Pooled = (TypeId, u64);

/// The initial values the pool serves, as signed bits: zero, the flags, small counts and
/// `MAX` (-1). A rule of the value alone, so that whether an object is pooled never depends
/// on which executions came first (a replay learns the plan anew, in another order), and
/// bounded, so that a value that changes from execution to execution starts the exploration
/// again a bounded number of times: an object with another value is made at its first use
/// and ordered after its making.
const POOLED_VALUES: std::ops::RangeInclusive<i64> = -64..=64;

/// Whether the pool serves objects made with `value` (see [`POOLED_VALUES`]).
fn pool_serves(value: u64) -> bool {
    POOLED_VALUES.contains(&(value as i64))
}

/// One of this execution's objects made before any thread, of the kind `make` makes (keyed
/// by `K`) with `value`, if one is left; otherwise the plan asks for more and the exploration
/// starts again ([`NeedsMirrorMakers`]).
fn take_pooled<K: 'static, T: 'static>(value: u64, make: fn(u64) -> Box<dyn Any>) -> Box<T> {
    let kind = (TypeId::of::<K>(), value);
    let taken = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let ready = p.ready.iter_mut().find(|(k, _)| *k == kind)?;
        ready.1.pop()
    });
    if let Some(object) = taken {
        // Made after the first spawn as far as the body can tell: loom sees it made before.
        MADE_LATE.with(|f| f.set(true));
        return object.downcast().expect("a pooled object of its kind");
    }
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        match p.plan.iter_mut().find(|planned| planned.kind == kind) {
            Some(planned) => planned.count *= 2,
            None => p.plan.push(Planned {
                kind,
                make,
                count: 1,
            }),
        }
    });
    POOL_NEEDED.with(|m| m.set(true));
    std::panic::panic_any(NeedsMirrorMakers);
}

/// Whether the loom executions beginning on this OS thread from now on make the atomics that
/// order first uses (the loom explorer: off at the start of an exploration, on once an
/// execution needed them).
pub(crate) fn set_mirror_makers(on: bool) {
    MAKERS_ON.with(|m| m.set(on));
    MAKERS_NEEDED.with(|m| m.set(false));
    POOL_NEEDED.with(|m| m.set(false));
}

/// Forgets what the last exploration on this OS thread learned it needs made beforehand.
pub(crate) fn forget_mirror_plan() {
    set_mirror_makers(false);
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        p.plan.clear();
        p.ready.clear();
    });
}

/// Whether an execution stopped because it needed what this exploration's executions do
/// not make beforehand (the atomics that order first uses, or more pooled objects): the
/// executions from now on make them, and the exploration must start again. Clears it.
pub(crate) fn take_mirror_restart() -> bool {
    let makers = MAKERS_NEEDED.with(|m| m.replace(false));
    let pool = POOL_NEEDED.with(|m| m.replace(false));
    if makers {
        MAKERS_ON.with(|m| m.set(true));
    }
    makers || pool
}

/// How many atomics order first uses after makings: objects sharing one are ordered after
/// each other's makings too, so more means fewer orders loom must explore and fewer hidden.
const MAKERS: usize = 16;

/// What making an object after the first spawn can hide from loom, in words: listed among
/// what loom cannot see when an execution made one (those made before are ordered by the
/// spawns, as in the body).
pub(crate) const MADE_LATE_HIDES: &str = "weak memory through threadproof::std objects made \
     after the first spawn: loom sees such an atomic or RwLock made before any thread, and \
     orders another thread's first use of any other such object after its making (so that \
     loom accepts an object made lazily), either of which can hide a Relaxed publication of \
     the object; make such objects in main before spawning (one use makes one), or check \
     with the per-backend paths (threadproof::sync::loom, check_backends!), which make each \
     object where it is created";

/// Whether, on this OS thread since the last call, a loom execution made an object after its
/// first spawn (see [`MADE_LATE_HIDES`]); clears it.
pub(crate) fn take_made_late() -> bool {
    MADE_LATE.with(|f| f.replace(false))
}

/// The atomic that orders the first uses of the next object this execution makes.
fn next_maker() -> usize {
    MADE_COUNT.with(|c| {
        let i = c.get();
        c.set(i + 1);
        i % MAKERS
    })
}

/// Publishes (`release`) or acquires the making of the objects ordered through atomic
/// `maker`. A read-modify-write reads the latest write, so a first use acquiring after the
/// maker published is ordered after the making, and only after the makings sharing `maker`
/// (a use does not release: users are not ordered after each other). Without it loom would
/// see a thread use an object another thread made lazily with no happens-before, and report
/// a causality violation on its cells.
fn loom_order(maker: usize, release: bool) {
    let made = MADE.with(|m| {
        let m = m.borrow();
        m.as_ref()
            .map(|made| &made[maker] as *const ::loom::sync::atomic::AtomicUsize)
    });
    let Some(made) = made else {
        // Too late to make them now (threads exist that would not be ordered after their
        // making): the exploration starts again, with them in every execution.
        MAKERS_NEEDED.with(|m| m.set(true));
        std::panic::panic_any(NeedsMirrorMakers);
    };
    let order = if release {
        Ordering::Release
    } else {
        Ordering::Acquire
    };
    // SAFETY: boxed and replaced only when the next execution begins on this OS thread.
    unsafe { &*made }.fetch_add(usize::from(release), order);
}

/// Whether no thread has been spawned yet in this execution: this is the main thread, and
/// whatever it does now is ordered before every other thread by their spawns.
fn before_threads() -> bool {
    crate::sync::model::spawned_so_far() == 0
}

/// Which model thread this is, under loom: who has been ordered after an object's making.
fn loom_thread() -> ::loom::thread::ThreadId {
    ::loom::thread::current().id()
}

/// This OS thread's number among those that ran an execution (never 0).
fn worker() -> u64 {
    WORKER.with(|w| {
        if w.get() == 0 {
            w.set(NEXT_WORKER.fetch_add(1, Ordering::Relaxed));
        }
        w.get()
    })
}

/// Called by the harness at the start of every execution: the engine running it, and a new
/// execution identity (unique across OS threads).
pub(crate) fn begin_execution(engine: Engine) {
    let key = Key {
        worker: worker(),
        execution: NEXT_EXECUTION.fetch_add(1, Ordering::Relaxed),
    };
    CURRENT.with(|c| c.set((engine, key)));
    if engine == Engine::Loom {
        let made = MAKERS_ON.with(Cell::get).then(|| {
            Box::new(std::array::from_fn(|_| {
                ::loom::sync::atomic::AtomicUsize::new(0)
            }))
        });
        // The last execution's are leaked: a loom object must not be dropped outside its own.
        MADE.with(|m| std::mem::forget(std::mem::replace(&mut *m.borrow_mut(), made)));
        MADE_COUNT.with(|c| c.set(0));
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            let ready = (p.plan.iter())
                .map(|planned| {
                    let value = planned.kind.1;
                    let objects = (0..planned.count).map(|_| (planned.make)(value)).collect();
                    (planned.kind, objects)
                })
                .collect();
            // Loom's atomics keep no tie to their execution when dropped (no `Drop`).
            p.ready = ready;
        });
    }
}

/// What this OS thread ran when a check began (plain std, or, for a check made inside an
/// execution's body, that execution's checker), put back when the check ends, however it
/// ends: the check's explorations run on threads of their own, and the body that made it goes
/// on under its own checker.
pub(crate) struct EngineBefore((Engine, Key));

impl EngineBefore {
    pub(crate) fn save() -> Self {
        EngineBefore(CURRENT.with(Cell::get))
    }
}

impl Drop for EngineBefore {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

pub(crate) fn engine() -> Engine {
    CURRENT.with(|c| c.get().0)
}

pub(crate) fn key() -> Key {
    CURRENT.with(|c| c.get().1)
}

/// The current OS thread's token for [`Users`]: 0 for std (real threads share the backend's
/// own exclusion), the worker otherwise.
fn user_token() -> u32 {
    key().worker as u32
}

/// The backend object of a mirror object, one per execution that used it, made on first use.
///
/// Entries of finished executions on the same worker are leaked, never dropped: a loom or
/// shuttle object must not be dropped outside its execution, and a `&T` handed out for a
/// `static` must stay valid. That is a few bytes per static per execution.
pub(crate) struct PerExec<T> {
    slots: Mutex<Vec<Slot<T>>>,
}

struct Slot<T> {
    key: Key,
    object: Box<T>,
    /// Under loom, the model threads ordered after the object's making (see [`loom_order`]).
    ordered: Vec<::loom::thread::ThreadId>,
    /// Made by the main thread before it spawned any: every thread is ordered after the
    /// making already (by its spawn), so none needs [`loom_order`].
    before_threads: bool,
    /// The atomic its maker published the making through (see [`loom_order`]).
    maker: usize,
}

// SAFETY: entries are handed out as `&T` to any thread that shares the `PerExec` (needs
// `T: Sync`) and dropped on whichever thread drops the `PerExec` (needs `T: Send`). The loom
// thread ids are plain numbers.
unsafe impl<T: Send + Sync> Sync for PerExec<T> {}
// SAFETY: as above: the `PerExec` owns its `T`s.
unsafe impl<T: Send> Send for PerExec<T> {}

impl<T> PerExec<T> {
    pub(crate) const fn new() -> Self {
        PerExec {
            slots: Mutex::new(Vec::new()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Vec<Slot<T>>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current execution's object, made by `init` on first use; and whether this object
    /// had been used by another execution before (it outlived one: a `static`).
    ///
    /// The lock is never held across a model operation (making an object, [`loom_order`]):
    /// the checker may switch to another model thread of this OS thread there.
    pub(crate) fn get(&self, init: impl FnOnce() -> T) -> (&T, bool) {
        self.get_ordered(init, true)
    }

    /// [`PerExec::get`] for an object whose loom objects are only locks and condvars: loom
    /// records no access when it makes one (a lock's first `lock` checks nothing about its
    /// making, unlike an atomic's first load, which reads its initial store), so a first use
    /// by another thread needs no ordering after the making. Each such ordering is a
    /// read-modify-write loom interleaves with every other: a mutex made by main after its
    /// spawns and locked by two workers took a small counter from 10,830 executions to
    /// 1,475,301.
    pub(crate) fn get_unordered(&self, init: impl FnOnce() -> T) -> (&T, bool) {
        self.get_ordered(init, false)
    }

    /// [`PerExec::get`] for an object that, when made after a spawn under loom, may be one made
    /// before any thread by `pooled` from `value` (of a kind keyed by `K`): then no first use
    /// of it needs ordering. For an object whose loom object needs nothing but `value` (an
    /// atomic's initial bits; see `POOL`).
    pub(crate) fn get_pooled<K: 'static>(
        &self,
        init: impl FnOnce() -> T,
        pooled: fn(u64) -> Box<dyn Any>,
        value: u64,
    ) -> (&T, bool)
    where
        T: 'static,
    {
        if engine() == Engine::Loom && !before_threads() && pool_serves(value) {
            // Made already, or by whichever thread makes it first: from the pool.
            return self.get_ordered(|| *take_pooled::<K, T>(value, pooled), false);
        }
        self.get_ordered(init, true)
    }

    fn get_ordered(&self, init: impl FnOnce() -> T, ordered: bool) -> (&T, bool) {
        let key = key();
        let me = (ordered && engine() == Engine::Loom).then(loom_thread);
        let mut outlived = false;
        let mut made = None;
        let mut init = Some(init);
        loop {
            let mut slots = self.slots();
            if let Some(slot) = slots.iter_mut().find(|s| s.key == key) {
                let object: *const T = &*slot.object;
                if let Some(made) = made.take() {
                    // Another thread of this execution made it first: ours was never used.
                    std::mem::forget(made);
                }
                match me {
                    Some(me) if !slot.before_threads && !slot.ordered.contains(&me) => {
                        let maker = slot.maker;
                        drop(slots);
                        MADE_LATE.with(|f| f.set(true));
                        loom_order(maker, false);
                        let mut slots = self.slots();
                        if let Some(slot) = slots.iter_mut().find(|s| s.key == key) {
                            slot.ordered.push(me);
                        }
                    }
                    _ => {}
                }
                // SAFETY: boxed, never moved, freed only by `drop`/`take` (`&mut self`).
                return (unsafe { &*object }, outlived);
            }
            match made.take() {
                None => {
                    drop(slots);
                    let init = init.take().expect("made once");
                    // Published before it is pushed (no model step between the two), so no
                    // thread finds it before it can acquire its making.
                    let maker = next_maker();
                    made = Some((Box::new(init()), maker));
                    if me.is_some() && !before_threads() {
                        loom_order(maker, true);
                    }
                }
                Some((object, maker)) => {
                    outlived = !slots.is_empty();
                    // This worker's earlier executions are over: their objects are leaked.
                    let mut i = 0;
                    while i < slots.len() {
                        if slots[i].key.worker == key.worker {
                            std::mem::forget(slots.swap_remove(i));
                        } else {
                            i += 1;
                        }
                    }
                    slots.push(Slot {
                        key,
                        object,
                        ordered: me.into_iter().collect(),
                        before_threads: me.is_some() && before_threads(),
                        maker,
                    });
                }
            }
        }
    }

    /// The current execution's object, taken out (the next use makes a new one).
    pub(crate) fn take(&mut self) -> Option<T> {
        let key = key();
        let slots = self.slots.get_mut().unwrap_or_else(|e| e.into_inner());
        let at = slots.iter().position(|s| s.key == key)?;
        Some(*slots.swap_remove(at).object)
    }
}

impl<T> Drop for PerExec<T> {
    fn drop(&mut self) {
        let key = key();
        let slots = self.slots.get_mut().unwrap_or_else(|e| e.into_inner());
        for Slot { key: k, object, .. } in slots.drain(..) {
            if k == key {
                drop(object);
            } else {
                // Another execution's model object: see the type's docs.
                std::mem::forget(object);
            }
        }
    }
}

/// Who is inside a mirror lock's data: guards must never be held by two OS threads' executions
/// at once (a `static Mutex` used by two concurrent explorations, whose data is one and the
/// same; each execution's backend lock excludes only its own threads). High 32 bits: the
/// token of the holders' OS thread; low 32: how many guards.
pub(crate) struct Users(AtomicU64);

/// Why a static lock's data cannot be shared by concurrent executions.
pub(crate) const SHARED_STATIC: &str = "a static Mutex or RwLock of threadproof::std is used \
     by two explorations running at once: its backend lock is fresh in every execution, but its \
     data cannot be rebuilt, so they would race on it. Put it behind a LazyLock or OnceLock \
     (fresh in every execution), or run these checks one at a time";

impl Users {
    pub(crate) const fn new() -> Self {
        Users(AtomicU64::new(0))
    }

    pub(crate) fn enter(&self) {
        let me = u64::from(user_token()) << 32;
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let count = current & 0xffff_ffff;
            if count != 0 && current & !0xffff_ffff != me {
                panic!("{SHARED_STATIC}");
            }
            match self.0.compare_exchange_weak(
                current,
                me | (count + 1),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    pub(crate) fn leave(&self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// A value per backend: the mirror types hold one of these and match on it.
#[derive(Clone)]
pub(crate) enum By<L, S, D> {
    Loom(L),
    Shuttle(S),
    Std(D),
}

/// `$e` with `$x` bound to whichever backend's value `$by` holds (each arm typed on its own).
macro_rules! each {
    ($by:expr, $x:ident => $e:expr) => {
        match $by {
            $crate::std::rt::By::Loom($x) => $e,
            $crate::std::rt::By::Shuttle($x) => $e,
            $crate::std::rt::By::Std($x) => $e,
        }
    };
}

/// As [`each!`], the result wrapped back in the same backend's variant.
macro_rules! map {
    ($by:expr, $x:ident => $e:expr) => {
        match $by {
            $crate::std::rt::By::Loom($x) => $crate::std::rt::By::Loom($e),
            $crate::std::rt::By::Shuttle($x) => $crate::std::rt::By::Shuttle($e),
            $crate::std::rt::By::Std($x) => $crate::std::rt::By::Std($e),
        }
    };
}

/// `$e` with the type `P` naming the current engine's backend, wrapped in its variant.
macro_rules! by_engine {
    ($e:expr) => {
        match $crate::std::rt::engine() {
            $crate::std::rt::Engine::Loom => $crate::std::rt::By::Loom({
                #[allow(dead_code)]
                type P = $crate::sync::Loom;
                $e
            }),
            $crate::std::rt::Engine::Shuttle => $crate::std::rt::By::Shuttle({
                #[allow(dead_code)]
                type P = $crate::sync::Shuttle;
                $e
            }),
            $crate::std::rt::Engine::Std => $crate::std::rt::By::Std({
                #[allow(dead_code)]
                type P = $crate::sync::Std;
                $e
            }),
        }
    };
}

pub(crate) use {by_engine, each, map};

/// Two values of one backend from two [`By`]s made in the same execution.
macro_rules! pair {
    ($a:expr, $b:expr, ($x:ident, $y:ident) => $e:expr) => {
        match ($a, $b) {
            ($crate::std::rt::By::Loom($x), $crate::std::rt::By::Loom($y)) => {
                $crate::std::rt::By::Loom($e)
            }
            ($crate::std::rt::By::Shuttle($x), $crate::std::rt::By::Shuttle($y)) => {
                $crate::std::rt::By::Shuttle($e)
            }
            ($crate::std::rt::By::Std($x), $crate::std::rt::By::Std($y)) => {
                $crate::std::rt::By::Std($e)
            }
            _ => panic!("{}", $crate::std::rt::MIXED),
        }
    };
}
pub(crate) use pair;

/// Two mirror objects of different executions used together.
pub(crate) const MIXED: &str = "a Condvar waited with a guard of a Mutex made by another \
     checker or execution";
