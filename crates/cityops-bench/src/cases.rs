//! `cityops-bench cases`: case throughput through the store against plain SQL inserts of
//! equivalent rows on the same database engine, measured in the same run; and
//! `cityops-bench security`: what authorization and the audit log cost on the same store.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use cityops_domain::{
    decide, report, workflow, Actor, AreaCode, Case, CategoryCatalog, CategoryCode, FiledClass,
    Location, NewReport, Role, Source, TimelineEvent,
};
use cityops_test_support::scratch::ScratchDatabase;
use hdrhistogram::Histogram;
use std::sync::Arc;
use std::time::Instant;

pub struct BenchOptions {
    /// `postgres://...` server to create scratch databases on; SQLite in a temp dir if `None`.
    pub postgres: Option<String>,
    pub cases: usize,
    pub concurrency: usize,
}

pub struct Phase {
    pub name: &'static str,
    pub operations: usize,
    pub seconds: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.operations as f64 / self.seconds
    }
}

pub struct BenchReport {
    pub backend: &'static str,
    pub phases: Vec<Phase>,
}

impl BenchReport {
    pub fn render(&self) -> String {
        let mut out = format!("backend: {}\n", self.backend);
        out.push_str(&format!(
            "{:<44} {:>8} {:>10} {:>10} {:>10}\n",
            "phase", "ops", "ops/s", "p50 µs", "p99 µs"
        ));
        for p in &self.phases {
            out.push_str(&format!(
                "{:<44} {:>8} {:>10.0} {:>10} {:>10}\n",
                p.name,
                p.operations,
                p.rate(),
                p.p50_us,
                p.p99_us
            ));
        }
        if let (Some(create), Some(raw)) = (
            self.phases.iter().find(|p| p.name.starts_with("create")),
            self.phases.iter().find(|p| p.name.starts_with("raw")),
        ) {
            out.push_str(&format!(
                "ratio raw/create: {:.2}x (create reaches {:.0}% of the raw insert rate)\n",
                raw.rate() / create.rate(),
                100.0 * create.rate() / raw.rate()
            ));
        }
        out
    }
}

/// `cityops-bench security`: what authorization and the audit log cost on the hot paths.
/// Case creation and case listing run as the API runs them (the session looked up, the
/// caller's jurisdiction applied, every write audited) and with all of that off, on the same
/// store in the same run; the ratio is the overhead.
pub async fn bench_security(options: &BenchOptions) -> Result<BenchReport> {
    let temp = tempfile::tempdir()?;
    let scratch = match &options.postgres {
        Some(admin) => Some(ScratchDatabase::create(admin).await?),
        None => None,
    };
    let (url, backend) = match &scratch {
        Some(db) => (db.url.clone(), "postgres"),
        None => (
            format!("sqlite://{}", temp.path().join("store.db").display()),
            "sqlite",
        ),
    };
    let result = security_phases(options, &url, backend).await;
    if let Some(db) = scratch {
        db.drop_now().await?;
    }
    result
}

async fn security_phases(
    options: &BenchOptions,
    url: &str,
    backend: &'static str,
) -> Result<BenchReport> {
    let (n, c) = (options.cases, options.concurrency);
    let store = cityops_store::open(url, bench_keys()?).await?;
    // The same database through a store that writes no audit entries: the "off" variant.
    let unaudited = cityops_store::open_unaudited(url, bench_keys()?).await?;
    store
        .insert_user(&cityops_store::UserRecord {
            id: "bench-operator".into(),
            username: "operator".into(),
            display_name: "operator".into(),
            password_hash: "-".into(),
            role: Role::Operator,
            unit: None,
            scope: AreaCode::parse("310101")?,
            disabled: false,
            created_at: Utc::now(),
            failed_logins: 0,
            locked_until: None,
            totp: None,
        })
        .await?;
    let token_hash = "bench-session".to_owned();
    store
        .insert_session(
            &token_hash,
            "bench-operator",
            Utc::now(),
            Utc::now() + chrono::Duration::hours(1),
        )
        .await?;
    let mut phases = Vec::new();
    // Several short rounds whose order rotates: the tables grow as the bench runs, and no
    // variant should always meet the biggest ones.
    let rounds = 6;
    let n = n.div_ceil(rounds);
    for round in 0..rounds {
        // (session checked, audited): off, the audit log alone, everything on.
        let mut variants = [(false, false), (false, true), (true, true)];
        variants.rotate_left(round % 3);
        for (k, (secured, audited)) in variants.into_iter().enumerate() {
            let (s, u, hash) = (store.clone(), unaudited.clone(), token_hash.clone());
            let timing = drive(n, c, move |i| {
                let (store, unaudited, hash) = (s.clone(), u.clone(), hash.clone());
                async move {
                    if secured {
                        let user = store
                            .session_user(&hash, Utc::now())
                            .await?
                            .context("the session")?;
                        let area = AreaCode::parse("310101002001")?;
                        anyhow::ensure!(user.scope.contains(&area), "in scope");
                    }
                    let (case, event) = new_report(i + (round * 3 + k) * n, Utc::now())?;
                    if audited {
                        store.insert_case(case, event).await?;
                    } else {
                        unaudited.insert_case(case, event).await?;
                    }
                    Ok(())
                }
            })
            .await?;
            let name = match (secured, audited) {
                (true, _) => "create, secured (session + scope + audit)",
                (false, true) => "create, audit log only",
                (false, false) => "create, unsecured",
            };
            phases.push(phase(name, n, timing));
        }
    }
    // Reads after all the writes: a burst of reads leaves the next writes slower on
    // PostgreSQL, which would tax whichever create variant came next.
    for round in 0..rounds {
        let mut variants = [false, true];
        variants.rotate_left(round % 2);
        for secured in variants {
            let s = store.clone();
            let hash = token_hash.clone();
            let timing = drive(n, c, move |_| {
                let (store, hash) = (s.clone(), hash.clone());
                async move {
                    let query = if secured {
                        let user = store
                            .session_user(&hash, Utc::now())
                            .await?
                            .context("the session")?;
                        let actor = Actor {
                            user_id: user.id,
                            username: user.username,
                            role: user.role,
                            unit: user.unit,
                            scope: user.scope,
                        };
                        cityops_store::CaseQuery::for_actor(&actor, Utc::now())
                    } else {
                        cityops_store::CaseQuery::new(AreaCode::parse("310000")?, Utc::now())
                    };
                    let page = store.cases(&query).await?;
                    anyhow::ensure!(page.cases.len() == 50, "a full page");
                    Ok(())
                }
            })
            .await?;
            let name = if secured {
                "list 50, secured (session + scope)"
            } else {
                "list 50, unsecured"
            };
            phases.push(phase(name, n, timing));
        }
    }
    Ok(BenchReport { backend, phases })
}

/// Secured over unsecured throughput, summed over the rounds, per kind of phase.
pub fn security_overhead(report: &BenchReport) -> Vec<(String, f64)> {
    ["create", "list 50"]
        .into_iter()
        .map(|kind| {
            let rate = |secured: bool| {
                let (ops, secs) = report
                    .phases
                    .iter()
                    .filter(|p| {
                        p.name.starts_with(kind)
                            && if secured {
                                p.name.contains(", secured")
                            } else {
                                p.name.contains("unsecured")
                            }
                    })
                    .fold((0, 0.0), |(o, s), p| (o + p.operations, s + p.seconds));
                ops as f64 / secs
            };
            (kind.to_owned(), 1.0 - rate(true) / rate(false))
        })
        .collect()
}

pub(crate) fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("bench-{}", role.as_str()),
        username: role.as_str().into(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310000").expect("valid"),
    }
}

pub(crate) fn new_report(i: usize, at: DateTime<Utc>) -> Result<(Case, TimelineEvent)> {
    Ok(report(
        uuid::Uuid::now_v7().to_string(),
        NewReport {
            fields: Default::default(),
            source: Source::Inspector,
            description: format!("南京东路步行街东侧第{i}号上水井盖破损，存在安全隐患"),
            address: Some("南京东路".into()),
            location: Location::new(121.48, 31.235)?,
            location_accuracy_m: None,
            area: AreaCode::parse("310101002001")?,
            category_hint: None,
            component_id: None,
            reporter: None,
            unit_grid: None,
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: None,
            call: None,
        },
        &actor(Role::Inspector, None),
        at,
    )?)
}

/// Runs `work(i)` for i in 0..n on `concurrency` tasks; returns elapsed seconds and latencies.
pub(crate) async fn drive<F, Fut>(
    n: usize,
    concurrency: usize,
    work: F,
) -> Result<(f64, Histogram<u64>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let work = Arc::new(work);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let work = work.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut histogram = Histogram::<u64>::new(3)?;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                work(i).await?;
                histogram.record(t.elapsed().as_micros() as u64)?;
            }
            anyhow::Ok(histogram)
        }));
    }
    let mut total = Histogram::<u64>::new(3)?;
    for task in tasks {
        total.add(task.await??)?;
    }
    Ok((started.elapsed().as_secs_f64(), total))
}

fn phase(name: &'static str, operations: usize, (seconds, h): (f64, Histogram<u64>)) -> Phase {
    Phase {
        name,
        operations,
        seconds,
        p50_us: h.value_at_quantile(0.5),
        p99_us: h.value_at_quantile(0.99),
    }
}

pub async fn bench_cases(options: &BenchOptions) -> Result<BenchReport> {
    let temp = tempfile::tempdir()?;
    let mut scratch = Vec::new();
    let (store_url, raw_url, backend) = match &options.postgres {
        Some(admin) => {
            let a = ScratchDatabase::create(admin).await?;
            let b = ScratchDatabase::create(admin).await?;
            let urls = (a.url.clone(), b.url.clone(), "postgres");
            scratch.push(a);
            scratch.push(b);
            urls
        }
        None => (
            format!("sqlite://{}", temp.path().join("store.db").display()),
            format!("sqlite://{}", temp.path().join("raw.db").display()),
            "sqlite",
        ),
    };
    let result = run(options, &store_url, &raw_url, backend).await;
    for db in scratch {
        db.drop_now().await?;
    }
    result
}

async fn run(
    options: &BenchOptions,
    store_url: &str,
    raw_url: &str,
    backend: &'static str,
) -> Result<BenchReport> {
    let n = options.cases;
    let c = options.concurrency;
    let store = cityops_store::open(store_url, bench_keys()?).await?;
    let catalog = CategoryCatalog::shipped();
    let class = catalog
        .get(&CategoryCode::parse("10101")?)
        .context("10101")?;
    let filed = FiledClass::from_category(class);
    let unit = cityops_domain::Unit::new(
        "310101-ZLS".into(),
        "黄浦区自来水公司".into(),
        cityops_domain::UnitKind::WaterSupply,
        AreaCode::parse("310101")?,
    );
    store.put_units(std::slice::from_ref(&unit)).await?;

    // Phase 1: durable case creations.
    let created = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(n)));
    let (s, sink) = (store.clone(), created.clone());
    let creation = drive(n, c, move |i| {
        let (store, sink) = (s.clone(), sink.clone());
        async move {
            let (case, event) = new_report(i, Utc::now())?;
            let case = store.insert_case(case, event).await?;
            sink.lock().await.push(case);
            Ok(())
        }
    })
    .await?;
    let mut phases = vec![phase(
        "create (case + event + outbox, group commit)",
        n,
        creation,
    )];

    // Phase 2: each case through accept, file, dispatch, sign, feedback, check task, pass, close.
    let cases: Vec<Case> = std::mem::take(&mut *created.lock().await);
    let cases = Arc::new(cases);
    let (s, all) = (store.clone(), cases.clone());
    let (filed, unit) = (Arc::new(filed), Arc::new(unit));
    let lifecycle = drive(n, c, move |i| {
        let (store, all, filed, unit) = (s.clone(), all.clone(), filed.clone(), unit.clone());
        async move {
            let mut case = all[i].clone();
            for step in workflow::happy_path(case.source) {
                let command =
                    cityops::demo::happy_command(step.command, Some(&filed), Some(&unit))?;
                let handler = (step.role == Role::UnitHandler).then_some("310101-ZLS");
                let (next, event) = decide(&case, command, &actor(step.role, handler), Utc::now())?;
                store.update_case(&next, &event, None).await?;
                case = next;
            }
            Ok(())
        }
    })
    .await?;
    phases.push(phase(
        "lifecycle (8 transitions, accept .. close)",
        n,
        lifecycle,
    ));
    drop(store);

    // Reference: the same three rows per case with plain SQL, one transaction each.
    let raw = raw_reference(raw_url, n, c).await?;
    phases.push(phase(
        "raw SQL insert (case + event + outbox, 1 tx)",
        n,
        raw,
    ));
    Ok(BenchReport { backend, phases })
}

/// The rows a case creation writes, as plain INSERTs (shared by both engines' references).
macro_rules! raw_rows {
    ($tx:ident, $i:ident, $case_doc:ident, $event_doc:ident) => {
        let id = format!("raw-{}", $i);
        let now = Utc::now().timestamp_millis();
        sqlx::query(
            "INSERT INTO cases (id, number, version, state, source, category, area, district, unit, deadline,
                                urgent, supervised, description, created_at, updated_at, doc)
             VALUES ($1, $2, 1, 'reported', 'inspector', NULL, '310101002001', '310101', NULL, NULL, 0, 0, $3, $4, $4, $5)",
        )
        .bind(&id)
        .bind(format!("raw{:016}", $i))
        .bind("南京东路步行街东侧上水井盖破损，存在安全隐患")
        .bind(now)
        .bind($case_doc.as_str())
        .execute(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO case_events (case_id, seq, at, doc) VALUES ($1, 1, $2, $3)")
            .bind(&id)
            .bind(now)
            .bind($event_doc.as_str())
            .execute(&mut *$tx)
            .await?;
        sqlx::query("INSERT INTO outbox (topic, case_id, payload, created_at) VALUES ('case.report', $1, $2, $3)")
            .bind(&id)
            .bind($event_doc.as_str())
            .bind(now)
            .execute(&mut *$tx)
            .await?;
    };
}

/// A throwaway personal-data key: the bench's stores are scratch.
pub(crate) fn bench_keys() -> Result<cityops_store::PiiKeys> {
    Ok(cityops_store::PiiKeys::parse(
        &cityops_store::PiiKeys::new_key_line("bench"),
    )?)
}

async fn raw_reference(url: &str, n: usize, c: usize) -> Result<(f64, Histogram<u64>)> {
    // The store creates the schema; the writes below bypass it entirely.
    drop(cityops_store::open(url, bench_keys()?).await?);
    let (case, event) = new_report(0, Utc::now())?;
    let case_doc = Arc::new(serde_json::to_string(&case)?);
    let event_doc = Arc::new(serde_json::to_string(&event)?);
    if url.starts_with("sqlite:") {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        use std::str::FromStr;
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        drive(n, c, move |i| {
            let (pool, case_doc, event_doc) = (pool.clone(), case_doc.clone(), event_doc.clone());
            async move {
                let mut tx = pool.begin().await?;
                raw_rows!(tx, i, case_doc, event_doc);
                tx.commit().await?;
                Ok(())
            }
        })
        .await
    } else {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await?;
        drive(n, c, move |i| {
            let (pool, case_doc, event_doc) = (pool.clone(), case_doc.clone(), event_doc.clone());
            async move {
                let mut tx = pool.begin().await?;
                raw_rows!(tx, i, case_doc, event_doc);
                tx.commit().await?;
                Ok(())
            }
        })
        .await
    }
}
