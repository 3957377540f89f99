mod common;

use std::path::Path;

use airlock_store::*;
use common::*;

/// A base time: every test time is `T` plus some milliseconds.
const T: i64 = 1_700_000_000_000;

async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(dir.path()).await;
    (dir, store)
}

async fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("airlock.db"))
        .await
        .expect("open store")
}

fn review(id: &str, created: i64, expires: i64, needed: u32) -> NewReview {
    NewReview {
        id: id.into(),
        requester: "alice".into(),
        connection: "prod-db".into(),
        session_id: "s1".into(),
        command: "DROP TABLE t".into(),
        fingerprint: "fp-1".into(),
        rules: vec!["review-ddl".into(), "review-drop".into()],
        reviewers: vec!["group:dba".into(), "bob".into()],
        approvals_needed: needed,
        reason: "schema change".into(),
        created_at: at(T + created),
        expires_at: at(T + expires),
    }
}

fn decision(reviewer: &str, kind: DecisionKind, when: i64) -> ReviewDecision {
    ReviewDecision {
        reviewer: reviewer.into(),
        decision: kind,
        reason: Some(format!("{reviewer} says {}", kind.as_str())),
        at: at(T + when),
        grant_for_secs: None,
    }
}

fn approve(reviewer: &str, when: i64) -> ReviewDecision {
    decision(reviewer, DecisionKind::Approve, when)
}

fn deny(reviewer: &str, when: i64) -> ReviewDecision {
    decision(reviewer, DecisionKind::Deny, when)
}

async fn add(store: &SqliteStore, new: &NewReview) {
    store.add_review(new).await.expect("add review");
}

async fn show(store: &SqliteStore, id: &str) -> ReviewRecord {
    store
        .review(id)
        .await
        .expect("read review")
        .expect("review exists")
}

async fn decide(store: &SqliteStore, id: &str, d: &ReviewDecision) -> DecideOutcome {
    store.decide_review(id, d).await.expect("decide")
}

fn ids(reviews: &[ReviewRecord]) -> Vec<&str> {
    reviews.iter().map(|r| r.id.as_str()).collect()
}

#[tokio::test]
async fn reviews_add_show_and_prefix_lookup() {
    let (_dir, store) = temp_store().await;
    let new = review("rv_abc1", 0, 60_000, 2);
    add(&store, &new).await;
    add(&store, &review("rv_abc10", 1, 60_000, 1)).await;
    add(&store, &review("rv_xyz", 2, 60_000, 1)).await;

    let dup = store.add_review(&review("rv_xyz", 3, 60_000, 1)).await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");

    let got = show(&store, "rv_abc1").await;
    assert_eq!(got.id, "rv_abc1");
    assert_eq!(got.requester, new.requester);
    assert_eq!(got.connection, new.connection);
    assert_eq!(got.session_id, new.session_id);
    assert_eq!(got.command, new.command);
    assert_eq!(got.fingerprint, new.fingerprint);
    assert_eq!(got.rules, new.rules);
    assert_eq!(got.reviewers, new.reviewers);
    assert_eq!(got.approvals_needed, 2);
    assert_eq!(got.reason, new.reason);
    assert_eq!(got.state, ReviewState::Pending);
    assert_eq!(got.created_at, new.created_at);
    assert_eq!(got.expires_at, new.expires_at);
    assert_eq!(got.decided_at, None);
    assert!(got.decisions.is_empty());

    // A full id that is also a prefix of another is that review.
    assert_eq!(show(&store, "rv_abc10").await.id, "rv_abc10");
    assert_eq!(show(&store, "rv_x").await.id, "rv_xyz");
    let ambiguous = store.review("rv_abc").await;
    assert!(
        matches!(ambiguous, Err(StoreError::Ambiguous(_))),
        "{ambiguous:?}"
    );
    assert!(store.review("rv_q").await.expect("read").is_none());
    assert!(store.review("").await.expect("read").is_none());
    // Wildcards are literal, not LIKE patterns.
    assert!(store.review("rv_%").await.expect("read").is_none());
    assert!(store.review("rv__").await.expect("read").is_none());
}

#[tokio::test]
async fn reviews_list_by_state_newest_first_with_decisions() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("r1", 0, 60_000, 2)).await;
    add(&store, &review("r2", 1, 60_000, 1)).await;
    add(&store, &review("r3", 2, 60_000, 1)).await;
    // Same created_at as r3: the id breaks the tie.
    add(&store, &review("r4", 2, 60_000, 1)).await;
    decide(&store, "r2", &deny("bob", 10)).await;
    decide(&store, "r1", &approve("bob", 11)).await;

    let all = store.list_reviews(None, 10).await.expect("list");
    assert_eq!(ids(&all), ["r4", "r3", "r2", "r1"]);
    let pending = store
        .list_reviews(Some(ReviewState::Pending), 10)
        .await
        .expect("list pending");
    assert_eq!(ids(&pending), ["r4", "r3", "r1"]);
    assert_eq!(pending[2].approvers(), ["bob"]);
    assert!(pending[0].decisions.is_empty() && pending[1].decisions.is_empty());

    let denied = store
        .list_reviews(Some(ReviewState::Denied), 10)
        .await
        .expect("list denied");
    assert_eq!(ids(&denied), ["r2"]);
    assert_eq!(denied[0].decisions.len(), 1);
    assert_eq!(denied[0].decisions[0].decision, DecisionKind::Deny);

    let first_two = store.list_reviews(None, 2).await.expect("list 2");
    assert_eq!(ids(&first_two), ["r4", "r3"]);
    let approved = store
        .list_reviews(Some(ReviewState::Approved), 10)
        .await
        .expect("list approved");
    assert!(approved.is_empty());
}

#[tokio::test]
async fn two_approvals_needed_from_distinct_reviewers() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("r1", 0, 60_000, 2)).await;

    let mut first = approve("bob", 10);
    first.grant_for_secs = Some(1800);
    let DecideOutcome::Recorded(after_bob) = decide(&store, "r1", &first).await else {
        panic!("bob's approval is recorded");
    };
    assert_eq!(after_bob.state, ReviewState::Pending);
    assert_eq!(after_bob.decided_at, None);
    assert_eq!(after_bob.approvers(), ["bob"]);
    assert_eq!(after_bob.decisions[0].grant_for_secs, Some(1800));
    assert_eq!(
        after_bob.decisions[0].reason.as_deref(),
        Some("bob says approve")
    );
    assert_eq!(after_bob.decisions[0].at, at(T + 10));

    // The same reviewer cannot count twice, nor change their mind.
    for again in [approve("bob", 11), deny("bob", 12)] {
        let DecideOutcome::AlreadyDecided(same) = decide(&store, "r1", &again).await else {
            panic!("bob already decided");
        };
        assert_eq!(same.state, ReviewState::Pending);
        assert_eq!(same.decisions.len(), 1);
    }
    assert_eq!(show(&store, "r1").await.state, ReviewState::Pending);

    let DecideOutcome::Recorded(done) = decide(&store, "r1", &approve("carol", 20)).await else {
        panic!("carol's approval is recorded");
    };
    assert_eq!(done.state, ReviewState::Approved);
    assert_eq!(done.decided_at, Some(at(T + 20)));
    assert_eq!(done.approvers(), ["bob", "carol"]);
    assert_eq!(show(&store, "r1").await.approvers(), ["bob", "carol"]);

    let DecideOutcome::NotPending(late) = decide(&store, "r1", &approve("dave", 30)).await else {
        panic!("an approved review takes no more decisions");
    };
    assert_eq!(late.state, ReviewState::Approved);
    assert_eq!(late.decisions.len(), 2);
}

#[tokio::test]
async fn a_denial_settles_the_review() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("r1", 0, 60_000, 2)).await;
    let DecideOutcome::Recorded(denied) = decide(&store, "r1", &deny("bob", 10)).await else {
        panic!("the denial is recorded");
    };
    assert_eq!(denied.state, ReviewState::Denied);
    assert_eq!(denied.decided_at, Some(at(T + 10)));

    let DecideOutcome::NotPending(still) = decide(&store, "r1", &approve("carol", 20)).await else {
        panic!("a denied review takes no approvals");
    };
    assert_eq!(still.state, ReviewState::Denied);
    assert_eq!(still.decisions.len(), 1);
    assert_eq!(show(&store, "r1").await.state, ReviewState::Denied);
}

#[tokio::test]
async fn a_decision_after_expiry_expires_the_review() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("late", 0, 100, 1)).await;
    add(&store, &review("in-time", 0, 100, 1)).await;

    // At `expires_at` it is already too late.
    let DecideOutcome::NotPending(late) = decide(&store, "late", &approve("bob", 100)).await else {
        panic!("too late to approve");
    };
    assert_eq!(late.state, ReviewState::Expired);
    assert_eq!(late.decided_at, Some(at(T + 100)));
    assert!(late.decisions.is_empty());
    let stored = show(&store, "late").await;
    assert_eq!(stored.state, ReviewState::Expired);
    assert!(stored.decisions.is_empty());

    let DecideOutcome::Recorded(ok) = decide(&store, "in-time", &approve("bob", 99)).await else {
        panic!("in time to approve");
    };
    assert_eq!(ok.state, ReviewState::Approved);
}

#[tokio::test]
async fn deciding_needs_a_full_existing_id() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("rv_full", 0, 100, 1)).await;
    assert!(matches!(
        decide(&store, "nope", &approve("bob", 1)).await,
        DecideOutcome::NotFound
    ));
    assert!(matches!(
        decide(&store, "rv_f", &approve("bob", 1)).await,
        DecideOutcome::NotFound
    ));
    assert_eq!(show(&store, "rv_full").await.state, ReviewState::Pending);
}

#[tokio::test]
async fn expire_reviews_marks_only_overdue_pending_ones() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("due", 0, 100, 1)).await;
    add(&store, &review("later", 0, 200, 1)).await;
    add(&store, &review("denied", 0, 50, 1)).await;
    decide(&store, "denied", &deny("bob", 10)).await;

    assert_eq!(store.expire_reviews(at(T + 99)).await.expect("expire"), 0);
    assert_eq!(store.expire_reviews(at(T + 100)).await.expect("expire"), 1);
    let due = show(&store, "due").await;
    assert_eq!(due.state, ReviewState::Expired);
    // It left pending when its time ran out, not when the sweep ran.
    assert_eq!(due.decided_at, Some(at(T + 100)));
    assert_eq!(show(&store, "later").await.state, ReviewState::Pending);
    let denied = show(&store, "denied").await;
    assert_eq!(denied.state, ReviewState::Denied);
    assert_eq!(denied.decided_at, Some(at(T + 10)));
    assert_eq!(store.expire_reviews(at(T + 150)).await.expect("expire"), 0);
}

#[tokio::test]
async fn close_review_only_from_pending() {
    let (_dir, store) = temp_store().await;
    add(&store, &review("r1", 0, 60_000, 1)).await;
    add(&store, &review("r2", 0, 60_000, 1)).await;
    decide(&store, "r2", &approve("bob", 5)).await;

    assert!(
        store
            .close_review("r1", ReviewState::Cancelled, at(T + 7))
            .await
            .expect("close")
    );
    let r1 = show(&store, "r1").await;
    assert_eq!(r1.state, ReviewState::Cancelled);
    assert_eq!(r1.decided_at, Some(at(T + 7)));
    assert!(
        !store
            .close_review("r1", ReviewState::Expired, at(T + 8))
            .await
            .expect("close again")
    );
    let r1 = show(&store, "r1").await;
    assert_eq!(r1.state, ReviewState::Cancelled);
    assert_eq!(r1.decided_at, Some(at(T + 7)));
    assert!(matches!(
        decide(&store, "r1", &approve("bob", 9)).await,
        DecideOutcome::NotPending(_)
    ));

    assert!(
        !store
            .close_review("r2", ReviewState::Cancelled, at(T + 8))
            .await
            .expect("close approved")
    );
    assert_eq!(show(&store, "r2").await.state, ReviewState::Approved);
    assert!(
        !store
            .close_review("nope", ReviewState::Cancelled, at(T + 8))
            .await
            .expect("close unknown")
    );
}

/// Deciders in two processes (two stores on one file) and many tasks:
/// each decision sees every earlier one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deciders_settle_a_review_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let one = open(dir.path()).await;
    let two = open(dir.path()).await;
    add(&one, &review("one", 0, 60_000, 1)).await;
    add(&one, &review("three", 0, 60_000, 3)).await;

    for (id, needed) in [("one", 1_usize), ("three", 3)] {
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = if n % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                store
                    .decide_review(id, &approve(&format!("reviewer-{n}"), 10 + n))
                    .await
                    .expect("decide")
            }));
        }
        let (mut pending, mut approved, mut not_pending) = (0, 0, 0);
        for task in tasks {
            match task.await.expect("task") {
                DecideOutcome::Recorded(r) if r.state == ReviewState::Approved => approved += 1,
                DecideOutcome::Recorded(r) if r.state == ReviewState::Pending => pending += 1,
                DecideOutcome::NotPending(r) => {
                    assert_eq!(r.state, ReviewState::Approved);
                    not_pending += 1;
                }
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!(approved, 1, "{id}: exactly one approval settles it");
        assert_eq!(pending, needed - 1, "{id}");
        assert_eq!(not_pending, 8 - needed, "{id}");
        let record = show(&two, id).await;
        assert_eq!(record.state, ReviewState::Approved);
        assert_eq!(record.decisions.len(), needed);
    }
}

// --- grants ---------------------------------------------------------------

fn grant(id: &str, kind: GrantKind, created: i64, expires: i64) -> NewGrant {
    NewGrant {
        id: id.into(),
        review_id: "r1".into(),
        identity: "alice".into(),
        connection: "prod-db".into(),
        kind,
        fingerprint: (kind == GrantKind::Once).then(|| "fp-1".into()),
        rules: vec!["review-ddl".into(), "review-drop".into()],
        approved_by: vec!["bob".into()],
        created_at: at(T + created),
        expires_at: at(T + expires),
    }
}

/// A store holding review `r1`, which the grants come from.
async fn store_with_review() -> (tempfile::TempDir, SqliteStore) {
    let (dir, store) = temp_store().await;
    add(&store, &review("r1", 0, 60_000, 1)).await;
    (dir, store)
}

async fn put(store: &SqliteStore, g: &NewGrant) {
    store.add_grant(g).await.expect("add grant");
}

fn query<'a>(fingerprint: &'a str, rules: &'a [String], now: i64) -> GrantQuery<'a> {
    GrantQuery {
        identity: "alice",
        connection: "prod-db",
        fingerprint,
        rules,
        now: at(T + now),
    }
}

async fn used(store: &SqliteStore, q: &GrantQuery<'_>) -> Option<GrantRecord> {
    store.use_grant(q).await.expect("use grant")
}

fn rules(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[tokio::test]
async fn add_grant_checks_its_review_and_id() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("g1", GrantKind::Once, 0, 1000)).await;
    let dup = store
        .add_grant(&grant("g1", GrantKind::Window, 0, 1000))
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");
    let mut orphan = grant("g2", GrantKind::Once, 0, 1000);
    orphan.review_id = "no-such-review".into();
    let orphan = store.add_grant(&orphan).await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
}

#[tokio::test]
async fn a_once_grant_runs_its_command_once() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("g1", GrantKind::Once, 0, 1000)).await;
    let fired = rules(&["review-ddl"]);

    for (identity, connection, fingerprint) in [
        ("alice", "prod-db", "fp-other"),
        ("mallory", "prod-db", "fp-1"),
        ("alice", "staging-db", "fp-1"),
    ] {
        let q = GrantQuery {
            identity,
            connection,
            fingerprint,
            rules: &fired,
            now: at(T + 10),
        };
        assert!(used(&store, &q).await.is_none(), "{q:?}");
    }

    let g = used(&store, &query("fp-1", &fired, 10))
        .await
        .expect("the once grant matches");
    assert_eq!(g.id, "g1");
    assert_eq!(g.kind, GrantKind::Once);
    assert_eq!(g.uses, 1);
    assert_eq!(g.last_used_at, Some(at(T + 10)));
    assert_eq!(g.fingerprint.as_deref(), Some("fp-1"));
    assert_eq!(g.approved_by, ["bob"]);
    assert!(used(&store, &query("fp-1", &fired, 11)).await.is_none());
}

#[tokio::test]
async fn expired_and_revoked_grants_never_match() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("expired-once", GrantKind::Once, 0, 100)).await;
    put(&store, &grant("expired-window", GrantKind::Window, 0, 100)).await;
    put(&store, &grant("revoked-once", GrantKind::Once, 0, 1000)).await;
    put(&store, &grant("revoked-window", GrantKind::Window, 0, 1000)).await;
    for id in ["revoked-once", "revoked-window"] {
        assert!(store.revoke_grant(id, at(T + 50)).await.expect("revoke"));
    }
    let fired = rules(&["review-ddl"]);
    // At `expires_at` a grant is over; the revoked ones are over for good.
    assert!(used(&store, &query("fp-1", &fired, 100)).await.is_none());
    // Before then, only the unrevoked ones match, the once grant first.
    let mut order = Vec::new();
    for now in 40..43 {
        order.push(
            used(&store, &query("fp-1", &fired, now))
                .await
                .expect("live")
                .id,
        );
    }
    assert_eq!(order, ["expired-once", "expired-window", "expired-window"]);
    let all = store.list_grants(true, at(T)).await.expect("list");
    for g in all.iter().filter(|g| g.id.starts_with("revoked")) {
        assert_eq!(g.uses, 0, "{}", g.id);
    }
}

#[tokio::test]
async fn once_grants_come_first_and_the_oldest_first() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("w-old", GrantKind::Window, 0, 1000)).await;
    put(&store, &grant("once-new", GrantKind::Once, 20, 1000)).await;
    put(&store, &grant("once-old", GrantKind::Once, 10, 1000)).await;
    let fired = rules(&["review-ddl"]);
    let mut order = Vec::new();
    for now in 100..104 {
        order.push(
            used(&store, &query("fp-1", &fired, now))
                .await
                .expect("a grant")
                .id,
        );
    }
    assert_eq!(order, ["once-old", "once-new", "w-old", "w-old"]);
}

#[tokio::test]
async fn a_window_grant_covers_its_rules_until_it_expires() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("w", GrantKind::Window, 0, 1000)).await;

    // Any fingerprint: a window is about the rules, not one command.
    let one = used(&store, &query("fp-a", &rules(&["review-ddl"]), 10))
        .await
        .expect("a subset is covered");
    assert_eq!((one.id.as_str(), one.uses), ("w", 1));
    let both = used(
        &store,
        &query("fp-b", &rules(&["review-drop", "review-ddl"]), 20),
    )
    .await
    .expect("all of its rules are covered");
    assert_eq!(both.uses, 2);
    assert_eq!(both.last_used_at, Some(at(T + 20)));

    for outside in [&["review-ddl", "review-prod"][..], &["review-prod"][..]] {
        let fired = rules(outside);
        assert!(
            used(&store, &query("fp-a", &fired, 30)).await.is_none(),
            "{outside:?}"
        );
    }
    assert!(
        used(&store, &query("fp-a", &rules(&["review-ddl"]), 1000))
            .await
            .is_none()
    );
    let listed = store.list_grants(true, at(T + 30)).await.expect("list");
    assert_eq!(listed[0].uses, 2, "misses do not count as uses");
}

#[tokio::test]
async fn among_windows_the_oldest_that_covers_the_rules() {
    let (_dir, store) = store_with_review().await;
    let mut narrow = grant("narrow", GrantKind::Window, 0, 1000);
    narrow.rules = rules(&["review-ddl"]);
    put(&store, &narrow).await;
    put(&store, &grant("wide", GrantKind::Window, 10, 1000)).await;

    let both = rules(&["review-ddl", "review-drop"]);
    assert_eq!(
        used(&store, &query("fp", &both, 20))
            .await
            .expect("wide")
            .id,
        "wide"
    );
    let ddl = rules(&["review-ddl"]);
    assert_eq!(
        used(&store, &query("fp", &ddl, 21))
            .await
            .expect("narrow")
            .id,
        "narrow"
    );
}

#[tokio::test]
async fn list_grants_shows_usable_ones_unless_all() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("once-live", GrantKind::Once, 0, 1000)).await;
    let mut spent = grant("once-used", GrantKind::Once, 1, 1000);
    spent.fingerprint = Some("fp-spent".into());
    put(&store, &spent).await;
    put(&store, &grant("expired", GrantKind::Window, 2, 100)).await;
    put(&store, &grant("revoked", GrantKind::Window, 3, 1000)).await;
    put(&store, &grant("window", GrantKind::Window, 4, 1000)).await;
    let fired = rules(&["review-ddl"]);
    assert_eq!(
        used(&store, &query("fp-spent", &fired, 50))
            .await
            .expect("once")
            .id,
        "once-used"
    );
    assert!(
        store
            .revoke_grant("revoked", at(T + 50))
            .await
            .expect("revoke")
    );

    let live = store.list_grants(false, at(T + 100)).await.expect("list");
    let live: Vec<_> = live.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(live, ["window", "once-live"]);
    let all = store
        .list_grants(true, at(T + 100))
        .await
        .expect("list all");
    let all: Vec<_> = all.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        all,
        ["window", "revoked", "expired", "once-used", "once-live"]
    );
    // Before it ran out, the expired one was listed too.
    let earlier = store.list_grants(false, at(T + 99)).await.expect("list");
    assert_eq!(earlier.len(), 3);
}

#[tokio::test]
async fn revoke_grant_by_id_or_unique_prefix() {
    let (_dir, store) = store_with_review().await;
    put(&store, &grant("gr_aa1", GrantKind::Window, 0, 1000)).await;
    put(&store, &grant("gr_aa2", GrantKind::Window, 1, 1000)).await;
    put(&store, &grant("gr_b", GrantKind::Once, 2, 1000)).await;

    assert!(
        store
            .revoke_grant("gr_b", at(T + 10))
            .await
            .expect("revoke")
    );
    // Revoking again changes nothing, and keeps when access ended.
    assert!(!store.revoke_grant("gr_b", at(T + 20)).await.expect("again"));
    let ambiguous = store.revoke_grant("gr_aa", at(T + 10)).await;
    assert!(
        matches!(ambiguous, Err(StoreError::Ambiguous(_))),
        "{ambiguous:?}"
    );
    assert!(
        store
            .revoke_grant("gr_aa2", at(T + 30))
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_grant("gr_zz", at(T + 30))
            .await
            .expect("unknown")
    );
    assert!(!store.revoke_grant("", at(T + 30)).await.expect("empty"));
    // The revoked ones no longer share the prefix with a live one, but a
    // prefix still names one grant among all of them.
    let still = store.revoke_grant("gr_a", at(T + 40)).await;
    assert!(matches!(still, Err(StoreError::Ambiguous(_))), "{still:?}");

    let all = store.list_grants(true, at(T + 50)).await.expect("list");
    let revoked = |id: &str| all.iter().find(|g| g.id == id).expect("listed").revoked_at;
    assert_eq!(revoked("gr_b"), Some(at(T + 10)));
    assert_eq!(revoked("gr_aa2"), Some(at(T + 30)));
    assert_eq!(revoked("gr_aa1"), None);

    let fired = rules(&["review-ddl"]);
    let left = used(&store, &query("fp-1", &fired, 60))
        .await
        .expect("one left");
    assert_eq!(left.id, "gr_aa1");
}

#[tokio::test]
async fn identity_person_round_trips() {
    let (_dir, store) = temp_store().await;
    let mut admin = identity("alice-admin", IdentityKind::User, &["dba"]);
    admin.person = Some("alice".into());
    let added = store.add_identity(&admin).await.expect("add admin");
    assert_eq!(added.person.as_deref(), Some("alice"));
    store
        .add_identity(&identity("bob", IdentityKind::User, &[]))
        .await
        .expect("add bob");

    let found = store
        .identity("alice-admin")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(found.person.as_deref(), Some("alice"));
    let all = store.list_identities().await.expect("list");
    let persons: Vec<_> = all
        .iter()
        .map(|i| (i.name.as_str(), i.person.as_deref()))
        .collect();
    assert_eq!(persons, [("alice-admin", Some("alice")), ("bob", None)]);
}
