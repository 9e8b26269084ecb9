//! The small programs that measure what threadproof's built primitives cost a checker, each
//! written three ways: on raw loom, on raw shuttle, and once over threadproof's backend (run
//! under its loom and its shuttle). `models/primitives.rs` asserts loom's execution counts
//! from them; `benches/primitives.rs` times them.
//!
//! Invariant: the versions of a program do the same operations in the same order, each on its
//! own side's primitives, and std's `Arc` on every side (as threadproof's paths use it), so
//! that what differs is only how each side builds the primitive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use threadproof::explore::{self, LoomConfig};

/// One program: its name and its versions.
pub struct Program {
    pub name: &'static str,
    /// Whether threadproof builds it on the checker's own primitive (so the 2x goal is
    /// asserted) rather than on the checker's mutex and condvar (so it is measured).
    pub native: bool,
    /// For a built one: the most threadproof's loom executions may be, as a multiple of raw
    /// loom's: the goal, 2x, met by the channel (two-senders) and the `RwLock` (three-writers),
    /// which the code built on the checker's mutex and condvar exceeded many times (170x, 46x).
    pub built_ceiling: Option<u64>,
    pub raw_loom: Option<fn()>,
    pub raw_shuttle: fn(),
    pub loom: Option<fn()>,
    pub shuttle: fn(),
}

/// The programs loom can run (at most four threads besides main), each native in raw loom.
pub fn loom_programs() -> Vec<Program> {
    vec![
        Program {
            name: "two-senders",
            native: false,
            built_ceiling: Some(2),
            raw_loom: Some(raw_loom::two_senders),
            raw_shuttle: raw_shuttle::two_senders,
            loom: Some(built::two_senders::<threadproof::sync::Loom>),
            shuttle: built::two_senders::<threadproof::sync::Shuttle>,
        },
        Program {
            name: "named-threads",
            native: true,
            built_ceiling: None,
            raw_loom: Some(raw_loom::named_threads),
            raw_shuttle: raw_shuttle::named_threads,
            loom: Some(built::named_threads::<threadproof::sync::Loom>),
            shuttle: built::named_threads::<threadproof::sync::Shuttle>,
        },
        Program {
            name: "three-writers",
            native: false,
            built_ceiling: Some(2),
            raw_loom: Some(raw_loom::three_writers),
            raw_shuttle: raw_shuttle::three_writers,
            loom: Some(built::three_writers::<threadproof::sync::Loom>),
            shuttle: built::three_writers::<threadproof::sync::Shuttle>,
        },
    ]
}

/// The program only shuttle can run: [`SENDERS`] senders on one channel.
pub fn many_senders() -> Program {
    Program {
        name: "many-senders",
        native: false,
        built_ceiling: None,
        raw_loom: None,
        raw_shuttle: raw_shuttle::many_senders,
        loom: None,
        shuttle: built::many_senders::<threadproof::sync::Shuttle>,
    }
}

/// Senders (clones of one) in [`many_senders`], spread over [`SENDING_THREADS`] threads.
pub const SENDERS: usize = 1000;
pub const SENDING_THREADS: usize = 4;

/// Raw loom's executions of `program`, every interleaving (no preemption bound, as
/// threadproof's [`LoomConfig::exhaustive`]).
pub fn raw_loom_executions(program: fn()) -> u64 {
    let runs = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&runs);
    ::loom::model::Builder::new().check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        program()
    });
    runs.load(Ordering::Relaxed)
}

/// Threadproof's loom executions of `program` at `config`; the exploration must pass.
pub fn loom_executions(config: &LoomConfig, program: fn()) -> u64 {
    let report = explore::loom::explore(config, program, |_: &()| Ok(()));
    assert!(report.passed(), "{}", report.summary());
    report.executions
}

macro_rules! raw_programs {
    ($module:ident, $engine:ident) => {
        /// The programs on the engine's own primitives.
        pub mod $module {
            use ::$engine::sync::{mpsc, RwLock};
            use ::$engine::thread;
            use std::sync::Arc;

            pub fn two_senders() {
                let (tx, rx) = mpsc::channel();
                let tx2 = tx.clone();
                let a = thread::spawn(move || tx.send(1u32).unwrap());
                let b = thread::spawn(move || tx2.send(2u32).unwrap());
                let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
                got.sort();
                a.join().unwrap();
                b.join().unwrap();
                assert_eq!(got, [1, 2]);
            }

            pub fn named_threads() {
                let named = |name: &str| {
                    thread::Builder::new()
                        .name(name.to_string())
                        .spawn(|| thread::current().name().map(str::to_owned))
                        .unwrap()
                };
                let (a, b) = (named("a"), named("b"));
                assert_eq!(a.join().unwrap().as_deref(), Some("a"));
                assert_eq!(b.join().unwrap().as_deref(), Some("b"));
            }

            pub fn three_writers() {
                let lock = Arc::new(RwLock::new(0));
                let writers: Vec<_> = (0..3)
                    .map(|_| {
                        let lock = Arc::clone(&lock);
                        thread::spawn(move || *lock.write().unwrap() += 1)
                    })
                    .collect();
                for writer in writers {
                    writer.join().unwrap();
                }
                assert_eq!(*lock.read().unwrap(), 3);
            }

            #[allow(dead_code)]
            pub fn many_senders() {
                let (tx, rx) = mpsc::channel();
                let per_thread = super::SENDERS / super::SENDING_THREADS;
                let threads: Vec<_> = (0..super::SENDING_THREADS)
                    .map(|_| {
                        let tx = tx.clone();
                        thread::spawn(move || {
                            for i in 0..per_thread {
                                tx.clone().send(i).unwrap();
                            }
                        })
                    })
                    .collect();
                drop(tx);
                let received = (0..super::SENDERS).filter(|_| rx.recv().is_ok()).count();
                for thread in threads {
                    thread.join().unwrap();
                }
                assert_eq!(received, super::SENDERS);
            }
        }
    };
}

raw_programs!(raw_loom, loom);
raw_programs!(raw_shuttle, shuttle);

/// The programs once, over threadproof's backend `P`.
pub mod built {
    use std::sync::Arc;

    use threadproof::sync::{channel, current, Builder, Primitives, RwLock};

    fn spawn<P: Primitives, T: Send + 'static>(
        body: impl FnOnce() -> T + Send + 'static,
    ) -> threadproof::sync::JoinHandle<P, T> {
        Builder::<P>::new().spawn(body).unwrap()
    }

    pub fn two_senders<P: Primitives>() {
        let (tx, rx) = channel::<P, u32>();
        let tx2 = tx.clone();
        let a = spawn::<P, _>(move || tx.send(1).unwrap());
        let b = spawn::<P, _>(move || tx2.send(2).unwrap());
        let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort();
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(got, [1, 2]);
    }

    pub fn named_threads<P: Primitives>() {
        let named = |name: &str| {
            Builder::<P>::new()
                .name(name.to_string())
                .spawn(|| current::<P>().name().map(str::to_owned))
                .unwrap()
        };
        let (a, b) = (named("a"), named("b"));
        assert_eq!(a.join().unwrap().as_deref(), Some("a"));
        assert_eq!(b.join().unwrap().as_deref(), Some("b"));
    }

    pub fn three_writers<P: Primitives>() {
        let lock = Arc::new(RwLock::<P, u32>::new(0));
        let writers: Vec<_> = (0..3)
            .map(|_| {
                let lock = Arc::clone(&lock);
                spawn::<P, _>(move || *lock.write() += 1)
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(*lock.read(), 3);
    }

    pub fn many_senders<P: Primitives>() {
        let (tx, rx) = channel::<P, usize>();
        let per_thread = super::SENDERS / super::SENDING_THREADS;
        let threads: Vec<_> = (0..super::SENDING_THREADS)
            .map(|_| {
                let tx = tx.clone();
                spawn::<P, _>(move || {
                    for i in 0..per_thread {
                        tx.clone().send(i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let received = (0..super::SENDERS).filter(|_| rx.recv().is_some()).count();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(received, super::SENDERS);
    }
}
