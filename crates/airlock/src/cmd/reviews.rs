//! `airlock reviews …`: list, show, approve and deny, through the API.

use crate::api::model::{
    ApproveRequest, DecideResponse, DecisionKind, DenyRequest, GrantKind, Review, ReviewState,
};
use crate::cli::{ReviewStateFilter, ReviewsCmd};

use super::api_client::{ApiClient, segment};
use super::when;

pub async fn run(mut api: ApiClient, cmd: ReviewsCmd) -> anyhow::Result<()> {
    match cmd {
        ReviewsCmd::List { state, limit, json } => {
            let filter = state_name(state);
            let reviews: Vec<Review> = api
                .get(&format!("/api/v1/reviews?state={filter}&limit={limit}"))
                .await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&reviews)?);
            } else if reviews.is_empty() {
                match state {
                    ReviewStateFilter::All => println!("no reviews"),
                    _ => println!("no {filter} reviews"),
                }
            } else {
                print_table(&reviews);
            }
        }
        ReviewsCmd::Show { id, json } => {
            let review: Review = api
                .get(&format!("/api/v1/reviews/{}", segment(&id)))
                .await?;
            if json.json {
                println!("{}", serde_json::to_string_pretty(&review)?);
            } else {
                print_review(&review);
            }
        }
        ReviewsCmd::Approve { id, reason, window } => {
            let body = ApproveRequest {
                reason,
                window: window.map(|w| w.to_string()),
            };
            let decided: DecideResponse = api
                .post(&format!("/api/v1/reviews/{}/approve", segment(&id)), &body)
                .await?;
            for line in approval(&decided) {
                println!("{line}");
            }
        }
        ReviewsCmd::Deny { id, reason } => {
            let body = DenyRequest { reason };
            let decided: DecideResponse = api
                .post(&format!("/api/v1/reviews/{}/deny", segment(&id)), &body)
                .await?;
            let id = &decided.review.id;
            if decided.released {
                println!("denied {id}; the held command fails now with your reason");
            } else {
                println!("denied {id}");
            }
        }
    }
    Ok(())
}

fn state_name(state: ReviewStateFilter) -> &'static str {
    match state {
        ReviewStateFilter::Pending => "pending",
        ReviewStateFilter::Approved => "approved",
        ReviewStateFilter::Denied => "denied",
        ReviewStateFilter::Expired => "expired",
        ReviewStateFilter::Cancelled => "cancelled",
        ReviewStateFilter::All => "all",
    }
}

fn print_table(reviews: &[Review]) {
    println!(
        "{:<15} {:<9} {:<16} {:<16} {:<19} {:>9}  {:<24} COMMAND",
        "ID", "STATE", "REQUESTER", "CONNECTION", "CREATED", "APPROVALS", "RULES"
    );
    for r in reviews {
        println!(
            "{:<15} {:<9} {:<16} {:<16} {:<19} {:>9}  {:<24} {}",
            r.id,
            r.state.as_str(),
            r.requester,
            r.connection,
            when(r.created_at),
            format!("{}/{}", approvals(r), r.approvals_needed),
            r.rules.join(","),
            shorten(&r.command, 80),
        );
    }
}

fn print_review(r: &Review) {
    println!("review     {}", r.id);
    println!("state      {}", r.state.as_str());
    println!("requester  {}", r.requester);
    println!("connection {}", r.connection);
    println!("session    {}", r.session_id);
    println!("created    {}", when(r.created_at));
    match r.decided_at {
        Some(t) => println!("decided    {}", when(t)),
        None => println!("expires    {}", when(r.expires_at)),
    }
    println!("rules      {}", r.rules.join(", "));
    println!("reason     {}", r.reason);
    println!("reviewers  {}", r.reviewers.join(", "));
    println!(
        "approvals  {} of {} needed",
        approvals(r),
        r.approvals_needed
    );
    println!("command");
    for line in r.command.lines() {
        println!("    {line}");
    }
    if r.decisions.is_empty() {
        println!("decisions  none yet");
        return;
    }
    println!("decisions");
    for d in &r.decisions {
        let what = match d.decision {
            DecisionKind::Approve => "approved",
            DecisionKind::Deny => "denied",
        };
        let window = d
            .grant_for_secs
            .map(|s| format!(" for {}", secs(s)))
            .unwrap_or_default();
        let reason = d
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        println!("    {}  {} {what}{window}{reason}", when(d.at), d.reviewer);
    }
}

/// What an approval did, in a reviewer's words.
fn approval(d: &DecideResponse) -> Vec<String> {
    let r = &d.review;
    let mut lines = Vec::new();
    match r.state {
        ReviewState::Pending => lines.push(format!(
            "{} of {} approvals recorded; still pending",
            approvals(r),
            r.approvals_needed
        )),
        ReviewState::Approved => {
            if d.released {
                lines.push("approved; the held command runs now".to_string());
            }
            match &d.grant {
                Some(g) if g.kind == GrantKind::Window => {
                    let length = (g.expires_at - g.created_at).num_seconds();
                    lines.push(format!(
                        "approved for {}: grant {} lets {} run what {} gates on {} until {}",
                        secs(length),
                        g.id,
                        g.identity,
                        g.rules.join(", "),
                        g.connection,
                        when(g.expires_at)
                    ));
                }
                Some(g) => lines.push(format!(
                    "approved; one-time grant {} lets {} run the command once (until {})",
                    g.id,
                    g.identity,
                    when(g.expires_at)
                )),
                None if !d.released => lines.push("approved".to_string()),
                None => {}
            }
        }
        other => lines.push(format!("review {} is {}", r.id, other.as_str())),
    }
    lines
}

fn approvals(r: &Review) -> usize {
    r.decisions
        .iter()
        .filter(|d| d.decision == DecisionKind::Approve)
        .count()
}

/// `1800` → `30m`.
fn secs(s: i64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(s.max(0) as u64)).to_string()
}

/// One line of at most `max` characters.
fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::model::{Grant, ReviewDecision};
    use chrono::Utc;

    fn review(state: ReviewState, approvals: usize, needed: u32) -> Review {
        Review {
            id: "rv-x".into(),
            requester: "alice".into(),
            connection: "app".into(),
            session_id: "s".into(),
            command: "drop table t".into(),
            fingerprint: "f".into(),
            rules: vec!["r".into()],
            reviewers: vec!["group:dba".into()],
            approvals_needed: needed,
            reason: String::new(),
            state,
            created_at: Utc::now(),
            expires_at: Utc::now(),
            decided_at: None,
            decisions: (0..approvals)
                .map(|i| ReviewDecision {
                    reviewer: format!("r{i}"),
                    decision: DecisionKind::Approve,
                    reason: None,
                    at: Utc::now(),
                    grant_for_secs: None,
                })
                .collect(),
        }
    }

    fn grant(kind: GrantKind, secs: i64) -> Grant {
        let now = Utc::now();
        Grant {
            id: "gr-y".into(),
            review_id: "rv-x".into(),
            identity: "alice".into(),
            connection: "app".into(),
            kind,
            fingerprint: None,
            rules: vec!["r".into()],
            approved_by: vec!["dana".into()],
            created_at: now,
            expires_at: now + chrono::Duration::seconds(secs),
            uses: 0,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn approvals_say_what_happened() {
        let d = |state, released, grant| DecideResponse {
            review: review(state, 1, 2),
            released,
            grant,
        };
        assert_eq!(
            approval(&d(ReviewState::Pending, false, None)),
            ["1 of 2 approvals recorded; still pending"]
        );
        assert_eq!(
            approval(&d(ReviewState::Approved, true, None)),
            ["approved; the held command runs now"]
        );
        let once = approval(&d(
            ReviewState::Approved,
            false,
            Some(grant(GrantKind::Once, 60)),
        ));
        assert!(
            once[0].starts_with(
                "approved; one-time grant gr-y lets alice run the command once (until "
            ),
            "{once:?}"
        );
        let window = approval(&d(
            ReviewState::Approved,
            true,
            Some(grant(GrantKind::Window, 1800)),
        ));
        assert_eq!(window[0], "approved; the held command runs now");
        assert!(
            window[1].starts_with("approved for 30m: grant gr-y"),
            "{window:?}"
        );
    }
}
