//! `airlock replay SESSION`: a recorded session played back as it
//! happened — each command with its verdict, its outcome and the masked
//! preview of its result, paced by the real gaps between commands.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::{Context, bail};

use airlock_core::Config;
use airlock_store::{EventRecord, OutcomeRecord, Preview, ReviewRef, SessionRecord};

use crate::cli::ReplayArgs;
use crate::context::open_store;

/// Terminal width the preview tables are fitted to.
const WIDTH: usize = 100;
const INDENT: &str = "    ";
/// Preview rows shown per command; the store may keep more.
const MAX_ROWS: usize = 20;
/// Below this a column is not narrowed further; columns that still do not
/// fit are left out and counted instead.
const MIN_COLUMN: usize = 4;
/// A wait this long is announced, so a quiet screen is not taken for a
/// hang.
const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);

pub async fn run(config: Config, args: ReplayArgs) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        bail!("--speed must be a positive number, not {}", args.speed);
    }
    let store = open_store(&config).await?;
    let session = store
        .session(&args.session)
        .await?
        .with_context(|| format!("no session {:?}", args.session))?;
    let events = store.session_events(&session.id).await?;
    if args.json {
        let doc = serde_json::json!({ "session": session, "events": events });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let mut out = io::stdout();
    header(&mut out, &session, events.len())?;
    let mut previous: Option<&EventRecord> = None;
    for event in &events {
        if let Some(before) = previous.filter(|_| !args.no_wait) {
            let gap = (event.command.at - before.command.at)
                .to_std()
                .unwrap_or_default()
                .div_f64(args.speed);
            if gap >= ANNOUNCE_WAIT {
                writeln!(
                    out,
                    "{INDENT}… {}",
                    humantime::format_duration(whole_secs(gap))
                )?;
            }
            out.flush()?;
            tokio::time::sleep(gap).await;
        }
        command(&mut out, &session, event)?;
        previous = Some(event);
    }
    out.flush()?;
    Ok(())
}

fn whole_secs(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

fn header(out: &mut impl Write, s: &SessionRecord, recorded: usize) -> io::Result<()> {
    writeln!(out, "session    {}", s.id)?;
    writeln!(out, "identity   {}", clean(&s.identity))?;
    writeln!(out, "connection {} ({})", clean(&s.connection), s.protocol)?;
    writeln!(out, "client     {}", s.client_addr)?;
    writeln!(out, "started    {}", super::when(s.started_at))?;
    match s.ended_at {
        Some(t) => writeln!(
            out,
            "ended      {} ({})",
            super::when(t),
            clean(s.end_reason.as_deref().unwrap_or(""))
        )?,
        None => writeln!(out, "ended      (active)")?,
    }
    writeln!(out, "commands   {recorded} recorded")
}

fn command(out: &mut impl Write, s: &SessionRecord, e: &EventRecord) -> io::Result<()> {
    let c = &e.command;
    let offset = (c.at - s.started_at).num_milliseconds() as f64 / 1000.0;
    let rules = if c.rules.is_empty() {
        String::new()
    } else {
        format!("  rules: {}", clean(&c.rules.join(", ")))
    };
    writeln!(out)?;
    writeln!(
        out,
        "[+{offset:.3}s] {}  {}{rules}",
        c.at.format("%H:%M:%S%.3f"),
        clean(&c.verdict)
    )?;
    for line in c.command.lines() {
        writeln!(out, "{INDENT}{}", clean(line))?;
    }
    if !c.params.is_empty() {
        let params: Vec<String> = c
            .params
            .iter()
            .enumerate()
            .map(|(n, p)| match p {
                Some(v) => format!("${} = '{}'", n + 1, clean(v)),
                None => format!("${} = NULL", n + 1),
            })
            .collect();
        writeln!(out, "{INDENT}params: {}", params.join(", "))?;
    }
    if let Some(r) = &c.review {
        writeln!(out, "{INDENT}review: {}", clean(&review(r)))?;
    }
    match &e.outcome {
        None => writeln!(
            out,
            "{INDENT}-> no outcome recorded (still running, or the gateway stopped)"
        ),
        Some(o) => outcome(out, o),
    }
}

/// What became of a gated command's review, in one line.
fn review(r: &ReviewRef) -> String {
    let id = r.id.as_deref().unwrap_or("-");
    let by = r.by.join(", ");
    match r.state.as_str() {
        "approved" => format!("approved by {by} ({id})"),
        "denied" => format!("denied by {by} ({id})"),
        "granted" => format!(
            "ran on grant {} of review {id} (approved by {by})",
            r.grant.as_deref().unwrap_or("-")
        ),
        "pending" => format!("undecided when the hold ended ({id}, pending)"),
        "cancelled" => format!("withdrawn by the client ({id}, cancelled)"),
        "failed" => "the review could not be recorded; not run".to_string(),
        "too-many-pending" => "refused: too many reviews of this identity pending".to_string(),
        other => format!("{other} ({id})"),
    }
}

fn outcome(out: &mut impl Write, o: &OutcomeRecord) -> io::Result<()> {
    let ms = o.duration_us as f64 / 1000.0;
    match &o.error {
        Some(err) => writeln!(out, "{INDENT}-> error after {ms:.3} ms: {}", clean(err))?,
        None => writeln!(
            out,
            "{INDENT}-> {} rows, {} bytes in {ms:.3} ms",
            o.rows, o.bytes
        )?,
    }
    if let Some(p) = &o.preview {
        for line in table(p, WIDTH - INDENT.len()) {
            writeln!(out, "{INDENT}{line}")?;
        }
    }
    Ok(())
}

/// The preview as an aligned text table at most `width` characters wide:
/// wide columns are narrowed first, values cut with `…`, and columns that
/// cannot fit at all are left out and counted.
fn table(p: &Preview, width: usize) -> Vec<String> {
    if p.columns.is_empty() {
        return Vec::new();
    }
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .take(MAX_ROWS)
        .map(|r| {
            (0..p.columns.len())
                .map(|i| match r.get(i) {
                    Some(Some(v)) => clean(v),
                    Some(None) => "NULL".to_string(),
                    None => String::new(),
                })
                .collect()
        })
        .collect();
    let headers: Vec<String> = p.columns.iter().map(|c| clean(c)).collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([h.chars().count()])
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    let fits = |w: &[usize]| w.iter().sum::<usize>() + 3 * w.len().saturating_sub(1) <= width;
    while !fits(&widths) {
        match widths.iter_mut().filter(|w| **w > MIN_COLUMN).max() {
            Some(widest) => *widest -= 1,
            None => break,
        }
    }
    let mut shown = widths.len();
    while shown > 1 && !fits(&widths[..shown]) {
        shown -= 1;
    }
    let widths = &widths[..shown];
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, &w)| format!("{:<w$}", cut(c, w)))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut lines = vec![line(&headers)];
    lines.push(
        widths
            .iter()
            .map(|&w| "-".repeat(w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    lines.extend(rows.iter().map(|r| line(r)));
    let hidden_columns = p.columns.len() - shown;
    let hidden_rows = p.rows.len() - rows.len();
    let mut notes = Vec::new();
    if hidden_columns > 0 {
        notes.push(format!("{hidden_columns} more columns not shown"));
    }
    if hidden_rows > 0 {
        notes.push(format!("{hidden_rows} more preview rows not shown"));
    }
    if p.truncated {
        notes.push("the result had more rows than the preview keeps".to_string());
    }
    if !notes.is_empty() {
        lines.push(format!("({})", notes.join("; ")));
    }
    lines
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Recorded text came from clients and databases: control characters are
/// shown escaped, so a value cannot move the cursor, recolour or retitle
/// the terminal of whoever replays it.
fn clean(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(columns: &[&str], rows: &[&[Option<&str>]]) -> Preview {
        Preview {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
                .collect(),
            truncated: false,
        }
    }

    #[test]
    fn small_tables_are_aligned_and_nulls_named() {
        let p = preview(
            &["id", "email"],
            &[&[Some("1"), Some("a@x")], &[Some("22"), None]],
        );
        assert_eq!(
            table(&p, 96),
            ["id | email", "---+------", "1  | a@x", "22 | NULL"]
        );
    }

    #[test]
    fn wide_values_are_cut_to_fit() {
        let long = "x".repeat(300);
        let p = preview(&["id", "blob"], &[&[Some("1"), Some(long.as_str())]]);
        let lines = table(&p, 96);
        assert!(lines.iter().all(|l| l.chars().count() <= 96), "{lines:?}");
        assert!(lines[2].ends_with('…'), "{lines:?}");
        assert!(lines[2].starts_with("1  | xxx"), "{lines:?}");
    }

    #[test]
    fn columns_that_cannot_fit_are_counted() {
        let columns: Vec<String> = (0..40).map(|n| format!("column_{n}")).collect();
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let p = preview(&names, &[]);
        let lines = table(&p, 96);
        assert!(lines.iter().all(|l| l.chars().count() <= 96), "{lines:?}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.contains("more columns not shown")),
            "{lines:?}"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("a\u{1b}[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(clean("plain"), "plain");
    }
}
