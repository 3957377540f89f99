-- Where each audit sink (docs/audit.md, "Sinks") has got to in the chain:
-- the seq of the last record it delivered. Sinks tail `audit_log` rather
-- than being fed by the data path, so this row is all a sink needs to
-- resume after a restart or a crash.
--
-- `name` is derived from the sink's configuration (`file:<path>`,
-- `webhook:<url without credentials or query>`): a sink whose destination
-- changes is a new sink and starts from the beginning of the log.
CREATE TABLE audit_sink_cursors (
    name  TEXT    NOT NULL PRIMARY KEY,
    seq   INTEGER NOT NULL
);
