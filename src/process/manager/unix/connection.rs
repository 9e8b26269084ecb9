//! One client connection of the manager server: its buffers, and the two limits on what it
//! may make the server hold.
//!
//! Invariant: a connection handles its next buffered request only while at most
//! [`OUTPUT_HIGH`] bytes of its answers are unread, so its output never exceeds that plus one
//! answer; and it keeps the bytes of a request beyond its 4-byte length prefix only under a
//! reservation from the server-wide [`InputBudget`] that covers the request's whole frame, so
//! all connections together hold at most [`INPUT_BUDGET`] bytes of requests, and a connection
//! holding a reservation can always finish its frame (no two wait on each other).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::time::Instant;

use mio::net::UnixStream as MioStream;
use mio::Token;

use super::super::{answer, ManagerCore, Request, Response};
use crate::process::frame::{complete_frame, encode, FrameError, MAX_FRAME};
use crate::sync::Std;

/// How much reply a slow reader may have pending before its requests wait.
pub(super) const OUTPUT_HIGH: usize = 4 * MAX_FRAME;
/// Bytes of requests all connections together may hold (unfinished frames, and whole ones
/// waiting behind a slow reader's answers): 32 frames of the largest size at once.
pub(super) const INPUT_BUDGET: usize = 32 * MAX_FRAME;
/// One read from a socket, into the server's one scratch buffer.
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// Free budget a read of a whole chunk needs: the chunk may end inside a frame of the largest
/// size, whose whole size is reserved at once, after whole requests it holds back.
const CHUNK_NEEDS: usize = READ_CHUNK + 4 + MAX_FRAME;
/// A frame of at most this many bytes is small: it takes budget whenever some is free.
const SMALL_FRAME: usize = READ_CHUNK;
/// Budget kept back from large frames, so that unfinished large frames never hold up small
/// requests.
const SMALL_RESERVE: usize = MAX_FRAME;
/// Written output is cut from the front of the buffer once this much of it is written: a
/// reader that keeps up only partly must not grow the buffer forever.
const COMPACT_AT: usize = MAX_FRAME;
/// A buffer emptied with more capacity than this is freed, not kept for the next burst.
const KEEP_CAPACITY: usize = 64 * 1024;

/// The server-wide budget for request bytes, and the connections waiting for some of it, in
/// order.
pub(super) struct InputBudget {
    pub(super) free: usize,
    pub(super) waiting: VecDeque<Token>,
}

impl InputBudget {
    pub(super) fn new(total: usize) -> Self {
        InputBudget {
            free: total,
            waiting: VecDeque::new(),
        }
    }

    /// Takes `n` bytes if they are free: a small request's whenever they are, so that small
    /// requests are served beside unfinished large ones; a large one's only if nobody waits
    /// ahead (first come, first served among large frames) and [`SMALL_RESERVE`] stays free.
    fn take(&mut self, n: usize) -> bool {
        let fits = self.fits(n) && (n <= SMALL_FRAME || self.waiting.is_empty());
        if fits {
            self.free -= n;
        }
        fits
    }

    /// Whether `n` bytes are free for a frame: a large one must leave [`SMALL_RESERVE`].
    pub(super) fn fits(&self, n: usize) -> bool {
        if n <= SMALL_FRAME {
            n <= self.free
        } else {
            n + SMALL_RESERVE <= self.free
        }
    }

    pub(super) fn give(&mut self, n: usize) {
        self.free += n;
    }

    /// Whether a read of a whole chunk is safe (see [`CHUNK_NEEDS`]).
    fn roomy(&self) -> bool {
        self.waiting.is_empty() && self.free >= CHUNK_NEEDS + SMALL_RESERVE
    }
}

/// Answers written to a connection, and how much of them the peer took.
#[derive(Default)]
struct Outbox {
    bytes: Vec<u8>,
    written: usize,
}

impl Outbox {
    fn unread(&self) -> usize {
        self.bytes.len() - self.written
    }

    /// Writes as much as the socket takes; false if the peer is gone.
    fn flush(&mut self, stream: &MioStream) -> bool {
        while self.written < self.bytes.len() {
            match rustix::net::send(
                stream,
                &self.bytes[self.written..],
                rustix::net::SendFlags::NOSIGNAL,
            ) {
                Ok(n) => self.written += n,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return false,
            }
        }
        if self.written == self.bytes.len() {
            self.bytes.clear();
            self.written = 0;
            if self.bytes.capacity() > KEEP_CAPACITY {
                self.bytes = Vec::new();
            }
        } else if self.written >= COMPACT_AT {
            self.bytes.drain(..self.written);
            self.written = 0;
        }
        true
    }
}

/// What [`Connection::pump`] left the connection as.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Pumped {
    /// Open: it goes on at its next event.
    Open,
    /// Open, and waiting for budget: it goes on when [`Connection::wants`] of it is reserved.
    Waits,
    /// To be closed.
    Closed,
}

/// One client connection in the event loop.
pub(super) struct Connection {
    pub(super) stream: MioStream,
    /// Requests received and not yet answered: at most one unfinished frame, after whole ones
    /// while the answers are backed up.
    input: Vec<u8>,
    output: Outbox,
    pub(super) last_active: Instant,
    /// When the unfinished frame at the end of `input` began to arrive (or the last frame
    /// before it finished): one not finished within the idle timeout closes the connection,
    /// so a reservation is never held longer than that.
    pub(super) frame_since: Option<Instant>,
    /// Close once the output is written (a refused request, or the end of input).
    closing: bool,
    /// An event said the peer sent its last byte: read to the end of input even after a
    /// short read (that edge is spent; none comes for the end of input).
    pub(super) read_closed: bool,
    /// Registered for writability: answers wait for room in the socket.
    pub(super) waits_to_write: bool,
    /// Bytes of [`InputBudget`] this connection holds.
    pub(super) reserved: usize,
    /// While waiting for budget: the reservation it needs to go on; 0 otherwise.
    pub(super) wants: usize,
}

impl Connection {
    pub(super) fn new(stream: MioStream) -> Self {
        Connection {
            stream,
            input: Vec::new(),
            output: Outbox::default(),
            last_active: Instant::now(),
            frame_since: None,
            closing: false,
            read_closed: false,
            waits_to_write: false,
            reserved: 0,
            wants: 0,
        }
    }

    /// Whether answers wait to be written.
    pub(super) fn waits(&self) -> bool {
        self.output.unread() > 0
    }

    /// Writes pending output; answers buffered requests while the output is under the mark;
    /// reads more while the budget allows.
    pub(super) fn pump(
        &mut self,
        core: &ManagerCore<Std>,
        scratch: &mut [u8],
        budget: &mut InputBudget,
    ) -> Pumped {
        // A short read took everything the socket held; what comes later raises a new
        // readable edge. So no read is spent just to hear "would block" (unless the peer
        // closed: its edge may have come while this connection was not reading).
        let mut drained = false;
        loop {
            if !self.output.flush(&self.stream) {
                return Pumped::Closed;
            }
            if self.closing {
                return if self.waits() {
                    Pumped::Open
                } else {
                    Pumped::Closed
                };
            }
            self.answer_buffered(core);
            self.settle(budget);
            if self.closing {
                continue;
            }
            if self.output.unread() > OUTPUT_HIGH {
                // Over the mark: a slow reader, whose requests wait (held in `input`, or in
                // the socket) until it has read its answers; its writable edge resumes it.
                if !self.output.flush(&self.stream) {
                    return Pumped::Closed;
                }
                if self.output.unread() > OUTPUT_HIGH {
                    return Pumped::Open;
                }
                continue;
            }
            if (drained && !self.read_closed) || self.wants > 0 {
                return Pumped::Open;
            }
            let Some(want) = self.next_read(budget) else {
                return Pumped::Waits;
            };
            match self.stream.read(&mut scratch[..want]) {
                Ok(0) => {
                    // End of input: whole requests are answered; a partial one is dropped
                    // unapplied. Answers still pending are written if the peer reads them.
                    self.input = Vec::new();
                    self.frame_since = None;
                    self.settle(budget);
                    self.closing = true;
                }
                Ok(n) => {
                    self.take_in(core, &scratch[..n]);
                    self.settle(budget);
                    drained = n < want;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Pumped::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Pumped::Closed,
            }
        }
    }

    /// How many bytes the next read may take; `None` (with [`Self::wants`] set) when the
    /// frame under way needs budget that is not free.
    fn next_read(&mut self, budget: &mut InputBudget) -> Option<usize> {
        // Every whole request is answered here, so `input` is one unfinished frame, if any.
        let held = self.input.len();
        if budget.roomy() {
            return Some(READ_CHUNK);
        }
        // Budget is short: read no further than the end of the length prefix, or of the
        // frame, so no byte is held without its frame's whole reservation.
        if held < 4 {
            return Some(4 - held);
        }
        let frame = 4 + frame_len(&self.input);
        if self.reserved < frame {
            if !budget.take(frame - self.reserved) {
                self.wants = frame;
                return None;
            }
            self.reserved = frame;
        }
        Some((frame - held).min(READ_CHUNK))
    }

    /// Appends what was read to the input and answers the whole requests in it.
    fn take_in(&mut self, core: &ManagerCore<Std>, bytes: &[u8]) {
        if self.input.is_empty() {
            // The common case: whole requests are answered straight from the read buffer.
            let used = answer_frames(core, bytes, &mut self.output, &mut self.closing);
            self.input.extend_from_slice(&bytes[used..]);
            self.frame_since = (!self.input.is_empty()).then(Instant::now);
        } else {
            self.input.extend_from_slice(bytes);
            self.answer_buffered(core);
        }
    }

    /// Answers the whole requests buffered in the input while the output is under the mark.
    fn answer_buffered(&mut self, core: &ManagerCore<Std>) {
        if self.input.is_empty() {
            return;
        }
        let used = answer_frames(core, &self.input, &mut self.output, &mut self.closing);
        if used == 0 {
            self.frame_since.get_or_insert_with(Instant::now);
            return;
        }
        self.input.drain(..used);
        self.frame_since = (!self.input.is_empty()).then(Instant::now);
        if self.input.is_empty() && self.input.capacity() > KEEP_CAPACITY {
            self.input = Vec::new();
        }
    }

    /// Sets the reservation to what the input needs: its whole requests, and the whole frame
    /// of an unfinished one whose length is known. It grows only by a read that
    /// [`InputBudget::roomy`] allowed (so the take succeeds) or after a length prefix read
    /// while budget was short (then [`Self::next_read`] takes it, or waits).
    fn settle(&mut self, budget: &mut InputBudget) {
        let needed = needed(&self.input);
        if needed < self.reserved {
            budget.give(self.reserved - needed);
            self.reserved = needed;
        } else if needed > self.reserved && budget.take(needed - self.reserved) {
            self.reserved = needed;
        }
        // Hold no more memory than the reservation covers (a whole chunk appended to an
        // unfinished frame can double the buffer).
        if self.input.capacity() > 2 * needed.max(KEEP_CAPACITY) {
            self.input.shrink_to(needed);
        }
        if needed > self.input.len() && needed <= self.reserved {
            self.input.reserve_exact(needed - self.input.len());
        }
    }
}

/// The length in a frame's 4-byte prefix.
fn frame_len(bytes: &[u8]) -> usize {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize
}

/// Budget `input` needs: its whole frames, and the whole of an unfinished one whose length is
/// known (a length over the maximum is refused as soon as it is seen, so it needs nothing).
fn needed(input: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match complete_frame(&input[at..], MAX_FRAME) {
            Ok(Some(len)) => at += 4 + len,
            Ok(None) if input.len() - at >= 4 => return at + 4 + frame_len(&input[at..]),
            Ok(None) => return at,
            Err(_) => return input.len(),
        }
    }
}

/// Answers the whole frames at the start of `bytes`, in order, while `out` holds at most
/// [`OUTPUT_HIGH`] unread bytes; returns how many bytes they took.
fn answer_frames(
    core: &ManagerCore<Std>,
    bytes: &[u8],
    out: &mut Outbox,
    closing: &mut bool,
) -> usize {
    let mut used = 0;
    while !*closing && out.unread() <= OUTPUT_HIGH {
        let received = match complete_frame(&bytes[used..], MAX_FRAME) {
            Ok(None) => break,
            Ok(Some(len)) => {
                let body = &bytes[used + 4..used + 4 + len];
                used += 4 + len;
                serde_json::from_slice::<Request>(body)
                    .map_err(|e| FrameError::Malformed(e.to_string()))
            }
            Err(e) => Err(e),
        };
        let (response, goes_on) = answer(core, received);
        encode_response(&response, &mut out.bytes);
        *closing = !goes_on;
    }
    used
}

/// Appends `response`'s frames to `out`: one frame, or for a list too large for one, pages of
/// at most [`MAX_FRAME`] bytes ([`Response::ListPart`]s, then the closing [`Response::List`]).
fn encode_response(response: &Response, out: &mut Vec<u8>) {
    let Response::List(items) = response else {
        let bytes = encode(response).expect("a response encodes");
        out.extend_from_slice(&bytes);
        return;
    };
    const PART: &[u8] = br#"{"ListPart":["#;
    const LAST: &[u8] = br#"{"List":["#;
    const END: &[u8] = b"]}";
    let page_max = MAX_FRAME - PART.len() - END.len();
    let mut page: Vec<u8> = Vec::new();
    let emit = |out: &mut Vec<u8>, page: &[u8], head: &[u8]| {
        let len = (head.len() + page.len() + END.len()) as u32;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(head);
        out.extend_from_slice(page);
        out.extend_from_slice(END);
    };
    for item in items {
        let bytes = serde_json::to_vec(item).expect("a value encodes");
        if bytes.len() > page_max {
            // Cannot happen for an item that arrived in one frame; answer rather than send a
            // frame the client would refuse.
            let error = Response::Error(format!(
                "an item of {} bytes does not fit in a frame",
                bytes.len()
            ));
            out.extend_from_slice(&encode(&error).expect("an error encodes"));
            return;
        }
        if !page.is_empty() && page.len() + 1 + bytes.len() > page_max {
            emit(out, &page, PART);
            page.clear();
        }
        if !page.is_empty() {
            page.push(b',');
        }
        page.extend_from_slice(&bytes);
    }
    emit(out, &page, LAST);
}
