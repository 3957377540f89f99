//! What adapters ask the guard about, and what it answers.

/// One unit of work a client asks for, independent of wire protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// SQL text as sent; `param_count` bound parameters travel with it.
    Sql { text: String, param_count: usize },
}

impl Command {
    pub fn text(&self) -> &str {
        match self {
            Command::Sql { text, .. } => text,
        }
    }
}

/// The guard's decision for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Block { rule: String, reason: String },
}

impl Verdict {
    /// The short form recorded on events: `allow` or `block:RULE`.
    pub fn label(&self) -> String {
        match self {
            Verdict::Allow => "allow".to_string(),
            Verdict::Block { rule, .. } => format!("block:{rule}"),
        }
    }
}
