//! The typed messages a client sends after startup, read for what the
//! relay needs from each. Every byte comes from a client the gateway does
//! not trust: every field is read with a bounds check, and anything else
//! is an error naming the message.

use crate::wire::{Malformed, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    Query {
        text: &'a str,
    },
    Parse {
        name: &'a str,
        text: &'a str,
    },
    Bind {
        portal: &'a str,
        statement: &'a str,
        params: usize,
        /// The parameter format codes, as sent (big-endian i16 each).
        formats: &'a [u8],
        /// The parameter values and what follows them, undecoded: only a
        /// recording reads them, and only when the portal runs.
        values: &'a [u8],
    },
    Execute {
        portal: &'a str,
    },
    Describe {
        target: Target,
        name: &'a str,
    },
    Close {
        target: Target,
        name: &'a str,
    },
    Sync,
    Flush,
    /// A fast-path function call (by OID, without SQL).
    FunctionCall,
    Terminate,
    /// CopyData, CopyDone, CopyFail: data of a COPY FROM STDIN.
    Copy,
}

/// What a Describe or Close is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Statement,
    Portal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientMessageError {
    #[error(transparent)]
    Malformed(#[from] Malformed),
    #[error("invalid {what} target {target:?}")]
    BadTarget { what: &'static str, target: char },
    #[error("unexpected message type {0:?} from client")]
    UnexpectedType(char),
}

pub fn parse(tag: u8, body: &[u8]) -> Result<ClientMessage<'_>, ClientMessageError> {
    Ok(match tag {
        b'Q' => ClientMessage::Query {
            text: Reader::new(body, "Query").cstr()?,
        },
        b'P' => {
            let mut r = Reader::new(body, "Parse");
            ClientMessage::Parse {
                name: r.cstr()?,
                text: r.cstr()?,
            }
        }
        b'B' => {
            let mut r = Reader::new(body, "Bind");
            let portal = r.cstr()?;
            let statement = r.cstr()?;
            let format_count = r.i16()?;
            let formats = r.take(2 * format_count.max(0) as usize)?;
            let params = r.i16()?;
            ClientMessage::Bind {
                portal,
                statement,
                params: params.max(0) as usize,
                formats,
                values: r.rest(),
            }
        }
        b'E' => ClientMessage::Execute {
            portal: Reader::new(body, "Execute").cstr()?,
        },
        b'D' | b'C' => {
            let what = if tag == b'D' { "Describe" } else { "Close" };
            let mut r = Reader::new(body, what);
            let target = match r.take(1)?[0] {
                b'S' => Target::Statement,
                b'P' => Target::Portal,
                other => {
                    return Err(ClientMessageError::BadTarget {
                        what,
                        target: other as char,
                    });
                }
            };
            let name = r.cstr()?;
            if tag == b'D' {
                ClientMessage::Describe { target, name }
            } else {
                ClientMessage::Close { target, name }
            }
        }
        b'S' => ClientMessage::Sync,
        b'H' => ClientMessage::Flush,
        b'F' => ClientMessage::FunctionCall,
        b'X' => ClientMessage::Terminate,
        b'd' | b'c' | b'f' => ClientMessage::Copy,
        other => return Err(ClientMessageError::UnexpectedType(other as char)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_relay_needs_and_refuses_the_rest() {
        assert_eq!(
            parse(b'P', b"s1\0select 1\0\0\0"),
            Ok(ClientMessage::Parse {
                name: "s1",
                text: "select 1"
            })
        );
        let mut bind = b"p\0s1\0".to_vec();
        bind.extend_from_slice(&[0, 1, 0, 1, 0, 2]);
        assert_eq!(
            parse(b'B', &bind),
            Ok(ClientMessage::Bind {
                portal: "p",
                statement: "s1",
                params: 2,
                formats: &[0, 1],
                values: &[],
            })
        );
        assert_eq!(
            parse(b'D', b"Pp\0"),
            Ok(ClientMessage::Describe {
                target: Target::Portal,
                name: "p"
            })
        );
        assert!(matches!(
            parse(b'C', b"Xp\0"),
            Err(ClientMessageError::BadTarget { .. })
        ));
        assert!(matches!(
            parse(b'D', b"Xp\0"),
            Err(ClientMessageError::BadTarget { .. })
        ));
        assert!(parse(b'Q', b"no terminator").is_err());
        assert!(
            parse(b'B', b"p\0s\0\x00\x05").is_err(),
            "formats past the end"
        );
        assert!(matches!(
            parse(b'Z', b""),
            Err(ClientMessageError::UnexpectedType('Z'))
        ));
    }
}
