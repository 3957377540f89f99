//! Airlock's PostgreSQL wire adapter.
//!
//! Clients speak the PostgreSQL protocol to the gateway, which proves who
//! they are with Airlock tokens, opens the target connection with the
//! credentials only the gateway knows, and relays messages. Each statement
//! becomes a [`airlock_core::Command`] that the guard sees before the target
//! does. The adapter holds no policy: it asks the guard.

mod admission;
mod cancel;
mod client_msg;
mod frame;
mod frontend_auth;
mod mask;
mod names;
mod record;
mod recorded_text;
mod relay;
mod server;
mod session;
pub mod slice;
mod startup;
mod threads;
pub mod tls;
mod track;
mod upstream;
mod wire;

pub use server::{PgServer, ServerDeps};
pub use threads::SessionThreads;

/// The adapter's parsers of untrusted bytes, re-exported for the fuzz
/// targets in `fuzz/` (a package outside the workspace). Compiled only with
/// the `fuzzing` feature, so normal builds expose nothing more than before;
/// the modules themselves stay private. Not a stable API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::client_msg::{
        ClientMessage, ClientMessageError, Target, parse as parse_client_message,
    };
    pub use crate::frame::{Frame, FrameError, peek_len, take_frame, take_startup};
    pub use crate::mask::catalog::ColumnName;
    pub use crate::mask::fields::{Field, TypeClass, row_description, type_class};
    pub use crate::mask::plan::{Action, RowPlan, Shape, plan};
    pub use crate::mask::rewrite::{copy_data, data_row, error_or_notice};
    pub use crate::startup::{StartupError, StartupPacket, parse as parse_startup};
    pub use crate::wire::{Malformed, Reader, error_fields};
}
