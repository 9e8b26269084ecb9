//! Tasks registered by name: what a worker process can be asked to run.
//!
//! Invariant: a task sees only its arguments and its own process's [`Globals`]; it reaches
//! the parent only through its return value (or, for `api_call_and_store`, through a
//! manager's proxy). A task that panics returns an error and its worker lives on: the panic is
//! caught here, in [`Registry::run`], and becomes the reply.
//!
//! Arguments and results are JSON values ([`serde_json::Value`]); [`Registry::register`] turns
//! a typed function `Fn(A) -> R` (`A: Deserialize`, `R: Serialize`) into one.
//!
//! The builtin task [`DIE`] ends its worker process mid-task (killed by `SIGKILL`, aborted, or
//! exited with a code); the simulated transport of the model checks reads it the same way, so
//! a crash is a task like any other in both worlds. It is an ordinary registered task: a real
//! worker runs every task through its registry and has no names of its own, so a user's task
//! of any name, `die` included, is never shadowed.

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::manager::ListProxy;
use super::ExitDesc;
use crate::sync::panic_message;

/// The name of the task that ends its worker process mid-task; its argument is a [`Death`].
pub const DIE: &str = "die";

/// How the [`DIE`] task ends its process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Death {
    /// `SIGKILL` to itself, as `kill -9` would.
    Kill,
    /// `abort()`: `SIGABRT`.
    Abort,
    /// `exit(code)`.
    Exit(i32),
}

impl Death {
    /// The exit status the parent observes.
    pub fn status(self) -> ExitDesc {
        match self {
            Death::Kill => ExitDesc::Signaled(libc::SIGKILL),
            Death::Abort => ExitDesc::Signaled(libc::SIGABRT),
            Death::Exit(code) => ExitDesc::Exited(code),
        }
    }

    /// Ends this process. Only ever called in a worker process.
    pub fn now(self) -> ! {
        match self {
            Death::Kill => {
                // SAFETY: kill(2) on our own pid with a valid signal number.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
                std::process::abort()
            }
            Death::Abort => std::process::abort(),
            Death::Exit(code) => std::process::exit(code),
        }
    }
}

/// A worker process's global state: its own copy, never shared with the parent or another
/// worker. `global_res` is the notes' global list (In\[6\]).
#[derive(Debug, Default)]
pub struct Globals {
    pub global_res: Vec<Value>,
}

type TaskFn = Box<dyn Fn(&mut Globals, Value) -> Result<Value, String> + Send + Sync>;

/// Task functions by name.
#[derive(Default)]
pub struct Registry {
    tasks: BTreeMap<String, TaskFn>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.tasks.keys()).finish()
    }
}

impl Registry {
    /// No tasks at all.
    pub fn new() -> Self {
        Registry::default()
    }

    /// The tasks the scenarios, tests and benchmarks use:
    ///
    /// | task | arguments | result |
    /// |---|---|---|
    /// | `api_call` | `[url, retry]` | `{"res": url+retry}` (In\[8\]) |
    /// | `api_call_global` | `[url, retry]` | appends the result to this process's `global_res` and returns `{"res", "global_res"}` (In\[6\]) |
    /// | `api_call_and_store` | `[url, retry, list]` | appends the result to a manager's list through its proxy, returns it (In\[9\]) |
    /// | `append_many` | `[list, n]` | appends 0..n to a manager's list, pipelined ([`ListProxy::extend`]), returns `n` |
    /// | `append_one_by_one` | `[list, n]` | appends 0..n to a manager's list, one round trip each, returns `n` |
    /// | `append_tagged` | `[list, tag, n]` | appends `"tag-0"`..`"tag-(n-1)"` to a manager's list, pipelined, returns `n` |
    /// | `echo` | any | the same value |
    /// | `pid` | `null` | this process's id |
    /// | `sleep_ms` | `ms` | `null`, after sleeping |
    /// | `panic` | `message` | panics with it |
    /// | `die` | a [`Death`] | never returns: ends its own process as the [`Death`] says |
    /// | `text` | `bytes` | a string of that many `x` |
    ///
    /// The test suite's fault fixtures (a task that hangs, one that leaves half a request on a
    /// manager's socket, ...) are not here: the `threadproof` binary's own workers add them, so
    /// a user's worker never serves them.
    pub fn builtin() -> Self {
        Registry::new()
            .register(DIE, |death: Death| -> () { death.now() })
            .register("text", |bytes: usize| "x".repeat(bytes))
            .register("api_call", |(url, retry): (String, u32)| {
                api_call(&url, retry)
            })
            .register_with_globals("api_call_global", |globals, (url, retry): (String, u32)| {
                let result = api_call(&url, retry);
                globals.global_res.push(result.clone());
                Ok(json!({"res": result["res"], "global_res": globals.global_res}))
            })
            .register_fallible(
                "api_call_and_store",
                |(url, retry, list): (String, u32, ListProxy)| -> Result<Value, String> {
                    let result = api_call(&url, retry);
                    list.append(result.clone()).map_err(|e| e.to_string())?;
                    Ok(result)
                },
            )
            .register_fallible("append_many", |(list, n): (ListProxy, usize)| {
                list.extend((0..n).map(|i| json!(i)).collect())?;
                Ok(n)
            })
            .register_fallible("append_one_by_one", |(list, n): (ListProxy, usize)| {
                for i in 0..n {
                    list.append(json!(i))?;
                }
                Ok(n)
            })
            .register_fallible(
                "append_tagged",
                |(list, tag, n): (ListProxy, String, usize)| {
                    list.extend((0..n).map(|i| json!(format!("{tag}-{i}"))).collect())?;
                    Ok(n)
                },
            )
            .register("echo", |v: Value| v)
            .register("pid", |_: Value| std::process::id())
            .register("sleep_ms", |ms: u64| {
                std::thread::sleep(std::time::Duration::from_millis(ms))
            })
            .register("panic", |message: String| -> () { panic!("{message}") })
    }

    /// Registers `task` under `name`: its argument is decoded from the request's JSON, and its
    /// result encoded as the reply's.
    pub fn register<A, R, F>(self, name: &str, task: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        self.register_with_globals(name, move |_: &mut Globals, args: A| Ok(task(args)))
    }

    /// Like [`Registry::register`], for a task that can fail: its `Err` is the task's error.
    pub fn register_fallible<A, R, F>(self, name: &str, task: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(A) -> Result<R, String> + Send + Sync + 'static,
    {
        self.register_with_globals(name, move |_: &mut Globals, args: A| task(args))
    }

    /// The general form: a fallible task that also uses its process's [`Globals`].
    pub fn register_with_globals<A, R, F>(mut self, name: &str, task: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: Fn(&mut Globals, A) -> Result<R, String> + Send + Sync + 'static,
    {
        let name_owned = name.to_string();
        let erased: TaskFn = Box::new(move |globals, args| {
            let args: A = serde_json::from_value(args)
                .map_err(|e| format!("bad arguments for task `{name_owned}`: {e}"))?;
            let result = task(globals, args)?;
            serde_json::to_value(result).map_err(|e| e.to_string())
        });
        self.tasks.insert(name.to_string(), erased);
        self
    }

    /// Whether a task of that name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.tasks.contains_key(name)
    }

    /// Runs task `name`: its value, or its error, its panic's message, or "unknown task".
    pub fn run(&self, globals: &mut Globals, name: &str, args: Value) -> Result<Value, String> {
        let Some(task) = self.tasks.get(name) else {
            return Err(format!("unknown task `{name}`"));
        };
        match panic::catch_unwind(AssertUnwindSafe(|| task(globals, args))) {
            Ok(result) => result,
            Err(payload) => Err(format!(
                "task `{name}` panicked: {}",
                panic_message(&*payload)
            )),
        }
    }
}

/// The notes' `api_call(url, retry_duration)`: `{"res": url + str(retry_duration)}`.
pub fn api_call(url: &str, retry: u32) -> Value {
    json!({ "res": format!("{url}{retry}") })
}

/// A JSON value as Python prints it: `{'res': 'https://google.com10'}`.
pub fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_tasks_round_trip_through_json() {
        let registry = Registry::builtin();
        let mut globals = Globals::default();
        let out = registry.run(&mut globals, "api_call", json!(["https://google.com", 10]));
        assert_eq!(out, Ok(json!({"res": "https://google.com10"})));
        assert_eq!(
            python_repr(&out.unwrap()),
            "{'res': 'https://google.com10'}"
        );
    }

    #[test]
    fn globals_are_per_process_state() {
        let registry = Registry::builtin();
        let mut globals = Globals::default();
        registry
            .run(&mut globals, "api_call_global", json!(["a", 1]))
            .unwrap();
        let out = registry
            .run(&mut globals, "api_call_global", json!(["b", 2]))
            .unwrap();
        assert_eq!(out["global_res"], json!([{"res": "a1"}, {"res": "b2"}]));
    }

    #[test]
    fn errors_panics_bad_arguments_and_unknown_tasks_are_errors() {
        let registry = Registry::builtin()
            .register_fallible("fails", |_: Value| -> Result<u32, String> {
                Err("no".into())
            });
        let mut g = Globals::default();
        assert_eq!(registry.run(&mut g, "fails", Value::Null), Err("no".into()));
        let hook = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let panicked = registry.run(&mut g, "panic", json!("boom"));
        panic::set_hook(hook);
        assert_eq!(panicked, Err("task `panic` panicked: boom".into()));
        let bad = registry
            .run(&mut g, "api_call", json!("not a pair"))
            .unwrap_err();
        assert!(
            bad.starts_with("bad arguments for task `api_call`"),
            "{bad}"
        );
        assert_eq!(
            registry.run(&mut g, "nope", Value::Null),
            Err("unknown task `nope`".into())
        );
    }
}
