//! `cityops bench cases`: case throughput through the store against plain SQL inserts of
//! equivalent rows on the same database engine, measured in the same run.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use cityops_domain::{
    decide, report, Actor, AreaCode, Case, CaseCommand, CategoryCatalog, CategoryCode, FiledClass,
    Location, NewReport, Role, Source, TimelineEvent,
};
use cityops_store::scratch::ScratchDatabase;
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

/// `cityops bench security`: what authorization and the audit log cost on the hot paths.
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

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: format!("bench-{}", role.as_str()),
        username: role.as_str().into(),
        role,
        unit: unit.map(str::to_owned),
        scope: AreaCode::parse("310000").expect("valid"),
    }
}

fn new_report(i: usize, at: DateTime<Utc>) -> Result<(Case, TimelineEvent)> {
    Ok(report(
        uuid::Uuid::now_v7().to_string(),
        NewReport {
            source: Source::Inspector,
            description: format!("南京东路步行街东侧第{i}号上水井盖破损，存在安全隐患"),
            address: Some("南京东路".into()),
            location: Location::new(121.48, 31.235)?,
            area: AreaCode::parse("310101002001")?,
            category_hint: None,
            component_id: None,
            reporter: None,
            unit_grid: None,
        },
        &actor(Role::Inspector, None),
        at,
    )?)
}

/// Runs `work(i)` for i in 0..n on `concurrency` tasks; returns elapsed seconds and latencies.
async fn drive<F, Fut>(n: usize, concurrency: usize, work: F) -> Result<(f64, Histogram<u64>)>
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
    let filed = FiledClass {
        code: class.code.clone(),
        zh: class.zh.clone(),
        urgency: class.urgency,
        terms: class.terms,
    };
    let unit = cityops_domain::Unit {
        code: "310101-ZLS".into(),
        name: "黄浦区自来水公司".into(),
        kind: cityops_domain::UnitKind::WaterSupply,
        jurisdiction: AreaCode::parse("310101")?,
    };
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
    let lifecycle = drive(n, c, move |i| {
        let (store, all, filed) = (s.clone(), all.clone(), filed.clone());
        async move {
            let mut case = all[i].clone();
            let steps = [
                (
                    CaseCommand::Accept { opinion: None },
                    actor(Role::Operator, None),
                ),
                (
                    CaseCommand::File {
                        class: filed,
                        opinion: None,
                    },
                    actor(Role::ShiftLead, None),
                ),
                (
                    CaseCommand::Dispatch {
                        unit: "310101-ZLS".into(),
                        unit_jurisdiction: AreaCode::parse("310101")?,
                        opinion: None,
                    },
                    actor(Role::Dispatcher, None),
                ),
                (
                    CaseCommand::Sign,
                    actor(Role::UnitHandler, Some("310101-ZLS")),
                ),
                (
                    CaseCommand::Feedback {
                        opinion: "已更换".into(),
                        attachments: vec![],
                    },
                    actor(Role::UnitHandler, Some("310101-ZLS")),
                ),
                (
                    CaseCommand::SendCheck { opinion: None },
                    actor(Role::Operator, None),
                ),
                (
                    CaseCommand::Check {
                        passed: true,
                        opinion: None,
                    },
                    actor(Role::Inspector, None),
                ),
                (
                    CaseCommand::Close { opinion: None },
                    actor(Role::ShiftLead, None),
                ),
            ];
            for (command, who) in steps {
                let (next, event) = decide(&case, command, &who, Utc::now())?;
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
fn bench_keys() -> Result<cityops_store::PiiKeys> {
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

/// Where the files for the reference go: a temporary directory, or one kept for inspection
/// (`CITYOPS_BENCH_KEEP=DIR`).
enum Kept {
    Temp(tempfile::TempDir),
    Dir(std::path::PathBuf),
}

impl Kept {
    fn path(&self) -> &std::path::Path {
        match self {
            Kept::Temp(dir) => dir.path(),
            Kept::Dir(dir) => dir,
        }
    }
}

/// Figures of `cityops bench geo`.
pub struct GeoReport {
    pub lines: Vec<String>,
    /// Points where shapely's answer differs from ours; `None` when shapely did not run.
    pub disagreements: Option<usize>,
    /// Points that fell inside a grid.
    pub inside: usize,
    /// The points and our answers, for further references (PostGIS).
    pub points: Vec<(f64, f64)>,
    pub answers: Vec<Option<usize>>,
    /// Our one-point-at-a-time rate.
    pub single_rate: f64,
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// PostGIS `ST_Contains` with a GiST index on the same grids and points: one query per point
/// (`single` of them) and one query for all points. Returns lines and disagreements.
pub async fn bench_postgis(
    admin_url: &str,
    xy: &[(f64, f64)],
    ours: &[Option<usize>],
    single: usize,
) -> Result<Vec<String>> {
    let geography = crate::reference::shanghai_geography()?;
    let db = ScratchDatabase::create(admin_url).await?;
    let result = async {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&db.url).await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis").execute(&pool).await?;
        sqlx::query("CREATE TABLE grids (id INT PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)").execute(&pool).await?;
        for (chunk_no, chunk) in geography.grids.chunks(2000).enumerate() {
            let ids: Vec<i32> = (0..chunk.len()).map(|i| (chunk_no * 2000 + i) as i32).collect();
            let shapes: Vec<String> = chunk.iter().map(|g| cityops_geo::shape_json(&g.shape).to_string()).collect();
            sqlx::query(
                "INSERT INTO grids (id, geom) SELECT id, ST_SetSRID(ST_GeomFromGeoJSON(shape), 4326)
                 FROM unnest($1::int[], $2::text[]) AS t(id, shape)",
            )
            .bind(&ids)
            .bind(&shapes)
            .execute(&pool)
            .await?;
        }
        sqlx::query("CREATE INDEX grids_geom ON grids USING GIST (geom)").execute(&pool).await?;
        sqlx::query("ANALYZE grids").execute(&pool).await?;

        let started = Instant::now();
        for &(lon, lat) in xy.iter().take(single) {
            let _: Option<i32> = sqlx::query_scalar(
                "SELECT id FROM grids WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id LIMIT 1",
            )
            .bind(lon)
            .bind(lat)
            .fetch_optional(&pool)
            .await?;
        }
        let one = single as f64 / started.elapsed().as_secs_f64();

        let (xs, ys): (Vec<f64>, Vec<f64>) = xy.iter().copied().unzip();
        let started = Instant::now();
        let rows: Vec<(i64, i32)> = sqlx::query_as(
            "SELECT p.i, min(g.id) FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS p(x, y, i)
             JOIN grids g ON ST_Contains(g.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326)) GROUP BY p.i",
        )
        .bind(&xs)
        .bind(&ys)
        .fetch_all(&pool)
        .await?;
        let batch = xy.len() as f64 / started.elapsed().as_secs_f64();
        let mut theirs = vec![None; xy.len()];
        for (i, id) in rows {
            theirs[(i - 1) as usize] = Some(id as usize);
        }
        let disagreements = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
        let version: String = sqlx::query_scalar("SELECT postgis_lib_version()").fetch_one(&pool).await?;
        pool.close().await;
        anyhow::Ok(vec![
            format!("PostGIS {version} ST_Contains + GiST, one query per point: {one:.0} lookups/s ({single} points); one query for all points: {batch:.0} lookups/s"),
            format!("answers compared with PostGIS point by point: {disagreements} disagreements in {}", xy.len()),
        ])
    }
    .await;
    db.drop_now().await?;
    result
}

/// Point location on the generated Shanghai: our R-tree against shapely 2's STRtree on the
/// same polygons and points, in the same run; answers compared point by point.
pub fn bench_geo(points: usize, shapely_single: usize) -> Result<GeoReport> {
    use rand::{Rng, SeedableRng};
    let mut lines = Vec::new();
    let before = resident_bytes();
    let started = Instant::now();
    let geography = crate::reference::shanghai_geography()?;
    let generated = started.elapsed().as_secs_f64();
    let after = resident_bytes();
    lines.push(format!(
        "generated {} streets, {} communities, {} unit grids in {generated:.2} s; resident memory +{:.0} MiB",
        geography.streets.len(),
        geography.communities.len(),
        geography.grids.len(),
        after.zip(before).map_or(0.0, |(a, b)| (a.saturating_sub(b)) as f64 / 1_048_576.0)
    ));
    let (min, max) = geography.grids.iter().fold(
        ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN)),
        |(min, max), g| {
            (
                (min.0.min(g.bbox.min().x), min.1.min(g.bbox.min().y)),
                (max.0.max(g.bbox.max().x), max.1.max(g.bbox.max().y)),
            )
        },
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let xy: Vec<(f64, f64)> = (0..points)
        .map(|_| (rng.gen_range(min.0..max.0), rng.gen_range(min.1..max.1)))
        .collect();

    // The best of three passes: the first also pays for faulting the index into memory.
    let mut ours: Vec<Option<usize>> = Vec::new();
    let mut single = 0.0f64;
    for _ in 0..3 {
        let started = Instant::now();
        ours = xy
            .iter()
            .map(|&(lon, lat)| geography.locate_index(lon, lat))
            .collect();
        single = single.max(points as f64 / started.elapsed().as_secs_f64());
    }
    let inside = ours.iter().filter(|o| o.is_some()).count();
    lines.push(format!(
        "cityops index (lattice + R-tree), one core, one point at a time: {single:.0} lookups/s ({points} points in the city's bounding box, {inside} inside a grid)"
    ));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for chunk in xy.chunks(points.div_ceil(threads)) {
            let geography = &geography;
            scope.spawn(move || {
                chunk
                    .iter()
                    .filter(|&&(lon, lat)| geography.locate_index(lon, lat).is_some())
                    .count()
            });
        }
    });
    let parallel = points as f64 / started.elapsed().as_secs_f64();
    lines.push(format!(
        "cityops index, {threads} threads: {parallel:.0} lookups/s ({:.0} per core)",
        parallel / threads as f64
    ));

    // The reference: shapely on the same polygons and points.
    let dir = tempfile::tempdir()?;
    let dir = match std::env::var_os("CITYOPS_BENCH_KEEP") {
        Some(keep) => {
            std::fs::create_dir_all(&keep)?;
            let kept = std::path::PathBuf::from(keep);
            drop(dir);
            Kept::Dir(kept)
        }
        None => Kept::Temp(dir),
    };
    let grids_path = dir.path().join("grids.geojsonl");
    let mut text = String::new();
    for grid in &geography.grids {
        text.push_str(&cityops_geo::shape_json(&grid.shape).to_string());
        text.push('\n');
    }
    std::fs::write(&grids_path, text)?;
    let points_path = dir.path().join("points.f64");
    let bytes: Vec<u8> = xy
        .iter()
        .flat_map(|(lon, lat)| lon.to_le_bytes().into_iter().chain(lat.to_le_bytes()))
        .collect();
    std::fs::write(&points_path, bytes)?;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_geo_shapely.py");
    let mut compared = None;
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&grids_path)
        .arg(&points_path)
        .arg(shapely_single.to_string())
        .output();
    match output {
        Ok(output) if output.status.success() => {
            let reference: serde_json::Value = serde_json::from_slice(&output.stdout)?;
            let theirs: Vec<i64> = serde_json::from_value(reference["found"].clone())?;
            let disagreements = ours
                .iter()
                .zip(&theirs)
                .filter(|(o, t)| o.map_or(-1, |i| i as i64) != **t)
                .count();
            let batch = reference["batch_per_s"].as_f64().unwrap_or(0.0);
            let one = reference["single_per_s"].as_f64().unwrap_or(0.0);
            lines.push(format!(
                "shapely {} STRtree (predicate within), batched: {batch:.0} lookups/s; one at a time: {one:.0} lookups/s ({shapely_single} points)",
                reference["shapely"].as_str().unwrap_or("?")
            ));
            lines.push(format!(
                "ratio cityops one-at-a-time / shapely one-at-a-time: {:.1}x; / shapely batched: {:.1}x",
                single / one,
                single / batch
            ));
            lines.push(format!(
                "answers compared point by point: {disagreements} disagreements in {points}"
            ));
            compared = Some(disagreements);
        }
        Ok(output) => lines.push(format!(
            "shapely reference failed (pip install shapely): {}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Err(error) => lines.push(format!("shapely reference not run: python3: {error}")),
    }
    Ok(GeoReport {
        lines,
        disagreements: compared,
        inside,
        points: xy,
        answers: ours,
        single_rate: single,
    })
}

/// The nearest-component index over a generated census of `components` (Shanghai counted
/// 12.02 million): build time, memory, and nearest queries of one class, one at a time on
/// one core, with the share of answers a brute-force scan confirms.
pub fn bench_census(components: usize, queries: usize) -> Result<Vec<String>> {
    use cityops_geo::census::{generate_census, ComponentIndex, CENSUS_MIX};
    use rand::{Rng, SeedableRng};
    let mut lines = Vec::new();
    let geography = crate::reference::shanghai_geography()?;
    let before = resident_bytes();
    let started = Instant::now();
    let points = generate_census(&geography, crate::census::CENSUS_SEED, components);
    let generated = started.elapsed().as_secs_f64();
    let classes: Vec<String> = CENSUS_MIX.iter().map(|c| c.code.to_owned()).collect();
    let started = Instant::now();
    let index = ComponentIndex::build(&classes, points.clone());
    let built = started.elapsed().as_secs_f64();
    let after = resident_bytes();
    lines.push(format!(
        "generated {} components in {generated:.1} s; index built in {built:.1} s; resident memory of the process {:.0} MiB (+{:.0} MiB for points and index)",
        index.len(),
        after.unwrap_or(0) as f64 / 1_048_576.0,
        after.zip(before).map_or(0.0, |(a, b)| a.saturating_sub(b) as f64 / 1_048_576.0),
    ));
    // Queries near where reports come from: jittered around random components, so most have
    // a neighbour within the radius, as a report about a cover does.
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let asks: Vec<(f64, f64, &str)> = (0..queries)
        .map(|_| {
            let p = &points[rng.gen_range(0..points.len())];
            (
                p.lon + rng.gen_range(-0.0003..0.0003),
                p.lat + rng.gen_range(-0.0003..0.0003),
                CENSUS_MIX[rng.gen_range(0..CENSUS_MIX.len())].code,
            )
        })
        .collect();
    for (k, radius) in [(1usize, 30.0), (5, 100.0)] {
        let started = Instant::now();
        let mut found = 0usize;
        for &(lon, lat, class) in &asks {
            found += index.nearest(lon, lat, class, radius, k).len();
        }
        let seconds = started.elapsed().as_secs_f64();
        lines.push(format!(
            "nearest k={k} of a class within {radius} m, one core: {:.2} µs per query ({:.0} queries/s; {:.2} found per query)",
            seconds * 1e6 / queries as f64,
            queries as f64 / seconds,
            found as f64 / queries as f64
        ));
    }
    let started = Instant::now();
    for &(lon, lat, _) in asks.iter().take(queries / 10) {
        std::hint::black_box(index.nearest(lon, lat, "", 50.0, 5));
    }
    let seconds = started.elapsed().as_secs_f64();
    lines.push(format!(
        "nearest k=5 of any class within 50 m ({} class trees), one core: {:.2} µs per query",
        classes.len(),
        seconds * 1e6 / (queries / 10).max(1) as f64
    ));
    // The reference: a brute-force scan of the same class, on a few queries.
    let checks = 50.min(queries);
    let started = Instant::now();
    let mut agree = 0;
    for &(lon, lat, class) in asks.iter().take(checks) {
        let c = classes.iter().position(|x| x == class).unwrap_or(0) as u16;
        let cos = lat.to_radians().cos();
        let best = points
            .iter()
            .filter(|p| p.class == c)
            .map(|p| {
                let dx = (p.lon - lon) * 111_320.0 * cos;
                let dy = (p.lat - lat) * 110_574.0;
                (dx * dx + dy * dy, p.id)
            })
            .filter(|(d2, _)| *d2 <= 30.0 * 30.0)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let ours = index.nearest(lon, lat, class, 30.0, 1);
        if best.map(|b| b.1) == ours.first().map(|n| n.id) {
            agree += 1;
        }
    }
    let scan = started.elapsed().as_secs_f64() / checks.max(1) as f64;
    lines.push(format!(
        "reference, a brute-force scan of the class: {:.0} µs per query; {agree} of {checks} answers identical",
        scan * 1e6
    ));
    Ok(lines)
}
