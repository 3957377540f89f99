//! The `reviews:` section of the configuration and the per-connection
//! `review:` override (docs/reviews.md).

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewsConfig {
    /// How long a command waits for its review before the client gets an
    /// error naming the review (the review stays pending). Per connection:
    /// `review.hold`.
    #[serde(default = "default_hold", with = "crate::config::humantime_serde")]
    pub hold: Duration,
    /// A review nobody decided within this becomes `expired`.
    #[serde(
        default = "default_expire_after",
        with = "crate::config::humantime_serde"
    )]
    pub expire_after: Duration,
    /// How long the one-time grant of a review approved after its hold
    /// stays usable.
    #[serde(default = "default_grant_ttl", with = "crate::config::humantime_serde")]
    pub grant_ttl: Duration,
    /// The longest time box a reviewer may grant (`--for`).
    #[serde(
        default = "default_max_window",
        with = "crate::config::humantime_serde"
    )]
    pub max_window: Duration,
    /// Pending reviews one identity may have at a time; a command gated
    /// beyond that is refused without a new review, so a runaway agent
    /// cannot bury its reviewers (or the webhooks) in requests.
    #[serde(default = "default_max_pending")]
    pub max_pending_per_identity: u32,
    /// How reviewers reach this gateway's API, for the links in
    /// notifications (`https://airlock.example.com`). Default: the API
    /// listener's address over `http`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Where new reviews are announced.
    #[serde(default)]
    pub webhooks: Vec<ReviewWebhook>,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        ReviewsConfig {
            hold: default_hold(),
            expire_after: default_expire_after(),
            grant_ttl: default_grant_ttl(),
            max_window: default_max_window(),
            max_pending_per_identity: default_max_pending(),
            public_url: None,
            webhooks: Vec::new(),
        }
    }
}

/// One receiver of review notifications.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewWebhook {
    /// `http://host:port/path`.
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
    /// Only reviews that one of these rules asked for; empty: every review.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Environment variable holding an `Authorization` header value.
    #[serde(default)]
    pub authorization_env: Option<String>,
    /// For `https://`: check the receiver's certificate against the CA
    /// certificates in this PEM file only (default: the system's).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"text": "…"}`, which Slack (and Mattermost, and others) accept.
    #[default]
    Slack,
    /// The review as JSON, with the links.
    Json,
}

/// A connection's overrides of `reviews:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionReview {
    #[serde(default, with = "crate::config::humantime_serde_opt")]
    pub hold: Option<Duration>,
}

fn default_hold() -> Duration {
    Duration::from_secs(30)
}
fn default_expire_after() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_grant_ttl() -> Duration {
    Duration::from_secs(24 * 3600)
}
fn default_max_pending() -> u32 {
    20
}
fn default_max_window() -> Duration {
    Duration::from_secs(24 * 3600)
}
