//! Airlock's protocol-neutral core: configuration, identities and tokens,
//! the [`Guard`] that decides, and the vocabulary adapters speak to it in.

pub mod access;
pub mod analysis;
pub mod audit;
pub mod command;
pub mod config;
pub mod guard;
pub mod masking;
pub mod pack;
pub mod review;
pub mod scram;
pub mod secret;
pub mod tokens;

pub use airlock_store as store;
pub use command::{Command, Verdict};
pub use config::{Config, ConfigError, ConnectionConfig};
pub use guard::{Guard, Judgement, SessionInfo};
