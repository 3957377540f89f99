-- The partial index of 0006, with a WHERE clause that keeps the same
-- commands (those whose id does not start with their session's id and
-- `-`) and costs each inserted record less. SQLite evaluates the clause
-- for every command record it inserts: 0006's spent about 2 500
-- instructions a record on `length`, `substr`, `||` and the comparison;
-- `instr` of the id prefix does in two calls what those did in four, and
-- the store's `write_cost` runs 2.5 % fewer instructions
-- (bench/RESULTS.md, nineteenth run). `instr` is 1 exactly when the id
-- starts with the prefix. `read.rs` (session_events) repeats this WHERE
-- clause word for word, as SQLite requires to use a partial index.
--
-- Made again from the log: one pass over it, once.
DROP INDEX audit_log_commands_named_otherwise;

CREATE INDEX audit_log_commands_named_otherwise ON audit_log (session_id, seq)
    WHERE kind = 'command' AND instr(id, session_id || '-') IS NOT 1;
