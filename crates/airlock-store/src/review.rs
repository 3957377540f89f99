//! Reviews and grants as the store keeps them (docs/reviews.md). Plain
//! data; who may decide is the core's business, the store only makes each
//! state change atomic.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a review is in its life. Only `pending` ever changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    Pending,
    Approved,
    Denied,
    /// Nobody decided before `expires_at`.
    Expired,
    /// The client went away while its command was held.
    Cancelled,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Approved => "approved",
            ReviewState::Denied => "denied",
            ReviewState::Expired => "expired",
            ReviewState::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewState> {
        Some(match text {
            "pending" => ReviewState::Pending,
            "approved" => ReviewState::Approved,
            "denied" => ReviewState::Denied,
            "expired" => ReviewState::Expired,
            "cancelled" => ReviewState::Cancelled,
            _ => return None,
        })
    }
}

/// A review as it is created, pending.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub id: String,
    /// The identity that sent the command.
    pub requester: String,
    pub connection: String,
    pub session_id: String,
    /// The command's text, masked.
    pub command: String,
    /// What grants are bound to (`Reviews::fingerprint`).
    pub fingerprint: String,
    /// The rules that asked for review.
    pub rules: Vec<String>,
    /// Who may decide: allow-list entries (`alice`, `group:dba`, `agent:x`).
    pub reviewers: Vec<String>,
    /// Distinct approvals needed.
    pub approvals_needed: u32,
    /// Why the rules asked (their messages).
    pub reason: String,
    pub created_at: DateTime<Utc>,
    /// Still pending then, it becomes `expired`.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    Approve,
    Deny,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Approve => "approve",
            DecisionKind::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<DecisionKind> {
        match text {
            "approve" => Some(DecisionKind::Approve),
            "deny" => Some(DecisionKind::Deny),
            _ => None,
        }
    }
}

/// One reviewer's decision on a review.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewDecision {
    pub reviewer: String,
    pub decision: DecisionKind,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// An approval that also grants a time box (`--for 30m`), in seconds.
    pub grant_for_secs: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewRecord {
    pub id: String,
    pub requester: String,
    pub connection: String,
    pub session_id: String,
    pub command: String,
    pub fingerprint: String,
    pub rules: Vec<String>,
    pub reviewers: Vec<String>,
    pub approvals_needed: u32,
    pub reason: String,
    pub state: ReviewState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it left `pending`.
    pub decided_at: Option<DateTime<Utc>>,
    /// In the order they were made.
    pub decisions: Vec<ReviewDecision>,
}

impl ReviewRecord {
    /// The reviewers who approved, in order.
    pub fn approvers(&self) -> Vec<String> {
        self.decisions
            .iter()
            .filter(|d| d.decision == DecisionKind::Approve)
            .map(|d| d.reviewer.clone())
            .collect()
    }
}

/// What [`crate::Store::decide_review`] did.
#[derive(Debug, Clone)]
pub enum DecideOutcome {
    /// The decision was recorded; the review as it is now (still pending
    /// if more approvals are needed).
    Recorded(ReviewRecord),
    /// The review is no longer pending (it may just have expired).
    NotPending(ReviewRecord),
    /// This reviewer already decided on this review.
    AlreadyDecided(ReviewRecord),
    NotFound,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantKind {
    /// Runs the reviewed command (by fingerprint) once.
    Once,
    /// Runs any command the review's rules gate, until it expires.
    Window,
}

impl GrantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::Once => "once",
            GrantKind::Window => "window",
        }
    }

    pub fn parse(text: &str) -> Option<GrantKind> {
        match text {
            "once" => Some(GrantKind::Once),
            "window" => Some(GrantKind::Window),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewGrant {
    pub id: String,
    /// The review it came from.
    pub review_id: String,
    /// Who may use it: the review's requester.
    pub identity: String,
    pub connection: String,
    pub kind: GrantKind,
    /// `Once`: the command's fingerprint.
    pub fingerprint: Option<String>,
    /// `Window`: the rules whose gating it lifts.
    pub rules: Vec<String>,
    pub approved_by: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    pub id: String,
    pub review_id: String,
    pub identity: String,
    pub connection: String,
    pub kind: GrantKind,
    pub fingerprint: Option<String>,
    pub rules: Vec<String>,
    pub approved_by: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// How often it was used (a `Once` grant at most once).
    pub uses: i64,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A command a review rule gates, looking for a grant that lets it run.
#[derive(Debug, Clone)]
pub struct GrantQuery<'a> {
    pub identity: &'a str,
    pub connection: &'a str,
    pub fingerprint: &'a str,
    /// The review rules that fired: a window grant must cover all of them.
    pub rules: &'a [String],
    pub now: DateTime<Utc>,
}

/// What a command's audit record says about the review it went through.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ReviewRef {
    /// The review (for a grant: the review that issued it); `None` when no
    /// review could be recorded.
    pub id: Option<String>,
    /// `approved`, `denied`, `pending` (the hold ended undecided),
    /// `cancelled`, `withdrawn` (the client left while the same command
    /// of another session still waits), `granted` (ran on a grant),
    /// `too-many-pending` (refused
    /// without a review) or `failed`.
    pub state: String,
    /// Reviewers who decided; for a grant, those who approved it.
    pub by: Vec<String>,
    pub grant: Option<String>,
}
