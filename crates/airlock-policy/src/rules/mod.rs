//! Rules: CEL conditions over a command's facts, each with an action.
//!
//! Every rule is evaluated; the most restrictive action among those that
//! fired wins (`block` > `review` > `mask` > `allow`), and the decision
//! names every rule that fired. A rule whose condition cannot be evaluated
//! for a command blocks that command: a rule that silently stopped working
//! would be an open door.

mod check;
mod eval;
mod functions;
mod spec;

pub use eval::{Decision, Fired, Input, RuleSet};
pub use spec::{Action, RuleError, RuleSpec};

use serde::Serialize;

/// Who is asking, as rules see it (`identity.name`, `identity.kind`,
/// `identity.groups`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IdentityView {
    pub name: String,
    /// `user` or `agent`.
    pub kind: String,
    pub groups: Vec<String>,
}

/// The connection, as rules see it (`connection.name`, `connection.type`,
/// `connection.strict`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnectionView {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// Marked `strict` in the configuration: the default pack refuses what
    /// cannot be analysed there.
    pub strict: bool,
}

/// Counters the adapter keeps for the session so far (`session.…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SessionCounters {
    pub commands: i64,
    pub rows: i64,
    pub bytes: i64,
    pub seconds: i64,
}
