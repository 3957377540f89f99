use anyhow::bail;

use airlock_core::Config;
use airlock_core::access::valid_name;
use airlock_core::tokens;
use airlock_store::{IdentityKind, StoreError};

use crate::cli::IdentityCmd;
use crate::context::open_store;

pub async fn run(config: Config, cmd: IdentityCmd) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    match cmd {
        IdentityCmd::Add {
            name,
            agent,
            groups,
            person,
        } => {
            if !valid_name(&name) {
                bail!(
                    "{name:?} is not a valid identity name (letters, digits, - _ . @; at most 63)"
                );
            }
            if let Some(bad) = groups.iter().find(|g| !valid_name(g)) {
                bail!("{bad:?} is not a valid group name");
            }
            if let Some(bad) = person.as_ref().filter(|p| !valid_name(p)) {
                bail!("{bad:?} is not a valid person name");
            }
            let kind = if agent {
                IdentityKind::Agent
            } else {
                IdentityKind::User
            };
            let mut new = tokens::new_identity(&name, kind, groups);
            new.person = person;
            match store.add_identity(&new).await {
                Ok(added) => println!("added {} {}", added.kind.as_str(), added.name),
                Err(StoreError::AlreadyExists(_)) => bail!("identity {name:?} already exists"),
                Err(e) => return Err(e.into()),
            }
        }
        IdentityCmd::List(json) => {
            let all = store.list_identities().await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                println!(
                    "{:<24} {:<6} {:<30} {:<24} CREATED",
                    "NAME", "KIND", "GROUPS", "PERSON"
                );
                for i in all {
                    println!(
                        "{:<24} {:<6} {:<30} {:<24} {}",
                        i.name,
                        i.kind.as_str(),
                        i.groups.join(","),
                        // Without one, the identity is its own person.
                        i.person.as_deref().unwrap_or("-"),
                        super::when(i.created_at)
                    );
                }
            }
        }
    }
    Ok(())
}
