//! What the API sends and receives, as documented in its OpenAPI schema.
//!
//! These types mirror the store's records rather than reusing them: the
//! schema is derived from exactly what is serialised, the store stays free
//! of HTTP concerns, and the CLI reads answers back into the same types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error: a stable machine-readable `code` and a message for people.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable: `unauthorized`, `review_not_found`, `grant_not_found`,
    /// `ambiguous_id`, `reason_required`, `invalid_duration`,
    /// `window_too_long`, `invalid_query`, `invalid_body`, `own_request`,
    /// `not_a_reviewer`, `not_pending`, `already_decided`, `grant_not_live`,
    /// `not_found`, `store_unavailable`.
    #[schema(example = "review_not_found")]
    pub code: String,
    #[schema(example = "no review rv-abc")]
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` while the store cannot be written.
    pub status: String,
    /// Whether the store accepts writes.
    pub store: bool,
}

/// A recorded session (`/api/v1/sessions`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub identity: String,
    pub connection: String,
    pub protocol: String,
    pub client_addr: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub commands: i64,
    pub rows: i64,
    pub bytes_to_client: i64,
}

impl From<airlock_store::SessionRecord> for Session {
    fn from(s: airlock_store::SessionRecord) -> Session {
        Session {
            id: s.id,
            identity: s.identity,
            connection: s.connection,
            protocol: s.protocol,
            client_addr: s.client_addr,
            started_at: s.started_at,
            ended_at: s.ended_at,
            end_reason: s.end_reason,
            commands: s.commands,
            rows: s.rows,
            bytes_to_client: s.bytes_to_client,
        }
    }
}

/// Where a review is in its life; only `pending` ever changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    Pending,
    Approved,
    Denied,
    Expired,
    Cancelled,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        self.into_store().as_str()
    }

    fn into_store(self) -> airlock_store::ReviewState {
        use airlock_store::ReviewState as S;
        match self {
            ReviewState::Pending => S::Pending,
            ReviewState::Approved => S::Approved,
            ReviewState::Denied => S::Denied,
            ReviewState::Expired => S::Expired,
            ReviewState::Cancelled => S::Cancelled,
        }
    }
}

impl From<airlock_store::ReviewState> for ReviewState {
    fn from(s: airlock_store::ReviewState) -> ReviewState {
        use airlock_store::ReviewState as S;
        match s {
            S::Pending => ReviewState::Pending,
            S::Approved => ReviewState::Approved,
            S::Denied => ReviewState::Denied,
            S::Expired => ReviewState::Expired,
            S::Cancelled => ReviewState::Cancelled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    Approve,
    Deny,
}

/// One reviewer's decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewDecision {
    pub reviewer: String,
    pub decision: DecisionKind,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// An approval that also granted a time box, in seconds.
    pub grant_for_secs: Option<i64>,
}

/// A command held for review, and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Review {
    #[schema(example = "rv-k3m9x2qp7vdt")]
    pub id: String,
    /// The identity that sent the command.
    pub requester: String,
    pub connection: String,
    pub session_id: String,
    /// The command's text, masked like every recording.
    pub command: String,
    /// SHA-256 of the command's normalised text: what a one-time grant is
    /// bound to.
    pub fingerprint: String,
    /// The rules that asked for review.
    pub rules: Vec<String>,
    /// Who may decide (`name`, `group:G`, `agent:A`).
    pub reviewers: Vec<String>,
    /// Distinct approvals needed.
    pub approvals_needed: u32,
    /// The rules' messages.
    pub reason: String,
    pub state: ReviewState,
    pub created_at: DateTime<Utc>,
    /// Still pending then, the review becomes `expired`.
    pub expires_at: DateTime<Utc>,
    /// When it left `pending`.
    pub decided_at: Option<DateTime<Utc>>,
    /// In the order they were made.
    pub decisions: Vec<ReviewDecision>,
}

impl From<airlock_store::ReviewRecord> for Review {
    fn from(r: airlock_store::ReviewRecord) -> Review {
        Review {
            id: r.id,
            requester: r.requester,
            connection: r.connection,
            session_id: r.session_id,
            command: r.command,
            fingerprint: r.fingerprint,
            rules: r.rules,
            reviewers: r.reviewers,
            approvals_needed: r.approvals_needed,
            reason: r.reason,
            state: r.state.into(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            decided_at: r.decided_at,
            decisions: r
                .decisions
                .into_iter()
                .map(|d| ReviewDecision {
                    reviewer: d.reviewer,
                    decision: match d.decision {
                        airlock_store::DecisionKind::Approve => DecisionKind::Approve,
                        airlock_store::DecisionKind::Deny => DecisionKind::Deny,
                    },
                    reason: d.reason,
                    at: d.at,
                    grant_for_secs: d.grant_for_secs,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrantKind {
    /// Runs the reviewed command (by fingerprint) once.
    Once,
    /// Runs any command the review's rules gate, until it expires.
    Window,
}

/// A permission an approval produced.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    #[schema(example = "gr-7tq2w9xk4mfa")]
    pub id: String,
    /// The review that issued it.
    pub review_id: String,
    /// Who may use it: the review's requester.
    pub identity: String,
    pub connection: String,
    pub kind: GrantKind,
    /// `once`: the command's fingerprint.
    pub fingerprint: Option<String>,
    /// `window`: the rules whose gating it lifts.
    pub rules: Vec<String>,
    pub approved_by: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// How often it was used (a `once` grant at most once).
    pub uses: i64,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<airlock_store::GrantRecord> for Grant {
    fn from(g: airlock_store::GrantRecord) -> Grant {
        Grant {
            id: g.id,
            review_id: g.review_id,
            identity: g.identity,
            connection: g.connection,
            kind: match g.kind {
                airlock_store::GrantKind::Once => GrantKind::Once,
                airlock_store::GrantKind::Window => GrantKind::Window,
            },
            fingerprint: g.fingerprint,
            rules: g.rules,
            approved_by: g.approved_by,
            created_at: g.created_at,
            expires_at: g.expires_at,
            uses: g.uses,
            last_used_at: g.last_used_at,
            revoked_at: g.revoked_at,
        }
    }
}

impl Grant {
    /// `live`, `used`, `expired` or `revoked` at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.kind == GrantKind::Once && self.uses > 0 {
            "used"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "live"
        }
    }
}

/// `POST /api/v1/reviews/{id}/approve`. An empty body is an approval
/// without a reason or time box.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Also let the requester run what the review's rules gate on its
    /// connection for this long (`30m`, `2h`; at most `reviews.max_window`).
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "30m")]
    pub window: Option<String>,
}

/// `POST /api/v1/reviews/{id}/deny`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRequest {
    /// The client whose command was held sees it. Missing or blank is
    /// `reason_required`.
    #[serde(default)]
    #[schema(required = true)]
    pub reason: String,
}

/// What a decision did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DecideResponse {
    /// The review as it is now (still `pending` when more approvals are
    /// needed).
    pub review: Review,
    /// The decision reached a command held right now: an approved command
    /// runs, a denied one fails with the reason.
    pub released: bool,
    /// The grant an approval produced: `once` when the command was no
    /// longer held, `window` when the approval asked for a time box.
    pub grant: Option<Grant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approve_bodies_name_the_window_for_and_refuse_unknown_fields() {
        let a: ApproveRequest =
            serde_json::from_str(r#"{"reason":"ok","for":"30m"}"#).expect("parse");
        assert_eq!(a.window.as_deref(), Some("30m"));
        assert!(serde_json::from_str::<ApproveRequest>(r#"{"window":"30m"}"#).is_err());
        let text = serde_json::to_string(&ApproveRequest::default()).expect("encode");
        assert_eq!(text, "{}");
    }
}
