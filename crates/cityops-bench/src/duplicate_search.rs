//! The search for likely duplicates among a city's open cases: a million open cases of the
//! last two weeks, placed in Shanghai's unit grids (a central district's small grids hold as
//! many cases as an outer district's large ones, so the centre is dense), each with a report
//! text from the labelled set; reports arrive near one of them. Timed as the server answers
//! `GET /duplicate-candidates` from its index of open cases (`crate::open_cases`: the point
//! index, then the likeness of the cases within 300 m), against the straightforward
//! reference: the likeness of every open case, a full scan. Both must give the same answer.

use std::time::Instant;

use anyhow::{ensure, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use cityops_domain::classify::{ClassModel, LabelledText};
use cityops_domain::duplicates::{likeliest, OpenCase, Probe, Reading, RADIUS_M};
use cityops_domain::{AreaCode, CategoryCode, Location};
use cityops_geo::nearby::PointIndex;
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub struct SearchOptions {
    pub open: usize,
    pub queries: usize,
    /// Queries the full scan answers (each reads every open case).
    pub reference_queries: usize,
}

/// The likely duplicates the server shows at most.
const SHOWN: usize = 5;
/// The same latitude the server's index is true at.
const LATITUDE: f64 = 31.2;

struct Report {
    location: Location,
    text: String,
    class: Option<CategoryCode>,
}

/// A point in a random unit grid's bounding box that lies in the grid.
fn point_in_city(geography: &cityops_geo::Geography, rng: &mut StdRng) -> (Location, String) {
    loop {
        let grid = &geography.grids[rng.gen_range(0..geography.grids.len())];
        let (min, max) = (grid.bbox.min(), grid.bbox.max());
        let lon = rng.gen_range(min.x..max.x);
        let lat = rng.gen_range(min.y..max.y);
        if grid.is_box
            || geography
                .locate(lon, lat)
                .is_some_and(|g| g.code == grid.code)
        {
            return (Location { lon, lat }, grid.community.clone());
        }
    }
}

/// A labelled text, with its class given as often as operators and inspectors give one.
fn report_text(texts: &[LabelledText], rng: &mut StdRng) -> (String, Option<CategoryCode>) {
    let labelled = &texts[rng.gen_range(0..texts.len())];
    let class = rng.gen_bool(0.7).then(|| labelled.class.clone());
    (labelled.text.clone(), class)
}

fn open_cases(
    geography: &cityops_geo::Geography,
    texts: &[LabelledText],
    model: &ClassModel,
    count: usize,
    now: DateTime<Utc>,
    rng: &mut StdRng,
) -> Result<Vec<OpenCase>> {
    let mut cases = Vec::with_capacity(count);
    for n in 0..count {
        let (location, community) = point_in_city(geography, rng);
        let (text, class) = report_text(texts, rng);
        let reading = Reading::of(&text, class.as_ref(), Some(model));
        cases.push(OpenCase {
            id: format!("case-{n}"),
            number: format!("{}20261201{n:07}", &community[..6]),
            area: AreaCode::parse(&community)?,
            unit: None,
            location,
            created_at: now - Duration::seconds(rng.gen_range(0..14 * 24 * 3600)),
            class,
            reading,
        });
    }
    Ok(cases)
}

/// A report near an open case (within 150 m), of a labelled text: about as often the same
/// problem reported again as another problem nearby.
fn report_near(cases: &[OpenCase], texts: &[LabelledText], rng: &mut StdRng) -> Report {
    let near = &cases[rng.gen_range(0..cases.len())];
    let metres = rng.gen_range(0.0..150.0f64);
    let angle = rng.gen_range(0.0..std::f64::consts::TAU);
    let location = Location {
        lon: near.location.lon + metres * angle.cos() / (111_319.49 * LATITUDE.to_radians().cos()),
        lat: near.location.lat + metres * angle.sin() / 111_319.49,
    };
    let (text, class) = report_text(texts, rng);
    Report {
        location,
        text,
        class,
    }
}

/// Milliseconds at quantile `q` of a histogram of nanoseconds.
fn percentile(histogram: &Histogram<u64>, q: f64) -> f64 {
    histogram.value_at_quantile(q) as f64 / 1e6
}

pub fn bench_search(options: &SearchOptions) -> Result<Vec<String>> {
    ensure!(
        options.open > 0 && options.queries > 0,
        "--open and --queries are at least 1"
    );
    let mut lines = Vec::new();
    let geography = cityops::reference::shanghai_geography()?;
    let texts = cityops::reference::labelled_reports()?;
    let model = cityops::reference::class_seed()?.model.clone();
    let now = Utc
        .with_ymd_and_hms(2026, 12, 7, 2, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("time"))?;
    let mut rng = StdRng::seed_from_u64(20_261_207);

    let started = Instant::now();
    let cases = open_cases(&geography, &texts, &model, options.open, now, &mut rng)?;
    lines.push(format!(
        "{} open cases generated and read in {:.1} s ({} unit grids)",
        cases.len(),
        started.elapsed().as_secs_f64(),
        geography.grids.len()
    ));
    let started = Instant::now();
    let index = PointIndex::bulk(
        LATITUDE,
        cases
            .iter()
            .map(|case| (case.id.clone(), case.location.lon, case.location.lat, case)),
    );
    lines.push(format!(
        "point index built in {:.2} s",
        started.elapsed().as_secs_f64()
    ));

    let reports: Vec<Report> = (0..options.queries)
        .map(|_| report_near(&cases, &texts, &mut rng))
        .collect();
    let search = |report: &Report, scan: bool| -> Vec<(String, f64)> {
        let probe = Probe {
            text: &report.text,
            location: Some(report.location),
            category: report.class.as_ref(),
            at: now,
        };
        // The server reads the report once per request, as here.
        let reading = Reading::of(&report.text, report.class.as_ref(), Some(&model));
        let found = if scan {
            likeliest(&probe, &reading, cases.iter(), SHOWN)
        } else {
            let near = index
                .within(report.location.lon, report.location.lat, RADIUS_M * 1.01)
                .map(|(_, case, _)| *case);
            likeliest(&probe, &reading, near, SHOWN)
        };
        found
            .into_iter()
            .map(|(case, likeness)| (case.id.clone(), likeness.score))
            .collect()
    };

    // Warm up, then time the product.
    for report in reports.iter().take(1000) {
        std::hint::black_box(search(report, false));
    }
    let mut product = Histogram::<u64>::new(3)?;
    let mut nearby = 0usize;
    let mut proposed = 0usize;
    let mut answers = Vec::with_capacity(reports.len());
    let timed = Instant::now();
    for report in &reports {
        let started = Instant::now();
        let answer = search(report, false);
        product.record(started.elapsed().as_nanos() as u64)?;
        proposed += answer.len();
        answers.push(answer);
    }
    let product_total = timed.elapsed();
    for report in reports.iter().take(1000) {
        nearby += index
            .within(report.location.lon, report.location.lat, RADIUS_M)
            .count();
    }

    let mut reference = Histogram::<u64>::new(3)?;
    let checked = options.reference_queries.min(reports.len());
    for (report, answer) in reports.iter().zip(&answers).take(checked) {
        let started = Instant::now();
        let scanned = search(report, true);
        reference.record(started.elapsed().as_nanos() as u64)?;
        ensure!(
            &scanned == answer,
            "the index and the scan disagree for a report at {:?}: {answer:?} vs {scanned:?}",
            report.location
        );
    }

    lines.push(format!(
        "{} reports, {:.1} open cases within 300 m of each on average, {:.2} proposed",
        reports.len(),
        nearby as f64 / reports.len().min(1000) as f64,
        proposed as f64 / reports.len() as f64
    ));
    lines.push(format!(
        "product (point index, then likeness): median {:.3} ms, p99 {:.3} ms, max {:.3} ms, {:.0} searches/s on one core",
        percentile(&product, 0.5),
        percentile(&product, 0.99),
        product.max() as f64 / 1e6,
        reports.len() as f64 / product_total.as_secs_f64()
    ));
    lines.push(format!(
        "reference (likeness of every open case) over {checked} reports: median {:.1} ms, p99 {:.1} ms; same answers",
        percentile(&reference, 0.5),
        percentile(&reference, 0.99)
    ));
    lines.push(format!(
        "ratio of medians: {:.0}x, of p99: {:.0}x",
        percentile(&reference, 0.5) / percentile(&product, 0.5),
        percentile(&reference, 0.99) / percentile(&product, 0.99)
    ));
    Ok(lines)
}
