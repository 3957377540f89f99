//! Who may decide on a review.

use airlock_store::{Identity, IdentityKind};

use crate::access::AllowEntry;

/// Why an identity may not decide on a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAllowed {
    /// The requester itself, or another identity of the requester's person.
    OwnRequest,
    /// Not among the review's reviewers (agents only when named).
    NotAReviewer,
}

/// Whether `reviewer` may decide on a review `requester` asked for, whose
/// rules named `reviewers`. Nobody reviews their own request, also not
/// through a second identity of the same person; an agent reviews only
/// where it is named (`bot`, `agent:bot`), never through a group or `*`,
/// so adding an agent to a group never makes it an approver.
pub fn may_decide(
    reviewer: &Identity,
    requester: &Identity,
    reviewers: &[String],
) -> Result<(), NotAllowed> {
    let person = |who: &Identity| who.person.clone().unwrap_or_else(|| who.name.clone());
    if reviewer.name == requester.name || person(reviewer) == person(requester) {
        return Err(NotAllowed::OwnRequest);
    }
    let named = reviewers
        .iter()
        .filter_map(|r| AllowEntry::parse(r).ok())
        .any(|entry| match reviewer.kind {
            IdentityKind::Agent => {
                matches!(entry, AllowEntry::Name(_) | AllowEntry::Agent(_))
                    && entry.admits(reviewer)
            }
            IdentityKind::User => entry.admits(reviewer),
        });
    if named {
        Ok(())
    } else {
        Err(NotAllowed::NotAReviewer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str, kind: IdentityKind, groups: &[&str], person: Option<&str>) -> Identity {
        Identity {
            name: name.into(),
            kind,
            groups: groups.iter().map(|g| g.to_string()).collect(),
            person: person.map(str::to_string),
            scram_salt: vec![],
            created_at: chrono::Utc::now(),
        }
    }

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn reviewers_named_or_in_a_group_may_decide() {
        let bot = who("bot", IdentityKind::Agent, &[], None);
        let dba = who("dana", IdentityKind::User, &["dba"], None);
        assert_eq!(may_decide(&dba, &bot, &list(&["group:dba"])), Ok(()));
        assert_eq!(may_decide(&dba, &bot, &list(&["dana"])), Ok(()));
        let eve = who("eve", IdentityKind::User, &["eng"], None);
        assert_eq!(
            may_decide(&eve, &bot, &list(&["group:dba", "alice"])),
            Err(NotAllowed::NotAReviewer)
        );
    }

    #[test]
    fn nobody_approves_their_own_request() {
        let alice = who("alice", IdentityKind::User, &["dba"], None);
        assert_eq!(
            may_decide(&alice, &alice, &list(&["group:dba"])),
            Err(NotAllowed::OwnRequest)
        );
        let admin = who("alice-admin", IdentityKind::User, &["dba"], Some("alice"));
        assert_eq!(
            may_decide(&admin, &alice, &list(&["group:dba"])),
            Err(NotAllowed::OwnRequest)
        );
        let bob = who("bob", IdentityKind::User, &["dba"], None);
        assert_eq!(may_decide(&bob, &admin, &list(&["group:dba"])), Ok(()));
    }

    #[test]
    fn agents_review_only_where_named() {
        let bob = who("bob", IdentityKind::User, &[], None);
        let bot = who("review-bot", IdentityKind::Agent, &["dba"], None);
        assert_eq!(
            may_decide(&bot, &bob, &list(&["group:dba", "*"])),
            Err(NotAllowed::NotAReviewer)
        );
        assert_eq!(may_decide(&bot, &bob, &list(&["agent:review-bot"])), Ok(()));
        assert_eq!(may_decide(&bot, &bob, &list(&["review-bot"])), Ok(()));
    }
}
