//! RowDescription, read for what masking needs: where each result column
//! comes from, its type, and the format its values travel in.

use crate::wire::{Malformed, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The table the column is a plain reference to, or 0 for an expression.
    pub table_oid: u32,
    pub attnum: i16,
    pub type_oid: u32,
    /// 0 text, 1 binary.
    pub format: i16,
}

pub fn row_description(body: &[u8]) -> Result<Vec<Field>, Malformed> {
    let mut r = Reader::new(body, "RowDescription");
    let count = r.i16()?;
    if count < 0 {
        return Err(Malformed("RowDescription"));
    }
    let mut fields = Vec::with_capacity(count as usize);
    for _ in 0..count {
        r.cstr()?;
        let table_oid = r.i32()? as u32;
        let attnum = r.i16()?;
        let type_oid = r.i32()? as u32;
        r.i16()?; // type length
        r.i32()?; // type modifier
        let format = r.i16()?;
        fields.push(Field {
            table_oid,
            attnum,
            type_oid,
            format,
        });
    }
    Ok(fields)
}

/// How a type's values may be rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeClass {
    /// Its binary form is its text (text, varchar, name, xml, …).
    Text,
    /// JSON text: a replacement must be a JSON string to stay valid.
    Json,
    /// jsonb: as `Json`, with a version byte in front in binary format.
    Jsonb,
    /// Numbers, times, booleans, UUIDs, byte strings: no detector can find
    /// anything in them and a text replacement would break every client
    /// that parses them, so a masked value of one becomes NULL.
    Opaque,
    /// Anything else (arrays, records, enums, domains, extension types):
    /// its text form is scanned; its binary form is not readable here.
    Other,
}

pub fn type_class(oid: u32) -> TypeClass {
    match oid {
        25 | 1043 | 1042 | 19 | 705 | 142 => TypeClass::Text,
        114 => TypeClass::Json,
        3802 => TypeClass::Jsonb,
        // bool, bytea, "char", int8, int2, int4, regproc, oid, tid, xid,
        // cid, float4, float8, money, date, time, timestamp, timestamptz,
        // interval, timetz, numeric, regtype, uuid, pg_lsn.
        16 | 17 | 18 | 20 | 21 | 23 | 24 | 26 | 27 | 28 | 29 | 700 | 701 | 790 | 1082 | 1083
        | 1114 | 1184 | 1186 | 1266 | 1700 | 2206 | 2950 | 3220 => TypeClass::Opaque,
        _ => TypeClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn reads_each_fields_origin_type_and_format() {
        let mut b = bytes::BytesMut::new();
        b.put_i16(2);
        for (name, table, att, ty, fmt) in
            [("email", 16384u32, 2i16, 25u32, 0i16), ("n", 0, 0, 23, 1)]
        {
            b.put_slice(name.as_bytes());
            b.put_u8(0);
            b.put_u32(table);
            b.put_i16(att);
            b.put_u32(ty);
            b.put_i16(-1);
            b.put_i32(-1);
            b.put_i16(fmt);
        }
        let fields = row_description(&b).unwrap();
        assert_eq!(
            fields[0],
            Field {
                table_oid: 16384,
                attnum: 2,
                type_oid: 25,
                format: 0
            }
        );
        assert_eq!(
            fields[1],
            Field {
                table_oid: 0,
                attnum: 0,
                type_oid: 23,
                format: 1
            }
        );
        assert!(row_description(&b[..b.len() - 1]).is_err());
        assert!(row_description(&[0xff, 0xff]).is_err());
    }
}
