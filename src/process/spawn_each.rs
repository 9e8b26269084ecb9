//! `multiprocessing.Process` for each job: [`run_in_processes`] starts one worker per job over
//! any [`Transport`], sends its one job, and collects results and exits.
//!
//! Invariant: every process it started is reaped before it returns, whatever failed.

use super::transport::{self, Transport};
use super::{ExitDesc, TaskError};

/// One child's result (or why there is none) and how its process ended.
pub type ChildResult = (Result<serde_json::Value, TaskError>, ExitDesc);

/// Runs each job in a process of its own, all at once, as `multiprocessing.Process(...)`
/// `.start()` and `.join()` do: one worker per job, whose input is closed after its one job.
/// Returns, job by job, its result (or [`TaskError::WorkerDied`]) and how its process ended.
/// Every process is reaped before this returns.
pub fn run_in_processes<P, T>(
    transport: &mut T,
    jobs: Vec<(String, serde_json::Value)>,
) -> Result<Vec<ChildResult>, String>
where
    P: crate::sync::Primitives,
    T: Transport<P>,
{
    use transport::{Event, Job, Link, WorkerId};

    let (events, inbox) = crate::sync::channel::<P, Event>();
    let mut links = Vec::new();
    let mut tasks = Vec::new();
    let mut started = Ok(());
    for (slot, (task, args)) in jobs.into_iter().enumerate() {
        let worker = WorkerId {
            slot,
            generation: 0,
        };
        match transport.start(worker, events.clone()) {
            Ok(mut link) => {
                let job = Job {
                    id: slot as u64,
                    task: task.clone(),
                    args,
                };
                // A failed send shows as the process's death below.
                let _ = link.send(&job);
                link.close();
                links.push(link);
                tasks.push(task);
            }
            Err(e) => {
                started = Err(e);
                break;
            }
        }
    }
    drop(events);
    let mut results: Vec<Option<Result<serde_json::Value, String>>> = vec![None; links.len()];
    let mut exits = vec![None; links.len()];
    while exits.iter().any(Option::is_none) {
        match inbox.recv() {
            Some(Event::Reply { worker, reply }) => results[worker.slot] = Some(reply.result),
            Some(Event::Exited { worker, status }) => exits[worker.slot] = Some(status),
            Some(_) => {}
            None => break,
        }
    }
    for link in links {
        link.join();
    }
    started?;
    Ok(results
        .into_iter()
        .zip(exits)
        .zip(tasks)
        .map(|((result, exit), task)| {
            let status = exit.unwrap_or(ExitDesc::Unknown);
            let result = match result {
                Some(Ok(value)) => Ok(value),
                Some(Err(message)) => Err(TaskError::Failed { task, message }),
                None => Err(TaskError::WorkerDied { task, status }),
            };
            (result, status)
        })
        .collect())
}
