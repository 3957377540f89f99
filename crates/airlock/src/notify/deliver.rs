//! One notification to one webhook, retried with exponential backoff
//! until the receiver answers 2xx or the notification is too old to
//! matter.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::header::HeaderValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::sinks::http::Connection;
use crate::sinks::webhook::{Target, request};

const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);
const MAX_ATTEMPTS: u32 = 10;
/// A review announced later than this is stale news: reviewers find it
/// with `airlock reviews list`.
const MAX_AGE: Duration = Duration::from_secs(3600);

pub struct Delivery {
    /// `reviews.webhooks[i] (http://host/path)`: no query, no credentials.
    pub name: String,
    pub review: String,
    pub target: Target,
    pub authorization: Option<HeaderValue>,
    pub body: Bytes,
}

impl Delivery {
    /// Tries until delivered or given up. `in_flight` bounds the attempts
    /// running at once across all deliveries; it is not held while
    /// waiting to retry, so a dead receiver takes no place from others.
    /// `_pending` is this delivery's place among those not yet finished.
    pub async fn run(self, in_flight: Arc<Semaphore>, _pending: OwnedSemaphorePermit) {
        let started = Instant::now();
        let mut wait = RETRY_FIRST;
        for attempt in 1..=MAX_ATTEMPTS {
            let result = match in_flight.acquire().await {
                Ok(_permit) => self.attempt().await,
                // The semaphore is never closed; if it were, nothing
                // could be sent any more.
                Err(_) => return,
            };
            let error = match result {
                Ok(()) => {
                    tracing::info!(webhook = %self.name, review = %self.review, attempt, "review notification delivered");
                    return;
                }
                Err(e) => e,
            };
            let give_up = attempt == MAX_ATTEMPTS || started.elapsed() + wait > MAX_AGE;
            if give_up {
                tracing::error!(
                    webhook = %self.name, review = %self.review, attempt,
                    error = format!("{error:#}"),
                    "review notification failed; giving up"
                );
                return;
            }
            tracing::warn!(
                webhook = %self.name, review = %self.review, attempt,
                retry_in_ms = wait.as_millis() as u64,
                error = format!("{error:#}"),
                "review notification failed; will retry"
            );
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(RETRY_MAX);
        }
    }

    /// One request on a fresh connection: notifications are rare, and a
    /// kept connection would only go stale between them.
    async fn attempt(&self) -> anyhow::Result<()> {
        let mut connection = Connection::new(self.target.host.clone(), self.target.port)
            .with_tls(self.target.tls.clone());
        let answer = connection
            .send(|| request(&self.target, self.authorization.as_ref(), self.body.clone()))
            .await?;
        if answer.status.is_success() {
            return Ok(());
        }
        let said: String = String::from_utf8_lossy(&answer.body)
            .chars()
            .take(200)
            .collect();
        anyhow::bail!("the receiver answered {}: {said:?}", answer.status)
    }
}
