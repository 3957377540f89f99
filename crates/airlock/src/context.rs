//! Loading what every subcommand needs: the configuration and the store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use airlock_core::Config;
use airlock_store::{SqliteStore, Store};

pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let path = config.data_dir.join("airlock.db");
    let store = SqliteStore::open_with(&path, config.audit.fsync)
        .await
        .with_context(|| format!("opening the store at {}", path.display()))?;
    Ok(Arc::new(store))
}
