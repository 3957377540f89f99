use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0} not found")]
    NotFound(String),
    /// A prefix lookup matched more than one record.
    #[error("{0} is ambiguous")]
    Ambiguous(String),
    #[error("store database error: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite refused a statement run through its own API.
    #[error("store database error: {0}")]
    Sqlite(String),
    #[error("store migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("store is unavailable: {0}")]
    Unavailable(String),
    #[error("corrupt record in store: {0}")]
    Corrupt(String),
    /// The consumer of a streamed read failed (e.g. the export's output).
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}
