-- The audit chain (docs/audit.md): every session start, command, outcome
-- and session end, in commit order, each record carrying the hash of the
-- one before it. `sessions` stays as the mutable per-session summary.
--
-- `events` is dropped rather than migrated: its rows lack what a chain
-- record holds (parameter values, rules), and no deployment relies on
-- them yet.
DROP TABLE events;

CREATE TABLE audit_log (
    -- 1..n without gaps; assigned by the writer, not by SQLite, so a gap
    -- always means a removed record. Not hashed: the prev_hash links carry
    -- the order, which lets verification tell a move from an edit.
    seq          INTEGER NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('session.start', 'command', 'outcome', 'session.end')),
    -- command: its own id; outcome: '<command id>/outcome';
    -- session.start / session.end: '<session id>/start', '<session id>/end'.
    -- Unique, which is also how an outcome is found from its command.
    id           TEXT    NOT NULL UNIQUE,
    at           INTEGER NOT NULL,
    session_id   TEXT    NOT NULL,
    identity     TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    -- JSON of the kind's own fields, hashed exactly as stored.
    body         TEXT    NOT NULL,
    prev_hash    BLOB    NOT NULL,
    hash         BLOB    NOT NULL
);

CREATE INDEX audit_log_by_session ON audit_log (session_id, seq);
-- No index on `hash`: hashes are random, so every insert would land on a
-- random page of that index, and writing 2 million records went from
-- about 106 000 to 27 000 records/s with it. Only verification of a
-- broken log looks a record up by hash (to tell a moved record from a
-- missing one), and one scan of the table then is cheap by comparison.

-- Not a defence (whoever can write the file can drop these): they stop an
-- honest mistake, such as an UPDATE typed into the wrong shell, from
-- damaging the chain. The hashes are what detect deliberate changes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
