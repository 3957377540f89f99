//! Command-line shape. Every subcommand reads the same configuration file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
