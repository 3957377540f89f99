//! `airlock audit verify|export|keygen|public-key`: checking the hash
//! chain and its checkpoints, streaming the log out as JSON lines or CSV
//! without holding it in memory, and the checkpoint signing key.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};

use airlock_core::Config;
use airlock_store::{AuditFilter, AuditLine, AuditReport, AuditVerification, PublicKey};

use crate::cli::{AuditCmd, ExportArgs, ExportFormat, VerifyArgs};
use crate::context::open_store;

/// The exit status of a verification that found damage. `main` turns every
/// error into 1, which must keep meaning "could not check": a script has
/// to tell a damaged log from an unreadable one.
const EXIT_BROKEN: i32 = 2;

pub async fn run(
    config: impl FnOnce() -> anyhow::Result<Config>,
    cmd: AuditCmd,
) -> anyhow::Result<()> {
    match cmd {
        AuditCmd::Verify(args) => verify(&config()?, args).await,
        AuditCmd::Export(args) => export(&config()?, args).await,
        AuditCmd::Keygen { output } => keygen(&output),
        AuditCmd::PublicKey { key } => public_key(key, config),
    }
}

async fn verify(config: &Config, args: VerifyArgs) -> anyhow::Result<()> {
    let trusted = trusted_keys(config, args)?;
    let store = open_store(config).await?;
    let report = store.verify_audit_checkpoints(&trusted).await?;
    match &report.verification {
        AuditVerification::Intact { records, last } => {
            let from = match &report.anchor {
                Some(a) => format!(" from anchor seq {}", a.seq),
                None => String::new(),
            };
            match last {
                Some(tip) => {
                    println!(
                        "ok: {records} records verified{from} (last seq {})",
                        tip.seq
                    );
                    println!("last hash {}", tip.hash);
                }
                None => println!("ok: {records} records verified{from} (the log is empty)"),
            }
            print_checkpoints(&report, trusted.is_empty());
            Ok(())
        }
        AuditVerification::Broken { verified, problem } => {
            println!("{problem}");
            if report.chain_intact {
                println!(
                    "records verified: {verified}; the chain links up, the checkpoints show what is wrong with it"
                );
            } else {
                println!("records verified before it: {verified}; nothing after it was checked");
            }
            io::stdout().flush()?;
            std::process::exit(EXIT_BROKEN);
        }
    }
}

/// `--public-key`s, else the public half of the configured signing key,
/// else none (any valid signature passes).
fn trusted_keys(config: &Config, args: VerifyArgs) -> anyhow::Result<Vec<PublicKey>> {
    if !args.public_keys.is_empty() {
        return Ok(args.public_keys);
    }
    match &config.audit.signing_key {
        Some(path) => {
            let key = crate::signing_key::load(path).context(
                "checking checkpoints against the configured key (or pass --public-key)",
            )?;
            Ok(vec![key.public_key()])
        }
        None => Ok(Vec::new()),
    }
}

fn print_checkpoints(report: &AuditReport, any_key: bool) {
    match &report.latest {
        Some(latest) => {
            let key = latest
                .signed
                .as_ref()
                .map_or("unsigned".to_string(), |s| format!("key {}", s.public_key));
            println!(
                "checkpoints: {} verified; the latest vouches for seq {} ({}, {key})",
                report.checkpoints,
                latest.seq,
                time(latest.at)
            );
            if any_key {
                println!(
                    "note: no trusted key was given (--public-key or audit.signing_key), so a \
                     checkpoint signed with any key passes; compare the key above with yours"
                );
            }
        }
        None => println!("checkpoints: none"),
    }
}

fn keygen(output: &Path) -> anyhow::Result<()> {
    let public = crate::signing_key::create(output)?;
    eprintln!(
        "wrote a new Ed25519 signing key to {} (mode 0600); its public key, in hex, follows",
        output.display()
    );
    println!("{public}");
    Ok(())
}

fn public_key(
    key: Option<PathBuf>,
    config: impl FnOnce() -> anyhow::Result<Config>,
) -> anyhow::Result<()> {
    let path = match key {
        Some(path) => path,
        None => match config()?.audit.signing_key {
            Some(path) => path,
            None => bail!("no KEY_FILE given and no audit.signing_key configured"),
        },
    };
    println!("{}", crate::signing_key::load(&path)?.public_key());
    Ok(())
}

async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let filter = AuditFilter {
        since: args.since,
        until: args.until,
        identity: args.identity,
        connection: args.connection,
    };
    let target: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?)
        }
        None => Box::new(io::stdout()),
    };
    let mut out = BufWriter::with_capacity(1 << 16, target);
    let lines = match args.format {
        ExportFormat::Jsonl => {
            store
                .export_audit(&filter, &mut |line| {
                    serde_json::to_writer(&mut out, line)?;
                    out.write_all(b"\n")
                })
                .await?
        }
        ExportFormat::Csv => {
            let mut row = Vec::new();
            csv_header(&mut row);
            out.write_all(&row)?;
            store
                .export_audit(&filter, &mut |line| {
                    row.clear();
                    csv_row(&mut row, line)?;
                    out.write_all(&row)
                })
                .await?
        }
    };
    out.flush()?;
    if let Some(path) = &args.output {
        eprintln!("exported {lines} records to {}", path.display());
    }
    Ok(())
}

const CSV_COLUMNS: [&str; 25] = [
    "kind",
    "seq",
    "id",
    "at",
    "session",
    "identity",
    "connection",
    "command",
    "params",
    "verdict",
    "rules",
    "reviewers",
    "review",
    "outcome_seq",
    "outcome_at",
    "duration_us",
    "rows",
    "bytes",
    "error",
    "preview",
    "detail",
    "prev_hash",
    "hash",
    "outcome_prev_hash",
    "outcome_hash",
];

fn csv_header(out: &mut Vec<u8>) {
    for (n, name) in CSV_COLUMNS.iter().enumerate() {
        csv_field(out, n, name);
    }
    out.extend_from_slice(b"\r\n");
}

/// One record, its outcome flattened into columns; lists and objects
/// (params, rules, preview, …) are JSON in one cell each.
fn csv_row(out: &mut Vec<u8>, l: &AuditLine) -> serde_json::Result<()> {
    let o = l.outcome.as_ref();
    let cells: [String; 25] = [
        l.kind.to_string(),
        l.seq.to_string(),
        l.id.clone(),
        time(l.at),
        l.session.clone(),
        l.identity.clone(),
        l.connection.clone(),
        l.command.clone().unwrap_or_default(),
        json(&l.params)?,
        l.verdict.clone().unwrap_or_default(),
        json(&l.rules)?,
        json(&l.reviewers)?,
        json(&l.review)?,
        o.map(|o| o.seq.to_string()).unwrap_or_default(),
        o.map(|o| time(o.at)).unwrap_or_default(),
        o.map(|o| o.duration_us.to_string()).unwrap_or_default(),
        o.map(|o| o.rows.to_string()).unwrap_or_default(),
        o.map(|o| o.bytes.to_string()).unwrap_or_default(),
        o.and_then(|o| o.error.clone()).unwrap_or_default(),
        json(&o.and_then(|o| o.preview.as_ref()))?,
        json(&l.detail)?,
        l.prev_hash.clone(),
        l.hash.clone(),
        o.map(|o| o.prev_hash.clone()).unwrap_or_default(),
        o.map(|o| o.hash.clone()).unwrap_or_default(),
    ];
    for (n, cell) in cells.iter().enumerate() {
        csv_field(out, n, cell);
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// JSON for a cell; an absent value is an empty cell, not `null`.
fn json<T: serde::Serialize>(value: &Option<T>) -> serde_json::Result<String> {
    match value {
        None => Ok(String::new()),
        Some(v) => serde_json::to_string(v),
    }
}

/// RFC 4180: quoted when it holds a separator, a quote or a line break,
/// quotes doubled.
fn csv_field(out: &mut Vec<u8>, index: usize, value: &str) {
    if index > 0 {
        out.push(b',');
    }
    if value.contains([',', '"', '\r', '\n']) {
        out.push(b'"');
        out.extend_from_slice(value.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(value.as_bytes());
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
