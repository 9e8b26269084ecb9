//! The simulated manager for the model checks: client threads and a server that share
//! nothing but the facade's channels, with one answer lost on cue.
//!
//! Invariant: the server runs the production request loop ([`serve`]) and the clients the
//! production retrying [`Client`]; only the connections are simulated. A lost answer is lost
//! after the server applied the request, which is what forces a retry.
//!
//! The model is kept small on purpose, since loom's cost grows steeply with threads and with
//! operations on shared objects: the calling thread is the server (one thread fewer than a
//! server thread of its own), requests from every client arrive on one channel, and each
//! client's answers on a channel of its own that the server holds from the start (no sender
//! cloned and dropped per request).

use std::sync::Arc;

use serde_json::Value;

use super::{serve, Client, ClientConn, Conn, ManagerCore, OnRepeat, Request, Response};
use crate::process::frame::FrameError;
use crate::sync::{channel, spawn, Primitives, Receiver, Sender};

/// A request from simulated client `client`.
struct SimCall {
    client: usize,
    request: Request,
}

/// The server's end of every simulated connection: requests from all clients on one channel,
/// and a channel back to each client (`None` is a lost answer).
struct SimServerConn<P: Primitives> {
    inbox: Receiver<P, SimCall>,
    answers: Vec<Sender<P, Option<Response>>>,
    /// The client whose request is being served, and its (client, seq) if an append.
    asking: Option<(usize, Option<(String, u64)>)>,
    /// Whose answer is lost once: `(client, seq)`.
    lose: Option<(String, u64)>,
}

impl<P: Primitives> Conn for SimServerConn<P> {
    fn recv(&mut self) -> Result<Option<Request>, FrameError> {
        Ok(self.inbox.recv().map(|call| {
            let append = match &call.request {
                Request::Append { client, seq, .. } => Some((client.clone(), *seq)),
                Request::Snapshot => None,
            };
            self.asking = Some((call.client, append));
            call.request
        }))
    }

    fn send(&mut self, response: &Response) -> Result<(), String> {
        let (client, append) = self.asking.take().ok_or("no request to answer")?;
        // The connection breaks after the request was applied, before its answer arrives.
        let lost = append.is_some() && append == self.lose;
        if lost {
            self.lose = None;
        }
        // A client that is gone has nobody to answer: not the server's failure.
        let _ = self.answers[client].send((!lost).then(|| response.clone()));
        Ok(())
    }
}

/// A simulated client connection.
struct SimClientConn<P: Primitives> {
    client: usize,
    server: Sender<P, SimCall>,
    answers: Receiver<P, Option<Response>>,
}

impl<P: Primitives> ClientConn for SimClientConn<P> {
    fn call(&mut self, request: &Request) -> Result<Response, String> {
        let call = SimCall {
            client: self.client,
            request: request.clone(),
        };
        self.server
            .send(call)
            .map_err(|_| "the server is gone".to_string())?;
        match self.answers.recv() {
            Some(Some(response)) => Ok(response),
            _ => Err("connection lost".to_string()),
        }
    }

    fn reconnect(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// What a simulated manager run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Simulated {
    /// What each client's appends returned, client by client.
    pub returned: Vec<Vec<Value>>,
    /// The server's list at the end.
    pub list: Vec<Value>,
}

/// Runs a manager over simulated connections: one client thread per entry of `appends`, each
/// appending its values in order, served by the calling thread until every client is done.
/// The answer to client `c`'s `s`-th append (both from 0) is lost once if
/// `lose == Some((c, s))`: the client must retry.
pub fn simulate<P: Primitives>(
    appends: Vec<Vec<Value>>,
    lose: Option<(usize, usize)>,
) -> Result<Simulated, String> {
    simulate_with_flaw::<P>(appends, lose, OnRepeat::AppliesOnce)
}

/// [`simulate`] with a known-bad server: for the `manager` scenario's mutant.
pub(crate) fn simulate_with_flaw<P: Primitives>(
    appends: Vec<Vec<Value>>,
    lose: Option<(usize, usize)>,
    flaw: OnRepeat,
) -> Result<Simulated, String> {
    let core = Arc::new(ManagerCore::<P>::with_flaw(flaw));
    let (server_tx, inbox) = channel::<P, SimCall>();
    let client_id = |c: usize| format!("client-{c}");
    let mut answers = Vec::new();
    let mut clients = Vec::new();
    for (c, values) in appends.into_iter().enumerate() {
        let (answer_tx, answer_rx) = channel::<P, Option<Response>>();
        answers.push(answer_tx);
        let conn = SimClientConn {
            client: c,
            server: server_tx.clone(),
            answers: answer_rx,
        };
        let client = spawn::<P, _, _>(client_id(c), move || {
            let mut client = Client::new(client_id(c), conn);
            values
                .into_iter()
                .map(|v| client.append(v.clone()).map(|_| v))
                .collect::<Result<Vec<_>, _>>()
        });
        clients.push(client.map_err(|e| e.to_string())?);
    }
    // The clients hold the only senders: the request loop ends once every client is done.
    drop(server_tx);
    let mut conn = SimServerConn {
        inbox,
        answers,
        asking: None,
        lose: lose.map(|(c, s)| (client_id(c), s as u64 + 1)),
    };
    serve(&core, &mut conn);
    let mut returned = Vec::new();
    for client in clients {
        returned.push(client.join().map_err(|p| p.to_string())??);
    }
    Ok(Simulated {
        returned,
        list: core.items(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::{Shuttle, Std};
    use serde_json::json;

    fn append(client: &str, seq: u64, v: u32) -> Request {
        Request::Append {
            client: client.into(),
            seq,
            value: json!(v),
        }
    }

    #[test]
    fn a_repeated_request_is_answered_from_memory() {
        let core = ManagerCore::<Std>::new();
        assert_eq!(
            core.handle(append("a", 1, 10)),
            Response::Appended { index: 0 }
        );
        assert_eq!(
            core.handle(append("b", 1, 20)),
            Response::Appended { index: 1 }
        );
        assert_eq!(
            core.handle(append("a", 1, 10)),
            Response::Appended { index: 0 }
        );
        assert!(matches!(core.handle(append("a", 0, 5)), Response::Error(_)));
        assert_eq!(core.items(), vec![json!(10), json!(20)]);
    }

    /// Flaws are honoured only under a model backend, so the mutant runs in one shuttle
    /// schedule (it has no concurrency to explore).
    #[test]
    fn the_mutant_applies_a_repeat_twice() {
        ::shuttle::check_random(
            || {
                let core = ManagerCore::<Shuttle>::with_flaw(OnRepeat::AppliesTwice);
                core.handle(append("a", 1, 10));
                core.handle(append("a", 1, 10));
                assert_eq!(core.items(), vec![json!(10), json!(10)]);
            },
            1,
        );
    }

    #[test]
    fn production_backends_ignore_the_flaw() {
        let core = ManagerCore::<Std>::with_flaw(OnRepeat::AppliesTwice);
        core.handle(append("a", 1, 10));
        core.handle(append("a", 1, 10));
        assert_eq!(core.items(), vec![json!(10)]);
    }

    #[test]
    fn a_lost_answer_is_retried_and_applied_once() {
        let values = vec![vec![json!(1), json!(2)], vec![json!(3)]];
        let out = simulate::<Std>(values.clone(), Some((0, 1))).unwrap();
        assert_eq!(out.returned, values);
        let mut list = out.list.clone();
        list.sort_by_key(|v| v.as_u64());
        assert_eq!(list, vec![json!(1), json!(2), json!(3)]);
        ::shuttle::check_random(
            move || {
                let bad = simulate_with_flaw::<Shuttle>(
                    values.clone(),
                    Some((0, 1)),
                    OnRepeat::AppliesTwice,
                )
                .unwrap();
                assert_eq!(bad.list.len(), 4);
            },
            1,
        );
    }
}
