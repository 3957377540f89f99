use anyhow::Context;

use airlock_core::Config;

use crate::cli::SessionsCmd;
use crate::context::open_store;

pub async fn run(config: Config, cmd: SessionsCmd) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    match cmd {
        SessionsCmd::List { limit, json } => {
            let sessions = store.list_sessions(limit).await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&sessions)?);
                return Ok(());
            }
            println!(
                "{:<36} {:<16} {:<16} {:<19} {:>8} {:>8}  END",
                "ID", "IDENTITY", "CONNECTION", "STARTED", "COMMANDS", "ROWS"
            );
            for s in sessions {
                println!(
                    "{:<36} {:<16} {:<16} {:<19} {:>8} {:>8}  {}",
                    s.id,
                    s.identity,
                    s.connection,
                    super::when(s.started_at),
                    s.commands,
                    s.rows,
                    s.end_reason.as_deref().unwrap_or("(active)")
                );
            }
        }
        SessionsCmd::Show { id, json } => {
            let session = store
                .session(&id)
                .await?
                .with_context(|| format!("no session {id:?}"))?;
            let events = store.session_events(&session.id).await?;
            if json.json {
                let doc = serde_json::json!({ "session": session, "events": events });
                println!("{}", serde_json::to_string_pretty(&doc)?);
                return Ok(());
            }
            println!("session    {}", session.id);
            println!("identity   {}", session.identity);
            println!("connection {} ({})", session.connection, session.protocol);
            println!("client     {}", session.client_addr);
            println!("started    {}", super::when(session.started_at));
            match session.ended_at {
                Some(t) => println!(
                    "ended      {} ({})",
                    super::when(t),
                    session.end_reason.as_deref().unwrap_or("")
                ),
                None => println!("ended      (active)"),
            }
            println!(
                "totals     {} commands, {} rows, {} bytes to client",
                session.commands, session.rows, session.bytes_to_client
            );
            println!();
            for e in events {
                let c = &e.command;
                let (duration, outcome) = match &e.outcome {
                    None => ("-".to_string(), "no outcome recorded".to_string()),
                    Some(o) => (
                        format!("{:.3}", o.duration_us as f64 / 1000.0),
                        match &o.error {
                            Some(err) => format!("error {err}"),
                            None => format!("{} rows, {} bytes", o.rows, o.bytes),
                        },
                    ),
                };
                let params = if c.params.is_empty() {
                    String::new()
                } else {
                    format!(" [{} params]", c.params.len())
                };
                println!(
                    "{}  {:<6} {:>8} ms  {}{}\n    -> {}",
                    c.at.format("%H:%M:%S%.3f"),
                    c.verdict,
                    duration,
                    one_line(&c.command),
                    params,
                    outcome
                );
            }
        }
    }
    Ok(())
}

/// Commands can span lines; a listing shows each on one.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        format!("{}…", flat.chars().take(200).collect::<String>())
    } else {
        flat
    }
}
