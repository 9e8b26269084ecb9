//! The model runtime: what the model backends know about the execution that is running, and
//! the explored choices, timeouts and recording that every wrapper of `sync` calls into.
//!
//! Invariant: the files form a chain, each using only those above it here, so that a change
//! to one can be understood from those above it alone:
//!
//! ```text
//!   context    which model thread runs: ThreadKey, ThreadContext, with_context   (the leaf)
//!   trace      the recorded rows (Op, Value, Event, Trace) and the recorder      uses context
//!   choice     explored choices: faults, choose(n), the loom Plan                uses context, trace
//!   execution  the execution's control: begin, stops, panics, limits, spawns     uses context, trace
//!   timer      timeouts: the timer thread that fires timed waits                 uses context, choice, execution
//! ```
//!
//! Nothing here formats text for people: the analysis of a trace (who waits on whom, who woke
//! whom) and its rendering live in `explore::explain`. Outside an exploration, and on the
//! production backends, none of it is consulted: the wrappers call it only when `P::MODEL`
//! holds.

pub mod choice;
pub(crate) mod context;
pub(crate) mod execution;
pub(crate) mod timer;
pub mod trace;

// `model::X` names what a wrapper or the harness asks of the running thread and execution.
pub(crate) use self::context::*;
pub(crate) use self::execution::*;
