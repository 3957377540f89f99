//! Command-line shape. Every subcommand reads the same configuration file.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "airlock",
    version,
    about = "A Layer 7 access gateway for AI agents and people"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        global = true,
        env = "AIRLOCK_CONFIG",
        default_value = "airlock.yaml"
    )]
    pub config: PathBuf,
    /// Whether --config or AIRLOCK_CONFIG was given (set after parsing):
    /// the API commands then find the gateway through its listen.api.
    #[arg(skip)]
    pub config_given: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve,
    /// Manage identities (people and agents).
    #[command(subcommand)]
    Identity(IdentityCmd),
    /// Issue and revoke access tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Inspect recorded sessions.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Author and check rules.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Tune masking.
    #[command(subcommand)]
    Mask(MaskCmd),
    /// Verify and export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Play a recorded session back, command by command, at its own pace.
    Replay(ReplayArgs),
    /// See and decide on commands held for review (through a running
    /// gateway's API; the token comes from AIRLOCK_TOKEN).
    Reviews(ReviewsArgs),
    /// See and revoke what approvals granted (through the API).
    Grants(GrantsArgs),
}

/// How the review and grant commands reach a running gateway.
#[derive(Args)]
pub struct ServerArgs {
    /// The gateway's API, e.g. http://127.0.0.1:8080 (plain http, as the API listener serves). Default:
    /// the listen.api of the --config file when one is given, else
    /// http://127.0.0.1:8080. The caller's token is read from AIRLOCK_TOKEN.
    #[arg(long, global = true, env = "AIRLOCK_SERVER", value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Args)]
pub struct ReviewsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub command: ReviewsCmd,
}

#[derive(Subcommand)]
pub enum ReviewsCmd {
    /// List reviews, newest first.
    List {
        #[arg(long, value_enum, default_value_t = ReviewStateFilter::Pending)]
        state: ReviewStateFilter,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one review: the command, why it needs review, the decisions.
    Show {
        /// Review id or unique prefix.
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Approve a review as the token's identity.
    Approve {
        /// Review id or unique prefix.
        id: String,
        /// Why, kept with the decision (optional).
        #[arg(long)]
        reason: Option<String>,
        /// Also let the requester run what the review's rules gate on its
        /// connection for this long (30m, 2h).
        #[arg(long = "for", value_name = "DURATION")]
        window: Option<humantime::Duration>,
    },
    /// Deny a review as the token's identity; the requester sees the reason.
    Deny {
        /// Review id or unique prefix.
        id: String,
        /// Why; the client that sent the command gets it in its error.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReviewStateFilter {
    Pending,
    Approved,
    Denied,
    Expired,
    Cancelled,
    All,
}

#[derive(Args)]
pub struct GrantsArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(subcommand)]
    pub command: GrantsCmd,
}

#[derive(Subcommand)]
pub enum GrantsCmd {
    /// List grants that can still be used, newest first.
    List {
        /// Also those used up, expired or revoked.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Revoke a grant (id or unique prefix): it lets nothing run any more.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check every record's hash and link, and every checkpoint. Exits 0
    /// when the log is intact, 2 at the first problem (printed), 1 when it
    /// cannot check.
    Verify(VerifyArgs),
    /// Write commands (with their outcomes) and session records, oldest
    /// first.
    Export(ExportArgs),
    /// Write a new Ed25519 signing key for checkpoints (PKCS#8 PEM, mode
    /// 0600) and print its public key, in hex, on standard output.
    Keygen {
        /// Where to write the private key; an existing file is refused.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Print the public key (hex) of a signing key: KEY_FILE, or else the
    /// configuration's audit.signing_key.
    PublicKey {
        #[arg(value_name = "KEY_FILE")]
        key: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Trust only checkpoints signed by this public key (hex), kept apart
    /// from the gateway's host; repeat it for keys used before a rotation.
    /// Replaces the key derived from audit.signing_key.
    #[arg(long = "public-key", value_name = "KEY")]
    pub public_keys: Vec<airlock_store::PublicKey>,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Only records at or after T: RFC 3339 (2024-05-01T00:00:00Z) or a
    /// duration ago (24h, 7d).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Only records before T (same forms as --since).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// Only this identity's records.
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// Only records on this connection.
    #[arg(long, value_name = "NAME")]
    pub connection: Option<String>,
    /// Write to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header row, then one row per record.
    Csv,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// Session id or unique prefix.
    pub session: String,
    /// Play faster (2 = twice as fast) or slower (0.5).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Print everything at once instead of waiting between commands.
    #[arg(long)]
    pub no_wait: bool,
    /// Print the session and its commands as one JSON document, at once.
    #[arg(long)]
    pub json: bool,
}

/// RFC 3339, or a duration meaning that long before now.
fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let ago = humantime::parse_duration(text)
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor a duration like 24h"))?;
    chrono::Duration::from_std(ago)
        .ok()
        .and_then(|ago| Utc::now().checked_sub_signed(ago))
        .ok_or_else(|| format!("{text:?} reaches back before any representable time"))
}

#[derive(Subcommand)]
pub enum MaskCmd {
    /// Read a text on standard input and print what each detector finds in
    /// it, with the configuration's detectors and styles.
    Test(JsonFlag),
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Show the facts of a command and the verdict of the rules, without
    /// connecting anywhere.
    Test {
        /// Who sends the command (looked up in the store; if unknown there,
        /// described by --agent and --group).
        #[arg(long)]
        identity: String,
        /// The connection it is sent on (from the configuration).
        #[arg(long)]
        connection: String,
        /// For an identity not in the store: it is an agent.
        #[arg(long)]
        agent: bool,
        /// For an identity not in the store: its groups.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// Analyse the command as a shell command line.
        #[arg(long)]
        shell: bool,
        /// The SQL statement(s) or command line.
        command: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
pub enum IdentityCmd {
    /// Add an identity.
    Add {
        name: String,
        /// The identity is an automated agent, not a person.
        #[arg(long)]
        agent: bool,
        /// Group membership (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The person this identity belongs to, when one person has several
        /// identities (an admin account, say): nobody approves a review
        /// requested by an identity of their own person.
        #[arg(long, value_name = "NAME")]
        person: Option<String>,
    },
    /// List identities.
    List(JsonFlag),
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Issue a token; prints it alone on stdout, once.
    Issue {
        name: String,
        /// Lifetime, e.g. 30m, 8h, 7d. Without it the token lives until revoked.
        #[arg(long)]
        ttl: Option<humantime::Duration>,
    },
    /// Revoke a token by id.
    Revoke { id: String },
    /// List tokens (never their secrets).
    List {
        /// Only this identity's tokens.
        name: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
pub enum SessionsCmd {
    /// List recent sessions, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one session and its commands (id or unique prefix).
    Show {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Args)]
pub struct JsonFlag {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
