//! Replay tokens pinned, one per checker kind (loom, shuttle's random, PCT and URW), as
//! shuttle's own tests pin schedule strings: a token a real failing `verdicts!` run printed
//! once is committed here as a literal, with the shape of the failure it names.
//!
//! Invariant: for each pin, `replay!` of the committed token still fails with the pinned
//! kind, message and trace shape (rows, threads, the threads left blocked), and a fresh
//! exploration by the same checker (as [`Portfolio::standard`] configures it) still finds that
//! failure and prints that same token. A change to a scheduler, to exploration order, to the
//! token grammar or to what the trace records fails here, in one direction or the other.
//!
//! When such a change is intended, the failing assertion prints the fresh token and shape:
//! review them (the replay line in `verdicts.explain()` shows the whole failure) and paste
//! them over the pin.

use threadproof::check::{Portfolio, Verdicts};
use threadproof::explore::{Checker, CheckerKind, Failure, FailureKind, Report};
use threadproof::std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use threadproof::std::sync::{Arc, Condvar, Mutex};
use threadproof::std::thread;
use threadproof::{replay, verdicts};

/// Two threads each add one to a counter with a load and a separate store: one update can be
/// lost, and the counter ends at 1.
fn lost_update() -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let other = Arc::clone(&counter);
    let worker = thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            let seen = other.load(SeqCst);
            other.store(seen + 1, SeqCst);
        })
        .unwrap();
    let seen = counter.load(SeqCst);
    counter.store(seen + 1, SeqCst);
    worker.join().unwrap();
    counter.load(SeqCst)
}

/// Two threads take two locks in opposite orders: each can hold one and wait for the other.
fn lock_order_inversion() {
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a2, b2) = (Arc::clone(&a), Arc::clone(&b));
    let worker = thread::Builder::new()
        .name("worker".into())
        .spawn(move || {
            let _b = b2.lock().unwrap();
            let _a = a2.lock().unwrap();
        })
        .unwrap();
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    worker.join().unwrap();
}

/// A one-slot buffer whose producer and two consumers share one condvar and wake each other
/// with `notify_one`: a consumer can wake the other consumer instead of the waiting producer,
/// and then all three wait.
fn lost_wakeup() {
    let slot = Arc::new((Mutex::new(None::<u32>), Condvar::new()));
    let consumers: Vec<_> = (1..=2)
        .map(|i| {
            let slot = Arc::clone(&slot);
            thread::Builder::new()
                .name(format!("consumer-{i}"))
                .spawn(move || {
                    let (item, changed) = &*slot;
                    let mut item = item.lock().unwrap();
                    while item.is_none() {
                        item = changed.wait(item).unwrap();
                    }
                    item.take();
                    changed.notify_one();
                })
                .unwrap()
        })
        .collect();
    let (item, changed) = &*slot;
    for i in 1..=2 {
        let mut item = item.lock().unwrap();
        while item.is_some() {
            item = changed.wait(item).unwrap();
        }
        *item = Some(i);
        changed.notify_one();
    }
    for consumer in consumers {
        consumer.join().unwrap();
    }
}

/// Two threads claim a one-off job by reading a flag and then setting it: both can see it
/// unset, and the job, which asserts it runs once, panics in the second.
fn double_claim() {
    let claimed = Arc::new(AtomicBool::new(false));
    let runs = Arc::new(AtomicUsize::new(0));
    let claim = {
        let (claimed, runs) = (Arc::clone(&claimed), Arc::clone(&runs));
        move || {
            if !claimed.load(SeqCst) {
                claimed.store(true, SeqCst);
                let before = runs.fetch_add(1, SeqCst);
                assert_eq!(before, 0, "the job ran twice");
            }
        }
    };
    let worker = thread::Builder::new()
        .name("worker".into())
        .spawn(claim.clone())
        .unwrap();
    claim();
    worker.join().unwrap();
}

/// The one checker of `kind`, configured as [`Portfolio::standard`] configures it: the
/// checker a user's `check!` runs.
fn only(kind: CheckerKind) -> Portfolio {
    let standard = Portfolio::standard();
    Portfolio {
        loom: standard.loom.filter(|_| kind == CheckerKind::Loom),
        shuttle: (standard.shuttle.into_iter())
            .filter(|config| Checker::Shuttle(config.clone()).kind() == kind)
            .collect(),
        ..standard
    }
}

/// What a failure looks like, as far as drift is concerned: its kind and message (which holds
/// the outcome or the panic), and its trace's number of rows, threads in order of first
/// appearance, and the threads left waiting at the end.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    kind: FailureKind,
    message: String,
    rows: usize,
    threads: Vec<String>,
    waiting: Vec<String>,
}

impl Shape {
    fn of(failure: &Failure) -> Shape {
        let trace =
            (failure.trace.as_ref()).expect("a failure of the standard portfolio has a trace");
        let names = |threads: Vec<&str>| threads.into_iter().map(String::from).collect();
        Shape {
            kind: failure.kind,
            message: failure.message.clone(),
            rows: trace.events.len(),
            threads: names(trace.threads()),
            waiting: names(trace.waiting()),
        }
    }
}

/// A committed token and the failure it names.
struct Pin {
    kind: CheckerKind,
    token: &'static str,
    /// The execution at which the fresh exploration first met the failure: drift of the
    /// scheduler or of exploration order moves it, even when the shrunk token stays.
    found_at: u64,
    failure: FailureKind,
    message: &'static str,
    rows: usize,
    threads: &'static [&'static str],
    waiting: &'static [&'static str],
}

impl Pin {
    fn shape(&self) -> Shape {
        let names = |threads: &[&str]| threads.iter().map(|t| t.to_string()).collect();
        Shape {
            kind: self.failure,
            message: self.message.to_string(),
            rows: self.rows,
            threads: names(self.threads),
            waiting: names(self.waiting),
        }
    }

    /// The replay of the token still fails as pinned; a fresh exploration still finds that
    /// failure and prints that token.
    #[track_caller]
    fn holds<O>(&self, replayed: &Report<O>, fresh: &Verdicts<O>) {
        let again = (replayed.failure.as_ref()).unwrap_or_else(|| {
            panic!(
                "the pinned {} token no longer fails: {}",
                self.kind,
                replayed.summary()
            )
        });
        assert_eq!(
            Shape::of(again),
            self.shape(),
            "the pinned {} token replays a different failure:\n{}",
            self.kind,
            again.explain()
        );
        assert_eq!(
            again.replay.to_string(),
            self.token,
            "the replay names itself"
        );

        let explained = fresh.explain();
        let report = fresh
            .report(self.kind)
            .expect("the portfolio runs this kind");
        let found = (report.failure.as_ref())
            .unwrap_or_else(|| panic!("{} no longer finds the bug:\n{explained}", self.kind));
        let token = found.replay.to_string();
        assert_eq!(
            (token.as_str(), found.execution, Shape::of(found)),
            (self.token, self.found_at, self.shape()),
            "a fresh {} exploration drifted from its pin (if intended, pin the new token and \
             shape):\n{explained}",
            self.kind
        );
        let line = format!("threadproof::replay!(\"{}\"", self.token);
        assert!(
            explained.contains(&line),
            "the verdicts do not print the pinned replay line `{line}`:\n{explained}"
        );
    }
}

#[test]
fn loom_lost_update() {
    let pin = Pin {
        kind: CheckerKind::Loom,
        token: "loom:preemptions=1:spurious=1:plan=none@2",
        found_at: 2,
        failure: FailureKind::InvariantViolated,
        message: "the invariant does not hold (outcome 1)",
        rows: 10,
        threads: &["main", "worker"],
        waiting: &[],
    };
    let replayed = replay!(pin.token, lost_update(), |total| *total == 2);
    let fresh = verdicts!(with only(pin.kind); lost_update(), |total| *total == 2);
    pin.holds(&replayed, &fresh);
}

#[test]
fn random_lock_order_inversion() {
    let pin = Pin {
        kind: CheckerKind::Random,
        token: "random:spurious=4:replay=s0k3t2@1",
        found_at: 1,
        failure: FailureKind::Deadlock,
        message: "every live thread is blocked",
        rows: 7,
        threads: &["main", "worker"],
        waiting: &["main", "worker"],
    };
    let replayed = replay!(pin.token, lock_order_inversion());
    let fresh = verdicts!(with only(pin.kind); lock_order_inversion());
    pin.holds(&replayed, &fresh);
}

#[test]
fn pct_double_claim() {
    let pin = Pin {
        kind: CheckerKind::Pct,
        token: "pct:depth=3:spurious=4:replay=s0k3t2@1",
        found_at: 2,
        failure: FailureKind::Panicked,
        message: "assertion `left == right` failed: the job ran twice\n  left: 1\n right: 0",
        rows: 13,
        threads: &["main", "worker"],
        waiting: &[],
    };
    let replayed = replay!(pin.token, double_claim());
    let fresh = verdicts!(with only(pin.kind); double_claim());
    pin.holds(&replayed, &fresh);
}

#[test]
fn urw_lost_wakeup() {
    let pin = Pin {
        kind: CheckerKind::Urw,
        token: "urw:spurious=4:replay=s0k3t2@1",
        found_at: 130,
        failure: FailureKind::Deadlock,
        message: "every live thread is blocked",
        rows: 20,
        threads: &["main", "consumer-1", "consumer-2"],
        waiting: &["main", "consumer-2"],
    };
    let replayed = replay!(pin.token, lost_wakeup());
    let fresh = verdicts!(with only(pin.kind); lost_wakeup());
    pin.holds(&replayed, &fresh);
}
