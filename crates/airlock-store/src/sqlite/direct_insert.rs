//! Chain records inserted through SQLite's own API, on the caller's thread.
//!
//! Through sqlx every bound value is boxed into its argument list, copied
//! again for the connection's worker thread and copied a third time into
//! SQLite (`SQLITE_TRANSIENT`), and every statement is a round trip to
//! that thread: binding a record's ten values cost about half as much as
//! SQLite's work to store it (bench/RESULTS.md, thirteenth run). Here the
//! connection is borrowed from sqlx for the duration of a run of records
//! (it stays inside the caller's transaction), one statement is prepared,
//! and each record's values are bound where they lie (`SQLITE_STATIC`):
//! they stay put until the statement is reset, before the record is
//! dropped.

use std::ffi::{CStr, c_char, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;

use super::batch::Linked;
use crate::StoreError;

/// One record per step: a statement of many rows did not do better
/// (bench/RESULTS.md, thirteenth run).
const INSERT: &CStr = c"INSERT INTO audit_log (seq, kind, id, at, session_id, identity, \
    connection, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

/// Why a record did not go in: SQLite's result code and message.
pub(super) struct Failure {
    unique_violation: bool,
    message: String,
}

impl Failure {
    fn of(db: *mut ffi::sqlite3, rc: c_int) -> Failure {
        // SAFETY: `db` is the open connection the caller holds locked;
        // the message is copied before any other call on it.
        let (code, message) = unsafe {
            let text = ffi::sqlite3_errmsg(db);
            let message = if text.is_null() {
                String::new()
            } else {
                CStr::from_ptr(text).to_string_lossy().into_owned()
            };
            (ffi::sqlite3_extended_errcode(db), message)
        };
        Failure {
            unique_violation: matches!(
                code,
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            message: format!("{message} (SQLite code {code}, result {rc})"),
        }
    }

    pub(super) fn into_error(self, first_id: &str, last_id: &str) -> StoreError {
        if self.unique_violation {
            // Only a caller reusing ids gets here (a retried batch is
            // recognised before inserting), so say which records collided.
            StoreError::AlreadyExists(format!("an audit record among ids {first_id} … {last_id}"))
        } else {
            StoreError::Sqlite(self.message)
        }
    }
}

/// A prepared statement, finalized when dropped.
struct Statement {
    db: *mut ffi::sqlite3,
    stmt: NonNull<ffi::sqlite3_stmt>,
}

impl Statement {
    fn prepare(db: *mut ffi::sqlite3, sql: &CStr) -> Result<Statement, Failure> {
        let mut stmt = ptr::null_mut();
        // SAFETY: `db` is open and ours while the caller holds its lock;
        // `sql` is NUL-terminated (-1: read up to the NUL).
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, ptr::null_mut()) };
        match NonNull::new(stmt) {
            Some(stmt) if rc == ffi::SQLITE_OK => Ok(Statement { db, stmt }),
            _ => Err(Failure::of(db, rc)),
        }
    }

    fn int(&mut self, n: c_int, value: i64) -> Result<(), Failure> {
        // SAFETY: a live statement; `n` is one of its parameters.
        self.check(unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), n, value) })
    }

    /// Binds `value` without copying it: it must outlive the next `step`
    /// and `reset`, which `insert` guarantees by resetting before the
    /// record it came from is dropped.
    fn text(&mut self, n: c_int, value: &str) -> Result<(), Failure> {
        // SAFETY: as above; the bytes are valid UTF-8 of the given length.
        self.check(unsafe {
            ffi::sqlite3_bind_text64(
                self.stmt.as_ptr(),
                n,
                value.as_ptr().cast::<c_char>(),
                value.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        })
    }

    fn blob(&mut self, n: c_int, value: &[u8]) -> Result<(), Failure> {
        // SAFETY: as for `text`.
        self.check(unsafe {
            ffi::sqlite3_bind_blob64(
                self.stmt.as_ptr(),
                n,
                value.as_ptr().cast(),
                value.len() as u64,
                ffi::SQLITE_STATIC(),
            )
        })
    }

    /// Runs the statement once and resets it, unbinding nothing: every
    /// parameter is bound again before the next run.
    fn run(&mut self) -> Result<(), Failure> {
        // SAFETY: a live statement with all parameters bound.
        let rc = unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) };
        // The reset releases the borrowed values; its code repeats the
        // step's, which is the one reported.
        // SAFETY: as above.
        unsafe { ffi::sqlite3_reset(self.stmt.as_ptr()) };
        if rc == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(Failure::of(self.db, rc))
        }
    }

    fn check(&self, rc: c_int) -> Result<(), Failure> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(Failure::of(self.db, rc))
        }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: prepared by `prepare`, finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

/// Inserts `records` in order on `db`, which the caller holds locked and
/// inside its transaction. Stops at the first failure; the caller's
/// transaction then rolls back whatever went in.
pub(super) fn insert<'a>(
    db: NonNull<ffi::sqlite3>,
    records: impl Iterator<Item = Linked<'a>>,
) -> Result<(), Failure> {
    let mut stmt = Statement::prepare(db.as_ptr(), INSERT)?;
    for r in records {
        stmt.int(1, r.seq)?;
        stmt.text(2, r.entry.kind.as_str())?;
        stmt.text(3, &r.entry.id)?;
        stmt.int(4, r.entry.at)?;
        stmt.text(5, r.entry.session)?;
        stmt.text(6, r.entry.identity)?;
        stmt.text(7, r.entry.connection)?;
        stmt.text(8, &r.entry.body)?;
        stmt.blob(9, &r.prev_hash)?;
        stmt.blob(10, &r.hash)?;
        stmt.run()?;
        // `r` is dropped here, after the reset released its values.
    }
    Ok(())
}
