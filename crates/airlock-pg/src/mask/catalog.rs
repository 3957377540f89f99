//! Names of result columns, from the target's catalog.
//!
//! RowDescription names a plain column by its table's OID and attribute
//! number. The gateway resolves those on a connection of its own to the
//! target (the session's connection is busy with the client's traffic),
//! batching every unknown table of a result into one query, and caches
//! the answer for a minute: long enough that a result shape seen again
//! costs nothing, short enough that a renamed column is picked up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use airlock_core::ConnectionConfig;

use crate::frame;
use crate::upstream::{self, BoxIo};
use crate::wire::Reader;

const FRESH_FOR: Duration = Duration::from_secs(60);
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnName {
    pub schema: String,
    pub table: String,
    pub column: String,
}

#[derive(Debug)]
struct Table {
    schema: String,
    name: String,
    columns: HashMap<i16, String>,
    fetched: Instant,
}

/// Catalog lookups of every connection, shared by all sessions.
#[derive(Default)]
pub struct Catalogs {
    targets: Mutex<HashMap<String, Arc<TargetCatalog>>>,
}

#[derive(Default)]
struct TargetCatalog {
    tables: Mutex<HashMap<u32, Arc<Table>>>,
    /// The gateway's own connection; `None` until first needed and after
    /// it failed.
    conn: tokio::sync::Mutex<Option<CatalogConn>>,
}

struct CatalogConn {
    io: BoxIo,
    buf: BytesMut,
}

impl Catalogs {
    /// The names of `(table OID, attribute number)` pairs, in order; `None`
    /// for a pair the catalog does not know (a table dropped meanwhile) or
    /// when it could not be asked (the error is logged).
    pub async fn resolve(
        &self,
        connection: &ConnectionConfig,
        columns: &[(u32, i16)],
        max_message: usize,
    ) -> Vec<Option<ColumnName>> {
        let target = self.target(connection);
        let mut missing: Vec<u32> = {
            let tables = target.tables.lock().unwrap_or_else(|p| p.into_inner());
            columns
                .iter()
                .map(|(oid, _)| *oid)
                .filter(|oid| {
                    *oid != 0
                        && tables
                            .get(oid)
                            .is_none_or(|t| t.fetched.elapsed() > FRESH_FOR)
                })
                .collect()
        };
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            match target.fetch(connection, &missing, max_message).await {
                Ok(fetched) => {
                    let mut tables = target.tables.lock().unwrap_or_else(|p| p.into_inner());
                    for oid in &missing {
                        tables.remove(oid);
                    }
                    for (oid, table) in fetched {
                        tables.insert(oid, Arc::new(table));
                    }
                }
                Err(e) => {
                    tracing::warn!(connection = %connection.name(), error = %e, "catalog lookup for masking failed; the columns are masked whole");
                }
            }
        }
        let tables = target.tables.lock().unwrap_or_else(|p| p.into_inner());
        columns
            .iter()
            .map(|(oid, attnum)| {
                let t = tables.get(oid)?;
                Some(ColumnName {
                    schema: t.schema.clone(),
                    table: t.name.clone(),
                    column: t.columns.get(attnum)?.clone(),
                })
            })
            .collect()
    }
}

impl Catalogs {
    fn target(&self, connection: &ConnectionConfig) -> Arc<TargetCatalog> {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets
            .entry(connection.name().to_string())
            .or_default()
            .clone()
    }

    /// Every column of a table named as the analyser names it; an error
    /// when the catalog cannot be asked or has no such table.
    pub async fn table_columns(
        &self,
        connection: &ConnectionConfig,
        table: &str,
        max_message: usize,
    ) -> Result<Vec<ColumnName>, String> {
        let columns = self
            .target(connection)
            .table_columns(connection, table, max_message)
            .await?;
        if columns.is_empty() {
            return Err(format!("no table {table:?} in the catalog"));
        }
        Ok(columns)
    }
}

impl TargetCatalog {
    async fn fetch(
        &self,
        connection: &ConnectionConfig,
        oids: &[u32],
        max_message: usize,
    ) -> Result<Vec<(u32, Table)>, String> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(connect(connection, max_message).await?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err("no catalog connection".into());
        };
        // OIDs are numbers the target sent: formatted, they cannot carry
        // anything but digits into the text.
        let list = oids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT c.oid, n.nspname, c.relname, a.attnum, a.attname \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
             WHERE c.oid IN ({list}) AND a.attnum > 0 AND NOT a.attisdropped"
        );
        let rows = tokio::time::timeout(QUERY_TIMEOUT, conn.rows(&sql, max_message))
            .await
            .unwrap_or_else(|_| Err("the target did not answer in time".into()));
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                // Whatever state the connection is in, the next lookup
                // starts on a fresh one.
                *slot = None;
                return Err(e);
            }
        };
        let mut tables: HashMap<u32, Table> = HashMap::new();
        for row in rows {
            let [oid, schema, table, attnum, column] = row.as_slice() else {
                return Err("unexpected catalog row".into());
            };
            let oid: u32 = oid.parse().map_err(|_| "bad oid in catalog row")?;
            let attnum: i16 = attnum.parse().map_err(|_| "bad attnum in catalog row")?;
            tables
                .entry(oid)
                .or_insert_with(|| Table {
                    schema: schema.clone(),
                    name: table.clone(),
                    columns: HashMap::new(),
                    fetched: Instant::now(),
                })
                .columns
                .insert(attnum, column.clone());
        }
        Ok(tables.into_iter().collect())
    }

    /// Every column of the table the analyser calls `table` (`name` or
    /// `schema.name`), resolved as the catalog connection's search path
    /// resolves it. Empty when there is no such table.
    async fn table_columns(
        &self,
        connection: &ConnectionConfig,
        table: &str,
        max_message: usize,
    ) -> Result<Vec<ColumnName>, String> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(connect(connection, max_message).await?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err("no catalog connection".into());
        };
        // The name as an identifier (each part quoted, as the analyser
        // already case-normalised it) inside a string literal.
        let ident = table
            .split('.')
            .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(".");
        let literal = ident.replace('\'', "''");
        let sql = format!(
            "SELECT n.nspname, c.relname, a.attname \
             FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid \
             WHERE c.oid = pg_catalog.to_regclass('{literal}') AND a.attnum > 0 AND NOT a.attisdropped"
        );
        let rows = tokio::time::timeout(QUERY_TIMEOUT, conn.rows(&sql, max_message))
            .await
            .unwrap_or_else(|_| Err("the target did not answer in time".into()));
        let rows = rows.inspect_err(|_| *slot = None)?;
        rows.into_iter()
            .map(|row| match row.as_slice() {
                [schema, table, column] => Ok(ColumnName {
                    schema: schema.clone(),
                    table: table.clone(),
                    column: column.clone(),
                }),
                _ => Err("unexpected catalog row".to_string()),
            })
            .collect()
    }
}

async fn connect(connection: &ConnectionConfig, max_message: usize) -> Result<CatalogConn, String> {
    let target = &connection.target;
    let tls = crate::tls::target_config(target.tls, target.ca_file.as_deref())
        .map_err(|e| e.to_string())?;
    let params = [(
        "application_name".to_string(),
        "airlock-catalog".to_string(),
    )];
    let up = tokio::time::timeout(
        QUERY_TIMEOUT,
        upstream::connect(target, tls, &params, max_message),
    )
    .await
    .map_err(|_| "the target did not answer in time".to_string())?
    .map_err(|e| e.to_string())?;
    Ok(CatalogConn {
        io: up.io,
        buf: up.leftover,
    })
}

impl CatalogConn {
    /// Runs one query; its rows as text.
    async fn rows(&mut self, sql: &str, max_message: usize) -> Result<Vec<Vec<String>>, String> {
        let mut out = BytesMut::new();
        out.put_u8(b'Q');
        out.put_i32(4 + sql.len() as i32 + 1);
        out.put_slice(sql.as_bytes());
        out.put_u8(0);
        self.io.write_all(&out).await.map_err(|e| e.to_string())?;
        let mut rows = Vec::new();
        let mut error = None;
        loop {
            let f =
                match frame::take_frame(&mut self.buf, max_message).map_err(|e| e.to_string())? {
                    Some(f) => f,
                    None => {
                        if self
                            .io
                            .read_buf(&mut self.buf)
                            .await
                            .map_err(|e| e.to_string())?
                            == 0
                        {
                            return Err("the target closed the catalog connection".into());
                        }
                        continue;
                    }
                };
            match f.tag {
                b'D' => rows.push(text_row(&f.body).ok_or("malformed catalog row")?),
                b'E' => error = Some(crate::wire::error_fields(&f.body).1),
                b'Z' => break,
                _ => {}
            }
        }
        match error {
            Some(e) => Err(format!("catalog query failed: {e}")),
            None => Ok(rows),
        }
    }
}

fn text_row(body: &[u8]) -> Option<Vec<String>> {
    let mut r = Reader::new(body, "DataRow");
    let n = r.i16().ok()?;
    let mut row = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n {
        let len = r.i32().ok()?;
        let bytes = r.take(usize::try_from(len).ok()?).ok()?;
        row.push(String::from_utf8_lossy(bytes).into_owned());
    }
    Some(row)
}
