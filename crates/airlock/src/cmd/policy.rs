//! `airlock policy test`: how rules are authored. It prints every fact the
//! analyser found, under the name a rule uses for it, and the verdict.

use std::sync::Arc;

use anyhow::Context;
use serde_json::Value;

use airlock_core::guard::SessionInfo;
use airlock_core::{Command, Config, Guard};
use airlock_policy::rules::SessionCounters;
use airlock_store::{Identity, IdentityKind};

use crate::cli::PolicyCmd;
use crate::context::open_store;

pub async fn run(config: Config, cmd: PolicyCmd) -> anyhow::Result<()> {
    let PolicyCmd::Test {
        identity,
        connection,
        agent,
        groups,
        shell,
        command,
        json,
    } = cmd;
    let config = Arc::new(config);
    let guard = Guard::new(config.clone())?;
    let store = open_store(&config).await?;
    let who = match store.identity(&identity).await? {
        Some(found) => found,
        None => {
            eprintln!(
                "note: identity {identity:?} is not in the store; testing as a hypothetical one"
            );
            Identity {
                name: identity.clone(),
                kind: if agent {
                    IdentityKind::Agent
                } else {
                    IdentityKind::User
                },
                groups,
                scram_salt: Vec::new(),
                created_at: chrono::Utc::now(),
                person: None,
            }
        }
    };
    let conn = config
        .connection(&connection)
        .with_context(|| format!("no connection {connection:?} in the configuration"))?;
    let access = guard.authorize(&who, &connection);
    let session = SessionInfo::new("policy-test".into(), who, conn);
    let command = if shell {
        Command::Shell { line: command }
    } else {
        Command::Sql {
            text: command.into(),
            param_count: 0,
        }
    };
    let judgement = guard.check(&session, SessionCounters::default(), &command);

    if json.json {
        let doc = serde_json::json!({
            "identity": session.identity_view,
            "connection": session.connection_view,
            "access": access.as_ref().map(|_| "allowed".to_string()).unwrap_or_else(|e| e.to_string()),
            "facts": *judgement.facts,
            "decision": judgement.decision,
            "verdict": judgement.verdict.label(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }

    let id = &session.identity_view;
    println!(
        "identity    {} ({}; groups: {})",
        id.name,
        id.kind,
        if id.groups.is_empty() {
            "none".into()
        } else {
            id.groups.join(", ")
        }
    );
    let cv = &session.connection_view;
    println!(
        "connection  {} ({}{})",
        cv.name,
        cv.kind,
        if cv.strict { ", strict" } else { "" }
    );
    match &access {
        Ok(_) => println!("access      allowed"),
        Err(e) => println!("access      DENIED: {e}"),
    }
    println!("command     {}", command.text());
    println!();
    let facts = serde_json::to_value(&*judgement.facts)?;
    let mut lines = Vec::new();
    flatten(
        "facts",
        &facts,
        &relevant(&judgement.facts.kind),
        &mut lines,
    );
    for line in lines {
        println!("{line}");
    }
    println!();
    println!(
        "verdict     {}",
        judgement.decision.action.as_str().to_uppercase()
    );
    if judgement.decision.fired.is_empty() {
        println!("            no rule fired");
    }
    for f in &judgement.decision.fired {
        let why = match (&f.error, &f.message) {
            (Some(e), _) => format!("condition failed to evaluate: {e}"),
            (None, Some(m)) => m.clone(),
            (None, None) => String::new(),
        };
        println!("  {:<7} {}  {}", f.action.as_str(), f.rule, why);
    }
    if !judgement.decision.reviewers.is_empty() {
        println!(
            "reviewers   {} (approvals needed: {})",
            judgement.decision.reviewers.join(", "),
            judgement.decision.approvals
        );
    }
    if !judgement.decision.mask_columns.is_empty() {
        println!("mask        {}", judgement.decision.mask_columns.join(", "));
    }
    Ok(())
}

/// The top-level sections worth printing for a command of this kind.
fn relevant(kind: &str) -> Vec<&'static str> {
    let mut keep = vec!["kind", "has_parse_error", "parse_error", "syntax_error"];
    keep.push(match kind {
        "shell" => "shell",
        "http" => "http",
        _ => "sql",
    });
    keep
}

/// Writes `path = value` lines, the way a rule would name each fact.
fn flatten(path: &str, v: &Value, keep_top: &[&str], out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if path == "facts" && !keep_top.contains(&k.as_str()) {
                    continue;
                }
                // Only a parse error has a message and a kind.
                let parsed = map.get("has_parse_error") == Some(&Value::Bool(false));
                if path == "facts" && parsed && (k == "parse_error" || k == "syntax_error") {
                    continue;
                }
                flatten(&format!("{path}.{k}"), child, keep_top, out);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object()) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), item, keep_top, out);
            }
            if items.is_empty() {
                out.push(format!("{path} = []"));
            }
        }
        other => out.push(format!("{path} = {other}")),
    }
}
