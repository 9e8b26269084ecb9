//! std's `std::sync::mpsc`, over the backend of the running checker, with std's own error
//! types.
//!
//! Invariant: a channel is made in one execution and used only there (it cannot be a
//! `static`), so each end holds the backend's end directly; every call is the backend
//! channel's, its results mapped to std's types.

use std::fmt;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::std::rt::{by_engine, each, map, By};
use crate::sync::{self, Loom, Shuttle, Std};

/// std's `Sender`.
pub struct Sender<T: Send>(
    By<sync::Sender<Loom, T>, sync::Sender<Shuttle, T>, sync::Sender<Std, T>>,
);

/// std's `SyncSender`.
pub struct SyncSender<T: Send>(
    By<sync::SyncSender<Loom, T>, sync::SyncSender<Shuttle, T>, sync::SyncSender<Std, T>>,
);

/// std's `Receiver`.
pub struct Receiver<T: Send>(
    By<sync::Receiver<Loom, T>, sync::Receiver<Shuttle, T>, sync::Receiver<Std, T>>,
);

// As std's: a channel's ends hold no state a caught panic could leave half-changed.
impl<T: Send> std::panic::UnwindSafe for Sender<T> {}
impl<T: Send> std::panic::RefUnwindSafe for Sender<T> {}
impl<T: Send> std::panic::UnwindSafe for SyncSender<T> {}
impl<T: Send> std::panic::RefUnwindSafe for SyncSender<T> {}
impl<T: Send> std::panic::UnwindSafe for Receiver<T> {}
impl<T: Send> std::panic::RefUnwindSafe for Receiver<T> {}

/// An unbounded channel.
pub fn channel<T: Send>() -> (Sender<T>, Receiver<T>) {
    match by_engine!(sync::channel::<P, T>()) {
        By::Loom((s, r)) => (Sender(By::Loom(s)), Receiver(By::Loom(r))),
        By::Shuttle((s, r)) => (Sender(By::Shuttle(s)), Receiver(By::Shuttle(r))),
        By::Std((s, r)) => (Sender(By::Std(s)), Receiver(By::Std(r))),
    }
}

/// A channel of at most `bound` messages (a rendezvous at 0).
pub fn sync_channel<T: Send>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    match by_engine!(sync::sync_channel::<P, T>(bound)) {
        By::Loom((s, r)) => (SyncSender(By::Loom(s)), Receiver(By::Loom(r))),
        By::Shuttle((s, r)) => (SyncSender(By::Shuttle(s)), Receiver(By::Shuttle(r))),
        By::Std((s, r)) => (SyncSender(By::Std(s)), Receiver(By::Std(r))),
    }
}

impl<T: Send> Sender<T> {
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        each!(&self.0, s => s.send(t)).map_err(SendError)
    }
}

impl<T: Send> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender(map!(&self.0, s => s.clone()))
    }
}

impl<T: Send> SyncSender<T> {
    #[track_caller]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        each!(&self.0, s => s.send(t)).map_err(SendError)
    }

    #[track_caller]
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        each!(&self.0, s => s.try_send(t)).map_err(|e| match e {
            sync::TrySendError::Full(t) => TrySendError::Full(t),
            sync::TrySendError::Disconnected(t) => TrySendError::Disconnected(t),
        })
    }
}

impl<T: Send> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        SyncSender(map!(&self.0, s => s.clone()))
    }
}

impl<T: Send> Receiver<T> {
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        each!(&self.0, r => r.recv()).ok_or(RecvError)
    }

    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        each!(&self.0, r => r.try_recv()).map_err(|e| match e {
            sync::TryRecvError::Empty => TryRecvError::Empty,
            sync::TryRecvError::Disconnected => TryRecvError::Disconnected,
        })
    }

    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        each!(&self.0, r => r.recv_timeout(timeout)).map_err(|e| match e {
            sync::RecvTimeoutError::Timeout => RecvTimeoutError::Timeout,
            sync::RecvTimeoutError::Disconnected => RecvTimeoutError::Disconnected,
        })
    }

    /// Messages until every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// The messages queued now, without waiting.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// std's `mpsc::Iter`.
pub struct Iter<'a, T: Send> {
    rx: &'a Receiver<T>,
}

/// std's `mpsc::TryIter`.
pub struct TryIter<'a, T: Send> {
    rx: &'a Receiver<T>,
}

/// std's `mpsc::IntoIter`.
pub struct IntoIter<T: Send> {
    rx: Receiver<T>,
}

impl<T: Send> Iterator for Iter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T: Send> Iterator for TryIter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

impl<T: Send> Iterator for IntoIter<T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T: Send> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T: Send> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<T: Send> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T: Send> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

impl<T: Send> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
