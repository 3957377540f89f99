//! Rules as written in the configuration file.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    /// A CEL expression over `identity`, `connection`, `facts`, `session`.
    pub when: String,
    pub action: Action,
    /// For `review`: who may approve (`alice`, `group:dba`, `agent:x`).
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// For `review`: approvals needed (default 1).
    #[serde(default)]
    pub approvals: Option<u32>,
    /// For `mask`: column patterns (`users.email`, `*.password`).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Shown to the client when the rule blocks, and in `policy test`.
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    // Declared weakest first: `Ord` is the precedence.
    Allow,
    Mask,
    Review,
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Mask => "mask",
            Action::Review => "review",
            Action::Block => "block",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("rule {index} ({name:?}): {message}")]
pub struct RuleError {
    /// Position in the `rules:` list.
    pub index: usize,
    pub name: String,
    pub message: String,
}
