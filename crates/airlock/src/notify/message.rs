//! What a review notification says, in each `reviews.webhooks[].format`.

use serde_json::{Value, json};

use airlock_core::review::WebhookFormat;
use airlock_store::ReviewRecord;

use crate::api::model::Review;

/// Longest command quoted in a chat message; the API has all of it.
const MAX_COMMAND_CHARS: usize = 1500;

/// Where a review lives in the API, under `public_url`.
pub struct Links {
    pub review: String,
    pub approve: String,
    pub deny: String,
}

impl Links {
    pub fn new(public_url: &str, id: &str) -> Links {
        let review = format!("{}/api/v1/reviews/{id}", public_url.trim_end_matches('/'));
        Links {
            approve: format!("{review}/approve"),
            deny: format!("{review}/deny"),
            review,
        }
    }
}

pub fn body(format: WebhookFormat, review: &ReviewRecord, links: &Links) -> Value {
    match format {
        WebhookFormat::Slack => json!({ "text": slack_text(review, links) }),
        WebhookFormat::Json => json!({
            "event": "review.requested",
            // The API's own shape, so a receiver can share its parser.
            "review": Review::from(review.clone()),
            "links": { "self": links.review, "approve": links.approve, "deny": links.deny },
        }),
    }
}

/// A message a person reads in a chat: who wants to run what, why it
/// needs review, and how to decide.
fn slack_text(review: &ReviewRecord, links: &Links) -> String {
    let approvals = if review.approvals_needed > 1 {
        format!(" ({} approvals needed)", review.approvals_needed)
    } else {
        String::new()
    };
    let mut text = format!(
        "*Review {id}*: {requester} wants to run on {connection}:\n```{command}```\n\
         Rules: {rules}",
        id = escape(&review.id),
        requester = escape(&review.requester),
        connection = escape(&review.connection),
        command = code_block(&review.command),
        rules = escape(&review.rules.join(", ")),
    );
    if !review.reason.trim().is_empty() {
        text.push_str(&format!(" — {}", escape(review.reason.trim())));
    }
    text.push_str(&format!(
        "\nReviewers: {reviewers}{approvals}\n\
         Approve: `airlock reviews approve {id}` (or deny: `airlock reviews deny {id} --reason …`)\n\
         {link}",
        reviewers = escape(&review.reviewers.join(", ")),
        id = escape(&review.id),
        link = escape(&links.review),
    ));
    text
}

/// Slack reads `&`, `<` and `>` as markup (links, mentions): a command
/// holding `<!channel>` must not ping anyone.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The command inside a ``` block: shortened, and with no ``` of its own
/// that would end the block early.
fn code_block(command: &str) -> String {
    let mut shown: String = command.chars().take(MAX_COMMAND_CHARS).collect();
    if command.chars().count() > MAX_COMMAND_CHARS {
        shown.push('…');
    }
    escape(&shown).replace("```", "`\u{200b}``")
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_store::ReviewState;
    use chrono::Utc;

    fn review(command: &str) -> ReviewRecord {
        ReviewRecord {
            id: "rv-abc".into(),
            requester: "alice".into(),
            connection: "app".into(),
            session_id: "s1".into(),
            command: command.into(),
            fingerprint: "f".into(),
            rules: vec!["r".into()],
            reviewers: vec!["group:dba".into()],
            approvals_needed: 2,
            reason: "schema change".into(),
            state: ReviewState::Pending,
            created_at: Utc::now(),
            expires_at: Utc::now(),
            decided_at: None,
            decisions: Vec::new(),
        }
    }

    #[test]
    fn slack_names_who_what_why_and_how_to_decide() {
        let links = Links::new("https://airlock.example/", "rv-abc");
        let body = body(WebhookFormat::Slack, &review("drop table x"), &links);
        let text = body["text"].as_str().expect("text");
        for part in [
            "alice",
            "app",
            "drop table x",
            "Rules: r — schema change",
            "group:dba (2 approvals needed)",
            "airlock reviews approve rv-abc",
            "https://airlock.example/api/v1/reviews/rv-abc",
        ] {
            assert!(text.contains(part), "{part:?} missing in {text}");
        }
    }

    #[test]
    fn slack_markup_in_a_command_stays_text() {
        let links = Links::new("http://h", "rv-abc");
        let body = body(
            WebhookFormat::Slack,
            &review("select '<!channel>' ```x"),
            &links,
        );
        let text = body["text"].as_str().expect("text");
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert_eq!(text.matches("```").count(), 2, "{text}");
    }

    #[test]
    fn json_carries_the_review_and_its_links() {
        let links = Links::new("http://127.0.0.1:8080", "rv-abc");
        let body = body(WebhookFormat::Json, &review("drop table x"), &links);
        assert_eq!(body["event"], "review.requested");
        assert_eq!(body["review"]["id"], "rv-abc");
        assert_eq!(body["review"]["state"], "pending");
        assert_eq!(
            body["links"]["approve"],
            "http://127.0.0.1:8080/api/v1/reviews/rv-abc/approve"
        );
        assert_eq!(
            body["links"]["self"],
            "http://127.0.0.1:8080/api/v1/reviews/rv-abc"
        );
    }
}
