//! Airlock's PostgreSQL wire adapter.
//!
//! Clients speak the PostgreSQL protocol to the gateway, which proves who
//! they are with Airlock tokens, opens the target connection with the
//! credentials only the gateway knows, and relays messages. Each statement
//! becomes a [`airlock_core::Command`] that the guard sees before the target
//! does. The adapter holds no policy: it asks the guard.

mod cancel;
mod frame;
mod frontend_auth;
mod mask;
mod relay;
mod server;
mod session;
mod startup;
pub mod tls;
mod track;
mod upstream;
mod wire;

pub use server::{PgServer, ServerDeps};
