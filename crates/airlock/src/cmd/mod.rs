//! One module per subcommand family.

mod identity;
mod serve;
mod sessions;
mod token;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = crate::context::load_config(&cli.config)?;
    match cli.command {
        Command::Serve => serve::run(config).await,
        Command::Identity(c) => identity::run(config, c).await,
        Command::Token(c) => token::run(config, c).await,
        Command::Sessions(c) => sessions::run(config, c).await,
    }
}

/// Formats a time for tables: UTC, to the second.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}
