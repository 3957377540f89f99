//! The packets a client may send before it is authenticated.

use std::collections::BTreeMap;

use crate::wire::{Malformed, Reader};

const SSL_REQUEST: i32 = 80877103;
const GSSENC_REQUEST: i32 = 80877104;
const CANCEL_REQUEST: i32 = 80877102;

#[derive(Debug, PartialEq, Eq)]
pub enum StartupPacket {
    SslRequest,
    GssEncRequest,
    Cancel {
        pid: i32,
        key: i32,
    },
    Startup {
        /// Minor protocol version asked for; the gateway speaks 3.0.
        minor: i32,
        params: BTreeMap<String, String>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartupError {
    #[error(transparent)]
    Malformed(#[from] Malformed),
    #[error("unsupported frontend protocol {major}.{minor}: the gateway speaks 3.0")]
    Protocol { major: i32, minor: i32 },
}

/// Parses a startup-phase packet body (after its length prefix).
pub fn parse(body: &[u8]) -> Result<StartupPacket, StartupError> {
    let mut r = Reader::new(body, "startup");
    let code = r.i32()?;
    match code {
        SSL_REQUEST => Ok(StartupPacket::SslRequest),
        GSSENC_REQUEST => Ok(StartupPacket::GssEncRequest),
        CANCEL_REQUEST => {
            let pid = r.i32()?;
            // Protocol 3.2 allows longer keys; the gateway hands out 4-byte
            // keys, so only the first four bytes can match.
            let key = r.i32()?;
            Ok(StartupPacket::Cancel { pid, key })
        }
        version => {
            let (major, minor) = (version >> 16, version & 0xffff);
            if major != 3 {
                return Err(StartupError::Protocol { major, minor });
            }
            let mut params = BTreeMap::new();
            loop {
                let name = r.cstr()?;
                if name.is_empty() {
                    break;
                }
                let value = r.cstr()?;
                params.insert(name.to_string(), value.to_string());
            }
            Ok(StartupPacket::Startup { minor, params })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_startup_message() {
        let mut body = 196608i32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0alice\0database\0app-db\0\0");
        let StartupPacket::Startup { minor, params } = parse(&body).unwrap() else {
            panic!("not a startup")
        };
        assert_eq!(minor, 0);
        assert_eq!(params["user"], "alice");
        assert_eq!(params["database"], "app-db");
    }

    #[test]
    fn truncated_and_foreign_packets_are_errors() {
        let mut body = 196608i32.to_be_bytes().to_vec();
        body.extend_from_slice(b"user\0alice");
        assert!(parse(&body).is_err());
        assert!(matches!(
            parse(&131072i32.to_be_bytes()),
            Err(StartupError::Protocol { .. })
        ));
        assert!(parse(&CANCEL_REQUEST.to_be_bytes()).is_err());
        assert!(parse(b"\x00").is_err());
    }
}
