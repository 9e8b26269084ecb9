//! Length-prefixed frames: how every message between processes travels.
//!
//! Invariant: a reader either gets a whole message or an error that says why not; it never
//! acts on part of one. A frame is a 4-byte big-endian length followed by that many bytes of
//! JSON. A length above the reader's maximum is refused before any of the body is read, so a
//! bad peer cannot make a reader allocate without bound.
//!
//! ```text
//!   ┌──────────────┬───────────────────────────┐
//!   │ len: u32 BE  │ len bytes of JSON (serde) │
//!   └──────────────┴───────────────────────────┘
//! ```
//!
//! End of input before the first byte of a frame is a clean end (`Ok(None)`); end of input
//! inside a frame is [`FrameError::Truncated`]: the peer died mid-message.

use std::fmt;
use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The largest frame a reader accepts by default: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

/// Why no message was read or written.
#[derive(Debug)]
pub enum FrameError {
    /// The stream failed.
    Io(io::Error),
    /// The stream ended inside a frame: `got` of `expected` bytes arrived.
    Truncated { expected: usize, got: usize },
    /// The length prefix exceeds the maximum; the body was not read.
    TooLarge { len: usize, max: usize },
    /// The body is not the JSON of the expected message.
    Malformed(String),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "i/o error: {e}"),
            FrameError::Truncated { expected, got } => {
                write!(f, "truncated frame: {got} of {expected} bytes")
            }
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
            FrameError::Malformed(e) => write!(f, "malformed frame: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// Encodes `message` as one frame's bytes (prefix included).
pub fn encode<T: Serialize>(message: &T) -> Result<Vec<u8>, FrameError> {
    let body = serde_json::to_vec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge {
        len: body.len(),
        max: u32::MAX as usize,
    })?;
    let mut bytes = Vec::with_capacity(4 + body.len());
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// The length of `message`'s JSON body, without keeping the bytes.
pub fn encoded_len<T: Serialize>(message: &T) -> usize {
    struct Count(usize);
    impl Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, message) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// The first frame in `buf`, as it arrives in pieces: `Ok(Some(len))` when its whole body
/// (`buf[4..4 + len]`) is there, `Ok(None)` while more bytes are needed, and
/// [`FrameError::TooLarge`] as soon as the prefix says more than `max`.
pub fn complete_frame(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes")) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok((buf.len() >= 4 + len).then_some(len))
}

/// Writes `message` as one frame and flushes.
pub fn write_frame<W: Write, T: Serialize>(writer: &mut W, message: &T) -> Result<(), FrameError> {
    let bytes = encode(message)?;
    writer.write_all(&bytes)?;
    writer.flush()?;
    Ok(())
}

/// Reads as much of `buf` as the stream has; returns how many bytes arrived.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads one frame's body: `Ok(None)` at a clean end of input.
pub fn read_body<R: Read>(reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut prefix = [0u8; 4];
    match read_up_to(reader, &mut prefix)? {
        0 => return Ok(None),
        4 => {}
        got => return Err(FrameError::Truncated { expected: 4, got }),
    }
    let len = u32::from_be_bytes(prefix) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut body = vec![0u8; len];
    let got = read_up_to(reader, &mut body)?;
    if got < len {
        return Err(FrameError::Truncated { expected: len, got });
    }
    Ok(Some(body))
}

/// Reads one frame and decodes it: `Ok(None)` at a clean end of input.
pub fn read_frame<R: Read, T: DeserializeOwned>(
    reader: &mut R,
    max: usize,
) -> Result<Option<T>, FrameError> {
    match read_body(reader, max)? {
        None => Ok(None),
        Some(body) => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| FrameError::Malformed(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_round_trips() {
        let bytes = encode(&("api_call", 10u32)).unwrap();
        assert_eq!(&bytes[..4], &(bytes.len() as u32 - 4).to_be_bytes());
        let back: Option<(String, u32)> = read_frame(&mut &bytes[..], MAX_FRAME).unwrap();
        assert_eq!(back, Some(("api_call".to_string(), 10)));
    }

    #[test]
    fn empty_input_is_a_clean_end() {
        let back: Option<u32> = read_frame(&mut &[][..], MAX_FRAME).unwrap();
        assert_eq!(back, None);
    }

    #[test]
    fn a_cut_frame_is_truncated() {
        let bytes = encode(&"hello").unwrap();
        let cut = &bytes[..bytes.len() - 2];
        let err = read_frame::<_, String>(&mut &cut[..], MAX_FRAME).unwrap_err();
        assert!(matches!(err, FrameError::Truncated { got, expected } if got + 2 == expected));
        let err = read_frame::<_, String>(&mut &bytes[..2], MAX_FRAME).unwrap_err();
        assert!(matches!(
            err,
            FrameError::Truncated {
                expected: 4,
                got: 2
            }
        ));
    }

    #[test]
    fn an_oversized_frame_is_refused_unread() {
        let mut bytes = (100u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&[b'x'; 100]);
        let err = read_frame::<_, String>(&mut &bytes[..], 99).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { len: 100, max: 99 }));
    }

    #[test]
    fn garbage_is_malformed() {
        let mut bytes = 3u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"{{{");
        let err = read_frame::<_, String>(&mut &bytes[..], MAX_FRAME).unwrap_err();
        assert!(matches!(err, FrameError::Malformed(_)), "{err}");
    }
}
