//! Review notifications (`reviews.webhooks`, docs/api.md): each new
//! pending review is POSTed to every webhook whose `rules` filter matches.
//!
//! The data path only ever `try_send`s a review to this task's channel;
//! every delivery then runs in a task of its own, so a slow or dead
//! receiver delays neither a held command nor other notifications. The
//! webhooks are read from the guard for each review, so a reload applies
//! to the next one.

mod deliver;
mod message;

use std::sync::Arc;

use bytes::Bytes;
use hyper::header::HeaderValue;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use airlock_core::review::{ReviewWebhook, ReviewsConfig};
use airlock_core::{Config, Guard};
use airlock_store::ReviewRecord;

use crate::sinks::webhook::Target;

/// Requests in flight at once, over all webhooks.
const MAX_IN_FLIGHT: usize = 16;
/// Deliveries not yet finished (sending or waiting to retry); beyond this,
/// new notifications are dropped and logged rather than piling up behind
/// a dead receiver.
const MAX_PENDING: usize = 4096;

/// Checks every `reviews.webhooks` entry (URL, `authorization_env`), so
/// that a wrong one stops the gateway at start rather than losing every
/// notification.
pub fn check(reviews: &ReviewsConfig) -> anyhow::Result<()> {
    for (i, hook) in reviews.webhooks.iter().enumerate() {
        prepare(hook).map_err(|e| anyhow::anyhow!("reviews.webhooks[{i}]: {e:#}"))?;
    }
    Ok(())
}

/// Starts the task that turns `Reviews`' notices into webhook calls; it
/// ends when the notices' senders are gone.
pub fn spawn(guard: Arc<Guard>, notices: mpsc::Receiver<ReviewRecord>) -> JoinHandle<()> {
    tokio::spawn(run(guard, notices))
}

async fn run(guard: Arc<Guard>, mut notices: mpsc::Receiver<ReviewRecord>) {
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let pending = Arc::new(Semaphore::new(MAX_PENDING));
    while let Some(review) = notices.recv().await {
        let config = guard.config();
        let links = message::Links::new(&public_url(&config), &review.id);
        for (i, hook) in config.reviews.webhooks.iter().enumerate() {
            if !wants(hook, &review) {
                continue;
            }
            // A reload may have brought a webhook that does not check out;
            // the start-up check cannot have seen it.
            let (target, authorization) = match prepare(hook) {
                Ok(prepared) => prepared,
                Err(e) => {
                    tracing::error!(webhook = i, review = %review.id, error = format!("{e:#}"),
                        "reviews.webhooks[{i}] is misconfigured; notification not sent");
                    continue;
                }
            };
            let name = format!(
                "reviews.webhooks[{i}] ({})",
                target.name.trim_start_matches("webhook:")
            );
            let Ok(place) = pending.clone().try_acquire_owned() else {
                tracing::warn!(webhook = %name, review = %review.id,
                    "review notification dropped: {MAX_PENDING} deliveries still unfinished");
                continue;
            };
            let body = match serde_json::to_vec(&message::body(hook.format, &review, &links)) {
                Ok(body) => Bytes::from(body),
                Err(e) => {
                    tracing::error!(webhook = %name, review = %review.id, error = %e, "review notification cannot be encoded");
                    continue;
                }
            };
            let delivery = deliver::Delivery {
                name,
                review: review.id.clone(),
                target,
                authorization,
                body,
            };
            tokio::spawn(delivery.run(in_flight.clone(), place));
        }
    }
}

/// Whether `hook` announces this review: an empty filter takes every
/// review, otherwise one of the review's rules must be in it.
fn wants(hook: &ReviewWebhook, review: &ReviewRecord) -> bool {
    hook.rules.is_empty() || review.rules.iter().any(|r| hook.rules.contains(r))
}

/// `reviews.public_url`, or the API listener over http.
fn public_url(config: &Config) -> String {
    config
        .reviews
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen.api))
}

/// The webhook's target and `Authorization` value. The value is read
/// from the environment each time, so a reload may name another
/// variable; it is marked sensitive, so no debug output shows it.
fn prepare(hook: &ReviewWebhook) -> anyhow::Result<(Target, Option<HeaderValue>)> {
    let target = Target::parse(&hook.url, hook.ca_file.as_deref())?;
    let authorization = match hook.authorization_env.as_deref() {
        None => None,
        Some(var) => {
            let value = std::env::var(var).map_err(|_| {
                anyhow::anyhow!("authorization_env: environment variable {var} is not set")
            })?;
            let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                anyhow::anyhow!("authorization_env: {var} holds characters a header cannot carry")
            })?;
            value.set_sensitive(true);
            Some(value)
        }
    };
    Ok((target, authorization))
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_core::review::WebhookFormat;

    fn hook(url: &str, rules: &[&str]) -> ReviewWebhook {
        ReviewWebhook {
            url: url.into(),
            format: WebhookFormat::Slack,
            rules: rules.iter().map(|r| r.to_string()).collect(),
            authorization_env: None,
            ca_file: None,
        }
    }

    fn review(rules: &[&str]) -> ReviewRecord {
        ReviewRecord {
            id: "rv-x".into(),
            requester: "a".into(),
            connection: "c".into(),
            session_id: "s".into(),
            command: "drop table t".into(),
            fingerprint: "f".into(),
            rules: rules.iter().map(|r| r.to_string()).collect(),
            reviewers: vec![],
            approvals_needed: 1,
            reason: String::new(),
            state: airlock_store::ReviewState::Pending,
            created_at: chrono::Utc::now(),
            expires_at: chrono::Utc::now(),
            decided_at: None,
            decisions: vec![],
        }
    }

    #[test]
    fn the_rules_filter_takes_any_of_the_reviews_rules() {
        assert!(wants(&hook("http://h", &[]), &review(&["r"])));
        assert!(wants(&hook("http://h", &["x", "r"]), &review(&["r", "s"])));
        assert!(!wants(&hook("http://h", &["x"]), &review(&["r", "s"])));
    }

    #[test]
    fn http_and_https_urls_without_credentials_pass() {
        assert!(prepare(&hook("http://127.0.0.1:9/hook", &[])).is_ok());
        // https needs trusted roots: the system's, on a machine that has
        // them (CI installs ca-certificates), or a ca_file.
        let https = prepare(&hook("https://hooks.slack.com/x", &[]));
        assert!(
            https.is_ok()
                || format!("{:#}", https.err().expect("error")).contains("no trusted root")
        );
        for bad in ["https://u:p@h/x", "http://u:p@h/x", "hooks.slack.com"] {
            assert!(prepare(&hook(bad, &[])).is_err(), "{bad}");
        }
        let mut missing = hook("http://h/x", &[]);
        missing.authorization_env = Some("AIRLOCK_TEST_SURELY_UNSET_VARIABLE".into());
        let e = prepare(&missing).err().expect("refused");
        assert!(format!("{e}").contains("AIRLOCK_TEST_SURELY_UNSET_VARIABLE"));
    }
}
