use anyhow::{Context, bail};
use chrono::Utc;

use airlock_core::Config;
use airlock_core::tokens;

use crate::cli::TokenCmd;
use crate::context::open_store;

pub async fn run(config: Config, cmd: TokenCmd) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    match cmd {
        TokenCmd::Issue { name, ttl } => {
            let identity = store.identity(&name).await?.with_context(|| {
                format!("unknown identity {name:?} (add it with `airlock identity add`)")
            })?;
            let issued = tokens::issue(&identity, ttl.map(Into::into), Utc::now());
            store.add_token(&issued.record).await?;
            // The secret alone on stdout, so `$(airlock token issue ...)`
            // captures exactly the token; the id goes to stderr.
            eprintln!(
                "issued {} for {}{}",
                issued.record.id,
                identity.name,
                issued
                    .record
                    .expires_at
                    .map(|t| format!(", expires {}", super::when(t)))
                    .unwrap_or_default()
            );
            println!("{}", issued.secret.expose());
        }
        TokenCmd::Revoke { id } => {
            if !store.revoke_token(&id, Utc::now()).await? {
                bail!("no token with id {id:?}");
            }
            println!("revoked {id}");
        }
        TokenCmd::List { name, json } => {
            let all = store.list_tokens(name.as_deref()).await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!(
                    "{:<18} {:<20} {:<20} {:<20} STATE",
                    "ID", "IDENTITY", "CREATED", "EXPIRES"
                );
                let now = Utc::now();
                for t in all {
                    let state = match tokens::judge(&t, now) {
                        Ok(()) => "live".to_string(),
                        Err(tokens::TokenRejection::Revoked(_)) => "revoked".into(),
                        Err(_) => "expired".into(),
                    };
                    println!(
                        "{:<18} {:<20} {:<20} {:<20} {}",
                        t.id,
                        t.identity,
                        super::when(t.created_at),
                        t.expires_at
                            .map(super::when)
                            .unwrap_or_else(|| "never".into()),
                        state
                    );
                }
            }
        }
    }
    Ok(())
}
