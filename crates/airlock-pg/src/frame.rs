//! Framing: cutting complete messages out of a read buffer.
//!
//! Check, then parse: the length prefix is validated against the configured
//! cap before a byte of the body is awaited, so a peer announcing a 2 GiB
//! message is refused at once instead of growing a buffer towards it.

use bytes::{Buf, BytesMut};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    #[error("message announces an invalid length {0}")]
    BadLength(i32),
}

/// One typed protocol message: its type byte and body (without the header).
#[derive(Debug)]
pub struct Frame {
    pub tag: u8,
    pub body: BytesMut,
}

/// Takes one complete typed message off the front of `buf`, if there is one.
pub fn take_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Frame>, FrameError> {
    let Some(len) = peek_len(buf, max)? else {
        return Ok(None);
    };
    if buf.len() < 1 + len {
        buf.reserve(1 + len - buf.len());
        return Ok(None);
    }
    let tag = buf[0];
    buf.advance(5);
    let body = buf.split_to(len - 4);
    Ok(Some(Frame { tag, body }))
}

/// Length (including the 4-byte length field) of the message at the front
/// of `buf`, once its header has arrived.
pub fn peek_len(buf: &[u8], max: usize) -> Result<Option<usize>, FrameError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    if len < 4 {
        return Err(FrameError::BadLength(len));
    }
    let len = len as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(Some(len))
}

/// Takes one complete untyped startup-phase packet (length-prefixed).
pub fn take_startup(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if len < 8 {
        return Err(FrameError::BadLength(len));
    }
    let len = len as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    if buf.len() < len {
        return Ok(None);
    }
    let mut packet = buf.split_to(len);
    packet.advance(4);
    Ok(Some(packet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_at_any_point_reassemble() {
        let msg = b"Q\x00\x00\x00\x0dselect 1\0";
        for cut in 0..msg.len() {
            let mut buf = BytesMut::from(&msg[..cut]);
            assert!(take_frame(&mut buf, 1024).unwrap().is_none());
            buf.extend_from_slice(&msg[cut..]);
            let f = take_frame(&mut buf, 1024).unwrap().unwrap();
            assert_eq!(f.tag, b'Q');
            assert_eq!(&f.body[..], b"select 1\0");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn oversized_and_negative_lengths_are_refused_from_the_header() {
        let mut buf = BytesMut::from(&b"Q\x7f\xff\xff\xff"[..]);
        assert!(matches!(
            take_frame(&mut buf, 1 << 20),
            Err(FrameError::TooLarge { .. })
        ));
        let mut buf = BytesMut::from(&b"Q\xff\xff\xff\xff"[..]);
        assert_eq!(
            take_frame(&mut buf, 1 << 20).unwrap_err(),
            FrameError::BadLength(-1)
        );
        let mut buf = BytesMut::from(&b"\x80\x00\x00\x00\x04\xd2\x16\x2f"[..]);
        assert!(take_startup(&mut buf, 10_000).is_err());
    }
}
