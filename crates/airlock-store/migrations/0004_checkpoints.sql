-- Checkpoints and retention (docs/audit.md, "Checkpoints", "Retention").
--
-- A checkpoint is also a record of the chain (kind 'checkpoint'), so that
-- it is protected by the chain and reaches exports and sinks. The CHECK
-- on `kind` cannot be altered in place in SQLite, so `audit_log` is
-- rebuilt as it was with the new kind allowed: one copy of the table, once.
-- Its index and triggers go with the old table and are made again below;
-- nothing else refers to it.
CREATE TABLE audit_log_new (
    seq          INTEGER NOT NULL PRIMARY KEY,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('session.start', 'command', 'outcome', 'session.end',
                                 'checkpoint')),
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

CREATE INDEX audit_log_by_session ON audit_log (session_id, seq);

-- Every checkpoint and anchor, also kept outside the chain: cutting the
-- chain's tail removes the checkpoint records in it, but a row here still
-- vouches for the seq the chain should reach.
CREATE TABLE audit_checkpoint (
    -- Where the checkpoint's own record is in the chain.
    record_seq  INTEGER NOT NULL PRIMARY KEY,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('checkpoint', 'anchor')),
    -- The record vouched for, and its hash.
    seq         INTEGER NOT NULL,
    hash        BLOB    NOT NULL,
    at          INTEGER NOT NULL,
    -- Both NULL only for an anchor written without a signing key.
    public_key  BLOB,
    signature   BLOB,
    CHECK ((public_key IS NULL) = (signature IS NULL))
);

-- The latest anchor, the latest checkpoint and the rows older than the
-- anchor are all looked up by seq, the anchor on every deleted record.
CREATE INDEX audit_checkpoint_by_purpose ON audit_checkpoint (purpose, seq);
CREATE INDEX audit_checkpoint_by_seq ON audit_checkpoint (seq);

-- As in 0002, not a defence but a guard against honest mistakes. Records
-- may now be deleted, but only up to the latest anchor: retention writes
-- the anchor first, then prunes behind it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN old.seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint WHERE purpose = 'anchor')
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only above its retention anchor');
END;

CREATE TRIGGER audit_checkpoint_no_update BEFORE UPDATE ON audit_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only');
END;

-- Only checkpoints of records already pruned may go.
CREATE TRIGGER audit_checkpoint_no_delete BEFORE DELETE ON audit_checkpoint
WHEN old.seq >= (SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoint WHERE purpose = 'anchor')
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoint is append-only above the retention anchor');
END;
