//! `cityops-bench screen`: the city screen's numbers (`GET /stats`: open, overdue, supervised,
//! urgent, reported and closed today, per child area, today's intake by source and class, the
//! top open classes) over ten million cases, read as the server reads them (the kept counts of
//! open cases, the index of running deadlines, today's cases), against the same numbers by
//! plain SQL `GROUP BY` over the case table, on the same database, in the same run.
//!
//! The cases are written straight into the product's case table (ten million cases through
//! the workflow would take the machine a day): a year of reports at one moment, each closed,
//! cancelled or found invalid after a drawn time, or still open at that moment in the state
//! its age gives, with its running deadline, urgency and supervision. The kept counts are then
//! built by the product's own rebuild (`cityops screen rebuild`), and the two ways are
//! compared number by number before anything is timed.

use anyhow::{ensure, Context, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::case::{start_of_local_day, CaseState, Source};
use cityops_domain::stats::{summarise, Statistics, Totals};
use cityops_domain::{Actor, Area, AreaCode, AreaLevel, CategoryCatalog, Role};
use cityops_store::Store;
use cityops_test_support::scratch::ScratchDatabase;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

use crate::cases::bench_keys;
use crate::evaluation::{percentiles, Pool};

pub struct ScreenOptions {
    pub postgres: Option<String>,
    pub cases: usize,
    /// Timed runs of the product per screen (the reference runs a tenth as often, at least 3).
    pub runs: usize,
}

/// The lines of work a district's cases go to.
const UNIT_KINDS: [&str; 6] = ["ZLS", "GD", "PS", "LH", "SZ", "CGZF"];

/// How the sources share the intake, in shares of a thousand.
const SOURCES: [(Source, u32); 6] = [
    (Source::Inspector, 420),
    (Source::Hotline, 380),
    (Source::Photo, 90),
    (Source::Iot, 60),
    (Source::Department, 40),
    (Source::Leader, 10),
];

/// The screens timed: who looks, at which area.
struct Look {
    name: &'static str,
    area: Area,
    children: Vec<Area>,
    viewer: Actor,
}

fn area(code: &str) -> Result<Area> {
    let code = AreaCode::parse(code)?;
    Ok(Area {
        level: code.level(),
        name: String::new(),
        parent: None,
        code,
    })
}

fn viewer(role: Role, unit: Option<&str>, scope: &AreaCode) -> Actor {
    Actor {
        user_id: "bench".into(),
        username: "bench".into(),
        role,
        unit: unit.map(str::to_owned),
        scope: scope.clone(),
    }
}

pub async fn bench_screen(options: &ScreenOptions) -> Result<Vec<String>> {
    let temp = tempfile::tempdir()?;
    let scratch = match &options.postgres {
        Some(admin) => Some(ScratchDatabase::create(admin).await?),
        None => None,
    };
    let url = match &scratch {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", temp.path().join("store.db").display()),
    };
    let result = run(options, &url).await;
    if let Some(db) = scratch {
        db.drop_now().await?;
    }
    result
}

/// One generated case's row, as the store writes it (the columns the screen reads, and the
/// rest filled as a case's would be).
#[allow(clippy::too_many_arguments)]
fn row_sql(
    id: usize,
    community: &str,
    state: CaseState,
    source: Source,
    category: &str,
    unit: Option<&str>,
    deadline: Option<i64>,
    urgent: bool,
    supervised: bool,
    created: i64,
    closed: Option<i64>,
) -> String {
    let text = |v: Option<&str>| v.map_or("NULL".to_owned(), |v| format!("'{v}'"));
    let int = |v: Option<i64>| v.map_or("NULL".to_owned(), |v| v.to_string());
    format!(
        "('b{id:010}', 'N{id:012}', 1, '{}', '{}', '{category}', '{community}', '{}', {}, {}, {}, {}, '', {created}, {created}, '{{}}', {})",
        state.as_str(),
        source.as_str(),
        &community[..6],
        text(unit),
        int(deadline),
        i64::from(urgent),
        i64::from(supervised),
        int(closed),
    )
}

async fn run(options: &ScreenOptions, url: &str) -> Result<Vec<String>> {
    let store = cityops_store::open(url, bench_keys()?).await?;
    let pool = Pool::open(url).await?;
    // On SQLite the case table's secondary indexes are dropped while loading and made again
    // from their own definitions afterwards (a sorted build instead of ten million random
    // inserts into each): the table timed has exactly the product's indexes.
    let mut indexes: Vec<String> = Vec::new();
    if url.starts_with("sqlite:") {
        pool.execute("PRAGMA cache_size = -2000000").await?;
        pool.execute("PRAGMA synchronous = NORMAL").await?;
        for (name, sql) in pool
            .texts(
                "SELECT name, sql FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = 'cases' AND sql IS NOT NULL",
            )
            .await?
        {
            pool.execute(&format!("DROP INDEX {name}")).await?;
            indexes.push(sql);
        }
    }
    let geography = cityops::reference::shanghai_geography()?;
    let communities: Vec<String> = geography
        .communities
        .iter()
        .map(|c| c.code.clone())
        .collect();
    ensure!(
        !communities.is_empty(),
        "the generated city has no communities"
    );
    // Classes drawn with a skew, as a city's problems come: a few classes make most cases.
    let classes: Vec<String> = CategoryCatalog::shipped()
        .small
        .iter()
        .map(|c| c.code.to_string())
        .collect();
    let now = Utc
        .with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .context("a time")?; // 10:00 in Shanghai
    let today = start_of_local_day(now);
    let year_ms = Duration::days(365).num_milliseconds();
    let millis = |t: DateTime<Utc>| t.timestamp_millis();

    let started = Instant::now();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9_001);
    let open_states = [
        CaseState::Reported,
        CaseState::Accepted,
        CaseState::Filed,
        CaseState::Dispatched,
        CaseState::Handling,
        CaseState::Handled,
        CaseState::Checking,
    ];
    let mut open_made = 0usize;
    let mut rows = Vec::with_capacity(500);
    for id in 0..options.cases {
        let community = &communities[rng.gen_range(0..communities.len())];
        let created = now - Duration::milliseconds(rng.gen_range(0..year_ms));
        let source = {
            let mut pick = rng.gen_range(0..1000);
            SOURCES
                .iter()
                .find(|(_, share)| {
                    let hit = pick < *share;
                    pick = pick.saturating_sub(*share);
                    hit
                })
                .map_or(Source::Inspector, |(s, _)| *s)
        };
        let skewed = (rng.gen::<f64>().powi(3) * classes.len() as f64) as usize;
        let category = &classes[skewed.min(classes.len() - 1)];
        let unit = format!(
            "{}-{}",
            &community[..6],
            UNIT_KINDS[rng.gen_range(0..UNIT_KINDS.len())]
        );
        let urgent = rng.gen_bool(0.03);
        let supervised = rng.gen_bool(0.01);
        // Most cases finish within days; one in two hundred stays open for months.
        let takes = if rng.gen_bool(0.005) {
            Duration::days(rng.gen_range(30..400))
        } else {
            Duration::minutes(rng.gen_range(30..60 * 24 * 6))
        };
        let (state, unit, deadline, closed) = if created + takes <= now {
            let end = created + takes;
            let state = match rng.gen_range(0..100) {
                0..=3 => CaseState::Invalid,
                4..=5 => CaseState::Cancelled,
                _ => CaseState::Closed,
            };
            let unit = (state == CaseState::Closed).then_some(unit);
            (state, unit, None, Some(millis(end)))
        } else {
            open_made += 1;
            let age = now - created;
            let step = (age.num_minutes() * open_states.len() as i64 / takes.num_minutes().max(1))
                .clamp(0, open_states.len() as i64 - 1) as usize;
            let state = if rng.gen_bool(0.03) {
                CaseState::Suspended
            } else {
                open_states[step]
            };
            let unit = matches!(
                state,
                CaseState::Dispatched
                    | CaseState::Handling
                    | CaseState::Handled
                    | CaseState::Checking
                    | CaseState::Suspended
            )
            .then_some(unit);
            // The running stage's deadline: most ahead, some already past.
            let deadline = (state != CaseState::Suspended)
                .then(|| millis(now + Duration::minutes(rng.gen_range(-600..2_880))));
            (state, unit, deadline, None)
        };
        rows.push(row_sql(
            id,
            community,
            state,
            source,
            category,
            unit.as_deref(),
            deadline,
            urgent,
            supervised,
            millis(created),
            closed,
        ));
        if rows.len() == 500 || id + 1 == options.cases {
            pool.execute(&format!(
                "INSERT INTO cases (id, number, version, state, source, category, area, district, unit, \
                 deadline, urgent, supervised, description, created_at, updated_at, doc, closed_at) VALUES {}",
                rows.join(", ")
            ))
            .await?;
            rows.clear();
        }
    }
    for sql in &indexes {
        pool.execute(sql).await?;
    }
    pool.execute("ANALYZE").await?;
    let generated = started.elapsed();
    let rebuilding = Instant::now();
    let counts = cityops::screen::rebuild(store.as_ref()).await?;
    let rebuilt = rebuilding.elapsed();
    ensure!(
        cityops::screen::check(store.as_ref()).await?.is_empty(),
        "the rebuilt counts differ from the case table"
    );

    let city = area("310000")?;
    let huangpu = area("310101")?;
    let street_code = communities
        .iter()
        .find(|c| c.starts_with("310101"))
        .context("a Huangpu community")?[..9]
        .to_owned();
    let street = area(&street_code)?;
    let children_of = |parent: &Area, length: usize| -> Result<Vec<Area>> {
        let mut codes: Vec<&str> = communities
            .iter()
            .filter(|c| c.starts_with(parent.code.subtree_prefix()))
            .map(|c| &c[..length])
            .collect();
        codes.sort_unstable();
        codes.dedup();
        codes.into_iter().map(area).collect()
    };
    let looks = [
        Look {
            name: "city (16 districts), city operator",
            children: children_of(&city, 6)?,
            viewer: viewer(Role::Operator, None, &city.code),
            area: city.clone(),
        },
        Look {
            name: "district 310101 (its streets), district operator",
            children: children_of(&huangpu, 9)?,
            viewer: viewer(Role::Operator, None, &huangpu.code),
            area: huangpu.clone(),
        },
        Look {
            name: "street (its communities), street operator",
            children: children_of(&street, 12)?,
            viewer: viewer(Role::Operator, None, &street.code),
            area: street.clone(),
        },
        Look {
            name: "district 310101, its water unit's handler",
            children: children_of(&huangpu, 9)?,
            viewer: viewer(Role::UnitHandler, Some("310101-ZLS"), &huangpu.code),
            area: huangpu.clone(),
        },
    ];
    let backend = if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let mut lines = vec![format!(
        "{backend}: {} cases ({open_made} open) generated and written in {:.0} s; the kept counts rebuilt from them in {:.1} s ({counts} counts)",
        options.cases,
        generated.as_secs_f64(),
        rebuilt.as_secs_f64(),
    )];
    for look in &looks {
        let product = product_screen(store.as_ref(), look, now, today).await?;
        let reference = reference_screen(&pool, look, now, today).await?;
        ensure!(
            product == reference,
            "the screen of {} differs:\n kept: {product:?}\n SQL: {reference:?}",
            look.name
        );
        let mut ours = Vec::with_capacity(options.runs);
        for _ in 0..options.runs {
            let t = Instant::now();
            product_screen(store.as_ref(), look, now, today).await?;
            ours.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mut theirs = Vec::new();
        for _ in 0..(options.runs / 10).max(3) {
            let t = Instant::now();
            reference_screen(&pool, look, now, today).await?;
            theirs.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (om, op) = percentiles(&mut ours);
        let (rm, rp) = percentiles(&mut theirs);
        lines.push(format!(
            "{backend} {} ({} open, {} overdue, {} reported today): kept counts median {om:.1} ms, p99 {op:.1} ms ({} runs); \
             GROUP BY over the case table median {rm:.0} ms, p99 {rp:.0} ms ({} runs); ratio {:.0}x",
            look.name,
            product.totals.open,
            product.totals.overdue,
            product.totals.reported_today,
            ours.len(),
            theirs.len(),
            rm / om
        ));
    }
    Ok(lines)
}

/// The screen as the server computes it.
async fn product_screen(
    store: &dyn Store,
    look: &Look,
    now: DateTime<Utc>,
    today: DateTime<Utc>,
) -> Result<Statistics> {
    let facts = store.screen_facts(&look.area.code, now, today).await?;
    Ok(summarise(&look.area, &look.children, &facts, &look.viewer))
}

/// The same screen by plain SQL over the case table: one `GROUP BY` per child area for the
/// totals, and one per list.
async fn reference_screen(
    pool: &Pool,
    look: &Look,
    now: DateTime<Utc>,
    today: DateTime<Utc>,
) -> Result<Statistics> {
    let (now, today) = (now.timestamp_millis(), today.timestamp_millis());
    let open = "state NOT IN ('invalid', 'closed', 'cancelled')";
    let mut scope = format!("area LIKE '{}%'", look.area.code.subtree_prefix());
    if let Some(unit) = &look.viewer.unit {
        scope.push_str(&format!(" AND unit = '{unit}'"));
    }
    let length = match look.area.level {
        AreaLevel::City => 6,
        AreaLevel::District => 9,
        _ => 12,
    };
    let sum =
        |condition: &str| format!("CAST(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS BIGINT)");
    let totals_sql = format!(
        "SELECT substr(area, 1, {length}) AS k, {}, {}, {}, {}, {}, {} FROM cases WHERE {scope} GROUP BY substr(area, 1, {length})",
        sum(open),
        sum(&format!("deadline IS NOT NULL AND deadline < {now}")),
        sum(&format!("{open} AND supervised = 1")),
        sum(&format!("{open} AND urgent = 1")),
        sum(&format!("created_at >= {today}")),
        sum(&format!("state = 'closed' AND closed_at >= {today}")),
    );
    let mut totals = Totals::default();
    let mut per_child: BTreeMap<String, Totals> = BTreeMap::new();
    for (child, n) in pool.sums(&totals_sql, 6).await? {
        let n: Vec<u32> = n.into_iter().map(|v| v as u32).collect();
        let child_totals = Totals {
            open: n[0],
            overdue: n[1],
            supervised: n[2],
            urgent: n[3],
            reported_today: n[4],
            closed_today: n[5],
        };
        totals.open += n[0];
        totals.overdue += n[1];
        totals.supervised += n[2];
        totals.urgent += n[3];
        totals.reported_today += n[4];
        totals.closed_today += n[5];
        per_child.insert(child, child_totals);
    }
    let top = |condition: String| {
        format!(
            "SELECT category AS k, COUNT(*) AS n FROM cases WHERE {scope} AND {condition} AND category IS NOT NULL \
             GROUP BY category ORDER BY n DESC, category LIMIT 10"
        )
    };
    let listed = |rows: Vec<(String, Vec<i64>)>| -> Vec<(String, u32)> {
        rows.into_iter().map(|(k, n)| (k, n[0] as u32)).collect()
    };
    let mut today_by_source: Vec<(Source, u32)> = pool
        .sums(
            &format!("SELECT source AS k, COUNT(*) AS n FROM cases WHERE {scope} AND created_at >= {today} GROUP BY source"),
            1,
        )
        .await?
        .into_iter()
        .filter_map(|(source, n)| Some((Source::parse(&source)?, n[0] as u32)))
        .collect();
    today_by_source.sort_by_key(|(source, _)| source.as_str());
    Ok(Statistics {
        totals,
        by_child: look
            .children
            .iter()
            .map(|child| {
                (
                    child.code.clone(),
                    per_child
                        .get(child.code.as_str())
                        .copied()
                        .unwrap_or_default(),
                )
            })
            .collect(),
        today_by_source,
        today_by_category: listed(pool.sums(&top(format!("created_at >= {today}")), 1).await?),
        top_categories: listed(pool.sums(&top(open.to_owned()), 1).await?),
    })
}
