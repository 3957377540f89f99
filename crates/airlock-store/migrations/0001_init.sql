-- Timestamps are INTEGER unix milliseconds and there are no SQLite-only
-- types, so the same schema ports to PostgreSQL (BIGINT, BYTEA, TEXT).

CREATE TABLE identities (
    name        TEXT    NOT NULL PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'agent')),
    -- JSON array of group names: groups are only ever read with their identity.
    groups      TEXT    NOT NULL DEFAULT '[]',
    scram_salt  BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    id                TEXT    NOT NULL PRIMARY KEY,
    identity          TEXT    NOT NULL REFERENCES identities (name) ON DELETE CASCADE,
    secret_sha256     BLOB    NOT NULL,
    scram_iterations  INTEGER NOT NULL,
    scram_stored_key  BLOB    NOT NULL,
    scram_server_key  BLOB    NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    revoked_at        INTEGER
);

CREATE INDEX tokens_by_identity ON tokens (identity);
CREATE UNIQUE INDEX tokens_by_secret_sha256 ON tokens (secret_sha256);

-- Sessions and events are audit records: no foreign key to identities, so
-- removing an identity never removes or blocks its history, and no foreign key
-- from events to sessions, so one inconsistent op cannot wedge the writer's
-- retried batch forever.
CREATE TABLE sessions (
    id               TEXT    NOT NULL PRIMARY KEY,
    identity         TEXT    NOT NULL,
    connection       TEXT    NOT NULL,
    protocol         TEXT    NOT NULL,
    client_addr      TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    end_reason       TEXT,
    commands         INTEGER NOT NULL DEFAULT 0,
    rows             INTEGER NOT NULL DEFAULT 0,
    bytes_to_client  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sessions_by_started_at ON sessions (started_at);

CREATE TABLE events (
    -- Insertion order, which is the order the session issued its commands;
    -- `at` alone can tie at millisecond resolution.
    seq          INTEGER NOT NULL PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    session_id   TEXT    NOT NULL,
    identity     TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    command      TEXT    NOT NULL,
    param_count  INTEGER NOT NULL,
    verdict      TEXT    NOT NULL,
    rows         INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,
    error        TEXT
);

CREATE INDEX events_by_session ON events (session_id, seq);
