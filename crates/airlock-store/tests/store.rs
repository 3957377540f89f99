mod common;

use std::sync::Arc;

use airlock_store::writer::{Writer, WriterConfig};
use airlock_store::*;
use chrono::{Duration, Utc};
use common::*;

async fn temp_store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    // A missing parent directory must be created by `open`.
    let store = SqliteStore::open(&dir.path().join("state/airlock.db"))
        .await
        .expect("open store");
    (dir, store)
}

#[tokio::test]
async fn identities_add_duplicate_and_list() {
    let (_dir, store) = temp_store().await;
    let bob = store
        .add_identity(&identity("bob", IdentityKind::Agent, &[]))
        .await
        .expect("add bob");
    let alice = store
        .add_identity(&identity("alice", IdentityKind::User, &["dba", "oncall"]))
        .await
        .expect("add alice");

    let dup = store
        .add_identity(&identity("alice", IdentityKind::Agent, &[]))
        .await;
    assert!(matches!(dup, Err(StoreError::AlreadyExists(_))), "{dup:?}");

    let all = store.list_identities().await.expect("list");
    let names: Vec<_> = all.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob"]);
    assert_eq!(all[0].groups, ["dba", "oncall"]);
    assert_eq!(all[0].kind, IdentityKind::User);
    assert_eq!(all[0].created_at, alice.created_at);
    assert!(all[1].groups.is_empty());
    assert_eq!(all[1].kind, IdentityKind::Agent);
    assert_eq!(all[1].scram_salt, bob.scram_salt);

    let found = store
        .identity("alice")
        .await
        .expect("get")
        .expect("alice exists");
    assert_eq!(found.scram_salt, b"alice");
    assert!(store.identity("carol").await.expect("get").is_none());
}

#[tokio::test]
async fn tokens_live_revoked_expired_and_by_hash() {
    let (_dir, store) = temp_store().await;
    store
        .add_identity(&identity("alice", IdentityKind::User, &[]))
        .await
        .expect("add alice");
    let forever = token("t-forever", "alice", None);
    let later = token("t-later", "alice", Some(Duration::hours(1)));
    let expired = token("t-expired", "alice", Some(Duration::hours(-1)));
    let revoked = token("t-revoked", "alice", None);
    for t in [&forever, &later, &expired, &revoked] {
        store.add_token(t).await.expect("add token");
    }

    let now = Utc::now();
    assert!(store.revoke_token("t-revoked", now).await.expect("revoke"));
    assert!(
        !store
            .revoke_token("no-such-token", now)
            .await
            .expect("revoke unknown")
    );
    // A second revocation keeps the first time.
    assert!(
        store
            .revoke_token("t-revoked", now + Duration::hours(1))
            .await
            .expect("revoke")
    );

    let mut live: Vec<_> = store
        .live_tokens("alice", now)
        .await
        .expect("live")
        .into_iter()
        .map(|t| t.id)
        .collect();
    live.sort();
    assert_eq!(live, ["t-forever", "t-later"]);
    // Expiry is strict: a token expiring exactly now is already dead.
    let at_expiry = later.expires_at.expect("has expiry");
    let live_then = store.live_tokens("alice", at_expiry).await.expect("live");
    assert_eq!(live_then.len(), 1);

    let found = store
        .token_by_hash(&later.secret_sha256)
        .await
        .expect("by hash")
        .expect("found");
    assert_eq!(found.id, "t-later");
    assert_eq!(found.identity, "alice");
    assert_eq!(found.scram_iterations, 4096);
    assert_eq!(found.scram_stored_key, later.scram_stored_key);
    assert_eq!(found.scram_server_key, later.scram_server_key);
    assert_eq!(
        found.expires_at.map(|t| t.timestamp_millis()),
        Some(at_expiry.timestamp_millis())
    );
    assert!(found.revoked_at.is_none());
    assert!(
        store
            .token_by_hash(b"unknown")
            .await
            .expect("by hash")
            .is_none()
    );

    let all = store.list_tokens(Some("alice")).await.expect("list");
    assert_eq!(all.len(), 4);
    let rev = all
        .iter()
        .find(|t| t.id == "t-revoked")
        .expect("revoked listed");
    assert_eq!(
        rev.revoked_at.map(|t| t.timestamp_millis()),
        Some(now.timestamp_millis())
    );
    assert_eq!(store.list_tokens(None).await.expect("list").len(), 4);
    assert!(
        store
            .list_tokens(Some("bob"))
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn tokens_reject_duplicates_and_unknown_identity() {
    let (_dir, store) = temp_store().await;
    store
        .add_identity(&identity("alice", IdentityKind::User, &[]))
        .await
        .expect("add alice");
    store
        .add_token(&token("t1", "alice", None))
        .await
        .expect("add");

    let same_id = store.add_token(&token("t1", "alice", None)).await;
    assert!(
        matches!(same_id, Err(StoreError::AlreadyExists(_))),
        "{same_id:?}"
    );

    let mut same_secret = token("t2", "alice", None);
    same_secret.secret_sha256 = token("t1", "alice", None).secret_sha256;
    let same_secret = store.add_token(&same_secret).await;
    assert!(
        matches!(same_secret, Err(StoreError::AlreadyExists(_))),
        "{same_secret:?}"
    );

    let orphan = store.add_token(&token("t3", "nobody", None)).await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
}

#[tokio::test]
async fn sessions_by_prefix_and_newest_first() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    store
        .write_batch(&[
            start("abc123", 1_000),
            start("abd456", 3_000),
            start("xyz", 2_000),
            start("xy%_", 500),
        ])
        .await
        .expect("write");

    let get = |p: &'static str| {
        let store = store.clone();
        async move { store.session(p).await }
    };
    assert_eq!(
        get("abc").await.expect("lookup").expect("found").id,
        "abc123"
    );
    assert_eq!(
        get("abd456").await.expect("lookup").expect("found").id,
        "abd456"
    );
    assert!(matches!(get("ab").await, Err(StoreError::Ambiguous(_))));
    assert!(get("q").await.expect("lookup").is_none());
    assert!(get("").await.expect("lookup").is_none());
    // An exact id wins even when it is also a prefix of another id.
    assert_eq!(get("xyz").await.expect("lookup").expect("found").id, "xyz");
    // LIKE wildcards are literal.
    assert_eq!(get("xy%").await.expect("lookup").expect("found").id, "xy%_");

    let newest: Vec<_> = store
        .list_sessions(3)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(newest, ["abd456", "xyz", "abc123"]);
}

#[tokio::test]
async fn write_batch_is_safe_to_retry() {
    let store = SqliteStore::open_in_memory().await.expect("open");
    let batch = [
        start("s1", 1_000),
        command("s1", 0),
        outcome("s1", 0),
        command("s1", 1),
        end("s1", 2),
    ];
    store.write_batch(&batch).await.expect("first");
    store.write_batch(&batch).await.expect("retry");

    let events = store.session_events("s1").await.expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].command, command_record("s1", 0));
    assert_eq!(events[0].outcome, Some(outcome_record("s1", 0)));
    assert_eq!(events[1].command, command_record("s1", 1));
    assert_eq!(events[1].outcome, None, "still running");
    let verdict = store.verify_audit().await.expect("verify");
    assert!(
        matches!(verdict, AuditVerification::Intact { records: 5, .. }),
        "{verdict:?}"
    );
    assert_eq!(store.list_sessions(10).await.expect("list").len(), 1);
    let s1 = store.session("s1").await.expect("get").expect("found");
    assert_eq!(s1.commands, 2);
    assert_eq!(s1.end_reason.as_deref(), Some("client closed"));
}

#[tokio::test]
async fn reopened_file_keeps_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    {
        let store = SqliteStore::open(&path).await.expect("open");
        store
            .add_identity(&identity("alice", IdentityKind::User, &["dba"]))
            .await
            .expect("add");
        store
            .write_batch(&[start("s1", 1_000), command("s1", 0)])
            .await
            .expect("write");
        assert!(dir.path().join("airlock.db-wal").exists(), "WAL mode is on");
        store.close().await;
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path).await.expect("reopen");
        let alice = store.identity("alice").await.expect("get").expect("kept");
        assert_eq!(alice.groups, ["dba"]);
        assert_eq!(store.session_events("s1").await.expect("events").len(), 1);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_store_on_same_file_while_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("airlock.db");
    let gateway = SqliteStore::open(&path).await.expect("open gateway");
    // Small batches: many separate write transactions for the CLI to collide with.
    let config = WriterConfig {
        channel_capacity: 64,
        max_batch: 8,
        ..WriterConfig::default()
    };
    let (writer, task) = Writer::spawn(Arc::new(gateway.clone()), config);

    const EVENTS: usize = 1_500;
    let producer = {
        let writer: Writer = writer.clone();
        tokio::spawn(async move {
            writer.send(start("busy", 1_000)).await?;
            for n in 0..EVENTS {
                writer.send(command("busy", n)).await?;
            }
            writer.send(end("busy", EVENTS as i64)).await?;
            writer.flush().await
        })
    };

    // Meanwhile a "CLI" process opens the same file and writes and reads.
    let cli = SqliteStore::open(&path).await.expect("open cli");
    let mut cli_writes = 0;
    while !producer.is_finished() || cli_writes < 20 {
        cli.add_identity(&identity(
            &format!("user{cli_writes}"),
            IdentityKind::User,
            &[],
        ))
        .await
        .expect("cli write while gateway writes");
        cli.list_sessions(5)
            .await
            .expect("cli read while gateway writes");
        cli_writes += 1;
    }

    producer
        .await
        .expect("producer task")
        .expect("all ops committed");
    assert!(writer.is_healthy());
    assert_eq!(
        cli.session_events("busy").await.expect("events").len(),
        EVENTS
    );
    let busy = cli.session("busy").await.expect("get").expect("found");
    assert_eq!(busy.commands, EVENTS as i64);
    assert_eq!(
        gateway.list_identities().await.expect("list").len(),
        cli_writes
    );
    drop(writer);
    task.await.expect("writer task ends");
}
