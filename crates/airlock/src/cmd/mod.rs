//! One module per subcommand family.

mod api_client;
mod audit;
mod grants;
mod identity;
mod mask;
mod policy;
mod replay;
mod reviews;
mod serve;
mod sessions;
mod token;

use crate::cli::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let path = cli.config;
    let config = || crate::context::load_config(&path);
    // The API commands read the file only for listen.api, and only when
    // it was named: without one they need no configuration at all.
    let given = cli.config_given.then_some(path.as_path());
    match cli.command {
        // `serve` loads (and later reloads) the file itself.
        Command::Serve => serve::run(&path).await,
        Command::Identity(c) => identity::run(config()?, c).await,
        Command::Token(c) => token::run(config()?, c).await,
        Command::Sessions(c) => sessions::run(config()?, c).await,
        Command::Policy(c) => policy::run(config()?, c).await,
        Command::Mask(c) => mask::run(config()?, c),
        // `audit keygen` needs no configuration: the key comes first.
        Command::Audit(c) => audit::run(config, c).await,
        Command::Replay(args) => replay::run(config()?, args).await,
        Command::Reviews(a) => {
            reviews::run(api_client::ApiClient::new(&a.server, given)?, a.command).await
        }
        Command::Grants(a) => {
            grants::run(api_client::ApiClient::new(&a.server, given)?, a.command).await
        }
    }
}

/// Formats a time for tables: UTC, to the second.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}
