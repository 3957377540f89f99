-- A session's commands are found through the unique index on `id`: the
-- gateway names each command `<session id>-<8-digit sequence>`, so that
-- index already holds every session's commands together, in order. The
-- index on (session_id, seq) cost every record a third B-tree insert,
-- about a sixth of the store's CPU per record (bench/RESULTS.md, tenth
-- run). It now keeps only the commands named otherwise: those recorded
-- before the naming, and any a caller of the store names its own way.
-- `read.rs` (session_events) repeats this WHERE clause word for word, as
-- SQLite requires to use a partial index.
DROP INDEX audit_log_by_session;

CREATE INDEX audit_log_commands_named_otherwise ON audit_log (session_id, seq)
    WHERE kind = 'command' AND substr(id, 1, length(session_id) + 1) IS NOT session_id || '-';
