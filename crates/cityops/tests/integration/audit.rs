//! The tamper-evident audit log: every write and sign-in on record in the same transaction,
//! and `cityops audit verify` naming each entry that was altered, deleted or moved directly
//! in the database (SQLite and PostgreSQL).

use cityops_domain::audit::{AuditEntry, ChainHead};
use cityops_store::AuditQuery;
use cityops_test_support::{on_both_backends, TestApp};
use serde_json::{json, Value};

/// Direct access to the server's database, as an intruder with the database password has.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(url: &str) -> Db {
        if url.starts_with("sqlite:") {
            Db::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
        } else {
            Db::Postgres(sqlx::PgPool::connect(url).await.unwrap())
        }
    }

    async fn exec(&self, sql: &str) {
        match self {
            Db::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
            Db::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn close(self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn insert_sql(e: &AuditEntry) -> String {
    format!(
        "INSERT INTO audit_log (seq, at, actor, role, scope, origin, action, object, result, detail, prev_hash, hash)
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        e.seq,
        e.record.at.timestamp_micros(),
        quoted(&e.record.actor.actor),
        quoted(&e.record.actor.role),
        quoted(&e.record.actor.scope),
        quoted(&e.record.actor.origin),
        quoted(&e.record.action),
        quoted(&e.record.object),
        quoted(&e.record.result),
        quoted(&e.record.detail),
        quoted(&e.prev_hash),
        quoted(&e.hash),
    )
}

async fn all_entries(app: &TestApp) -> Vec<AuditEntry> {
    app.store
        .audit_entries(&AuditQuery {
            limit: 100_000,
            ..AuditQuery::default()
        })
        .await
        .unwrap()
}

/// Runs `cityops audit verify` against the server's store: (intact, its output).
fn verify_cli(app: &TestApp) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cityops"))
        .args(["audit", "verify", "--data-dir"])
        .arg(&app.data_dir)
        .args(["--database", &app.database_url])
        .env("CITYOPS_LOG_FILTER", "warn")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn assert_tampered(app: &TestApp, expected: &str) {
    let (intact, output) = verify_cli(app);
    assert!(!intact, "verify must fail: {output}");
    assert!(
        output.contains(expected),
        "verify must say '{expected}': {output}"
    );
}

fn assert_intact(app: &TestApp) {
    let (intact, output) = verify_cli(app);
    assert!(intact, "verify must pass: {output}");
    assert!(output.contains("(signatures checked)"), "{output}");
}

async fn filed(app: &TestApp) -> Value {
    let case = app.report("inspector", "inspector").await;
    let case = app.ok("operator", &case, "accept", json!({})).await;
    app.ok("lead", &case, "file", json!({"category": "10101"}))
        .await
}

async fn writes_and_sign_ins_are_on_record(app: &TestApp) {
    let case = filed(app).await;
    // A stale version changes nothing and so records nothing.
    let (status, _) = app
        .post_json(
            Some("lead"),
            &format!("/api/v1/cases/{}/cancel", case["id"].as_str().unwrap()),
            json!({"version": 1, "reason": "test"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": "operator", "password": "not the password"}),
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .post_json(
            None,
            "/api/v1/sessions",
            json!({"username": "nobody", "password": "whatever it is"}),
        )
        .await;
    assert_eq!(status, 401);

    // Readings posted through the API are on record by who posted them (one entry a request).
    let now = chrono::Utc::now().timestamp_millis();
    let (status, ingest) = app
        .post_json(
            Some("admin"),
            "/api/v1/telemetry",
            json!([{"device": "NO-SUCH-DEVICE", "metric": "water_level", "value": 1.0, "ts": now}]),
        )
        .await;
    assert!(status < 300, "{status} {ingest}");
    let (_, ingests) = app
        .get(Some("auditor"), "/api/v1/audit?action=telemetry.ingest")
        .await;
    assert_eq!(ingests["items"][0]["actor"], "admin", "{ingests}");
    assert_eq!(
        ingests["items"][0]["detail"],
        "1 readings, 0 refused at parse"
    );

    // Each timeline event has exactly its audit entry: same actor, same action, in order.
    let object = format!("case:{}", case["id"].as_str().unwrap());
    let (status, page) = app
        .get(Some("auditor"), &format!("/api/v1/audit?object={object}"))
        .await;
    assert_eq!(status, 200, "{page}");
    let entries = page["items"].as_array().unwrap();
    let timeline = app.timeline(&case).await;
    assert_eq!(entries.len(), timeline.len(), "{page}");
    for (entry, event) in entries.iter().zip(&timeline) {
        assert_eq!(entry["actor"], event["username"]);
        assert_eq!(
            entry["action"],
            format!(
                "case.{}",
                event["action"].as_str().unwrap().replace('-', "_")
            )
        );
        assert_eq!(entry["origin"], "127.0.0.1");
        assert_eq!(entry["result"], "ok");
    }
    assert_eq!(
        entries[0]["scope"], "310101",
        "the inspector's scope: {page}"
    );

    let (_, refused) = app
        .get(
            Some("auditor"),
            "/api/v1/audit?action=session.sign_in&limit=1000",
        )
        .await;
    let refused: Vec<&Value> = refused["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["result"] != "ok")
        .collect();
    assert!(
        refused
            .iter()
            .any(|e| e["object"] == "user:operator" && e["result"] == "refused: wrong password"),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|e| e["object"] == "user:nobody" && e["result"] == "refused: unknown user"),
        "{refused:?}"
    );

    // The log is for auditors: an operator may not read it, not even about themselves.
    let (status, _) = app.get(Some("operator"), "/api/v1/audit").await;
    assert_eq!(status, 403);
    let (status, _) = app.get(Some("auditor"), "/api/v1/audit?limit=0").await;
    assert_eq!(status, 422);

    let (status, report) = app.get(Some("auditor"), "/api/v1/audit/verify").await;
    assert_eq!(status, 200);
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["signatures_checked"], true, "{report}");
}

async fn tampering_in_the_database_is_found_and_named(app: &TestApp) {
    for _ in 0..3 {
        filed(app).await;
    }
    let key = cityops::audit::load_or_create_key(&app.key_dir.join("audit-signing.key")).unwrap();
    let checkpoint = cityops::audit::checkpoint(app.store.as_ref(), &key)
        .await
        .unwrap();
    assert!(checkpoint.is_some() || !app.store.checkpoints().await.unwrap().is_empty());
    let (_, checkpoints) = app.get(Some("auditor"), "/api/v1/audit/checkpoints").await;
    assert!(!checkpoints.as_array().unwrap().is_empty());
    assert_intact(app);

    let entries = all_entries(app).await;
    let head = app.store.audit_head().await.unwrap();
    assert!(entries.len() >= 10, "{} entries", entries.len());
    let db = Db::open(&app.database_url).await;
    let nth = |seq: i64| entries.iter().find(|e| e.seq == seq).unwrap().clone();

    // Altered: someone else did it.
    db.exec("UPDATE audit_log SET actor = 'nobody' WHERE seq = 3")
        .await;
    assert_tampered(app, "entry 3 was altered");
    db.exec(&format!(
        "UPDATE audit_log SET actor = {} WHERE seq = 3",
        quoted(&nth(3).record.actor.actor)
    ))
    .await;
    assert_intact(app);

    // Deleted from the middle.
    db.exec("DELETE FROM audit_log WHERE seq = 4").await;
    assert_tampered(app, "entry 4 is missing");
    db.exec(&insert_sql(&nth(4))).await;
    assert_intact(app);

    // Reordered: two entries swap places.
    db.exec("UPDATE audit_log SET seq = -1 WHERE seq = 5").await;
    db.exec("UPDATE audit_log SET seq = 5 WHERE seq = 6").await;
    db.exec("UPDATE audit_log SET seq = 6 WHERE seq = -1").await;
    assert_tampered(app, "entry 5 is out of order: it was written after entry 6");
    db.exec("DELETE FROM audit_log WHERE seq IN (5, 6)").await;
    db.exec(&insert_sql(&nth(5))).await;
    db.exec(&insert_sql(&nth(6))).await;
    assert_intact(app);

    // The tail cut off and the head moved back to match: the signed checkpoint remembers.
    let last = head.seq;
    db.exec(&format!("DELETE FROM audit_log WHERE seq > {}", last - 2))
        .await;
    db.exec(&format!(
        "UPDATE audit_head SET seq = {}, hash = {} WHERE id = 1",
        last - 2,
        quoted(&nth(last - 2).hash)
    ))
    .await;
    assert_tampered(app, &format!("entries after {} were deleted", last - 2));
    for seq in last - 1..=last {
        db.exec(&insert_sql(&nth(seq))).await;
    }
    db.exec(&format!(
        "UPDATE audit_head SET seq = {}, hash = {} WHERE id = 1",
        head.seq,
        quoted(&head.hash)
    ))
    .await;
    assert_intact(app);

    // Rewritten with every hash recomputed: a consistent chain, but not the one signed.
    let mut relinked = ChainHead {
        seq: 1,
        hash: nth(1).hash,
    };
    for entry in entries.iter().filter(|e| e.seq >= 2 && e.seq <= head.seq) {
        let mut record = entry.record.clone();
        if entry.seq == 2 {
            record.actor.actor = "nobody".into();
        }
        let forged = relinked.append(record);
        db.exec(&format!("DELETE FROM audit_log WHERE seq = {}", forged.seq))
            .await;
        db.exec(&insert_sql(&forged)).await;
    }
    db.exec(&format!(
        "UPDATE audit_head SET seq = {}, hash = {} WHERE id = 1",
        relinked.seq,
        quoted(&relinked.hash)
    ))
    .await;
    assert_tampered(app, "differs from its signed checkpoint");
    db.close().await;
}

on_both_backends!(
    writes_and_sign_ins_are_on_record,
    tampering_in_the_database_is_found_and_named
);
