//! Pairing commands with their outcomes before a batch reaches the store.
//!
//! Most commands finish well within the writer's linger, so a command and
//! its outcome usually travel to the store in the same batch. Written as
//! one record ([`WriteOp::Finished`]) they cost the store one row, one
//! entry in each index and one link of the chain instead of two of each.
//! For records held only in memory, a session's finished commands of one
//! batch then go into one record too ([`gather_runs`]).

use std::collections::HashMap;
use std::sync::Arc;

use crate::{FinishedCommand, WriteOp};

/// `ops` in the same order, each outcome whose command is earlier in the
/// batch moved into that command's place. Outcomes of commands from
/// earlier batches, and any whose session does not match their command's,
/// stay records of their own.
pub(crate) fn pair_outcomes(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut partner: Vec<Option<usize>> = vec![None; ops.len()];
    let mut absorbed = vec![false; ops.len()];
    // Ids the gateway made (`<session>-<n>`): a fast hash will do.
    let mut open: HashMap<&str, usize, foldhash::fast::RandomState> = HashMap::default();
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Command(c) => {
                open.insert(c.id.as_str(), i);
            }
            WriteOp::Outcome(o) => {
                let Some(c) = open.remove(o.event_id.as_str()) else {
                    continue;
                };
                if matches!(&ops[c], WriteOp::Command(command) if command.session_id == o.session_id)
                {
                    partner[c] = Some(i);
                    absorbed[i] = true;
                }
            }
            WriteOp::Finished(_) | WriteOp::SessionStart(_) | WriteOp::SessionEnd(_) => {}
        }
    }
    if !absorbed.contains(&true) {
        return ops;
    }
    let mut slots: Vec<Option<WriteOp>> = ops.into_iter().map(Some).collect();
    let mut paired = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        if absorbed[i] {
            continue;
        }
        let Some(op) = slots[i].take() else { continue };
        let outcome = partner[i].and_then(|j| slots[j].take());
        paired.push(match (op, outcome) {
            (WriteOp::Command(command), Some(WriteOp::Outcome(outcome))) => {
                WriteOp::Finished(Box::new(FinishedCommand {
                    command,
                    outcome,
                    then: Vec::new(),
                }))
            }
            (op, _) => op,
        });
    }
    paired
}

/// Most later commands one run carries: a record stays a few rows of
/// preview each at most, whatever the session's pace.
pub(crate) const MAX_RUN: usize = 64;

/// Latest a run's later command may be issued after its first, in
/// milliseconds; none is earlier. A run's record has its first command's
/// `at`, so a reader that selects records by time (`audit export
/// --since`) looks this far before its bound and then keeps commands by
/// their own time (`docs/audit.md`, "Runs").
pub(crate) const MAX_RUN_SPAN_MS: i64 = 1_000;

/// `ops` with each session's finished commands gathered into runs
/// ([`FinishedCommand::then`]): a finished command joins the run of the
/// same session's earlier finished command in the batch unless some other
/// op of that session (a command still running, an outcome of an earlier
/// batch's command, the session's end) lies between them. So each session's
/// records keep their order; a run takes the place of its first command.
pub(crate) fn gather_runs(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut runs: Vec<WriteOp> = Vec::with_capacity(ops.len());
    // Per session: where its open run is in `runs`.
    let mut open: HashMap<Arc<str>, usize, foldhash::fast::RandomState> = HashMap::default();
    for op in ops {
        match op {
            WriteOp::Finished(f) => {
                let at = open.get(&f.command.session_id).copied();
                if let Some(WriteOp::Finished(run)) = at.and_then(|i| runs.get_mut(i))
                    && f.then.is_empty()
                    && run.then.len() < MAX_RUN
                    && (0..=MAX_RUN_SPAN_MS)
                        .contains(&(f.command.at - run.command.at).num_milliseconds())
                    && run.command.identity == f.command.identity
                    && run.command.connection == f.command.connection
                {
                    run.then.push(*f);
                    continue;
                }
                open.insert(f.command.session_id.clone(), runs.len());
                runs.push(WriteOp::Finished(f));
            }
            other => {
                if let Some(session) = session_of(&other) {
                    open.remove(session);
                }
                runs.push(other);
            }
        }
    }
    runs
}

fn session_of(op: &WriteOp) -> Option<&str> {
    match op {
        WriteOp::SessionStart(s) => Some(&s.id),
        WriteOp::Command(c) => Some(&c.session_id),
        WriteOp::Outcome(o) => Some(&o.session_id),
        WriteOp::SessionEnd(e) => Some(&e.id),
        WriteOp::Finished(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::{CommandRecord, OutcomeRecord};

    fn command(session: &str, n: u32) -> WriteOp {
        WriteOp::Command(CommandRecord {
            id: format!("{session}/{n}"),
            session_id: session.into(),
            identity: "alice".into(),
            connection: "db".into(),
            at: Utc.timestamp_millis_opt(1_000).unwrap(),
            command: format!("SELECT {n}").into(),
            params: Default::default(),
            verdict: "allow".into(),
            rules: Vec::new(),
            review: None,
        })
    }

    fn outcome(session: &str, of: &str, n: u32) -> WriteOp {
        WriteOp::Outcome(OutcomeRecord {
            event_id: format!("{of}/{n}"),
            session_id: session.into(),
            identity: "alice".into(),
            connection: "db".into(),
            at: Utc.timestamp_millis_opt(2_000).unwrap(),
            duration_us: 5,
            rows: 1,
            bytes: 3,
            error: None,
            preview: None,
        })
    }

    /// Each op as `kind:id`, for comparing batches at a glance.
    fn shape(ops: &[WriteOp]) -> Vec<String> {
        ops.iter()
            .map(|op| match op {
                WriteOp::Command(c) => format!("command:{}", c.id),
                WriteOp::Outcome(o) => format!("outcome:{}", o.event_id),
                WriteOp::Finished(f) => {
                    assert_eq!(f.command.id, f.outcome.event_id);
                    let mut shown = format!("finished:{}", f.command.id);
                    for t in &f.then {
                        assert_eq!(t.command.id, t.outcome.event_id);
                        assert!(t.then.is_empty(), "a later command carries no run");
                        shown.push_str(&format!("+{}", t.command.id));
                    }
                    shown
                }
                WriteOp::SessionStart(s) => format!("start:{}", s.id),
                WriteOp::SessionEnd(e) => format!("end:{}", e.id),
            })
            .collect()
    }

    #[test]
    fn outcomes_join_their_commands_in_the_commands_place() {
        let ops = vec![
            command("a", 0),
            command("b", 0),
            outcome("b", "b", 0),
            outcome("a", "a", 0),
            command("a", 1),
        ];
        assert_eq!(
            shape(&pair_outcomes(ops)),
            ["finished:a/0", "finished:b/0", "command:a/1"]
        );
    }

    #[test]
    fn outcomes_without_their_command_in_the_batch_stay_apart() {
        let ops = vec![
            outcome("a", "a", 0),
            command("a", 1),
            // Claims another session's command: not trusted to belong.
            outcome("b", "a", 1),
            // A second outcome for a command already paired.
            command("c", 0),
            outcome("c", "c", 0),
            outcome("c", "c", 0),
        ];
        assert_eq!(
            shape(&pair_outcomes(ops)),
            [
                "outcome:a/0",
                "command:a/1",
                "outcome:a/1",
                "finished:c/0",
                "outcome:c/0"
            ]
        );
    }

    /// The pairing as it is specified, one record at a time: an outcome
    /// joins the latest earlier command of its id that nothing joined yet,
    /// if that command is of the outcome's session.
    fn paired_by_spec(ops: &[WriteOp]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut open: Vec<(String, String, usize)> = Vec::new();
        for op in ops {
            match op {
                WriteOp::Command(c) => {
                    open.retain(|(id, _, _)| *id != c.id);
                    open.push((c.id.clone(), c.session_id.to_string(), out.len()));
                    out.push(format!("command:{}", c.id));
                }
                WriteOp::Outcome(o) => {
                    if let Some(k) = open.iter().position(|(id, _, _)| *id == o.event_id) {
                        let (id, session, at) = open.remove(k);
                        if session == *o.session_id {
                            out[at] = format!("finished:{id}");
                            continue;
                        }
                    }
                    out.push(format!("outcome:{}", o.event_id));
                }
                other => out.extend(shape(std::slice::from_ref(other))),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn pairing_keeps_every_record_in_order_as_specified(
            script in proptest::collection::vec((0u8..3, 0u8..2, 0u32..4), 0..40)
        ) {
            let sessions = ["a", "b"];
            let ops: Vec<WriteOp> = script
                .iter()
                .map(|&(kind, session, n)| {
                    let session = sessions[usize::from(session)];
                    match kind {
                        0 => command(session, n),
                        // Mostly its own session's command, sometimes the other's.
                        1 => outcome(session, session, n),
                        _ => outcome(session, sessions[usize::from(n % 2 == 0)], n),
                    }
                })
                .collect();
            let expected = paired_by_spec(&ops);
            proptest::prop_assert_eq!(shape(&pair_outcomes(ops)), expected);
        }
    }

    fn finished(session: &str, n: u32) -> WriteOp {
        match pair_outcomes(vec![command(session, n), outcome(session, session, n)]).pop() {
            Some(op @ WriteOp::Finished(_)) => op,
            other => panic!("not paired: {other:?}"),
        }
    }

    fn end(session: &str) -> WriteOp {
        WriteOp::SessionEnd(crate::SessionEnd {
            id: session.into(),
            identity: "alice".into(),
            connection: "db".into(),
            ended_at: Utc.timestamp_millis_opt(3_000).unwrap(),
            end_reason: "client".into(),
            commands: 0,
            rows: 0,
            bytes_to_client: 0,
        })
    }

    #[test]
    fn a_sessions_finished_commands_make_one_run_in_the_place_of_its_first() {
        let ops = vec![
            finished("a", 0),
            finished("b", 0),
            finished("a", 1),
            finished("b", 1),
            finished("a", 2),
        ];
        assert_eq!(
            shape(&gather_runs(ops)),
            ["finished:a/0+a/1+a/2", "finished:b/0+b/1"]
        );
    }

    /// Another record of the session between two finished commands ends
    /// the run, so the session's records keep their order.
    #[test]
    fn any_other_record_of_the_session_ends_its_run() {
        let ops = vec![
            finished("a", 0),
            finished("a", 1),
            // Still running when the batch was taken.
            command("a", 2),
            finished("b", 0),
            finished("a", 3),
            outcome("b", "b", 9),
            finished("b", 1),
            finished("a", 4),
            end("a"),
            finished("a", 5),
        ];
        assert_eq!(
            shape(&gather_runs(ops)),
            [
                "finished:a/0+a/1",
                "command:a/2",
                "finished:b/0",
                "finished:a/3+a/4",
                "outcome:b/9",
                "finished:b/1",
                "end:a",
                "finished:a/5",
            ]
        );
    }

    #[test]
    fn a_run_carries_at_most_max_run_later_commands() {
        // A first command and MAX_RUN later ones, then a run of two.
        let n = u32::try_from(MAX_RUN).unwrap() + 3;
        let runs = gather_runs((0..n).map(|i| finished("a", i)).collect());
        let lengths: Vec<usize> = runs
            .iter()
            .map(|op| match op {
                WriteOp::Finished(f) => f.then.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(lengths, [MAX_RUN, 1]);
    }

    /// A record has one identity and connection: a command claiming other
    /// ones under the same session starts a run of its own.
    #[test]
    fn a_run_keeps_one_identity_and_connection() {
        let mallory = |n| {
            let mut op = finished("a", n);
            if let WriteOp::Finished(f) = &mut op {
                f.command.identity = "mallory".into();
            }
            op
        };
        let ops = vec![finished("a", 0), mallory(1), mallory(2)];
        assert_eq!(
            shape(&gather_runs(ops)),
            ["finished:a/0", "finished:a/1+a/2"]
        );
    }

    /// A run spans at most MAX_RUN_SPAN_MS from its first command, and a
    /// command issued before it (a clock stepped back) starts a new one.
    #[test]
    fn a_run_spans_at_most_a_second_from_its_first_command() {
        let at = |n: u32, ms: i64| {
            let mut op = finished("a", n);
            if let WriteOp::Finished(f) = &mut op {
                f.command.at = Utc.timestamp_millis_opt(ms).unwrap();
            }
            op
        };
        let ops = vec![
            at(0, 10_000),
            at(1, 10_000 + MAX_RUN_SPAN_MS),
            at(2, 10_001 + MAX_RUN_SPAN_MS),
            at(3, 9_000),
        ];
        assert_eq!(
            shape(&gather_runs(ops)),
            ["finished:a/0+a/1", "finished:a/2", "finished:a/3"]
        );
    }
}
