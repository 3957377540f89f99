//! Analyse + evaluate for typical statements against a 20-rule policy
//! (the 11-rule default pack plus 9 rules of a deployment), through the
//! facts cache and around it.
//!
//!   cargo bench -p airlock-core --bench guard

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};

use airlock_core::guard::SessionInfo;
use airlock_core::{Command, Config, Guard};
use airlock_policy::rules::{Input, SessionCounters};
use airlock_store::{Identity, IdentityKind};

const POLICY: &str = r#"
policy: { default_pack: true, reviewers: ["group:dba"], egress_allow: ["github.com"] }
rules:
  - { name: r1, when: "facts.sql.statement_count > 5", action: block }
  - { name: r2, when: "identity.kind == 'agent' && 'delete' in facts.sql.kinds", action: review, reviewers: ["group:dba"] }
  - { name: r3, when: "facts.sql.tables_read.exists(t, t.startsWith('audit.'))", action: block }
  - { name: r4, when: "facts.sql.statements.exists(s, s.kind == 'select' && !s.has_limit && 'events' in s.tables_read)", action: block }
  - { name: r5, when: "'pg_sleep' in facts.sql.functions", action: block }
  - { name: r6, when: "facts.sql.statements.exists(s, s.kind in ['grant', 'revoke'])", action: block }
  - { name: r7, when: "facts.sql.statements.exists(s, 'ssn' in s.columns.users)", action: block }
  - { name: r8, when: "connection.name == 'prod' && facts.sql.kinds.exists(k, k in ['alter', 'create'])", action: review, reviewers: ["group:dba"] }
  - { name: r9, when: "'lo_import' in facts.sql.functions || 'lo_export' in facts.sql.functions", action: block }
connections:
  - name: app
    type: postgres
    target: { host: 127.0.0.1, database: app, user: app, tls: disable }
    allow: ["*"]
"#;

fn statements() -> Vec<(&'static str, String)> {
    let point = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213".to_string();
    let join = "SELECT o.id, c.name, p.title, s.status, w.city FROM orders o \
                JOIN customers c ON c.id = o.customer_id \
                JOIN products p ON p.id = o.product_id \
                JOIN shipments s ON s.order_id = o.id \
                JOIN warehouses w ON w.id = s.warehouse_id \
                WHERE o.created_at > now() - interval '1 day' AND c.region = 'eu' LIMIT 100"
        .to_string();
    let values: Vec<String> = (0..200)
        .map(|i| format!("({i}, 'name {i}', {}.5, now())", i * 3))
        .collect();
    let insert = format!(
        "INSERT INTO items (id, name, price, created_at) VALUES {}",
        values.join(", ")
    );
    vec![
        ("point_select", point),
        ("join_5_way", join),
        ("insert_200_rows", insert),
    ]
}

fn bench(c: &mut Criterion) {
    let config = Arc::new(Config::parse(Path::new("bench.yaml"), POLICY).expect("policy"));
    let guard = Guard::new(config.clone()).expect("guard");
    let identity = Identity {
        name: "alice".into(),
        kind: IdentityKind::User,
        groups: vec!["eng".into()],
        scram_salt: vec![],
        created_at: chrono::Utc::now(),
        person: None,
    };
    let conn = config.connection("app").expect("connection");
    let session = SessionInfo::new("bench".into(), identity, conn);
    let rules = config
        .compile_rules(Path::new("bench.yaml"))
        .expect("rules");
    assert_eq!(rules.len(), 20);
    let analyser = airlock_core::analysis::Analyser::new();

    for (name, text) in statements() {
        let command = Command::Sql {
            text: text.as_str().into(),
            param_count: 0,
        };
        c.bench_function(&format!("{name}/uncached"), |b| {
            b.iter(|| {
                let facts = analyser.uncached("postgres", black_box(&command));
                black_box(rules.evaluate(&Input {
                    identity: &session.identity_view,
                    connection: &session.connection_view,
                    facts: &facts,
                    session: SessionCounters::default(),
                }))
            })
        });
        // Through the cache, with a different literal every time where the
        // statement has one (as pgbench -M simple sends them).
        let variants: Vec<Command> = (0..1024)
            .map(|i| Command::Sql {
                text: text.replacen("48213", &(48213 + i).to_string(), 1).into(),
                param_count: 0,
            })
            .collect();
        let mut i = 0usize;
        c.bench_function(&format!("{name}/cached"), |b| {
            b.iter(|| {
                i = (i + 1) % variants.len();
                black_box(guard.check(
                    &session,
                    SessionCounters::default(),
                    black_box(&variants[i]),
                ))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
