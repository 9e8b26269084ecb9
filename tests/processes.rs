//! Real processes: the pool, isolation and the manager over child processes of the built
//! `threadproof` binary (a test binary cannot re-execute itself as a worker).
//!
//! Every library test counts this process's children (from `/proc`, zombies included) before
//! and after, and asserts that nothing leaked: every worker and server was reaped. The tests
//! take one lock so that their counts do not see each other's children.
//!
//! - `kill -9` of a worker mid-task fails only that task's future, with an error naming the
//!   task and `SIGKILL`; the worker is replaced; every other task completes;
//! - `abort()` and `exit(3)` mid-task are named the same way;
//! - a panicking task returns an error and its worker (same pid) runs the next task;
//! - zero workers, a missing program and an unknown task are errors, not hangs;
//! - a manager client killed mid-request leaves no partial entry, and the server keeps serving;
//! - malformed and oversized frames get error replies, and the server goes on;
//! - the CLI's `run isolation | process_pool | manager` print the notes' lines (snapshots, in
//!   a sorted form where the order is the scheduler's), and `--threads 0` exits with 2.

mod common;
use common::children;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use threadproof::process::frame::{encode, read_frame, MAX_FRAME};
use threadproof::process::manager::{Manager, Request, Response};
use threadproof::process::OsTransport;
use threadproof::process::{
    as_completed, Death, ExitDesc, PoolError, PoolOptions, ProcessPool, TaskError,
};

const BIN: &str = env!("CARGO_BIN_EXE_threadproof");

/// One test at a time counts children.
static CHILDREN: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    CHILDREN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A directory of this test process's own, removed when dropped (a failing test too).
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("threadproof-tests-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits for a file a worker writes; a generous guard against a hang, not a timing assertion.
fn wait_for_file(path: &PathBuf) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn api_call_args(i: usize) -> (String, u32) {
    (format!("https://site{i}.example"), 10)
}

#[test]
fn kill_9_mid_task_fails_only_that_task_and_the_pool_recovers() {
    let _serial = serial();
    let before = children();
    let transport = OsTransport::program(BIN).unwrap();
    let pool: ProcessPool =
        ProcessPool::with_options(3, transport, PoolOptions { history: true }).unwrap();
    let tmp = TempDir::new("kill-9");
    let pidfile = tmp.path("hang.pid");
    let hang = pool.submit("hang", pidfile.to_str().unwrap()).unwrap();
    let others: Vec<_> = (0..6)
        .map(|i| pool.submit("api_call", api_call_args(i)).unwrap())
        .collect();
    let pid: i32 = wait_for_file(&pidfile).trim().parse().unwrap();
    assert!(
        children().contains(&(pid as u32)),
        "the hanging worker is our child"
    );
    // SAFETY: kill(2) with SIGKILL on our own worker.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);

    let error = hang.result().unwrap_err();
    assert_eq!(
        error,
        TaskError::WorkerDied {
            task: "hang".into(),
            status: ExitDesc::Signaled(libc::SIGKILL)
        }
    );
    let message = error.to_string();
    assert!(message.contains("`hang`"), "{message}");
    assert!(message.contains("signal 9 (SIGKILL)"), "{message}");
    for (i, future) in others.iter().enumerate() {
        let res = future.result().unwrap();
        assert_eq!(res, json!({"res": format!("https://site{i}.example10")}));
    }
    // The pool goes on with a replacement worker.
    let more: Vec<_> = (6..9)
        .map(|i| pool.submit("api_call", api_call_args(i)).unwrap())
        .collect();
    assert_eq!(
        as_completed(&more).filter(|f| f.result().is_ok()).count(),
        3
    );
    let during = children();
    assert_eq!(during.len(), before.len() + 3, "3 live workers: {during:?}");
    assert!(
        !during.contains(&(pid as u32)),
        "the killed worker was reaped"
    );

    let stats = pool.shutdown().unwrap();
    assert_eq!(stats.workers_started, 4, "3 workers and 1 replacement");
    assert_eq!(stats.exits.len(), 4);
    assert_eq!(
        stats
            .exits
            .iter()
            .filter(|e| **e == ExitDesc::Signaled(9))
            .count(),
        1
    );
    assert!(stats.dispatched.values().all(|&n| n == 1), "{stats:?}");
    assert_eq!(children(), before, "every worker was reaped");
    let dir = tmp.0.clone();
    drop(tmp);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn abort_and_exit_mid_task_name_their_status() {
    let _serial = serial();
    let before = children();
    let pool = ProcessPool::with_program(2, BIN).unwrap();
    let aborted = pool.submit("die", Death::Abort).unwrap();
    let exited = pool.submit("die", Death::Exit(3)).unwrap();
    let others: Vec<_> = (0..4)
        .map(|i| pool.submit("api_call", api_call_args(i)).unwrap())
        .collect();
    let aborted = aborted.result().unwrap_err().to_string();
    assert!(aborted.contains("`die`"), "{aborted}");
    assert!(aborted.contains("signal 6 (SIGABRT)"), "{aborted}");
    let exited = exited.result().unwrap_err().to_string();
    assert!(exited.contains("exited with status 3"), "{exited}");
    assert!(others.iter().all(|f| f.result().is_ok()));
    let stats = pool.shutdown().unwrap();
    assert_eq!(stats.workers_started, 4);
    assert_eq!(children(), before);
}

#[test]
fn a_panicking_task_returns_an_error_and_its_worker_survives() {
    let _serial = serial();
    let before = children();
    let pool = ProcessPool::with_program(1, BIN).unwrap();
    let first: u32 = pool.submit("pid", ()).unwrap().result_as().unwrap();
    let panicked = pool.submit("panic", "boom").unwrap().result().unwrap_err();
    assert_eq!(
        panicked,
        TaskError::Failed {
            task: "panic".into(),
            message: "task `panic` panicked: boom".into()
        }
    );
    let second: u32 = pool.submit("pid", ()).unwrap().result_as().unwrap();
    assert_eq!(
        first, second,
        "the same worker ran the task after the panic"
    );
    let stats = pool.shutdown().unwrap();
    assert_eq!(stats.workers_started, 1);
    assert_eq!(stats.exits, vec![ExitDesc::Exited(0)]);
    assert_eq!(children(), before);
}

#[test]
fn bad_input_is_an_error_never_a_hang() {
    let _serial = serial();
    let before = children();
    assert!(matches!(
        ProcessPool::with_program(0, BIN),
        Err(PoolError::ZeroWorkers)
    ));
    let missing = ProcessPool::with_program(1, "/nonexistent/threadproof").unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/threadproof"),
        "{missing}"
    );
    let pool = ProcessPool::with_program(1, BIN).unwrap();
    let unknown = pool
        .submit("no_such_task", ())
        .unwrap()
        .result()
        .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "task `no_such_task` failed: unknown task `no_such_task`"
    );
    let bad_args = pool
        .submit("api_call", "not a pair")
        .unwrap()
        .result()
        .unwrap_err();
    assert!(bad_args.to_string().contains("bad arguments"), "{bad_args}");
    pool.shutdown().unwrap();
    assert_eq!(children(), before);
}

#[test]
fn a_manager_of_a_program_that_is_not_threadproof_says_it_exited_without_serving() {
    let _serial = serial();
    let before = children();
    for (program, status) in [("/bin/true", 0), ("/bin/false", 1)] {
        let Err(error) = Manager::with_program(program) else {
            panic!("{program} serves as a manager");
        };
        let error = error.to_string();
        assert_eq!(
            error,
            format!(
                "{program}: the manager server exited without serving: it exited with status \
                 {status}; the program must call threadproof::process::worker_main_if_worker \
                 first thing in main"
            )
        );
    }
    assert_eq!(children(), before, "the programs were reaped");
}

#[test]
fn a_client_killed_mid_request_leaves_no_partial_entry() {
    let _serial = serial();
    let before = children();
    let manager = Manager::with_program(BIN).unwrap();
    let list = manager.list();
    let pool = ProcessPool::with_program(2, BIN).unwrap();
    // The worker writes half an append request to the server, then aborts.
    let partial = pool.submit("partial_append", &list).unwrap();
    let died = partial.result().unwrap_err();
    assert_eq!(
        died,
        TaskError::WorkerDied {
            task: "partial_append".into(),
            status: ExitDesc::Signaled(libc::SIGABRT)
        }
    );
    let stores: Vec<_> = (0..4)
        .map(|i| {
            let (url, retry) = api_call_args(i);
            pool.submit("api_call_and_store", (url, retry, &list))
                .unwrap()
        })
        .collect();
    let mut returned: Vec<Value> = stores.iter().map(|f| f.result().unwrap()).collect();
    pool.shutdown().unwrap();
    let mut shared = list.snapshot().unwrap();
    returned.sort_by_key(Value::to_string);
    shared.sort_by_key(Value::to_string);
    assert_eq!(
        shared, returned,
        "every append exactly once, nothing partial"
    );
    assert_eq!(manager.shutdown().unwrap(), ExitDesc::Exited(0));
    assert_eq!(children(), before);
}

fn call(stream: &mut UnixStream, bytes: &[u8]) -> Option<Response> {
    stream.write_all(bytes).unwrap();
    read_frame(stream, MAX_FRAME).unwrap()
}

#[test]
fn malformed_and_oversized_frames_get_error_replies() {
    let _serial = serial();
    let before = children();
    let manager = Manager::with_program(BIN).unwrap();
    let list = manager.list();

    // A frame whose body is not a request: an error reply, and the connection goes on.
    let mut stream = list.connect().unwrap();
    let mut garbage = 8u32.to_be_bytes().to_vec();
    garbage.extend_from_slice(b"not json");
    let reply = call(&mut stream, &garbage);
    assert!(
        matches!(&reply, Some(Response::Error(e)) if e.contains("malformed")),
        "{reply:?}"
    );
    let append = Request::Append {
        client: "test".into(),
        seq: 1,
        value: json!("valid"),
    };
    let reply = call(&mut stream, &encode(&append).unwrap());
    assert_eq!(reply, Some(Response::Appended { index: 0 }));

    // A length above the maximum: an error reply, then the server closes that connection.
    let mut big = list.connect().unwrap();
    let reply = call(&mut big, &((MAX_FRAME as u32) + 1).to_be_bytes());
    assert!(
        matches!(&reply, Some(Response::Error(e)) if e.contains("exceeds the maximum")),
        "{reply:?}"
    );
    let mut rest = Vec::new();
    big.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "the connection is closed");

    // The server goes on serving.
    list.append(json!("after")).unwrap();
    assert_eq!(
        list.snapshot().unwrap(),
        vec![json!("valid"), json!("after")]
    );
    drop(stream);
    assert_eq!(manager.shutdown().unwrap(), ExitDesc::Exited(0));
    assert_eq!(children(), before);
}

/// Runs the CLI. Its process is our child too, and so is the `cargo` that insta starts to
/// find the workspace when a snapshot is asserted: each test that calls this holds the lock
/// that counts children for its whole body, not only around the run (a snapshot asserted
/// after the lock was let go put a `cargo` among another test's children, 2 runs in 40
/// beside two busy loops).
fn cli(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn cli_stdout(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{args:?}: {} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `[a, b, c]` with its items sorted: the order of a list the scheduler decides.
fn sorted_list(list: &str) -> String {
    let inner = list
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap();
    let mut items: Vec<&str> = inner.split(", ").collect();
    items.sort();
    format!("[{}] (sorted)", items.join(", "))
}

#[test]
fn cli_isolation_prints_an_empty_parent_list() {
    let _serial = serial();
    let out = cli_stdout(&["run", "isolation"]);
    assert_eq!(out.lines().next(), Some("[]"));
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("cli_run_isolation", out);
}

#[test]
fn cli_process_pool_prints_the_four_results() {
    let _serial = serial();
    let out = cli_stdout(&["run", "process_pool"]);
    let list = out.strip_prefix("Results: ").unwrap().trim_end();
    let _snapshots = common::snapshots();
    insta::assert_snapshot!(
        "cli_run_process_pool",
        format!("Results: {}", sorted_list(list))
    );
}

#[test]
fn cli_manager_prints_both_lists() {
    let _serial = serial();
    let out = cli_stdout(&["run", "manager", "--threads", "2"]);
    let lines: Vec<String> = out
        .lines()
        .map(|line| {
            let (label, list) = line.split_once(": ").unwrap();
            format!("{label}: {}", sorted_list(list))
        })
        .collect();
    assert_eq!(lines.len(), 2);
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("cli_run_manager", lines.join("\n"));
}

#[test]
fn cli_zero_workers_exits_2() {
    let _serial = serial();
    for scenario in ["process_pool", "manager", "isolation"] {
        let out = cli(&["run", scenario, "--threads", "0"]);
        assert_eq!(out.status.code(), Some(2), "{scenario}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("at least 1"), "{scenario}: {stderr}");
    }
}
