//! The PostgreSQL wire protocol by hand, for what no well-behaved client
//! sends: malformed and oversized packets, and a fake target server whose
//! answers a test scripts.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Protocol 3.0, as a StartupMessage's version field.
pub const PROTOCOL_3_0: i32 = 196_608;

/// A TCP connection to `port` whose reads and writes give up after 10 s, so
/// a gateway that never answers fails the test instead of hanging it.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the gateway");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    s.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("write timeout");
    s
}

/// A StartupMessage: length, version, `name\0value\0` pairs, a final `\0`.
pub fn startup_packet(version: i32, params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    for (k, v) in params {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut packet = ((body.len() + 4) as i32).to_be_bytes().to_vec();
    packet.extend_from_slice(&body);
    packet
}

/// A typed message: tag, length (including itself), body.
pub fn message(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![tag];
    m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// An ErrorResponse with the usual fields.
pub fn error_response(severity: &str, code: &str, text: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (t, v) in [
        (b'S', severity),
        (b'V', severity),
        (b'C', code),
        (b'M', text),
    ] {
        body.push(t);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    message(b'E', &body)
}

/// One backend message.
#[derive(Debug)]
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

impl Message {
    /// The fields of an ErrorResponse or NoticeResponse, by field type.
    pub fn fields(&self) -> HashMap<char, String> {
        let mut out = HashMap::new();
        let mut rest = &self.body[..];
        while let Some((&t, tail)) = rest.split_first() {
            if t == 0 {
                break;
            }
            let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
            out.insert(
                t as char,
                String::from_utf8_lossy(&tail[..end]).into_owned(),
            );
            rest = tail.get(end + 1..).unwrap_or(&[]);
        }
        out
    }

    pub fn code(&self) -> String {
        self.fields().remove(&'C').unwrap_or_default()
    }

    pub fn text(&self) -> String {
        self.fields().remove(&'M').unwrap_or_default()
    }

    pub fn severity(&self) -> String {
        self.fields().remove(&'S').unwrap_or_default()
    }
}

/// Reads one typed message; `None` when the peer closed cleanly first.
pub fn read_message(s: &mut impl Read) -> std::io::Result<Option<Message>> {
    let mut head = [0u8; 5];
    match s.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if !(4..=1 << 20).contains(&len) {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("implausible message length {len}"),
        ));
    }
    let mut body = vec![0u8; len as usize - 4];
    s.read_exact(&mut body)?;
    Ok(Some(Message { tag: head[0], body }))
}

/// Reads one untyped startup-phase packet (length, body) as a server does.
pub fn read_startup(s: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = i32::from_be_bytes(len);
    if !(8..=10_000).contains(&len) {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            format!("implausible startup length {len}"),
        ));
    }
    let mut body = vec![0u8; len as usize - 4];
    s.read_exact(&mut body)?;
    Ok(body)
}

/// True once the peer has closed the connection (EOF or reset), false if
/// it is still open when the stream's read timeout expires.
pub fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut sink = [0u8; 1024];
    loop {
        match s.read(&mut sink) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A one-connection fake PostgreSQL server that asks for a clear-text
/// password and refuses it, as a server with the wrong password configured
/// would. The thread yields the password it was sent.
pub struct RefusingTarget {
    pub port: u16,
    handle: std::thread::JoinHandle<Option<String>>,
}

impl RefusingTarget {
    pub fn start(refusal_code: &'static str, refusal_text: &'static str) -> RefusingTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake target");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut s = loop {
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return None,
                }
            };
            s.set_nonblocking(false).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
            read_startup(&mut s).ok()?;
            // AuthenticationCleartextPassword.
            s.write_all(&message(b'R', &3i32.to_be_bytes())).ok()?;
            let reply = read_message(&mut s).ok()??;
            if reply.tag != b'p' {
                return None;
            }
            let end = reply.body.iter().position(|&b| b == 0)?;
            let password = String::from_utf8_lossy(&reply.body[..end]).into_owned();
            s.write_all(&error_response("FATAL", refusal_code, refusal_text))
                .ok()?;
            Some(password)
        });
        RefusingTarget { port, handle }
    }

    /// The password the gateway sent, once the exchange is over.
    pub fn password_received(self) -> Option<String> {
        self.handle.join().ok().flatten()
    }
}

/// Logs in by hand (SCRAM-SHA-256 with `password`, no TLS) and returns the
/// stream once the gateway says ReadyForQuery: a session into which a test
/// can write what no driver would.
pub fn login(port: u16, user: &str, dbname: &str, password: &str) -> TcpStream {
    use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};

    let mut s = connect(port);
    s.write_all(&startup_packet(
        PROTOCOL_3_0,
        &[("user", user), ("database", dbname)],
    ))
    .expect("send startup");
    let auth = |s: &mut TcpStream, want: i32| -> Vec<u8> {
        let m = read_message(s)
            .expect("read authentication")
            .expect("closed during authentication");
        assert_eq!(m.tag, b'R', "expected Authentication, got {m:?}");
        assert_eq!(m.body.get(..4), Some(&want.to_be_bytes()[..]), "{m:?}");
        m.body[4..].to_vec()
    };
    // AuthenticationSASL, SASLContinue, SASLFinal, Ok.
    auth(&mut s, 10);
    let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
    let mut initial = format!("{SCRAM_SHA_256}\0").into_bytes();
    initial.extend_from_slice(&(scram.message().len() as i32).to_be_bytes());
    initial.extend_from_slice(scram.message());
    s.write_all(&message(b'p', &initial))
        .expect("send SASLInitialResponse");
    let server_first = auth(&mut s, 11);
    scram.update(&server_first).expect("SCRAM server-first");
    s.write_all(&message(b'p', scram.message()))
        .expect("send SASLResponse");
    let server_final = auth(&mut s, 12);
    scram
        .finish(&server_final)
        .expect("the gateway's SCRAM signature");
    auth(&mut s, 0);
    loop {
        let m = read_message(&mut s)
            .expect("read")
            .expect("closed before ReadyForQuery");
        match m.tag {
            b'Z' => return s,
            b'S' | b'K' | b'N' => {}
            _ => panic!("unexpected message before ReadyForQuery: {m:?}"),
        }
    }
}

/// What a [`ScriptedTarget`] does once the gateway has logged in.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Accepts the TCP connection and never says a word.
    Silent,
    /// Answers a query with a RowDescription and then half a DataRow,
    /// and closes.
    ClosesMidRow,
    /// Answers a query with a DataRow whose fields do not add up to its
    /// length.
    MalformedRow,
}

/// A fake PostgreSQL server (trust authentication) that misbehaves as told,
/// on every connection, until dropped.
pub struct ScriptedTarget {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ScriptedTarget {
    pub fn start(behaviour: Misbehaviour) -> ScriptedTarget {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake target");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        std::thread::spawn(move || serve_badly(s, behaviour));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        ScriptedTarget { port, stop }
    }
}

impl Drop for ScriptedTarget {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn serve_badly(mut s: TcpStream, behaviour: Misbehaviour) -> Option<()> {
    s.set_nonblocking(false).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    if let Misbehaviour::Silent = behaviour {
        std::thread::sleep(Duration::from_secs(30));
        return Some(());
    }
    read_startup(&mut s).ok()?;
    let mut hello = message(b'R', &0i32.to_be_bytes());
    for (k, v) in [
        ("server_encoding", "UTF8"),
        ("client_encoding", "UTF8"),
        ("standard_conforming_strings", "on"),
    ] {
        hello.extend(message(b'S', format!("{k}\0{v}\0").as_bytes()));
    }
    hello.extend(message(b'K', &[0, 0, 0, 1, 0, 0, 0, 2]));
    hello.extend(message(b'Z', b"I"));
    s.write_all(&hello).ok()?;
    loop {
        let m = read_message(&mut s).ok()??;
        if m.tag != b'Q' {
            continue;
        }
        // One text column "note" (type text, from no table).
        let mut desc = 1i16.to_be_bytes().to_vec();
        desc.extend_from_slice(b"note\0");
        desc.extend_from_slice(&0i32.to_be_bytes());
        desc.extend_from_slice(&0i16.to_be_bytes());
        desc.extend_from_slice(&25i32.to_be_bytes());
        desc.extend_from_slice(&(-1i16).to_be_bytes());
        desc.extend_from_slice(&(-1i32).to_be_bytes());
        desc.extend_from_slice(&0i16.to_be_bytes());
        let mut out = message(b'T', &desc);
        match behaviour {
            Misbehaviour::ClosesMidRow => {
                // Announces 100 bytes, sends a few, hangs up.
                out.extend_from_slice(&[b'D', 0, 0, 0, 104, 0, 1, 0, 0, 0, 94]);
                out.extend_from_slice(b"partial");
                s.write_all(&out).ok()?;
                return Some(());
            }
            Misbehaviour::MalformedRow => {
                // Two fields announced, one sent; the lengths overrun.
                let mut row = 2i16.to_be_bytes().to_vec();
                row.extend_from_slice(&50i32.to_be_bytes());
                row.extend_from_slice(b"short");
                out.extend(message(b'D', &row));
                out.extend(message(b'C', b"SELECT 1\0"));
                out.extend(message(b'Z', b"I"));
                s.write_all(&out).ok()?;
            }
            Misbehaviour::Silent => {}
        }
    }
}

/// The resident memory of a process, in KiB (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
