-- The same `audit_log`, with its CHECK on `kind` written as comparisons.
--
-- SQLite evaluates `kind IN (<five constants>)` in a CHECK by filling an
-- ephemeral table with the five values and probing it, and it fills the
-- table afresh for every row of a multi-row INSERT: five B-tree inserts
-- and a clear per record, more than the record's own two inserts (its
-- row and the index on `id`). Under callgrind, `write_cost` spent 35 %
-- fewer instructions in SQLite's VM with the comparisons
-- (bench/RESULTS.md, thirteenth run). The accepted kinds are unchanged.
--
-- A CHECK cannot be altered in place, so the table is rebuilt as 0004
-- did: one copy, once; its indexes and triggers are made again below.
CREATE TABLE audit_log_new (
    seq          INTEGER NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL
                 CHECK (kind = 'session.start' OR kind = 'command' OR kind = 'outcome'
                        OR kind = 'session.end' OR kind = 'checkpoint'),
    id           TEXT    NOT NULL UNIQUE,
    at           INTEGER NOT NULL,
    session_id   TEXT    NOT NULL,
    identity     TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    prev_hash    BLOB    NOT NULL,
    hash         BLOB    NOT NULL
);

INSERT INTO audit_log_new (seq, kind, id, at, session_id, identity, connection, body,
                           prev_hash, hash)
SELECT seq, kind, id, at, session_id, identity, connection, body, prev_hash, hash
FROM audit_log ORDER BY seq;

DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;

-- As 0006 made it; `read.rs` repeats its WHERE clause word for word.
CREATE INDEX audit_log_commands_named_otherwise ON audit_log (session_id, seq)
    WHERE kind = 'command' AND substr(id, 1, length(session_id) + 1) IS NOT session_id || '-';

-- As 0004 made them.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN old.seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint WHERE purpose = 'anchor')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only above its retention anchor');
END;
