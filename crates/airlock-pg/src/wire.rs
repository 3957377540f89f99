//! Small codecs for the PostgreSQL messages the adapter reads or writes
//! itself. Inbound bodies are read with bounds checks on every field: a
//! hostile peer's truncated message must become an error, never a panic.
//! Outbound messages use pgwire's encoders.

use bytes::BytesMut;
use pgwire::messages::Message;
use pgwire::messages::response::{ErrorResponse, ReadyForQuery, TransactionStatus};
use pgwire::messages::startup::{Authentication, BackendKeyData, ParameterStatus};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("malformed {0} message")]
pub struct Malformed(pub &'static str);

/// A cursor over one message body that never reads past its end.
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { buf, what }
    }

    pub fn cstr(&mut self) -> Result<&'a str, Malformed> {
        let end = memchr(self.buf).ok_or(Malformed(self.what))?;
        let s = std::str::from_utf8(&self.buf[..end]).map_err(|_| Malformed(self.what))?;
        self.buf = &self.buf[end + 1..];
        Ok(s)
    }

    pub fn i16(&mut self) -> Result<i16, Malformed> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> Result<i32, Malformed> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if self.buf.len() < n {
            return Err(Malformed(self.what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == 0)
}

/// Error severity for messages the gateway writes itself.
#[derive(Debug, Clone, Copy)]
pub enum Severity {
    /// The session continues.
    Error,
    /// The gateway closes the connection after sending it.
    Fatal,
}

pub fn error_response(buf: &mut BytesMut, severity: Severity, code: &str, message: &str) {
    let sev = match severity {
        Severity::Error => "ERROR",
        Severity::Fatal => "FATAL",
    };
    let fields = vec![
        (b'S', sev.to_string()),
        (b'V', sev.to_string()),
        (b'C', code.to_string()),
        (b'M', message.to_string()),
    ];
    encode(buf, &ErrorResponse::new(fields));
}

pub fn authentication(buf: &mut BytesMut, auth: Authentication) {
    encode(buf, &auth);
}

pub fn parameter_status(buf: &mut BytesMut, name: &str, value: &str) {
    encode(
        buf,
        &ParameterStatus::new(name.to_string(), value.to_string()),
    );
}

pub fn backend_key_data(buf: &mut BytesMut, pid: i32, key: i32) {
    encode(
        buf,
        &BackendKeyData::new(pid, pgwire::messages::startup::SecretKey::I32(key)),
    );
}

pub fn ready_for_query(buf: &mut BytesMut, status: u8) {
    let status = match status {
        b'T' => TransactionStatus::Transaction,
        b'E' => TransactionStatus::Error,
        _ => TransactionStatus::Idle,
    };
    encode(buf, &ReadyForQuery::new(status));
}

/// `NegotiateProtocolVersion`: tells a client asking for 3.x (x > 0) or for
/// `_pq_` options that the gateway speaks 3.0 without them.
pub fn negotiate_protocol_version(buf: &mut BytesMut, minor: i32, unknown_options: &[String]) {
    use bytes::BufMut;
    let body_len: usize = 8 + unknown_options.iter().map(|o| o.len() + 1).sum::<usize>();
    buf.put_u8(b'v');
    buf.put_i32((4 + body_len) as i32);
    buf.put_i32(minor);
    buf.put_i32(unknown_options.len() as i32);
    for o in unknown_options {
        buf.put_slice(o.as_bytes());
        buf.put_u8(0);
    }
}

fn encode<M: Message>(buf: &mut BytesMut, msg: &M) {
    // pgwire only fails to encode messages above its size limits; every
    // message the gateway writes itself is small.
    if let Err(e) = msg.encode(buf) {
        tracing::error!(error = %e, "failed to encode a gateway message");
    }
}

/// Pulls the SQLSTATE and message out of an ErrorResponse body. A target
/// may send anything: a field that is not UTF-8 is read lossily rather than
/// ending the reading, and the first of a repeated field counts (the
/// server sends each once), so what follows a bad field cannot change it.
pub fn error_fields(body: &[u8]) -> (String, String) {
    let mut code = None;
    let mut message = None;
    let mut rest = body;
    while let Some((&kind, tail)) = rest.split_first() {
        if kind == 0 {
            break;
        }
        let Some(end) = tail.iter().position(|&b| b == 0) else {
            break;
        };
        let value = || String::from_utf8_lossy(&tail[..end]).into_owned();
        match kind {
            b'C' if code.is_none() => code = Some(value()),
            b'M' if message.is_none() => message = Some(value()),
            _ => {}
        }
        rest = &tail[end + 1..];
    }
    (code.unwrap_or_default(), message.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_refuses_to_run_past_the_end() {
        let mut r = Reader::new(b"abc\0\x00\x01", "t");
        assert_eq!(r.cstr().unwrap(), "abc");
        assert!(r.i32().is_err());
        assert_eq!(r.i16().unwrap(), 1);
        assert!(r.cstr().is_err());
    }

    #[test]
    fn error_fields_survive_bad_bytes_and_repeats() {
        let body = b"Cp0000\0M\xff\xfe bad\0C00000\0Mlater\0\0";
        let (code, message) = error_fields(body);
        assert_eq!(code, "p0000");
        assert!(message.contains("bad"), "{message}");
        assert_eq!(error_fields(b"Cabc"), (String::new(), String::new()));
    }

    #[test]
    fn error_response_round_trips_its_fields() {
        let mut buf = BytesMut::new();
        error_response(&mut buf, Severity::Error, "42501", "no");
        assert_eq!(buf[0], b'E');
        let (code, msg) = error_fields(&buf[5..]);
        assert_eq!((code.as_str(), msg.as_str()), ("42501", "no"));
    }
}
