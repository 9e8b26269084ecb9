//! Completions: each task's result, kept until its future is dropped, and the mailboxes of
//! [`as_completed`] iterators.
//!
//! Invariant: a task is completed once ([`Shared::complete`]); its result is kept only while
//! its future lives, and each [`as_completed`] iterator yields each of its futures once, in
//! the order they completed. Memory stays flat however many tasks run: nothing is logged per
//! completion. Locks: one pool's lock at a time; another pool's only after ours is released.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::types::TaskError;
use crate::sync::{Condvar, Mutex, Primitives, Std};

/// Where a completion goes for an [`as_completed`] that waits on the future.
struct Watcher<P: Primitives> {
    /// The pool whose lock guards the iterator's mailbox: `None` for this pool.
    home: Option<Arc<Shared<P>>>,
    /// The iterator's mailbox.
    key: u64,
    /// The future's place in the iterator's slice.
    index: usize,
}

struct Done<P: Primitives> {
    /// Completed tasks whose future is still alive: when each completed (a count), and how.
    results: HashMap<u64, (u64, Result<Value, TaskError>)>,
    completions: u64,
    /// Tasks whose future was dropped before they completed: their result is not kept.
    abandoned: HashSet<u64>,
    /// The [`as_completed`] iterators waiting on each task.
    watchers: HashMap<u64, Vec<Watcher<P>>>,
    /// Each [`as_completed`] iterator's completions not yet yielded (slice indexes), in order.
    mailboxes: HashMap<u64, VecDeque<usize>>,
    next_key: u64,
}

impl<P: Primitives> Default for Done<P> {
    fn default() -> Self {
        Done {
            results: HashMap::new(),
            abandoned: HashSet::new(),
            watchers: HashMap::new(),
            mailboxes: HashMap::new(),
            completions: 0,
            next_key: 0,
        }
    }
}

pub(super) struct Shared<P: Primitives> {
    done: Mutex<P, Done<P>>,
    completed: Condvar<P>,
}

impl<P: Primitives> Shared<P> {
    pub(super) fn new() -> Self {
        Shared {
            done: Mutex::new(Done::default()),
            completed: Condvar::new(),
        }
    }

    /// Completes task `id`, once: keeps its result for its future (if it is still alive) and
    /// tells the iterators waiting on it.
    pub(super) fn complete(&self, id: u64, result: Result<Value, TaskError>) {
        let mut done = self.done.lock();
        if !done.abandoned.remove(&id) {
            let when = done.completions;
            done.results.insert(id, (when, result));
        }
        done.completions += 1;
        let mut elsewhere = Vec::new();
        for watcher in done.watchers.remove(&id).unwrap_or_default() {
            match watcher.home {
                None => {
                    if let Some(mailbox) = done.mailboxes.get_mut(&watcher.key) {
                        mailbox.push_back(watcher.index);
                    }
                }
                Some(home) => elsewhere.push((home, watcher.key, watcher.index)),
            }
        }
        drop(done);
        self.completed.notify_all();
        // Another pool's lock is taken only after ours is released: no lock order to keep.
        for (home, key, index) in elsewhere {
            home.deliver(key, index);
        }
    }

    /// Puts a completion in mailbox `key` of this pool and wakes its iterator.
    fn deliver(&self, key: u64, index: usize) {
        let mut done = self.done.lock();
        if let Some(mailbox) = done.mailboxes.get_mut(&key) {
            mailbox.push_back(index);
        }
        drop(done);
        self.completed.notify_all();
    }
}

/// The eventual result of a submitted task. Its result is kept until the future is dropped.
pub struct TaskFuture<P: Primitives = Std> {
    id: u64,
    task: String,
    shared: Arc<Shared<P>>,
}

impl<P: Primitives> fmt::Debug for TaskFuture<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskFuture({} `{}`)", self.id, self.task)
    }
}

impl<P: Primitives> TaskFuture<P> {
    pub(super) fn new(id: u64, task: String, shared: Arc<Shared<P>>) -> Self {
        TaskFuture { id, task, shared }
    }

    /// The id the pool gave the task, in submission order from 0.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn task(&self) -> &str {
        &self.task
    }

    /// Waits for the task: its value, or why there is none.
    pub fn result(&self) -> Result<Value, TaskError> {
        let done = self.shared.done.lock();
        let done = self
            .shared
            .completed
            .wait_while(done, |d| !d.results.contains_key(&self.id));
        done.results[&self.id].1.clone()
    }

    /// [`TaskFuture::result`], decoded as `R`.
    pub fn result_as<R: DeserializeOwned>(&self) -> Result<R, TaskError> {
        let value = self.result()?;
        serde_json::from_value(value).map_err(|e| TaskError::Failed {
            task: self.task.clone(),
            message: format!("unexpected result: {e}"),
        })
    }

    /// Whether the task has completed.
    pub fn done(&self) -> bool {
        self.shared.done.lock().results.contains_key(&self.id)
    }
}

impl<P: Primitives> Drop for TaskFuture<P> {
    /// Releases the result, or tells the pool not to keep it when it comes.
    fn drop(&mut self) {
        if P::MODEL && std::thread::panicking() {
            return;
        }
        let mut done = self.shared.done.lock();
        if done.results.remove(&self.id).is_none() {
            done.abandoned.insert(self.id);
        }
    }
}

/// Yields each of `futures` once, as it completes (Python's `as_completed`); the futures may
/// come from several pools.
pub fn as_completed<P: Primitives>(futures: &[TaskFuture<P>]) -> AsCompleted<'_, P> {
    let Some(first) = futures.first() else {
        return AsCompleted {
            futures,
            home: None,
            key: 0,
            remaining: 0,
        };
    };
    let home = Arc::clone(&first.shared);
    let mut done = home.done.lock();
    let key = done.next_key;
    done.next_key += 1;
    let mut ready = Vec::new();
    let mut foreign = Vec::new();
    for (index, future) in futures.iter().enumerate() {
        if !Arc::ptr_eq(&future.shared, &home) {
            foreign.push(index);
        } else if let Some((when, _)) = done.results.get(&future.id) {
            ready.push((*when, index));
        } else {
            let watcher = Watcher {
                home: None,
                key,
                index,
            };
            done.watchers.entry(future.id).or_default().push(watcher);
        }
    }
    // Those already done come first, in the order they completed.
    ready.sort_unstable();
    done.mailboxes
        .insert(key, ready.into_iter().map(|(_, index)| index).collect());
    drop(done);
    // Futures of other pools: each pool's lock alone, then ours for the ones already done.
    let mut ready = Vec::new();
    for index in foreign {
        let future = &futures[index];
        let mut done = future.shared.done.lock();
        if done.results.contains_key(&future.id) {
            ready.push(index);
        } else {
            let watcher = Watcher {
                home: Some(Arc::clone(&home)),
                key,
                index,
            };
            done.watchers.entry(future.id).or_default().push(watcher);
        }
    }
    for index in ready {
        home.deliver(key, index);
    }
    AsCompleted {
        futures,
        remaining: futures.len(),
        home: Some(home),
        key,
    }
}

/// The iterator of [`as_completed`].
pub struct AsCompleted<'a, P: Primitives> {
    futures: &'a [TaskFuture<P>],
    /// The pool whose lock guards this iterator's mailbox (the first future's).
    home: Option<Arc<Shared<P>>>,
    key: u64,
    /// Futures not yet yielded.
    remaining: usize,
}

impl<'a, P: Primitives> Iterator for AsCompleted<'a, P> {
    type Item = &'a TaskFuture<P>;

    fn next(&mut self) -> Option<&'a TaskFuture<P>> {
        if self.remaining == 0 {
            return None;
        }
        let home = self.home.as_ref()?;
        let mut done = home.done.lock();
        loop {
            let mailbox = done.mailboxes.get_mut(&self.key)?;
            if let Some(index) = mailbox.pop_front() {
                self.remaining -= 1;
                if self.remaining == 0 {
                    done.mailboxes.remove(&self.key);
                }
                return Some(&self.futures[index]);
            }
            done = home.completed.wait(done);
        }
    }
}

impl<P: Primitives> Drop for AsCompleted<'_, P> {
    /// An iterator left before its end unregisters, so no completion is kept for it.
    fn drop(&mut self) {
        if self.remaining == 0 || (P::MODEL && std::thread::panicking()) {
            return;
        }
        let Some(home) = &self.home else { return };
        home.done.lock().mailboxes.remove(&self.key);
        for future in self.futures {
            let mut done = future.shared.done.lock();
            if let Some(watchers) = done.watchers.get_mut(&future.id) {
                watchers.retain(|w| {
                    w.key != self.key
                        || !w
                            .home
                            .as_ref()
                            .map_or(Arc::ptr_eq(&future.shared, home), |h| Arc::ptr_eq(h, home))
                });
                if watchers.is_empty() {
                    done.watchers.remove(&future.id);
                }
            }
        }
    }
}
