//! `airlock grants …`: what approvals let identities run, through the API.

use chrono::Utc;

use crate::api::model::{Grant, GrantKind};
use crate::cli::GrantsCmd;

use super::api_client::{ApiClient, segment};
use super::when;

pub async fn run(mut api: ApiClient, cmd: GrantsCmd) -> anyhow::Result<()> {
    match cmd {
        GrantsCmd::List { all, json } => {
            let grants: Vec<Grant> = api.get(&format!("/api/v1/grants?all={all}")).await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&grants)?);
            } else if grants.is_empty() {
                println!("{}", if all { "no grants" } else { "no live grants" });
            } else {
                print_table(&grants);
            }
        }
        GrantsCmd::Revoke { id } => {
            let grant: Grant = api
                .post(
                    &format!("/api/v1/grants/{}/revoke", segment(&id)),
                    &serde_json::json!({}),
                )
                .await?;
            println!(
                "revoked {} ({} may no longer run what review {} approved)",
                grant.id, grant.identity, grant.review_id
            );
        }
    }
    Ok(())
}

fn print_table(grants: &[Grant]) {
    let now = Utc::now();
    println!(
        "{:<15} {:<6} {:<16} {:<16} {:<15} {:<19} {:>4}  {:<7}  APPROVED BY",
        "ID", "KIND", "IDENTITY", "CONNECTION", "REVIEW", "EXPIRES", "USES", "STATUS"
    );
    for g in grants {
        let kind = match g.kind {
            GrantKind::Once => "once",
            GrantKind::Window => "window",
        };
        println!(
            "{:<15} {:<6} {:<16} {:<16} {:<15} {:<19} {:>4}  {:<7}  {}",
            g.id,
            kind,
            g.identity,
            g.connection,
            g.review_id,
            when(g.expires_at),
            g.uses,
            g.status(now),
            g.approved_by.join(", ")
        );
    }
}
