//! What a PostgreSQL client sends the gateway, as the adapter reads it:
//! startup-phase packets (`frame::take_startup`, `startup::parse`), then
//! typed messages cut from the stream (`frame::take_frame`), then the
//! fields of each message type, read with `wire::Reader` in the order
//! `relay.rs` and `frontend_auth.rs` read them (and on to the end of the
//! body as the protocol defines it), and the SCRAM messages inside
//! `PasswordMessage`s.
//!
//! Input: a mode byte (bit 0: start in the startup phase; bit 1: a small
//! message-size limit), a byte seeding where the stream is cut, then the
//! client's bytes.
//!
//! Properties: never panics; the stream decodes to exactly the same
//! packets, messages and error whether it arrives in one piece or in
//! pieces cut anywhere; every byte is accounted for (consumed messages
//! plus what is left buffered); every field the reader returns is the
//! bytes at the reader's position, and every refusal is a real shortage
//! (a missing NUL, invalid UTF-8, too few bytes).
#![no_main]

use airlock_core::scram::ServerExchange;
use airlock_pg::fuzzing::{
    ClientMessage, ClientMessageError, FrameError, Reader, StartupError, StartupPacket, Target,
    parse_client_message, parse_startup, take_frame, take_startup,
};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

/// The gateway's default limits (`limits.max_startup_bytes`,
/// `limits.max_message_bytes` are configurable).
const MAX_STARTUP: usize = 10_000;
const MAX_MESSAGE: usize = 1 << 24;
const SMALL_MAX_MESSAGE: usize = 64;

#[derive(Debug, PartialEq)]
enum Event {
    Startup(Result<StartupPacket, StartupError>),
    Message(u8, Vec<u8>),
    Refused(FrameError),
}

struct Decoder {
    buf: BytesMut,
    startup: bool,
    max_message: usize,
    /// The connection is over (a framing error, a cancel request, a bad
    /// startup packet): later bytes are not read.
    closed: bool,
    consumed: usize,
    events: Vec<Event>,
}

impl Decoder {
    fn new(startup: bool, max_message: usize) -> Decoder {
        Decoder {
            buf: BytesMut::new(),
            startup,
            max_message,
            closed: false,
            consumed: 0,
            events: Vec::new(),
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.closed {
            return;
        }
        self.buf.extend_from_slice(chunk);
        while !self.closed {
            if self.startup {
                let before = self.buf.len();
                match take_startup(&mut self.buf, MAX_STARTUP) {
                    Ok(Some(packet)) => {
                        assert_eq!(before - self.buf.len(), packet.len() + 4);
                        self.consumed += packet.len() + 4;
                        let parsed = parse_startup(&packet);
                        match &parsed {
                            // Answered `N`: the client goes on with a
                            // startup packet in the clear.
                            Ok(StartupPacket::SslRequest | StartupPacket::GssEncRequest) => {}
                            Ok(StartupPacket::Startup { params, .. }) => {
                                for (k, v) in params {
                                    assert!(
                                        !k.is_empty() && !k.contains('\0') && !v.contains('\0')
                                    );
                                }
                                self.startup = false;
                            }
                            Ok(StartupPacket::Cancel { .. }) | Err(_) => self.closed = true,
                        }
                        self.events.push(Event::Startup(parsed));
                    }
                    Ok(None) => {
                        assert_eq!(before, self.buf.len(), "an incomplete packet was consumed");
                        return;
                    }
                    Err(e) => {
                        self.events.push(Event::Refused(e));
                        self.closed = true;
                    }
                }
            } else {
                let before = self.buf.len();
                match take_frame(&mut self.buf, self.max_message) {
                    Ok(Some(f)) => {
                        assert_eq!(before - self.buf.len(), 5 + f.body.len());
                        assert!(f.body.len() + 4 <= self.max_message);
                        self.consumed += 5 + f.body.len();
                        self.events.push(Event::Message(f.tag, f.body.to_vec()));
                    }
                    Ok(None) => {
                        assert_eq!(before, self.buf.len(), "an incomplete message was consumed");
                        return;
                    }
                    Err(e) => {
                        self.events.push(Event::Refused(e));
                        self.closed = true;
                    }
                }
            }
        }
    }
}

/// A `Reader` with every answer checked against the body.
struct Checked<'a> {
    body: &'a [u8],
    r: Reader<'a>,
    at: usize,
}

impl<'a> Checked<'a> {
    fn new(body: &'a [u8], what: &'static str) -> Checked<'a> {
        Checked {
            body,
            r: Reader::new(body, what),
            at: 0,
        }
    }

    fn offset(&self, s: &[u8]) -> usize {
        (s.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize)
    }

    fn cstr(&mut self) -> Option<&'a str> {
        let rest = &self.body[self.at..];
        let nul = rest.iter().position(|&b| b == 0);
        match self.r.cstr() {
            Ok(s) => {
                assert_eq!(self.offset(s.as_bytes()), self.at, "cstr not at the cursor");
                assert_eq!(Some(s.len()), nul, "cstr did not end at the first NUL");
                self.at += s.len() + 1;
                Some(s)
            }
            Err(_) => {
                if let Some(n) = nul {
                    assert!(
                        std::str::from_utf8(&rest[..n]).is_err(),
                        "valid cstr refused"
                    );
                }
                None
            }
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let left = self.body.len() - self.at;
        match self.r.take(n) {
            Ok(b) => {
                assert_eq!((self.offset(b), b.len()), (self.at, n));
                self.at += n;
                Some(b)
            }
            Err(_) => {
                assert!(left < n, "take({n}) refused with {left} bytes left");
                None
            }
        }
    }

    fn i16(&mut self) -> Option<i16> {
        let expect = self
            .body
            .get(self.at..self.at + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]));
        let got = self.r.i16().ok();
        assert_eq!(got, expect);
        self.at += got.map_or(0, |_| 2);
        got
    }

    fn i32(&mut self) -> Option<i32> {
        let expect = self
            .body
            .get(self.at..self.at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let got = self.r.i32().ok();
        assert_eq!(got, expect);
        self.at += got.map_or(0, |_| 4);
        got
    }

    fn rest(&mut self) -> &'a [u8] {
        let r = self.r.rest();
        assert_eq!(
            (self.offset(r), r.len()),
            (self.at, self.body.len() - self.at)
        );
        self.at = self.body.len();
        assert!(self.r.rest().is_empty());
        r
    }
}

/// Reads `n` (a count from the message) items, stopping at the first
/// shortage.
fn repeat(n: i16, mut item: impl FnMut() -> Option<()>) -> Option<()> {
    for _ in 0..n.max(0) {
        item()?;
    }
    Some(())
}

struct Auth {
    exchange: Option<ServerExchange>,
}

fn message(tag: u8, body: &[u8], auth: &mut Auth) -> Option<()> {
    match tag {
        b'Q' => {
            Checked::new(body, "Query").cstr()?;
        }
        b'P' => {
            let mut r = Checked::new(body, "Parse");
            r.cstr()?;
            r.cstr()?;
            let n = r.i16()?;
            repeat(n, || r.i32().map(drop))?;
        }
        b'B' => {
            // As relay.rs reads it, then on to the end.
            let mut r = Checked::new(body, "Bind");
            r.cstr()?;
            r.cstr()?;
            let formats = r.i16()?;
            r.take(2 * formats.max(0) as usize)?;
            let params = r.i16()?;
            repeat(params, || {
                let len = r.i32()?;
                if len >= 0 {
                    r.take(len as usize)?;
                }
                Some(())
            })?;
            let results = r.i16()?;
            repeat(results, || r.i16().map(drop))?;
        }
        b'E' => {
            let mut r = Checked::new(body, "Execute");
            r.cstr()?;
            r.i32()?;
        }
        b'C' | b'D' => {
            let mut r = Checked::new(body, if tag == b'C' { "Close" } else { "Describe" });
            r.take(1)?;
            r.cstr()?;
        }
        b'f' => {
            Checked::new(body, "CopyFail").cstr()?;
        }
        b'p' => {
            // A cleartext password, or a SASLInitialResponse then a
            // SASLResponse: which one depends on the exchange, so read
            // every way.
            Checked::new(body, "PasswordMessage").cstr();
            match auth.exchange.take() {
                Some(exchange) => {
                    if let Ok(client_final) = std::str::from_utf8(body) {
                        let _ = exchange.finish(client_final, &[]);
                    }
                }
                None => {
                    let mut r = Checked::new(body, "SASLInitialResponse");
                    r.cstr()?;
                    let len = r.i32()?;
                    let data = r.rest();
                    if len < 0 || len as usize != data.len() {
                        return None;
                    }
                    let client_first = std::str::from_utf8(data).ok()?;
                    if let Ok((exchange, _)) =
                        ServerExchange::start(client_first, b"fuzz-salt", 4096, "c2VydmVy")
                    {
                        auth.exchange = Some(exchange);
                    }
                }
            }
        }
        _ => {}
    }
    Some(())
}

/// The relay's own reading of a message (`client_msg::parse`): the same
/// answer twice, every name and text it returns is where the protocol puts
/// it, and it accepts a message exactly when the checked reading above
/// finds the fields the relay needs.
fn relay_reading(tag: u8, body: &[u8]) {
    let first = parse_client_message(tag, body);
    assert_eq!(first, parse_client_message(tag, body));
    let cstr_at = |at: usize| -> Option<&str> {
        let rest = body.get(at..)?;
        let n = rest.iter().position(|&b| b == 0)?;
        std::str::from_utf8(&rest[..n]).ok()
    };
    match first {
        Ok(ClientMessage::Query { text }) | Ok(ClientMessage::Execute { portal: text }) => {
            assert_eq!(Some(text), cstr_at(0));
        }
        Ok(ClientMessage::Parse { name, text }) => {
            assert_eq!(Some(name), cstr_at(0));
            assert_eq!(Some(text), cstr_at(name.len() + 1));
        }
        Ok(ClientMessage::Describe { target, name })
        | Ok(ClientMessage::Close { target, name }) => {
            let want = match target {
                Target::Statement => b'S',
                Target::Portal => b'P',
            };
            assert_eq!(body.first(), Some(&want));
            assert_eq!(Some(name), cstr_at(1));
        }
        Ok(ClientMessage::Bind {
            portal, statement, ..
        }) => {
            assert_eq!(Some(portal), cstr_at(0));
            assert_eq!(Some(statement), cstr_at(portal.len() + 1));
        }
        Ok(_) => assert!(matches!(
            tag,
            b'S' | b'H' | b'F' | b'X' | b'd' | b'c' | b'f'
        )),
        Err(ClientMessageError::UnexpectedType(t)) => assert_eq!(t, tag as char),
        Err(_) => assert!(matches!(tag, b'Q' | b'P' | b'B' | b'E' | b'D' | b'C')),
    }
}

/// Piece lengths from a seed (xorshift): mostly short, some empty.
fn cuts(seed: u8, len: usize) -> Vec<usize> {
    let mut x = u32::from(seed) | 0x9e37_7900;
    let mut out = Vec::new();
    let mut total = 0;
    while total < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = ((x >> 8) % 23) as usize;
        let n = n.min(len - total);
        out.push(n);
        total += n;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [mode, seed, stream @ ..] = data else {
        return;
    };
    let startup = mode & 1 == 1;
    let max = if mode & 2 == 2 {
        SMALL_MAX_MESSAGE
    } else {
        MAX_MESSAGE
    };

    let mut whole = Decoder::new(startup, max);
    whole.feed(stream);
    if !whole.closed {
        assert_eq!(whole.consumed + whole.buf.len(), stream.len());
    }

    let mut pieces = Decoder::new(startup, max);
    let mut at = 0;
    for n in cuts(*seed, stream.len()) {
        pieces.feed(&stream[at..at + n]);
        at += n;
    }
    assert_eq!(
        whole.events, pieces.events,
        "cut points changed the decoding"
    );
    assert_eq!(whole.closed, pieces.closed);
    if !whole.closed {
        assert_eq!(whole.buf, pieces.buf, "cut points changed what is left");
    }

    let mut auth = Auth { exchange: None };
    for event in &whole.events {
        if let Event::Message(tag, body) = event {
            let _ = message(*tag, body, &mut auth);
            relay_reading(*tag, body);
        }
    }
});
