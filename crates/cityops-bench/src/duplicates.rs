//! Likely duplicates on the labelled pairs of `data/duplicates/pairs.csv`: report A is an
//! open case, report B arrives `hours_apart` later; the product proposes A when their
//! likeness reaches its threshold. Precision and recall at the product's threshold and at its
//! neighbours, and the same for the straightforward reference an operator would otherwise
//! use: "the same class within 100 m in the last three days".

use anyhow::{bail, Context, Result};
use chrono::{Duration, TimeZone, Utc};
use cityops_domain::duplicates::{assess, Probe, THRESHOLD};
use cityops_domain::workflow::{report, NewReport};
use cityops_domain::{Actor, AreaCode, Case, CategoryCode, Location, Role};

struct Pair {
    a: Case,
    b_text: String,
    b_class: Option<CategoryCode>,
    b_location: Location,
    hours_apart: i64,
    same_problem: bool,
}

fn class(text: &str) -> Result<Option<CategoryCode>> {
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        CategoryCode::parse(text).map_err(|e| anyhow::anyhow!(e.reason))?,
    ))
}

fn pairs(path: &str) -> Result<Vec<Pair>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {path} (run from the repository's root)"))?;
    let mut reader = cityops_domain::csv_file::reader(&text);
    let inspector = Actor {
        user_id: "bench".into(),
        username: "inspector".into(),
        role: Role::Inspector,
        unit: None,
        scope: AreaCode::parse("310000")?,
    };
    let then = Utc
        .with_ymd_and_hms(2026, 11, 20, 2, 0, 0)
        .single()
        .context("time")?;
    let mut pairs = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let r = record?;
        let number = |k: usize| -> Result<f64> {
            r[k].parse::<f64>()
                .with_context(|| format!("row {}: column {k} is not a number", i + 2))
        };
        let a_location =
            Location::new(number(2)?, number(3)?).map_err(|e| anyhow::anyhow!(e.reason))?;
        let new: NewReport = serde_json::from_value(serde_json::json!({
            "source": "inspector",
            "description": &r[0],
            "address": null,
            "location": {"lon": a_location.lon, "lat": a_location.lat},
            "area": "310101002001",
            "category_hint": if r[1].is_empty() { None } else { Some(&r[1]) },
            "component_id": null,
        }))?;
        let (a, _) = report(format!("a{i}"), new, &inspector, then)
            .map_err(|e| anyhow::anyhow!("row {}: {e}", i + 2))?;
        let same_problem = match &r[9] {
            "yes" => true,
            "no" => false,
            other => bail!("row {}: same_problem is yes or no, not {other}", i + 2),
        };
        pairs.push(Pair {
            a,
            b_text: r[4].to_string(),
            b_class: class(&r[5])?,
            b_location: Location::new(number(6)?, number(7)?)
                .map_err(|e| anyhow::anyhow!(e.reason))?,
            hours_apart: number(8)?.round() as i64,
            same_problem,
        });
    }
    Ok(pairs)
}

#[derive(Default)]
struct Confusion {
    true_positive: usize,
    false_positive: usize,
    false_negative: usize,
}

impl Confusion {
    fn add(&mut self, proposed: bool, same: bool) {
        match (proposed, same) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_positive += 1,
            (false, true) => self.false_negative += 1,
            (false, false) => {}
        }
    }

    fn line(&self, name: &str) -> String {
        let precision =
            self.true_positive as f64 / (self.true_positive + self.false_positive).max(1) as f64;
        let recall =
            self.true_positive as f64 / (self.true_positive + self.false_negative).max(1) as f64;
        format!(
            "  {name:<44} precision {:>5.1}%  recall {:>5.1}%  ({} proposed rightly, {} wrongly, {} missed)",
            100.0 * precision,
            100.0 * recall,
            self.true_positive,
            self.false_positive,
            self.false_negative
        )
    }
}

pub fn bench_duplicates(path: &str) -> Result<Vec<String>> {
    let pairs = pairs(path)?;
    // The model the server starts with: the shipped labelled reports and the class names.
    let mut trainer = cityops_domain::classify::ClassTrainer::new();
    for row in cityops::reference::labelled_reports()? {
        trainer.add(&row.text, &row.class);
    }
    trainer.add_class_names(&cityops_domain::CategoryCatalog::shipped());
    let model = trainer.train();
    let same = pairs.iter().filter(|p| p.same_problem).count();
    let mut lines = vec![format!(
        "{} labelled pairs: {} of the same problem, {} of different ones",
        pairs.len(),
        same,
        pairs.len() - same
    )];
    let scores: Vec<Option<f64>> = pairs
        .iter()
        .map(|p| {
            let probe = Probe {
                text: &p.b_text,
                location: Some(p.b_location),
                category: p.b_class.as_ref(),
                at: p.a.created_at + Duration::hours(p.hours_apart),
            };
            assess(&probe, &p.a, Some(&model)).map(|l| l.score)
        })
        .collect();
    for threshold in [
        THRESHOLD - 0.1,
        THRESHOLD - 0.05,
        THRESHOLD,
        THRESHOLD + 0.05,
        THRESHOLD + 0.1,
    ] {
        let mut confusion = Confusion::default();
        for (pair, score) in pairs.iter().zip(&scores) {
            confusion.add(score.is_some_and(|s| s >= threshold), pair.same_problem);
        }
        let marker = if (threshold - THRESHOLD).abs() < 1e-9 {
            " (the product's)"
        } else {
            ""
        };
        lines.push(confusion.line(&format!("product, threshold {threshold:.2}{marker}")));
    }
    let mut reference = Confusion::default();
    for pair in &pairs {
        let a_class = pair.a.category_hint.as_ref();
        let near = cityops_domain::telemetry::distance_m(pair.a.location, pair.b_location) <= 100.0;
        let proposed =
            near && pair.hours_apart <= 72 && a_class.is_some() && a_class == pair.b_class.as_ref();
        reference.add(proposed, pair.same_problem);
    }
    lines.push(reference.line("reference: same class, 100 m, three days"));
    Ok(lines)
}
