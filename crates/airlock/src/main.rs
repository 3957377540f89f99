//! The `airlock` binary: a thin CLI over the gateway's crates.

mod api;
mod audit_upkeep;
mod cli;
mod cmd;
mod context;
mod notify;
mod reload;
mod signing_key;
mod sinks;

use clap::parser::ValueSource;

// Sessions allocate records on the runtime's threads and the store frees
// them on its own: mimalloc's per-thread heaps take that without the
// lock and consolidation passes glibc's arenas pay (see bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{CommandFactory, FromArgMatches};

fn main() -> std::process::ExitCode {
    // Parsed in two steps to learn whether --config was given or only
    // defaulted: the API commands read the file only when it was named.
    let matches = cli::Cli::command().get_matches();
    let mut cli = match cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    cli.config_given = matches
        .value_source("config")
        .is_some_and(|s| s != ValueSource::DefaultValue);
    // Before anything opens a database: SQLite takes it only then.
    if let Err(code) = airlock_store::sqlite_alloc::install() {
        eprintln!("warning: SQLite keeps its own allocator (sqlite3_config returned {code})");
    }
    // One crypto provider for the whole process, before any TLS is set up.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
