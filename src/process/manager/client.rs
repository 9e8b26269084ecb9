//! The retrying client of a manager's list, over any [`ClientConn`]: numbers its appends,
//! resends a request whose answer it lost, and pipelines [`Client::extend`] in windows.
//!
//! Invariant: a request is resent only under its own sequence number, so with the server's
//! memory of each client's last numbers every append lands exactly once; a request larger
//! than a frame, or nested deeper than the server can read, is refused before anything is
//! sent.

use serde_json::Value;

use super::{Request, Response, WINDOW, WINDOW_BYTES};
use crate::process::frame::{encoded_len, MAX_FRAME};

/// Nesting below which any request is readable: serde_json reads 128 levels, the request
/// itself takes two.
const SURELY_READABLE: usize = 64;

/// Whether the server can read `request`: serde_json, which it reads with, refuses a value
/// nested deeper than its limit. Refused there, one append in a pipelined batch would be
/// answered with an error while those behind it were applied, and the answers read after it
/// would belong to other requests; so it is refused here, before anything is sent. Only a
/// deeply nested value is read back, as the server would read it.
fn readable(request: &Request) -> Result<(), String> {
    fn depth(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    let Request::Append { value, .. } = request else {
        return Ok(());
    };
    if depth(value) < SURELY_READABLE {
        return Ok(());
    }
    let bytes = serde_json::to_vec(request).map_err(|e| format!("value cannot be encoded: {e}"))?;
    serde_json::from_slice::<Request>(&bytes)
        .map(drop)
        .map_err(|e| format!("value is nested deeper than the manager can read ({e})"))
}

/// A client's end of a connection.
pub trait ClientConn {
    /// Sends `request` and waits for its answer; an error means the connection broke.
    fn call(&mut self, request: &Request) -> Result<Response, String>;
    /// Opens a new connection in place of a broken one.
    fn reconnect(&mut self) -> Result<(), String>;
    /// Whether [`ClientConn::send`] and [`ClientConn::recv`] work: requests may go out before
    /// the answers to earlier ones arrive. Without them, [`Client::extend`] appends one by one.
    fn pipelines(&self) -> bool {
        false
    }
    /// Queues `request` to be sent, in order; an error means the connection broke.
    fn send(&mut self, _request: &Request) -> Result<(), String> {
        Err("this connection does not pipeline".into())
    }
    /// Sends what is queued.
    fn flush(&mut self) -> Result<(), String> {
        Ok(())
    }
    /// The answer to the oldest request sent and not yet answered.
    fn recv(&mut self) -> Result<Response, String> {
        Err("this connection does not pipeline".into())
    }
}

/// Known-bad clients for this module's model check of the pipelined protocol (below):
/// compiled only into unit tests.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ClientMutant {
    None,
    /// Resends the unanswered appends of a broken connection under new sequence numbers.
    RenumbersOnResend,
}

/// How many times a client sends one request before it gives up.
pub const ATTEMPTS: usize = 3;

/// A client's identity and the numbering of its appends.
pub struct Client<C: ClientConn> {
    id: String,
    seq: u64,
    conn: C,
    #[cfg(test)]
    pub(super) mutant: ClientMutant,
}

impl<C: ClientConn> Client<C> {
    pub fn new(id: String, conn: C) -> Self {
        Client {
            id,
            seq: 0,
            conn,
            #[cfg(test)]
            mutant: ClientMutant::None,
        }
    }

    /// Appends every value, in order, each exactly once, pipelined: up to [`WINDOW`] requests
    /// (and `WINDOW_BYTES`) go out before their answers are read; the window is refilled
    /// once half of it is answered, so requests and answers travel in batches. When the connection breaks, every unanswered request is sent again, with its
    /// own sequence number, on a new connection: the server answers those it applied from
    /// memory. Every request is checked against the frame limit, and against the nesting the
    /// server reads, before any is sent. An append the server refuses all the same fails the
    /// call, once the answers of those sent behind it are read (the error says how many were
    /// applied). Returns the values' indexes in the list.
    pub fn extend(&mut self, values: Vec<Value>) -> Result<Vec<usize>, String> {
        if !self.conn.pipelines() {
            return values.into_iter().map(|v| self.append(v)).collect();
        }
        let mut requests = Vec::with_capacity(values.len());
        let mut sizes = Vec::with_capacity(values.len());
        for (i, value) in values.into_iter().enumerate() {
            let request = Request::Append {
                client: self.id.clone(),
                seq: self.seq + 1 + i as u64,
                value,
            };
            let size = encoded_len(&request);
            if size > MAX_FRAME {
                return Err(format!(
                    "nothing sent: append {i}'s request of {size} bytes exceeds the frame \
                     limit of {MAX_FRAME} bytes"
                ));
            }
            if let Err(e) = readable(&request) {
                return Err(format!("nothing sent: append {i}'s {e}"));
            }
            requests.push(request);
            sizes.push(size);
        }
        self.seq += requests.len() as u64;
        let mut indexes = Vec::with_capacity(requests.len());
        // requests[..answered] are answered; requests[answered..sent] are in flight.
        let (mut answered, mut sent, mut in_flight) = (0, 0, 0);
        let mut failures = 0;
        loop {
            let mut broken = 'connection: loop {
                // Refill once half the window is answered: requests and answers then cross
                // in batches, not one system call each.
                let half_answered = sent - answered <= WINDOW / 2 && in_flight <= WINDOW_BYTES / 2;
                if half_answered {
                    while sent < requests.len()
                        && (sent == answered
                            || (sent - answered < WINDOW
                                && in_flight + sizes[sent] <= WINDOW_BYTES))
                    {
                        if let Err(e) = self.conn.send(&requests[sent]) {
                            break 'connection e;
                        }
                        in_flight += sizes[sent];
                        sent += 1;
                    }
                    if let Err(e) = self.conn.flush() {
                        break e;
                    }
                }
                if answered == requests.len() {
                    return Ok(indexes);
                }
                match self.conn.recv() {
                    Ok(Response::Appended { index }) => {
                        indexes.push(index);
                        in_flight -= sizes[answered];
                        answered += 1;
                        failures = 0;
                    }
                    Ok(Response::Error(e)) => return Err(self.refused(answered, sent, &e)),
                    Ok(other) => {
                        // Out of step: the answers behind it cannot be trusted, nor read.
                        let _ = self.conn.reconnect();
                        return Err(format!("unexpected answer {other:?}"));
                    }
                    Err(e) => break e,
                }
            };
            // A new connection, and everything unanswered sent again.
            loop {
                failures += 1;
                if failures >= ATTEMPTS {
                    return Err(format!(
                        "the manager did not answer after {ATTEMPTS} attempts: {broken}"
                    ));
                }
                match self.conn.reconnect() {
                    Ok(()) => break,
                    Err(e) => broken = e,
                }
            }
            // TEST MUTANT renumbers-on-resend: the resent appends look new to the server.
            #[cfg(test)]
            if self.mutant == ClientMutant::RenumbersOnResend {
                for request in &mut requests[answered..] {
                    if let Request::Append { seq, .. } = request {
                        self.seq += 1;
                        *seq = self.seq;
                    }
                }
            }
            (sent, in_flight) = (answered, 0);
        }
    }

    /// Appends `value` exactly once: a lost answer is asked for again with the same number.
    /// A request over the frame limit is refused here, before anything is sent.
    pub fn append(&mut self, value: Value) -> Result<usize, String> {
        let request = Request::Append {
            client: self.id.clone(),
            seq: self.seq + 1,
            value,
        };
        let size = encoded_len(&request);
        if size > MAX_FRAME {
            return Err(format!(
                "append not sent: its request of {size} bytes exceeds the frame limit of \
                 {MAX_FRAME} bytes"
            ));
        }
        if let Err(e) = readable(&request) {
            return Err(format!("append not sent: its {e}"));
        }
        self.seq += 1;
        match self.call(&request)? {
            Response::Appended { index } => Ok(index),
            Response::Error(e) => Err(e),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    /// The list as the server has it.
    pub fn snapshot(&mut self) -> Result<Vec<Value>, String> {
        match self.call(&Request::Snapshot)? {
            Response::List(items) => Ok(items),
            Response::Error(e) => Err(e),
            other => Err(format!("unexpected answer {other:?}")),
        }
    }

    /// Append `refused` of a pipelined batch was refused, with those up to `sent` in flight
    /// behind it: their answers are read now, so that every later request is answered with
    /// its own, and the error says how many of them were applied, and how many are unknown
    /// when the connection broke first (it is then replaced: no stale answer is read later).
    fn refused(&mut self, refused: usize, sent: usize, error: &str) -> String {
        let behind = sent - refused - 1;
        let (mut applied, mut read) = (0, 0);
        for _ in 0..behind {
            match self.conn.recv() {
                Ok(answer) => {
                    read += 1;
                    applied += usize::from(matches!(answer, Response::Appended { .. }));
                }
                Err(_) => {
                    let _ = self.conn.reconnect();
                    break;
                }
            }
        }
        let said = format!(
            "append {refused} refused: {error}; {applied} of the {behind} sent after it were \
             applied"
        );
        match behind - read {
            0 => said,
            unknown => format!("{said}, {unknown} unknown: the connection broke"),
        }
    }

    fn call(&mut self, request: &Request) -> Result<Response, String> {
        let mut last_error = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                if let Err(e) = self.conn.reconnect() {
                    last_error = e;
                    continue;
                }
            }
            match self.conn.call(request) {
                Ok(response) => return Ok(response),
                Err(e) => last_error = e,
            }
        }
        Err(format!(
            "the manager did not answer after {ATTEMPTS} attempts: {last_error}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use serde_json::json;

    use super::*;

    /// A pipelining connection to a server that refuses the value `"bad"` and appends the
    /// rest: answers come back in order, one stream for `call` and `recv` alike.
    /// A value `"cut"` is lost on the way, and the connection with it: every answer after
    /// it is lost too, and `recv` fails once the answers before it are read.
    #[derive(Default)]
    struct Refusing {
        items: usize,
        answers: VecDeque<Response>,
        cut: bool,
        reconnects: usize,
    }

    impl ClientConn for Refusing {
        fn call(&mut self, request: &Request) -> Result<Response, String> {
            self.send(request)?;
            self.recv()
        }
        fn reconnect(&mut self) -> Result<(), String> {
            self.reconnects += 1;
            self.answers.clear();
            self.cut = false;
            Ok(())
        }
        fn pipelines(&self) -> bool {
            true
        }
        fn send(&mut self, request: &Request) -> Result<(), String> {
            let cut = matches!(request, Request::Append { value, .. } if *value == json!("cut"));
            self.cut |= cut;
            if self.cut {
                return Ok(());
            }
            let answer = match request {
                Request::Append { value, .. } if *value == json!("bad") => {
                    Response::Error("refused: bad".into())
                }
                Request::Append { .. } => {
                    self.items += 1;
                    Response::Appended {
                        index: self.items - 1,
                    }
                }
                Request::Snapshot => Response::List(Vec::new()),
            };
            self.answers.push_back(answer);
            Ok(())
        }
        fn recv(&mut self) -> Result<Response, String> {
            self.answers
                .pop_front()
                .ok_or_else(|| "connection lost".into())
        }
    }

    /// An append refused in the middle of a pipelined batch: the answers of those behind it
    /// are read before `extend` returns, and the error says how many were applied, so the
    /// next append is answered with its own index. (Mutant caught: returning at the error,
    /// as before: the next append then got `3`'s answer, index 1.)
    #[test]
    fn an_append_refused_mid_batch_leaves_the_answers_in_step() {
        let mut client = Client::new("c".into(), Refusing::default());
        let refused = client
            .extend(vec![json!(1), json!("bad"), json!(3), json!(4)])
            .unwrap_err();
        assert_eq!(
            client.append(json!(5)),
            Ok(3),
            "the next append's own answer"
        );
        assert_eq!(
            refused,
            "append 1 refused: refused: bad; 2 of the 2 sent after it were applied"
        );
    }

    /// The connection breaks while the answers behind a refused append are read: the error
    /// says how many are unknown, and the connection is replaced, so that no answer of the
    /// broken one is read later: a connection whose `recv` failed is not trusted again.
    /// (Mutant caught: no reconnect there, as before.)
    #[test]
    fn a_connection_broken_while_reading_behind_a_refusal_is_replaced() {
        let mut client = Client::new("c".into(), Refusing::default());
        let refused = client
            .extend(vec![json!(1), json!("bad"), json!(3), json!("cut")])
            .unwrap_err();
        assert_eq!(client.conn.reconnects, 1);
        assert_eq!(
            refused,
            "append 1 refused: refused: bad; 1 of the 2 sent after it were applied, 1 unknown: \
             the connection broke"
        );
        assert_eq!(client.append(json!(5)), Ok(2));
    }
}
