//! What adapters ask the guard about, and what it answers.

use std::borrow::Cow;
use std::sync::Arc;

use airlock_policy::rules::Decision;

/// One unit of work a client asks for, independent of wire protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// SQL text as sent; `param_count` bound parameters travel with it.
    Sql { text: Arc<str>, param_count: usize },
    /// A shell command line (SSH exec, a typed line).
    Shell { line: String },
}

impl Command {
    pub fn text(&self) -> &str {
        match self {
            Command::Sql { text, .. } => text,
            Command::Shell { line } => line,
        }
    }
}

/// The guard's decision for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Runs, with these column patterns masked in its results.
    Mask {
        rules: Vec<String>,
        columns: Vec<String>,
    },
    /// Must not run until reviewers approve (or a grant lets it); once
    /// it runs, these column patterns are masked in its results.
    Review {
        rules: Vec<String>,
        reviewers: Vec<String>,
        approvals: u32,
        reason: String,
        columns: Vec<String>,
    },
    Block {
        rule: String,
        reason: String,
    },
}

impl Verdict {
    pub fn from_decision(d: &Decision) -> Verdict {
        use airlock_policy::rules::Action;
        if d.action == Action::Allow {
            return Verdict::Allow;
        }
        let deciding: Vec<_> = d.deciding().collect();
        let names = || deciding.iter().map(|f| f.rule.clone()).collect::<Vec<_>>();
        let reason = || {
            deciding
                .iter()
                .map(|f| match (&f.error, &f.message) {
                    (Some(e), _) => format!("rule \"{}\" could not be evaluated: {e}", f.rule),
                    (None, Some(m)) => m.clone(),
                    (None, None) => format!("rule \"{}\"", f.rule),
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        match d.action {
            Action::Allow => Verdict::Allow,
            Action::Mask => Verdict::Mask {
                rules: names(),
                columns: d.mask_columns.clone(),
            },
            Action::Review => Verdict::Review {
                rules: names(),
                reviewers: d.reviewers.clone(),
                approvals: d.approvals,
                reason: reason(),
                columns: d.mask_columns.clone(),
            },
            Action::Block => Verdict::Block {
                rule: names().join(","),
                reason: reason(),
            },
        }
    }

    /// Why the command must not run, for the client; `None` when it may
    /// or, for `Review`, when its review decides (`crate::review`). A
    /// `Mask` verdict runs; the adapter masks the columns it names.
    pub fn refusal(&self) -> Option<String> {
        match self {
            Verdict::Allow | Verdict::Mask { .. } | Verdict::Review { .. } => None,
            Verdict::Block { rule, reason } => {
                Some(format!("blocked by rule \"{rule}\": {reason}"))
            }
        }
    }

    /// The columns a `Mask` verdict, or a `Review` verdict's mask rules,
    /// name (empty for any other).
    pub fn mask_columns(&self) -> &[String] {
        match self {
            Verdict::Mask { columns, .. } | Verdict::Review { columns, .. } => columns,
            _ => &[],
        }
    }

    /// The short form recorded on events: `allow`, `mask:RULES`,
    /// `review:RULES`, `block:RULES`.
    /// Borrowed for `allow`, the verdict of almost every statement: it
    /// travels to the statement's record without an allocation.
    pub fn label(&self) -> Cow<'static, str> {
        match self {
            Verdict::Allow => Cow::Borrowed("allow"),
            Verdict::Mask { rules, .. } => format!("mask:{}", rules.join(",")).into(),
            Verdict::Review { rules, .. } => format!("review:{}", rules.join(",")).into(),
            Verdict::Block { rule, .. } => format!("block:{rule}").into(),
        }
    }
}
