//! ONE contract suite for every Store implementation: SQLite always, PostgreSQL when
//! `CITYOPS_TEST_PG_URL` is set.

use chrono::{Duration, TimeZone, Utc};
use cityops_domain::*;
use cityops_store::*;
use cityops_test_support::scratch::{test_url, ScratchDatabase};
use std::future::Future;
use std::sync::Arc;

fn keys() -> PiiKeys {
    PiiKeys::parse(&PiiKeys::new_key_line("test")).unwrap()
}

async fn on_sqlite<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cityops.db").display());
    check(open(&url, keys()).await.unwrap()).await;
}

async fn on_postgres<F, Fut>(check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL contract test skipped");
        return;
    };
    let db = ScratchDatabase::create(&admin).await.unwrap();
    let store = open(&db.url, keys()).await.unwrap();
    check(store.clone()).await;
    drop(store);
    db.drop_now().await.unwrap();
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::on_sqlite(super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::on_postgres(super::$name).await })*
        }
    };
}

contract!(
    areas_round_trip_and_filter_by_parent,
    case_numbers_follow_the_district_and_day,
    a_stale_version_conflicts_and_writes_nothing,
    case_queries_filter_by_scope_state_text_overdue_and_page,
    sessions_expire_and_usernames_are_unique,
    attachments_are_written_with_their_case_event,
    concurrent_writes_share_batches_but_fail_alone,
    calendar_years_are_written_only_over_what_was_read,
    a_claimed_key_admits_one_case_and_expires,
    units_keep_a_citys_edits_and_import_counts_what_changed,
    the_watch_index_pages_due_cases_and_follows_every_change,
    a_lease_has_one_holder_until_it_runs_out,
    the_evaluation_ledger_is_written_with_each_event_and_sums_by_level,
    a_merge_writes_both_cases_or_neither,
    incident_links_are_written_together_and_caught_up_by_area,
);

fn code(text: &str) -> AreaCode {
    AreaCode::parse(text).unwrap()
}

fn operator(scope: &str) -> Actor {
    Actor {
        user_id: "u1".into(),
        username: "op".into(),
        role: Role::Operator,
        unit: None,
        scope: code(scope),
    }
}

fn new_case(area: &str, text: &str, at: chrono::DateTime<Utc>) -> (Case, TimelineEvent) {
    report(
        uuid(),
        NewReport {
            fields: Default::default(),
            source: Source::Inspector,
            description: text.into(),
            address: None,
            location: Location::new(121.48, 31.23).unwrap(),
            location_accuracy_m: None,
            area: code(area),
            category_hint: None,
            component_id: None,
            reporter: None,
            unit_grid: None,
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: None,
            call: None,
        },
        &operator("310000"),
        at,
    )
    .unwrap()
}

fn uuid() -> String {
    format!("{:032x}", rand_u128())
}

fn rand_u128() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    u128::from(NEXT.fetch_add(1, Ordering::Relaxed)) << 64 | u128::from(std::process::id())
}

async fn areas_round_trip_and_filter_by_parent(store: Arc<dyn Store>) {
    let areas = vec![
        Area {
            code: code("310000"),
            name: "上海市".into(),
            level: AreaLevel::City,
            parent: None,
        },
        Area {
            code: code("310101"),
            name: "黄浦区".into(),
            level: AreaLevel::District,
            parent: Some(code("310000")),
        },
        Area {
            code: code("310104"),
            name: "徐汇区".into(),
            level: AreaLevel::District,
            parent: Some(code("310000")),
        },
        Area {
            code: code("310101002"),
            name: "南京东路街道".into(),
            level: AreaLevel::Street,
            parent: Some(code("310101")),
        },
    ];
    assert_eq!(store.put_areas(&areas).await.unwrap(), 4);
    // Loading twice is idempotent.
    store.put_areas(&areas).await.unwrap();
    let districts = store
        .areas(&AreaFilter {
            parent: Some(code("310000")),
            level: None,
        })
        .await
        .unwrap();
    assert_eq!(districts.len(), 2);
    assert_eq!(
        store.area(&code("310101002")).await.unwrap().unwrap().name,
        "南京东路街道"
    );
    assert!(store.area(&code("310105")).await.unwrap().is_none());
}

async fn case_numbers_follow_the_district_and_day(store: Arc<dyn Store>) {
    // 23:30 UTC is already the next day in Shanghai.
    let late = Utc.with_ymd_and_hms(2026, 11, 24, 23, 30, 0).unwrap();
    let (a, ea) = new_case("310101002001", "井盖缺失", late);
    let (b, eb) = new_case("310101002", "路灯不亮", late);
    let (c, ec) = new_case("310104", "积水", late);
    let a = store.insert_case(a, ea).await.unwrap();
    let b = store.insert_case(b, eb).await.unwrap();
    let c = store.insert_case(c, ec).await.unwrap();
    assert_eq!(a.number.0, "3101012026112500001");
    assert_eq!(b.number.0, "3101012026112500002");
    assert_eq!(c.number.0, "3101042026112500001");
    let stored = store.case_by_number(&b.number.0).await.unwrap().unwrap();
    assert_eq!(stored, b);
    assert_eq!(store.timeline(&a.id).await.unwrap().len(), 1);
}

async fn a_stale_version_conflicts_and_writes_nothing(store: Arc<dyn Store>) {
    let now = Utc::now();
    let (case, event) = new_case("310101002001", "井盖缺失", now);
    let case = store.insert_case(case, event).await.unwrap();
    let (accepted, event) = decide(
        &case,
        CaseCommand::Accept { opinion: None },
        &operator("310101"),
        now,
    )
    .unwrap();
    store.update_case(&accepted, &event, None).await.unwrap();
    // A second writer that also read version 1 loses.
    let (rejected, event) = decide(
        &case,
        CaseCommand::Reject {
            reason: RejectReason::Invalid,
            duplicate_of: None,
            opinion: None,
        },
        &operator("310101"),
        now,
    )
    .unwrap();
    let error = store
        .update_case(&rejected, &event, None)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error}");
    let stored = store.case(&case.id).await.unwrap().unwrap();
    assert_eq!(stored.state, CaseState::Accepted);
    let timeline = store.timeline(&case.id).await.unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(
        workflow::replay(stored.number.clone(), &timeline).unwrap(),
        stored
    );
}

async fn case_queries_filter_by_scope_state_text_overdue_and_page(store: Arc<dyn Store>) {
    let now = Utc::now();
    let mut ids = Vec::new();
    for i in 0..7 {
        let area = if i % 2 == 0 {
            "310101002001"
        } else {
            "310104003"
        };
        let (case, event) = new_case(
            area,
            &format!("第{i}号 100%_问题"),
            now - Duration::minutes(i),
        );
        ids.push(store.insert_case(case, event).await.unwrap());
    }
    // File one case with a deadline already past.
    let lead = Actor {
        role: Role::ShiftLead,
        ..operator("310000")
    };
    let first = &ids[0];
    let (accepted, e1) = decide(
        first,
        CaseCommand::Accept { opinion: None },
        &operator("310000"),
        now,
    )
    .unwrap();
    store.update_case(&accepted, &e1, None).await.unwrap();
    let class = FiledClass {
        code: CategoryCode::parse("10101").unwrap(),
        zh: "上水井盖".into(),
        urgency: Urgency::Urgent,
        terms: StageTerms {
            dispatch: Term::minutes(1),
            handling: Term::minutes(60),
            check: Term::minutes(60),
            callback: Term::minutes(120),
        },
    };
    let (filed, e2) = decide(
        &accepted,
        CaseCommand::File {
            fields: Default::default(),
            class,
            opinion: None,
        },
        &lead,
        now - Duration::minutes(10),
    )
    .unwrap();
    store.update_case(&filed, &e2, None).await.unwrap();

    let city = CaseQuery::new(code("310000"), now);
    assert_eq!(store.cases(&city).await.unwrap().cases.len(), 7);
    let huangpu = CaseQuery::new(code("310101"), now);
    assert_eq!(store.cases(&huangpu).await.unwrap().cases.len(), 4);
    let filed_only = CaseQuery {
        states: vec![CaseState::Filed],
        ..city.clone()
    };
    assert_eq!(store.cases(&filed_only).await.unwrap().cases.len(), 1);
    let overdue = CaseQuery {
        overdue: Some(true),
        ..city.clone()
    };
    let found = store.cases(&overdue).await.unwrap().cases;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, first.id);
    let by_category = CaseQuery {
        category: Some("101".into()),
        ..city.clone()
    };
    assert_eq!(store.cases(&by_category).await.unwrap().cases.len(), 1);
    // LIKE metacharacters in the text match literally.
    let text = CaseQuery {
        text: Some("3号 100%_".into()),
        ..city.clone()
    };
    assert_eq!(store.cases(&text).await.unwrap().cases.len(), 1);
    let none = CaseQuery {
        text: Some("%".into()),
        area: Some(code("310105")),
        ..city.clone()
    };
    assert!(store.cases(&none).await.unwrap().cases.is_empty());
    // Cursor pagination visits every case once, newest first.
    let mut seen = Vec::new();
    let mut page = CaseQuery {
        limit: 3,
        ..city.clone()
    };
    loop {
        let result = store.cases(&page).await.unwrap();
        seen.extend(result.cases.iter().map(|c| c.id.clone()));
        match result.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<String> = ids.iter().rev().map(|c| c.id.clone()).collect();
    assert_eq!(seen, expected);
    expected.sort();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
    // In number order the keyset is the last number, and an offset skips in the database;
    // the count ignores the page.
    let mut numbers: Vec<String> = ids.iter().map(|c| c.number.0.clone()).collect();
    numbers.sort();
    let mut by_number = Vec::new();
    let mut page = CaseQuery {
        limit: 3,
        after_number: Some(String::new()),
        ..city.clone()
    };
    loop {
        let result = store.cases(&page).await.unwrap();
        assert_eq!(result.next, None);
        by_number.extend(result.cases.iter().map(|c| c.number.0.clone()));
        match result.cases.last() {
            Some(last) if result.cases.len() == 3 => {
                page.after_number = Some(last.number.0.clone())
            }
            _ => break,
        }
    }
    assert_eq!(by_number, numbers);
    let skipped = CaseQuery {
        offset: 5,
        limit: 10,
        after_number: Some(String::new()),
        ..city.clone()
    };
    let rest: Vec<String> = store
        .cases(&skipped)
        .await
        .unwrap()
        .cases
        .iter()
        .map(|c| c.number.0.clone())
        .collect();
    assert_eq!(rest, numbers[5..]);
    assert_eq!(store.count_cases(&page).await.unwrap(), 7);
    assert_eq!(store.count_cases(&filed_only).await.unwrap(), 1);
    assert_eq!(store.count_cases(&huangpu).await.unwrap(), 4);
}

/// The store keeps milliseconds, as the API does.
fn now_ms() -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

async fn sessions_expire_and_usernames_are_unique(store: Arc<dyn Store>) {
    let now = now_ms();
    let user = UserRecord {
        id: "user-1".into(),
        username: "zhang.san".into(),
        display_name: "张三".into(),
        password_hash: "$argon2id$...".into(),
        role: Role::Dispatcher,
        unit: Some("C-310101".into()),
        scope: code("310101"),
        disabled: false,
        created_at: now,
        failed_logins: 0,
        locked_until: None,
        totp: None,
    };
    store.insert_user(&user).await.unwrap();
    let again = UserRecord {
        id: "user-2".into(),
        ..user.clone()
    };
    assert!(matches!(
        store.insert_user(&again).await,
        Err(StoreError::Duplicate { field: "username" })
    ));
    store
        .insert_session("hash-1", "user-1", now, now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store.session_user("hash-1", now).await.unwrap().unwrap(),
        user
    );
    assert!(store
        .session_user("hash-1", now + Duration::hours(2))
        .await
        .unwrap()
        .is_none());
    assert!(store.session_user("hash-2", now).await.unwrap().is_none());
}

async fn attachments_are_written_with_their_case_event(store: Arc<dyn Store>) {
    let now = now_ms();
    let (case, event) = new_case("310101002001", "井盖缺失", now);
    let case = store.insert_case(case, event).await.unwrap();
    let attachment = Attachment::uploaded(
        "att-1".into(),
        case.id.clone(),
        "near.jpg".into(),
        "image/jpeg".into(),
        1234,
        "ab".repeat(32),
        "attachments/ab/att-1".into(),
        "u1".into(),
        now,
    );
    let (next, event) = decide(
        &case,
        CaseCommand::Attach {
            attachment_id: "att-1".into(),
        },
        &operator("310000"),
        now,
    )
    .unwrap();
    store
        .update_case(&next, &event, Some(&attachment))
        .await
        .unwrap();
    assert_eq!(
        store.attachment("att-1").await.unwrap().unwrap(),
        attachment
    );
    // The same attachment on a stale version is rolled back with the case change.
    let stale = Attachment {
        id: "att-2".into(),
        ..attachment.clone()
    };
    assert!(store
        .update_case(&next, &event, Some(&stale))
        .await
        .is_err());
    assert!(store.attachment("att-2").await.unwrap().is_none());

    // A review publishes a public copy; the next one replaces it and hands back the old.
    let public = PublicCopy {
        path: "attachments/public/att-1-a".into(),
        content_type: "image/jpeg".into(),
        sha256: "cd".repeat(32),
        size: 999,
    };
    let review = AttachmentReview {
        review: PhotoReview::Published,
        blur: vec![BlurRegion {
            x: 1,
            y: 2,
            w: 30,
            h: 40,
        }],
        public: Some(public.clone()),
        by: "u2".into(),
        at: now,
    };
    let before = store.review_attachment("att-1", &review).await.unwrap();
    assert_eq!(before.unwrap().review, PhotoReview::Pending);
    let published = store.attachment("att-1").await.unwrap().unwrap();
    assert_eq!(
        (&published.review, &published.blur, &published.public),
        (&PhotoReview::Published, &review.blur, &Some(public.clone()))
    );
    assert_eq!(published.reviewed_by.as_deref(), Some("u2"));
    assert_eq!(
        store.case_attachments(&case.id).await.unwrap(),
        vec![published]
    );
    let private = AttachmentReview {
        review: PhotoReview::Private,
        blur: Vec::new(),
        public: None,
        ..review.clone()
    };
    let before = store.review_attachment("att-1", &private).await.unwrap();
    assert_eq!(before.unwrap().public, Some(public));
    let kept = store.attachment("att-1").await.unwrap().unwrap();
    assert_eq!((kept.review, kept.public), (PhotoReview::Private, None));
    assert!(store
        .review_attachment("att-missing", &review)
        .await
        .unwrap()
        .is_none());
    assert!(store.case_attachments("no-case").await.unwrap().is_empty());
}

/// Group commit puts concurrent writes into one transaction; a conflicting write in the batch
/// must fail alone, and case numbers stay unique and gapless.
async fn concurrent_writes_share_batches_but_fail_alone(store: Arc<dyn Store>) {
    let now = Utc::now();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let (case, event) = new_case("310101002001", &format!("并发第{i}号"), now);
            let case = store.insert_case(case, event).await.unwrap();
            let (accepted, event) = decide(
                &case,
                CaseCommand::Accept { opinion: None },
                &operator("310101"),
                now,
            )
            .unwrap();
            store.update_case(&accepted, &event, None).await.unwrap();
            // The same change again is stale: it must conflict without harming the others.
            let stale = store.update_case(&accepted, &event, None).await;
            assert!(matches!(stale, Err(StoreError::Conflict(_))));
            case.number.0
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    numbers.sort();
    let day = CaseNumber::day_of(now).format("%Y%m%d").to_string();
    let expected: Vec<String> = (1..=60).map(|n| format!("310101{day}{n:05}")).collect();
    assert_eq!(numbers, expected);
    let accepted = CaseQuery {
        states: vec![CaseState::Accepted],
        limit: 200,
        ..CaseQuery::new(code("310000"), now)
    };
    assert_eq!(store.cases(&accepted).await.unwrap().cases.len(), 60);
}

/// A merge changes two cases: both land, or, when either was changed meanwhile, neither, and
/// the writes batched with it land all the same.
async fn a_merge_writes_both_cases_or_neither(store: Arc<dyn Store>) {
    let now = Utc::now();
    let (master, event) = new_case("310101002001", "井盖缺失", now);
    let master = store.insert_case(master, event).await.unwrap();
    let (report, event) = new_case("310101002001", "井盖没了", now);
    let report = store.insert_case(report, event).await.unwrap();
    let clock = workflow::Clock::plain_week(now);
    let stale = workflow::merge_on(&report, &master, None, &operator("310101"), clock).unwrap();
    // The master moves on before the merge is written.
    let (accepted, event) = decide(
        &master,
        CaseCommand::Accept { opinion: None },
        &operator("310101"),
        now,
    )
    .unwrap();
    store.update_case(&accepted, &event, None).await.unwrap();
    // The stale pair goes in with other writes, which must not suffer for it.
    let mut others = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        others.push(tokio::spawn(async move {
            let (case, event) = new_case("310101002001", &format!("同批第{i}号"), now);
            store.insert_case(case, event).await.unwrap()
        }));
    }
    let error = store
        .update_case_pair([stale.report.clone(), stale.master.clone()])
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict(_)), "{error}");
    for task in others {
        task.await.unwrap();
    }
    let report_now = store.case(&report.id).await.unwrap().unwrap();
    assert_eq!(report_now, report, "the report's half was taken back");
    assert_eq!(store.timeline(&report.id).await.unwrap().len(), 1);
    assert_eq!(store.case(&master.id).await.unwrap().unwrap(), accepted);

    let fresh = workflow::merge_on(&report, &accepted, None, &operator("310101"), clock).unwrap();
    store
        .update_case_pair([fresh.master.clone(), fresh.report.clone()])
        .await
        .unwrap();
    for (id, expected) in [(&report.id, &fresh.report.0), (&master.id, &fresh.master.0)] {
        let stored = store.case(id).await.unwrap().unwrap();
        assert_eq!(&stored, expected);
        let timeline = store.timeline(id).await.unwrap();
        assert_eq!(
            workflow::replay(stored.number.clone(), &timeline).unwrap(),
            stored
        );
    }
    assert_eq!(
        store.case(&report.id).await.unwrap().unwrap().state,
        CaseState::Merged
    );
}

/// Two stores on one database, as two processes (a server and the command line, or two
/// nodes on PostgreSQL) are: each appends from the head it last wrote, which the other keeps
/// moving, and both write concurrently. Every append must still extend the one chain: no
/// entry lost, none forked off a stale head, the log intact end to end.
async fn two_stores_extend_one_audit_chain(first: Arc<dyn Store>, second: Arc<dyn Store>) {
    let now = Utc::now();
    let mut tasks = Vec::new();
    for (n, store) in [first.clone(), second.clone()].into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let actor = cityops_domain::audit::AuditActor {
                    actor: format!("process-{n}"),
                    role: "admin".into(),
                    scope: "310000".into(),
                    origin: "127.0.0.1".into(),
                };
                let record = cityops_domain::audit::AuditRecord::new(
                    &actor,
                    "test.append",
                    format!("object:{n}:{i}"),
                    now,
                );
                store
                    .append_audit(vec![record.clone(), record])
                    .await
                    .unwrap();
                let (case, event) = new_case("310101002001", &format!("第{n}-{i}号"), now);
                store.insert_case(case, event).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Appends longer than one statement (200 entries), from a head the other store has
    // moved and from the store's own: 250 each.
    let many = |n: usize| {
        let actor = cityops_domain::audit::AuditActor::system();
        (0..n)
            .map(|i| {
                cityops_domain::audit::AuditRecord::new(
                    &actor,
                    "test.bulk",
                    format!("object:bulk:{i}"),
                    now,
                )
            })
            .collect::<Vec<_>>()
    };
    first.append_audit(many(250)).await.unwrap();
    second.append_audit(many(250)).await.unwrap();
    second.append_audit(many(250)).await.unwrap();
    for store in [&first, &second] {
        let verification = cityops_store::audit::verify_log(store.as_ref(), None)
            .await
            .unwrap();
        assert!(verification.intact(), "{:?}", verification.findings);
        // 2 x 25 x (two appended records + one case report), then 3 x 250.
        assert_eq!(verification.entries, 900);
        assert_eq!(verification.head.seq, 900);
    }
}

#[tokio::test]
async fn two_sqlite_stores_extend_one_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cityops.db").display());
    let first = open(&url, keys()).await.unwrap();
    let second = open(&url, keys()).await.unwrap();
    two_stores_extend_one_audit_chain(first, second).await;
}

#[tokio::test]
async fn two_postgres_stores_extend_one_audit_chain() {
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL contract test skipped");
        return;
    };
    let db = ScratchDatabase::create(&admin).await.unwrap();
    let first = open(&db.url, keys()).await.unwrap();
    let second = open(&db.url, keys()).await.unwrap();
    two_stores_extend_one_audit_chain(first.clone(), second.clone()).await;
    drop((first, second));
    db.drop_now().await.unwrap();
}

/// The benchmarks' store without audit writes cases and no entries; the audited store on the
/// same database goes on extending the same chain.
async fn a_store_without_audit_writes_cases_but_no_audit_entries(url: &str) {
    let audited = open(url, keys()).await.unwrap();
    let unaudited = open_unaudited(url, keys()).await.unwrap();
    let before = audited.audit_head().await.unwrap();
    let (case, event) = new_case("310101002001", "不记审计的基准写入", Utc::now());
    let quiet = unaudited.insert_case(case, event).await.unwrap();
    assert!(audited.case(&quiet.id).await.unwrap().is_some());
    assert_eq!(audited.audit_head().await.unwrap().seq, before.seq);
    let (case, event) = new_case("310101002001", "记审计的写入", Utc::now());
    audited.insert_case(case, event).await.unwrap();
    assert_eq!(audited.audit_head().await.unwrap().seq, before.seq + 1);
    let verification = cityops_store::audit::verify_log(audited.as_ref(), None)
        .await
        .unwrap();
    assert!(verification.intact(), "{:?}", verification.findings);
}

#[tokio::test]
async fn a_sqlite_store_without_audit_writes_cases_but_no_audit_entries() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cityops.db").display());
    a_store_without_audit_writes_cases_but_no_audit_entries(&url).await;
}

#[tokio::test]
async fn a_postgres_store_without_audit_writes_cases_but_no_audit_entries() {
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL contract test skipped");
        return;
    };
    let db = ScratchDatabase::create(&admin).await.unwrap();
    a_store_without_audit_writes_cases_but_no_audit_entries(&db.url).await;
    db.drop_now().await.unwrap();
}

/// What a write answered, and what it wrote.
enum Answer {
    Acknowledged,
    Failed,
    Unknown,
}

fn answer<T>(result: &StoreResult<T>) -> Answer {
    match result {
        Ok(_) => Answer::Acknowledged,
        Err(StoreError::OutcomeUnknown(_)) => Answer::Unknown,
        Err(_) => Answer::Failed,
    }
}

/// A PostgreSQL wire-protocol relay that cuts connections at COMMIT, the way a network or
/// a server fault does: every `cut`th COMMIT, the backend is terminated
/// (`pg_terminate_backend`) either after the server answered it (the transaction landed,
/// but the client never hears so) or before the COMMIT reaches it (nothing landed). Either
/// way the client sees its connection drop in the middle of COMMIT.
mod commit_cutter {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A simple-protocol `COMMIT` query, and the server's answer that it committed.
    const COMMIT: &[u8] = b"Q\0\0\0\x0bCOMMIT\0";
    const COMMITTED: &[u8] = b"C\0\0\0\x0bCOMMIT\0";

    #[derive(Default)]
    pub struct Counts {
        /// Cuts only once the store is open (its migrations commit too).
        pub armed: std::sync::atomic::AtomicBool,
        pub commits: AtomicUsize,
        pub landed_unheard: AtomicUsize,
        pub cut_before: AtomicUsize,
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    pub async fn start(upstream: String, killer: sqlx::PgPool, cut: usize) -> (u16, Arc<Counts>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, killer.clone(), cut, shared.clone()));
            }
        });
        (port, counts)
    }

    async fn terminate(killer: &sqlx::PgPool, pid: i32) {
        let _ = sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .execute(killer)
            .await;
    }

    async fn relay(
        client: TcpStream,
        server: TcpStream,
        killer: sqlx::PgPool,
        cut: usize,
        counts: Arc<Counts>,
    ) {
        let (mut client_in, mut client_out) = client.into_split();
        let (mut server_in, mut server_out) = server.into_split();
        let pid = Arc::new(std::sync::atomic::AtomicI32::new(0));
        // 0: pass, 1: cut after the server's answer, set by the client side.
        let cut_after = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let upward = {
            let (pid, cut_after, counts, killer) = (
                pid.clone(),
                cut_after.clone(),
                counts.clone(),
                killer.clone(),
            );
            async move {
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    let n = match client_in.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let chunk = &buffer[..n];
                    if counts.armed.load(Ordering::Relaxed) && find(chunk, COMMIT).is_some() {
                        let k = counts.commits.fetch_add(1, Ordering::Relaxed) + 1;
                        if k % cut == 0 {
                            if k % (2 * cut) == 0 {
                                counts.cut_before.fetch_add(1, Ordering::Relaxed);
                                terminate(&killer, pid.load(Ordering::Relaxed)).await;
                                return;
                            }
                            cut_after.store(true, Ordering::Relaxed);
                        }
                    }
                    if server_out.write_all(chunk).await.is_err() {
                        return;
                    }
                }
            }
        };
        let downward = async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match server_in.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let chunk = &buffer[..n];
                if pid.load(Ordering::Relaxed) == 0 {
                    // BackendKeyData: 'K', length 12, the backend's pid, its secret key.
                    if let Some(at) = find(chunk, b"K\0\0\0\x0c") {
                        if let Some(bytes) = chunk.get(at + 5..at + 9) {
                            let pid_now = i32::from_be_bytes(bytes.try_into().unwrap());
                            pid.store(pid_now, Ordering::Relaxed);
                        }
                    }
                }
                if cut_after.load(Ordering::Relaxed) && find(chunk, COMMITTED).is_some() {
                    counts.landed_unheard.fetch_add(1, Ordering::Relaxed);
                    terminate(&killer, pid.load(Ordering::Relaxed)).await;
                    return;
                }
                if client_out.write_all(chunk).await.is_err() {
                    return;
                }
            }
        };
        // Whichever side ends first ends the connection, as a cut cable would.
        tokio::select! {
            _ = upward => {}
            _ = downward => {}
        }
    }
}

/// Case writes commit under load through connections that are cut at COMMIT: some
/// transactions landed without the writer hearing so, some did not land. Every write
/// acknowledged must be there exactly once, and every write answered as failed must be
/// absent: the writer finds out whether a cut COMMIT landed (its event row) before writing
/// again. Only a write answered "outcome unknown" may be either.
#[tokio::test]
async fn postgres_writes_cut_off_mid_commit_are_answered_by_what_landed() {
    let Some(admin) = test_url() else {
        eprintln!("CITYOPS_TEST_PG_URL is not set: PostgreSQL contract test skipped");
        return;
    };
    let db = ScratchDatabase::create(&admin).await.unwrap();
    let killer = sqlx::PgPool::connect(&admin).await.unwrap();
    // postgres://user@host:port/name: the relay stands in for host:port.
    let (head, name) = db.url.rsplit_once('/').unwrap();
    let (user, upstream) = head.rsplit_once('@').unwrap();
    let (port, counts) = commit_cutter::start(upstream.to_owned(), killer.clone(), 5).await;
    let through = format!("{user}@127.0.0.1:{port}/{name}");
    let store = open(&through, keys()).await.unwrap();
    counts
        .armed
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let now = Utc::now();
    let mut writers = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0..25 {
                let (case, event) = new_case("310101002001", &format!("断线第{w}-{i}号"), now);
                let id = case.id.clone();
                let inserted = store.insert_case(case.clone(), event).await;
                let insert = answer(&inserted);
                let Ok(case) = inserted else {
                    outcomes.push((id, insert, None));
                    continue;
                };
                let (accepted, event) = decide(
                    &case,
                    CaseCommand::Accept { opinion: None },
                    &operator("310101"),
                    now,
                )
                .unwrap();
                let update = answer(&store.update_case(&accepted, &event, None).await);
                outcomes.push((id, insert, Some(update)));
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.extend(writer.await.unwrap());
    }
    let landed_unheard = counts
        .landed_unheard
        .load(std::sync::atomic::Ordering::Relaxed);
    let cut_before = counts.cut_before.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        landed_unheard > 0 && cut_before > 0,
        "no COMMIT was cut ({landed_unheard} after landing, {cut_before} before): the test attacked nothing"
    );
    // Read back on the database directly, not through the cutter.
    let direct = open(&db.url, keys()).await.unwrap();
    let (mut acknowledged, mut failed, mut unknown) = (0, 0, 0);
    for (id, insert, update) in &outcomes {
        let case = direct.case(id).await.unwrap();
        let seqs: Vec<i64> = direct
            .timeline(id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        match insert {
            Answer::Acknowledged => {
                acknowledged += 1;
                assert!(case.is_some(), "an acknowledged report of {id} is missing");
                assert_eq!(
                    seqs.iter().filter(|s| **s == 1).count(),
                    1,
                    "{id}: {seqs:?}"
                );
            }
            Answer::Failed => {
                failed += 1;
                assert!(
                    case.is_none(),
                    "a report of {id} answered as failed was written"
                );
                continue;
            }
            Answer::Unknown => {
                unknown += 1;
                continue;
            }
        }
        match update {
            Some(Answer::Acknowledged) => {
                acknowledged += 1;
                assert_eq!(case.as_ref().unwrap().state, CaseState::Accepted, "{id}");
                assert_eq!(seqs, vec![1, 2], "{id}");
            }
            Some(Answer::Failed) => {
                failed += 1;
                assert_eq!(case.as_ref().unwrap().state, CaseState::Reported, "{id}");
                assert_eq!(seqs, vec![1], "{id}");
            }
            Some(Answer::Unknown) => unknown += 1,
            None => {}
        }
    }
    eprintln!(
        "{} commits, {landed_unheard} cut after landing, {cut_before} cut before; {acknowledged} writes acknowledged, {failed} failed, {unknown} unknown",
        counts.commits.load(std::sync::atomic::Ordering::Relaxed)
    );
    assert!(acknowledged > 0);
    // The audit chain the writes extended is whole: no entry of a write that did not land.
    let verification = cityops_store::audit::verify_log(direct.as_ref(), None)
        .await
        .unwrap();
    assert!(verification.intact(), "{:?}", verification.findings);
    drop((store, direct));
    killer.close().await;
    db.drop_now().await.unwrap();
}

fn holiday_year(year: i32, days: &[(&str, bool)]) -> HolidayYear {
    HolidayYear::new(
        year,
        vec!["https://www.gov.cn/notice".into()],
        days.iter()
            .map(|(date, off)| CalendarDay {
                date: chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
                name: "元旦".into(),
                off: *off,
            })
            .collect(),
    )
    .unwrap()
}

async fn calendar_years_are_written_only_over_what_was_read(store: Arc<dyn Store>) {
    assert_eq!(store.holiday_year(2027).await.unwrap(), None);
    let first = holiday_year(2027, &[("2027-01-01", true)]);
    store.put_holiday_year(&first, None).await.unwrap();
    assert_eq!(store.holiday_year(2027).await.unwrap(), Some(first.clone()));
    // A second "first" import of the year (a writer that read nothing) is refused.
    let other = holiday_year(2027, &[("2027-01-01", true), ("2027-01-02", true)]);
    assert!(matches!(
        store.put_holiday_year(&other, None).await,
        Err(StoreError::Conflict(_))
    ));
    // So is a replacement over a schedule that is no longer there.
    assert!(matches!(
        store.put_holiday_year(&other, Some(&other)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.holiday_year(2027).await.unwrap(), Some(first.clone()));
    store.put_holiday_year(&other, Some(&first)).await.unwrap();
    store
        .put_holiday_year(&holiday_year(2026, &[]), None)
        .await
        .unwrap();
    let years: Vec<i32> = store
        .holiday_years()
        .await
        .unwrap()
        .iter()
        .map(|y| y.year)
        .collect();
    assert_eq!(years, [2026, 2027]);
    assert_eq!(store.holiday_year(2027).await.unwrap(), Some(other));
    let actions: Vec<(String, String)> = store
        .audit_entries(&AuditQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.record.object.starts_with("calendar:"))
        .map(|e| (e.record.action, e.record.object))
        .collect();
    assert_eq!(
        actions,
        [
            ("calendar.import".to_owned(), "calendar:2027".to_owned()),
            ("calendar.replace".to_owned(), "calendar:2027".to_owned()),
            ("calendar.import".to_owned(), "calendar:2026".to_owned()),
        ]
    );
}

/// A key claimed by one new case (an idempotency key, a 12345 ticket) refuses every other case
/// that claims it, concurrent ones included, and writes nothing of them; an expired
/// idempotency key is pruned, so it can be claimed again.
async fn a_claimed_key_admits_one_case_and_expires(store: Arc<dyn Store>) {
    let now = Utc::now();
    let claim = |at: chrono::DateTime<Utc>, hash: &str| CaseClaim::IdempotencyKey {
        caller: "u1".into(),
        key: "call-1".into(),
        body_hash: hash.into(),
        at,
        expired_before: at - Duration::days(7),
    };
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let claim = claim(now, "h1");
        tasks.push(tokio::spawn(async move {
            let (case, event) = new_case("310101002001", &format!("同一键第{i}次"), now);
            store.insert_claimed_case(case, event, Some(claim)).await
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(case) => won.push(case),
            Err(StoreError::Claimed) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!(won.len(), 1, "one case holds the key");
    let record = store
        .idempotency_key("u1", "call-1", now - Duration::days(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.case_id, won[0].id);
    assert_eq!(record.body_hash, "h1");
    // The losers took no case number.
    let day = CaseNumber::day_of(now).format("%Y%m%d").to_string();
    assert_eq!(won[0].number.0, format!("310101{day}00001"));
    let (case, event) = new_case("310101002001", "下一件", now);
    let next = store.insert_case(case, event).await.unwrap();
    assert_eq!(next.number.0, format!("310101{day}00002"));

    // Eight days on, the key is expired: not found, pruned and claimed anew.
    let later = now + Duration::days(8);
    assert!(store
        .idempotency_key("u1", "call-1", later - Duration::days(7))
        .await
        .unwrap()
        .is_none());
    let (case, event) = new_case("310101002001", "八天后同一键", now);
    let again = store
        .insert_claimed_case(case, event, Some(claim(later, "h2")))
        .await
        .unwrap();
    let record = store
        .idempotency_key("u1", "call-1", later - Duration::days(7))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.case_id, again.id);

    // A 12345 ticket is claimed once too.
    let ticket = |case_id: &str| {
        CaseClaim::HotlineTicket(HotlineTicketRow {
            ticket_id: "T-1".into(),
            kind: "complaint".into(),
            received_at: now,
            content_hash: "c1".into(),
            case_id: Some(case_id.into()),
            imported_at: now,
        })
    };
    let (case, event) = new_case("310101002001", "工单一", now);
    let first = case.id.clone();
    store
        .insert_claimed_case(case, event, Some(ticket(&first)))
        .await
        .unwrap();
    let (case, event) = new_case("310101002001", "工单一again", now);
    let second = case.id.clone();
    let refused = store
        .insert_claimed_case(case, event, Some(ticket(&second)))
        .await;
    assert!(matches!(refused, Err(StoreError::Claimed)));
    assert!(store.case(&second).await.unwrap().is_none());
    let stored = store.hotline_tickets(&["T-1".into()]).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].case_id.as_deref(), Some(first.as_str()));
    let received = store
        .hotline_tickets_received(now - Duration::hours(1), now + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(received, stored);
}

async fn units_keep_a_citys_edits_and_import_counts_what_changed(store: Arc<dyn Store>) {
    use cityops_domain::{Organization, Retirement, Unit, UnitContacts, UnitKind};
    let water = Unit::new(
        "310101-ZLS".into(),
        "黄浦区自来水公司".into(),
        UnitKind::WaterSupply,
        code("310101"),
    );
    assert_eq!(water.organization, Organization::PublicUtility);
    assert_eq!(
        store.put_units(std::slice::from_ref(&water)).await.unwrap(),
        1
    );
    let mut edited = water.clone();
    edited.name = "黄浦区自来水公司（城投水务）".into();
    edited.contacts = UnitContacts {
        duty_phone: Some("02163210000".into()),
        contact_name: Some("张建国".into()),
        contact_phone: None,
    };
    assert!(store.update_unit(&edited).await.unwrap());
    // The defaults again (an area import, a restart) leave the city's edit alone.
    assert_eq!(
        store.put_units(std::slice::from_ref(&water)).await.unwrap(),
        0
    );
    assert_eq!(
        store.unit("310101-ZLS").await.unwrap(),
        Some(edited.clone())
    );
    assert!(matches!(
        store.create_unit(&water).await,
        Err(cityops_store::StoreError::Duplicate { field: "code" })
    ));

    let mut retired = edited.clone();
    retired.retired = Some(Retirement {
        at: chrono::DateTime::from_timestamp_millis(1_764_900_000_000).unwrap(),
        successor: Some("310101-GD".into()),
    });
    let power = Unit::new(
        "310101-GD".into(),
        "黄浦区供电公司".into(),
        UnitKind::Power,
        code("310101"),
    );
    let result = store
        .import_units(&[retired.clone(), power.clone()])
        .await
        .unwrap();
    assert_eq!(
        (result.created, result.updated, result.unchanged),
        (1, 1, 0)
    );
    let result = store.import_units(&[retired.clone(), power]).await.unwrap();
    assert_eq!(
        (result.created, result.updated, result.unchanged),
        (0, 0, 2)
    );
    let active = store
        .units(&cityops_store::UnitFilter {
            retired: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(),
        ["310101-GD"]
    );
    let gone = store
        .units(&cityops_store::UnitFilter {
            retired: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(gone, vec![retired]);
    assert!(!store
        .update_unit(&Unit::new(
            "NONE".into(),
            "无".into(),
            UnitKind::Other,
            code("310101")
        ))
        .await
        .unwrap());
}

/// The overdue watch reads only the cases whose watch moment has come, earliest first and
/// page by page, and the moment follows every change of the case.
async fn the_watch_index_pages_due_cases_and_follows_every_change(store: Arc<dyn Store>) {
    // A Tuesday morning (Beijing 09:00): hours apart, the three reports' yellow points differ
    // (from the wall clock, two reports across a lunch break could share one).
    let t0 = Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap();
    let mut ids = Vec::new();
    for hours in [0, 1, 2] {
        let (case, event) = new_case(
            "310101002001",
            "井盖缺失",
            t0 + chrono::Duration::hours(hours),
        );
        assert!(case.watch_at().is_some(), "the acceptance clock runs");
        let case = store.insert_case(case, event).await.unwrap();
        ids.push((case.watch_at().unwrap(), case.id.clone()));
    }
    ids.sort();
    let far = t0 + chrono::Duration::days(365);
    let (before, next) = store.cases_to_watch(t0, None, 10).await.unwrap();
    assert!(before.is_empty() && next.is_none());
    let (first, cursor) = store.cases_to_watch(far, None, 2).await.unwrap();
    let first: Vec<_> = first.iter().map(|c| c.id.clone()).collect();
    assert_eq!(first, [ids[0].1.clone(), ids[1].1.clone()]);
    let (second, end) = store.cases_to_watch(far, cursor.as_ref(), 2).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, ids[2].1);
    assert!(end.is_none());
    // Only the first is due at its own moment.
    let (due, _) = store.cases_to_watch(ids[0].0, None, 10).await.unwrap();
    assert_eq!(due.len(), 1);

    // Accepting starts the filing clock: the moment moves with it; cancelling ends it.
    let case = store.case(&ids[0].1).await.unwrap().unwrap();
    let (accepted, event) = decide(
        &case,
        CaseCommand::Accept { opinion: None },
        &operator("310101"),
        t0 + chrono::Duration::hours(5),
    )
    .unwrap();
    assert!(accepted.watch_at() > case.watch_at());
    store.update_case(&accepted, &event, None).await.unwrap();
    let (due, _) = store.cases_to_watch(ids[0].0, None, 10).await.unwrap();
    assert!(due.is_empty(), "its old moment is gone");
    let (due, _) = store
        .cases_to_watch(accepted.watch_at().unwrap(), None, 10)
        .await
        .unwrap();
    assert!(due.iter().any(|c| c.id == accepted.id));
    let lead = Actor {
        role: Role::ShiftLead,
        ..operator("310101")
    };
    let (cancelled, event) = decide(
        &accepted,
        CaseCommand::Cancel {
            reason: "重复".into(),
        },
        &lead,
        t0 + chrono::Duration::hours(6),
    )
    .unwrap();
    assert_eq!(cancelled.watch_at(), None);
    store.update_case(&cancelled, &event, None).await.unwrap();
    let (due, _) = store.cases_to_watch(far, None, 10).await.unwrap();
    assert!(due.iter().all(|c| c.id != cancelled.id));
    assert_eq!(due.len(), 2);
}

async fn a_lease_has_one_holder_until_it_runs_out(store: Arc<dyn Store>) {
    let now = now_ms();
    let ttl = chrono::Duration::seconds(10);
    assert!(store.hold_lease("watch", "a", now, ttl).await.unwrap());
    assert!(!store.hold_lease("watch", "b", now, ttl).await.unwrap());
    // The holder renews; the other still waits.
    let later = now + chrono::Duration::seconds(9);
    assert!(store.hold_lease("watch", "a", later, ttl).await.unwrap());
    assert!(!store
        .hold_lease("watch", "b", now + chrono::Duration::seconds(15), ttl)
        .await
        .unwrap());
    assert_eq!(
        store.lease_holder("watch", later).await.unwrap(),
        Some(("a".to_owned(), later + ttl))
    );
    // Unrenewed, it runs out and the other takes it; the first has lost it.
    let expired = later + ttl + chrono::Duration::seconds(1);
    assert!(store.hold_lease("watch", "b", expired, ttl).await.unwrap());
    assert!(!store.hold_lease("watch", "a", expired, ttl).await.unwrap());
    // Another lease is another duty.
    assert!(store.hold_lease("other", "a", expired, ttl).await.unwrap());
    // Only the holder gives it up.
    store.release_lease("watch", "a").await.unwrap();
    assert_eq!(
        store
            .lease_holder("watch", expired)
            .await
            .unwrap()
            .map(|h| h.0),
        Some("b".to_owned())
    );
    store.release_lease("watch", "b").await.unwrap();
    assert_eq!(store.lease_holder("watch", expired).await.unwrap(), None);
    assert!(store.hold_lease("watch", "a", expired, ttl).await.unwrap());
}

/// Each event's evaluation entries are written with it; the sums group them per level, a
/// number drills down to its cases, and a rebuild from the timeline gives the same ledger.
async fn the_evaluation_ledger_is_written_with_each_event_and_sums_by_level(store: Arc<dyn Store>) {
    use cityops_domain::evaluation::{day_of, entries_of_timeline, Counter, Level};
    assert!(
        !store.ledger_needs_filling().await.unwrap(),
        "no cases, nothing to fill"
    );
    let t0 = now_ms();
    let (case, event) = new_case("310101002001", "井盖缺失", t0);
    let case = store.insert_case(case, event).await.unwrap();
    let lead = Actor {
        user_id: "lead-1".into(),
        role: Role::ShiftLead,
        ..operator("310101")
    };
    let (accepted, event) = decide(
        &case,
        CaseCommand::Accept { opinion: None },
        &operator("310101"),
        t0,
    )
    .unwrap();
    store.update_case(&accepted, &event, None).await.unwrap();
    let catalog = cityops_domain::CategoryCatalog::shipped();
    let class = catalog
        .get(&cityops_domain::CategoryCode::parse("20101").unwrap())
        .unwrap();
    let (filed, event) = decide(
        &accepted,
        CaseCommand::File {
            fields: Default::default(),
            class: cityops_domain::FiledClass::from_category(class),
            opinion: None,
        },
        &lead,
        t0,
    )
    .unwrap();
    store.update_case(&filed, &event, None).await.unwrap();

    let timeline = store.timeline(&case.id).await.unwrap();
    let mut expected = entries_of_timeline(filed.number.clone(), &timeline).unwrap();
    let mut stored = store.case_ledger(&case.id).await.unwrap();
    expected.sort();
    stored.sort();
    assert_eq!(stored, expected);
    assert!(stored.iter().any(|e| e.counter == Counter::Filed));

    let day = day_of(t0);
    let sums = store.ledger_sums(Level::District, day, day).await.unwrap();
    let n = |counter| {
        sums.iter()
            .filter(|s| s.key == "310101" && s.counter == counter)
            .map(|s| s.n)
            .sum::<u64>()
    };
    assert_eq!((n(Counter::Reported), n(Counter::Filed)), (1, 1));
    // Staff steps are not an area's: the acceptance counts only for the operator.
    assert!(sums.iter().all(|s| s.counter != Counter::Accepted));
    let people = store.ledger_sums(Level::Position, day, day).await.unwrap();
    assert!(people.iter().any(|s| s.key == "u1"
        && s.role == Some(Role::Operator)
        && s.counter == Counter::Accepted
        && s.n == 1));
    assert!(people.iter().any(|s| s.key == "lead-1"
        && s.role == Some(Role::ShiftLead)
        && s.counter == Counter::Filed));
    let streets = store.ledger_sums(Level::Street, day, day).await.unwrap();
    assert!(streets
        .iter()
        .any(|s| s.key == "310101002" && s.counter == Counter::Filed));
    let cases = |counter, except| LedgerCases {
        level: Level::District,
        key: "310101".into(),
        role: None,
        counter,
        except,
        from: day,
        to: day,
        limit: 10,
    };
    assert_eq!(
        store
            .ledger_cases(&cases(Counter::Filed, None))
            .await
            .unwrap(),
        vec![case.id.clone()]
    );
    // Reported, except filed: none here.
    assert!(store
        .ledger_cases(&cases(Counter::Reported, Some(Counter::Filed)))
        .await
        .unwrap()
        .is_empty());
    let before = day - chrono::Duration::days(1);
    assert!(store
        .ledger_sums(Level::District, before, before)
        .await
        .unwrap()
        .is_empty());

    // Cases with a ledger: nothing to fill at start.
    assert!(!store.ledger_needs_filling().await.unwrap());
    assert_eq!(
        store.rebuild_case_ledger(&case.id).await.unwrap() as usize,
        stored.len()
    );
    // Replaced, not added to: the case's entries are what they were.
    let mut rebuilt = store.case_ledger(&case.id).await.unwrap();
    rebuilt.sort();
    assert_eq!(rebuilt, stored);
}

async fn incident_links_are_written_together_and_caught_up_by_area(store: Arc<dyn Store>) {
    use cityops_domain::emergency::{Incident, IncidentKind, NewIncident, Severity};
    let opened = Utc::now() - Duration::minutes(10);
    let leader = Actor {
        role: Role::CenterLeader,
        ..operator("310000")
    };
    let (incident, event) = Incident::open(
        "storm".into(),
        NewIncident {
            kind: IncidentKind::NaturalDisaster,
            severity: Severity::III,
            title: "暴雨".into(),
            description: String::new(),
            areas: vec![code("310101")],
            zone: None,
            lead_unit: None,
            warnings: vec![],
            plan: None,
            adjustments: vec![],
            link_classes: vec![],
        },
        &leader,
        opened,
    )
    .unwrap();
    store.put_incident(&incident, &[event]).await.unwrap();
    // Cases: one before the incident opened, one in it after, one in another district.
    let mut ids = vec![];
    for (area, at) in [
        ("310101002001", opened - Duration::minutes(1)),
        ("310101002001", opened + Duration::minutes(1)),
        ("310104001001", opened + Duration::minutes(1)),
    ] {
        let (case, event) = new_case(area, "积水", at);
        ids.push(store.insert_case(case, event).await.unwrap().id);
    }
    // The live path writes many at once; the same link twice is one link.
    let at = opened + Duration::minutes(2);
    let written = store
        .link_automatically(&[
            ("storm".into(), "alarm", "a1".into(), at),
            ("storm".into(), "alarm", "a2".into(), at),
            ("storm".into(), "alarm", "a1".into(), at),
        ])
        .await
        .unwrap();
    assert_eq!(written, 2);
    // A link undone by hand stays undone when the catch-up comes by.
    assert!(store.unlink("storm", "alarm", "a2").await.unwrap());
    assert_eq!(
        store
            .link_automatically(&[("storm".into(), "alarm", "a2".into(), at)])
            .await
            .unwrap(),
        0
    );
    // The catch-up reads what was raised in the area since the opening: the one case (no
    // alarm table rows here), not the earlier one nor Xuhui's.
    let raised = store
        .raised_since(&["310101".into()], opened)
        .await
        .unwrap();
    assert_eq!(
        raised
            .iter()
            .map(|r| (r.kind, r.id.clone(), r.area.clone()))
            .collect::<Vec<_>>(),
        [("case", ids[1].clone(), "310101002001".to_owned())]
    );
    store
        .link_automatically(&[("storm".into(), "case", ids[1].clone(), raised[0].at)])
        .await
        .unwrap();
    let mut linked: Vec<(String, String, bool)> = store
        .links("storm")
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.kind, l.target, l.auto))
        .collect();
    linked.sort();
    assert_eq!(
        linked,
        [
            ("alarm".to_owned(), "a1".to_owned(), true),
            ("case".to_owned(), ids[1].clone(), true),
        ]
    );
}
