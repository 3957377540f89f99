//! Just-in-time review: a command a `review` rule gates waits for a
//! reviewer's approval (docs/reviews.md).
//!
//! [`Reviews::gate`] is what an adapter calls with a `Review` verdict: it
//! lets the command run on a grant, or records a pending review and holds
//! the command until a decision, the hold's end or the client's. The API
//! calls [`Reviews::decide`]. Both go through the store, which makes each
//! state change atomic; the in-process [`hub::Hub`] only carries a final
//! decision to the command waiting for it.

mod authz;
mod config;
mod hub;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use airlock_store::{
    DecideOutcome, DecisionKind, GrantKind, GrantQuery, GrantRecord, Identity, NewGrant, NewReview,
    ReviewDecision, ReviewRecord, ReviewState, Store, StoreError,
};

pub use authz::{NotAllowed, may_decide};
pub use config::{ConnectionReview, ReviewWebhook, ReviewsConfig, WebhookFormat};

use crate::command::Command;
use crate::guard::{Guard, SessionInfo};
use hub::Left;

/// Notifications not yet sent; beyond this many, new ones are dropped (and
/// logged) rather than slowing anything down.
const NOTICE_BACKLOG: usize = 1024;

pub struct Reviews {
    store: Arc<dyn Store>,
    guard: Arc<Guard>,
    hub: hub::Hub,
    notices: mpsc::Sender<ReviewRecord>,
}

/// A command a review rule gates, as the adapter asks about it.
pub struct GateRequest<'a> {
    pub session: &'a SessionInfo,
    /// The command's text, masked: what reviewers see.
    pub command: &'a str,
    /// [`Reviews::fingerprint`] of the command as sent.
    pub fingerprint: &'a str,
    pub rules: &'a [String],
    pub reviewers: &'a [String],
    pub approvals: u32,
    /// The rules' messages.
    pub reason: &'a str,
}

/// Why a hold ended before its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// The client closed its connection.
    ClientGone,
    /// The client cancelled the command (PostgreSQL `CancelRequest`).
    Cancelled,
}

/// What became of a gated command.
#[derive(Debug, Clone)]
pub enum GateOutcome {
    /// A grant lets it run without a new review.
    Granted(GrantRecord),
    /// Approved while it was held: it runs.
    Approved(ReviewRecord),
    Denied(ReviewRecord),
    /// The hold ended undecided; the review stays pending.
    Pending(ReviewRecord),
    /// The client cancelled it or went away; the review is cancelled.
    Withdrawn(ReviewRecord, Interrupt),
    /// The identity has `reviews.max_pending_per_identity` reviews pending
    /// already: no new one was recorded, and the command does not run.
    TooMany {
        pending: u64,
    },
    /// The review could not be recorded (or a grant looked up): the command
    /// must not run.
    Failed(String),
}

impl GateOutcome {
    /// Whether the command may run now.
    pub fn runs(&self) -> bool {
        matches!(self, GateOutcome::Granted(_) | GateOutcome::Approved(_))
    }

    /// What the client is told when the command does not run.
    pub fn refusal(&self) -> Option<String> {
        Some(match self {
            GateOutcome::Granted(_) | GateOutcome::Approved(_) => return None,
            GateOutcome::Denied(r) => {
                let denial = r
                    .decisions
                    .iter()
                    .rev()
                    .find(|d| d.decision == DecisionKind::Deny);
                match denial {
                    Some(d) => format!(
                        "denied by {} (review {}): {}",
                        d.reviewer,
                        r.id,
                        d.reason.as_deref().unwrap_or("no reason given")
                    ),
                    None => format!("denied (review {})", r.id),
                }
            }
            GateOutcome::Pending(r) => format!(
                "needs review by {who} (rule \"{rules}\"): {why}; review {id} is pending and the command was not run. \
                 Once it is approved (airlock reviews approve {id}), send the same command again: it then runs once",
                id = r.id,
                who = r.reviewers.join(", "),
                rules = r.rules.join(","),
                why = r.reason,
            ),
            GateOutcome::Withdrawn(r, Interrupt::Cancelled) => format!(
                "canceling statement due to user request (review {} {})",
                r.id,
                if r.state == ReviewState::Pending {
                    "stays pending: another command waits for it"
                } else {
                    "cancelled"
                }
            ),
            GateOutcome::Withdrawn(r, Interrupt::ClientGone) => {
                format!("review {} withdrawn: the client went away", r.id)
            }
            GateOutcome::TooMany { pending } => format!(
                "the command needs review, and {pending} reviews you asked for are pending already \
                 (reviews.max_pending_per_identity); no new review was opened and the command was not run. \
                 Ask a reviewer to decide those first (airlock reviews list)"
            ),
            GateOutcome::Failed(why) => format!(
                "the command needs review, and the review could not be recorded ({why}); command refused"
            ),
        })
    }

    /// What the command's audit record says about its review.
    pub fn audit(&self) -> airlock_store::ReviewRef {
        use airlock_store::ReviewRef;
        match self {
            GateOutcome::Granted(g) => ReviewRef {
                id: Some(g.review_id.clone()),
                state: "granted".into(),
                by: g.approved_by.clone(),
                grant: Some(g.id.clone()),
            },
            GateOutcome::Approved(r) | GateOutcome::Denied(r) | GateOutcome::Pending(r) => {
                ReviewRef {
                    id: Some(r.id.clone()),
                    state: r.state.as_str().into(),
                    by: r.decisions.iter().map(|d| d.reviewer.clone()).collect(),
                    grant: None,
                }
            }
            GateOutcome::Withdrawn(r, _) => ReviewRef {
                id: Some(r.id.clone()),
                // `pending`: the same command of another session still
                // waits for it.
                state: if r.state == ReviewState::Pending {
                    "withdrawn".into()
                } else {
                    ReviewState::Cancelled.as_str().into()
                },
                by: Vec::new(),
                grant: None,
            },
            GateOutcome::TooMany { .. } => ReviewRef {
                id: None,
                state: "too-many-pending".into(),
                by: Vec::new(),
                grant: None,
            },
            GateOutcome::Failed(_) => ReviewRef {
                id: None,
                state: "failed".into(),
                by: Vec::new(),
                grant: None,
            },
        }
    }
}

/// A reviewer's decision, as the API receives it.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve {
        reason: Option<String>,
        /// Also let the requester run what these rules gate on this
        /// connection for this long.
        window: Option<Duration>,
    },
    Deny {
        reason: String,
    },
}

/// A decision that was recorded.
#[derive(Debug, Clone)]
pub struct Decided {
    pub review: ReviewRecord,
    /// The review was approved and its held command is running now.
    pub released: bool,
    /// The grant the approval produced, if any.
    pub grant: Option<GrantRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no review {0}")]
    NotFound(String),
    #[error("{0} matches more than one review; give more of the id")]
    Ambiguous(String),
    #[error("review {id} is {state}, not pending")]
    NotPending { id: String, state: &'static str },
    #[error("{0} is not known to this gateway")]
    UnknownReviewer(String),
    #[error("nobody may decide on their own request (nor through another identity of theirs)")]
    OwnRequest,
    #[error("{reviewer} is not a reviewer of review {id} (reviewers: {reviewers})")]
    NotAReviewer {
        reviewer: String,
        id: String,
        reviewers: String,
    },
    #[error("{0} already decided on this review")]
    AlreadyDecided(String),
    #[error("a denial needs a reason")]
    ReasonMissing,
    #[error("a grant may last at most {max} (reviews.max_window)")]
    WindowTooLong { max: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Reviews {
    /// The service and the receiving end of its notifications (each new
    /// review once), which the binary turns into webhook calls.
    pub fn new(
        store: Arc<dyn Store>,
        guard: Arc<Guard>,
    ) -> (Arc<Reviews>, mpsc::Receiver<ReviewRecord>) {
        let (notices, rx) = mpsc::channel(NOTICE_BACKLOG);
        let reviews = Reviews {
            store,
            guard,
            hub: hub::Hub::default(),
            notices,
        };
        (Arc::new(reviews), rx)
    }

    /// What grants bind a command to: its tokens without comments and
    /// layout, literals as written (`airlock_policy::sql::fingerprint`),
    /// hashed. A text the lexer rejects is bound to its exact bytes.
    pub fn fingerprint(command: &Command) -> String {
        use sha2::{Digest, Sha256};
        let (tag, normal) = match command {
            Command::Sql { text, .. } => (
                "sql",
                airlock_policy::sql::fingerprint(airlock_policy::sql::Dialect::Postgres, text)
                    .unwrap_or_else(|| format!("\u{0}raw\u{0}{text}")),
            ),
            Command::Shell { line } => (
                "shell",
                line.split_whitespace().collect::<Vec<_>>().join(" "),
            ),
        };
        let mut hash = Sha256::new();
        hash.update(tag.as_bytes());
        hash.update([0]);
        hash.update(normal.as_bytes());
        hex::encode(hash.finalize())
    }

    /// Decides whether a gated command runs: on a grant at once; otherwise
    /// after a pending review is recorded and approved within `hold`, or
    /// not. `interrupted` completes when the client cancels or goes away.
    pub async fn gate(
        &self,
        request: GateRequest<'_>,
        hold: Duration,
        interrupted: impl Future<Output = Interrupt>,
    ) -> GateOutcome {
        let session = request.session;
        let now = Utc::now();
        let query = GrantQuery {
            identity: &session.identity.name,
            connection: &session.connection,
            fingerprint: request.fingerprint,
            rules: request.rules,
            now,
        };
        match self.store.use_grant(&query).await {
            Ok(Some(grant)) => {
                tracing::info!(session = %session.id, grant = %grant.id, review = %grant.review_id, "command runs on a grant");
                return GateOutcome::Granted(grant);
            }
            Ok(None) => {}
            Err(e) => return GateOutcome::Failed(format!("grants cannot be read: {e}")),
        }
        // The same command asked again (a retry, another session) joins
        // the review already pending instead of opening another.
        match self
            .store
            .pending_review_of(
                &session.identity.name,
                &session.connection,
                request.fingerprint,
                now,
            )
            .await
        {
            Ok(Some(existing)) => {
                let (ticket, decided) = self.hub.wait(&existing.id);
                match self.store.review(&existing.id).await {
                    Ok(Some(current)) if current.state == ReviewState::Pending => {
                        tracing::info!(session = %session.id, review = %current.id, "command joins the pending review of the same command");
                        return self
                            .hold(session, current, ticket, decided, hold, interrupted)
                            .await;
                    }
                    _ => {
                        // Decided between the lookup and the wait.
                        let mut decided = decided;
                        if self.hub.leave(&ticket) == Left::AlreadyReleased
                            && let Ok(r) = decided.try_recv()
                        {
                            return decision_outcome(r);
                        }
                        // An approval nobody waited for left a grant.
                        if let Ok(Some(grant)) = self.store.use_grant(&query).await {
                            return GateOutcome::Granted(grant);
                        }
                    }
                }
            }
            Ok(None) => {}
            Err(e) => return GateOutcome::Failed(format!("reviews cannot be read: {e}")),
        }
        let (expire_after, max_pending) = {
            let config = self.guard.config();
            (
                config.reviews.expire_after,
                config.reviews.max_pending_per_identity,
            )
        };
        match self
            .store
            .count_pending_reviews(&session.identity.name, now)
            .await
        {
            Ok(pending) if pending >= u64::from(max_pending) => {
                tracing::warn!(session = %session.id, identity = %session.identity.name, pending, "review refused: too many pending");
                return GateOutcome::TooMany { pending };
            }
            Ok(_) => {}
            Err(e) => return GateOutcome::Failed(format!("reviews cannot be read: {e}")),
        }
        let new = NewReview {
            id: new_id("rv"),
            requester: session.identity.name.clone(),
            connection: session.connection.clone(),
            session_id: session.id.clone(),
            command: request.command.to_string(),
            fingerprint: request.fingerprint.to_string(),
            rules: request.rules.to_vec(),
            reviewers: request.reviewers.to_vec(),
            approvals_needed: request.approvals.max(1),
            reason: request.reason.to_string(),
            created_at: now,
            expires_at: now + chrono_duration(expire_after),
        };
        // Waiting starts before the review exists anywhere, so a decision
        // made the moment it is stored still finds the command.
        let (ticket, decided) = self.hub.wait(&new.id);
        if let Err(e) = self.store.add_review(&new).await {
            self.hub.leave(&ticket);
            return GateOutcome::Failed(format!("the store cannot record reviews: {e}"));
        }
        let review = pending_record(new);
        tracing::info!(
            session = %session.id, review = %review.id, rules = ?review.rules,
            hold_secs = hold.as_secs_f64(), "command held for review"
        );
        if let Err(e) = self.notices.try_send(review.clone()) {
            tracing::warn!(review = %review.id, error = %e, "review notification dropped: too many unsent");
        }
        self.hold(session, review, ticket, decided, hold, interrupted)
            .await
    }

    /// Waits for `review`'s decision, the end of the hold, or the client.
    async fn hold(
        &self,
        session: &SessionInfo,
        review: ReviewRecord,
        ticket: hub::Ticket,
        mut decided: tokio::sync::oneshot::Receiver<ReviewRecord>,
        hold: Duration,
        interrupted: impl Future<Output = Interrupt>,
    ) -> GateOutcome {
        let interrupt = tokio::select! {
            result = &mut decided => match result {
                Ok(r) => return decision_outcome(r),
                // The hub never drops a waiter's sender without sending.
                Err(_) => None,
            },
            () = tokio::time::sleep(hold) => None,
            why = interrupted => Some(why),
        };
        let left = self.hub.leave(&ticket);
        if left == Left::AlreadyReleased
            && let Ok(r) = decided.try_recv()
        {
            // Decided in the same instant the hold ended: the decision wins,
            // since the decider counted on this command to carry it out.
            return decision_outcome(r);
        }
        match interrupt {
            None => {
                tracing::info!(session = %session.id, review = %review.id, "hold ended; review stays pending");
                GateOutcome::Pending(review)
            }
            // Another command still waits for the same review: it stays.
            Some(why) if left == Left::OthersWait => {
                tracing::info!(session = %session.id, review = %review.id, why = ?why, "command withdrawn; others still wait for its review");
                GateOutcome::Withdrawn(review, why)
            }
            Some(why) => {
                let mut review = review;
                match self
                    .store
                    .close_review(&review.id, ReviewState::Cancelled, Utc::now())
                    .await
                {
                    Ok(true) => review.state = ReviewState::Cancelled,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(review = %review.id, error = %e, "cannot mark review cancelled")
                    }
                }
                tracing::info!(session = %session.id, review = %review.id, why = ?why, "review cancelled");
                GateOutcome::Withdrawn(review, why)
            }
        }
    }

    /// Records `reviewer`'s decision on a review. A review approved while
    /// its command is held releases the command; approved after the hold,
    /// it yields a one-time grant for the command; `window` also grants a
    /// time box.
    pub async fn decide(
        &self,
        id_or_prefix: &str,
        reviewer: &str,
        decision: Decision,
    ) -> Result<Decided, DecideError> {
        let config = self.guard.config();
        if let Decision::Deny { reason } = &decision
            && reason.trim().is_empty()
        {
            return Err(DecideError::ReasonMissing);
        }
        if let Decision::Approve {
            window: Some(w), ..
        } = &decision
            && *w > config.reviews.max_window
        {
            return Err(DecideError::WindowTooLong {
                max: humantime::format_duration(config.reviews.max_window).to_string(),
            });
        }
        let review = self.find(id_or_prefix).await?;
        if review.state != ReviewState::Pending {
            return Err(DecideError::NotPending {
                id: review.id,
                state: review.state.as_str(),
            });
        }
        let who = self
            .store
            .identity(reviewer)
            .await?
            .ok_or_else(|| DecideError::UnknownReviewer(reviewer.to_string()))?;
        let requester = self
            .store
            .identity(&review.requester)
            .await?
            .unwrap_or_else(|| unknown_identity(&review.requester));
        may_decide(&who, &requester, &review.reviewers).map_err(|e| match e {
            NotAllowed::OwnRequest => DecideError::OwnRequest,
            NotAllowed::NotAReviewer => DecideError::NotAReviewer {
                reviewer: who.name.clone(),
                id: review.id.clone(),
                reviewers: review.reviewers.join(", "),
            },
        })?;
        let now = Utc::now();
        let record = match &decision {
            Decision::Approve { reason, window } => ReviewDecision {
                reviewer: who.name.clone(),
                decision: DecisionKind::Approve,
                reason: reason.clone().filter(|r| !r.trim().is_empty()),
                at: now,
                grant_for_secs: window.map(|w| w.as_secs() as i64),
            },
            Decision::Deny { reason } => ReviewDecision {
                reviewer: who.name.clone(),
                decision: DecisionKind::Deny,
                reason: Some(reason.clone()),
                at: now,
                grant_for_secs: None,
            },
        };
        let review = match self.store.decide_review(&review.id, &record).await? {
            DecideOutcome::Recorded(r) => r,
            DecideOutcome::NotPending(r) => {
                return Err(DecideError::NotPending {
                    id: r.id,
                    state: r.state.as_str(),
                });
            }
            DecideOutcome::AlreadyDecided(_) => return Err(DecideError::AlreadyDecided(who.name)),
            DecideOutcome::NotFound => return Err(DecideError::NotFound(review.id)),
        };
        tracing::info!(review = %review.id, reviewer = %who.name, decision = record.decision.as_str(), state = review.state.as_str(), "review decision");
        let mut decided = Decided {
            released: false,
            grant: None,
            review,
        };
        match decided.review.state {
            ReviewState::Approved => {
                let window = decided
                    .review
                    .decisions
                    .iter()
                    .filter_map(|d| d.grant_for_secs)
                    .min();
                if let Some(secs) = window {
                    decided.grant = Some(
                        self.grant(&decided.review, GrantKind::Window, now, secs)
                            .await?,
                    );
                }
                decided.released = self.hub.release(&decided.review);
                if !decided.released && decided.grant.is_none() {
                    let ttl = config.reviews.grant_ttl.as_secs() as i64;
                    decided.grant = Some(
                        self.grant(&decided.review, GrantKind::Once, now, ttl)
                            .await?,
                    );
                }
            }
            ReviewState::Denied => decided.released = self.hub.release(&decided.review),
            _ => {}
        }
        Ok(decided)
    }

    /// Reviews, newest first, after marking the overdue ones expired.
    pub async fn list(
        &self,
        state: Option<ReviewState>,
        limit: u32,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        self.store.expire_reviews(Utc::now()).await?;
        self.store.list_reviews(state, limit).await
    }

    /// One review by id or unique prefix.
    pub async fn get(&self, id_or_prefix: &str) -> Result<ReviewRecord, DecideError> {
        self.store.expire_reviews(Utc::now()).await?;
        self.find(id_or_prefix).await
    }

    async fn find(&self, id_or_prefix: &str) -> Result<ReviewRecord, DecideError> {
        match self.store.review(id_or_prefix).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(DecideError::NotFound(id_or_prefix.to_string())),
            Err(StoreError::Ambiguous(_)) => Err(DecideError::Ambiguous(id_or_prefix.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    async fn grant(
        &self,
        review: &ReviewRecord,
        kind: GrantKind,
        now: DateTime<Utc>,
        secs: i64,
    ) -> Result<GrantRecord, StoreError> {
        let grant = NewGrant {
            id: new_id("gr"),
            review_id: review.id.clone(),
            identity: review.requester.clone(),
            connection: review.connection.clone(),
            kind,
            fingerprint: (kind == GrantKind::Once).then(|| review.fingerprint.clone()),
            rules: review.rules.clone(),
            approved_by: review.approvers(),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(secs),
        };
        self.store.add_grant(&grant).await?;
        tracing::info!(grant = %grant.id, review = %review.id, kind = kind.as_str(), identity = %grant.identity, "grant issued");
        Ok(GrantRecord {
            id: grant.id,
            review_id: grant.review_id,
            identity: grant.identity,
            connection: grant.connection,
            kind: grant.kind,
            fingerprint: grant.fingerprint,
            rules: grant.rules,
            approved_by: grant.approved_by,
            created_at: grant.created_at,
            expires_at: grant.expires_at,
            uses: 0,
            last_used_at: None,
            revoked_at: None,
        })
    }
}

fn decision_outcome(review: ReviewRecord) -> GateOutcome {
    if review.state == ReviewState::Approved {
        GateOutcome::Approved(review)
    } else {
        GateOutcome::Denied(review)
    }
}

fn pending_record(new: NewReview) -> ReviewRecord {
    ReviewRecord {
        id: new.id,
        requester: new.requester,
        connection: new.connection,
        session_id: new.session_id,
        command: new.command,
        fingerprint: new.fingerprint,
        rules: new.rules,
        reviewers: new.reviewers,
        approvals_needed: new.approvals_needed,
        reason: new.reason,
        state: ReviewState::Pending,
        created_at: new.created_at,
        expires_at: new.expires_at,
        decided_at: None,
        decisions: Vec::new(),
    }
}

/// An identity the store no longer knows: it is its own person, in no
/// group, so the self-approval check still compares names.
fn unknown_identity(name: &str) -> Identity {
    Identity {
        name: name.to_string(),
        kind: airlock_store::IdentityKind::User,
        groups: Vec::new(),
        person: None,
        scram_salt: Vec::new(),
        created_at: Utc::now(),
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `rv-` or `gr-` and 12 characters a person can read out and type.
fn new_id(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let tail: String = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}-{tail}")
}
