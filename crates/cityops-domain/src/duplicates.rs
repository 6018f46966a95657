//! Likely duplicates (重复上报): how much an open case looks like a new report of the same
//! problem, from where, when, what kind of problem and what words. One problem is handled once: the
//! operator sees the likely cases while taking the report down and can turn it away as a
//! duplicate of one (the workflow's reject with `duplicate_of`).

use chrono::{DateTime, Utc};

use crate::area::AreaCode;
use crate::case::{Case, Location};
use crate::category::CategoryCode;
use crate::classify::ClassModel;
use crate::telemetry::distance_m;

/// Farther apart than this, two reports are of different problems.
pub const RADIUS_M: f64 = 300.0;
/// Reports further apart in time than this are not compared.
pub const WINDOW_DAYS: i64 = 14;
/// The least score proposed as a likely duplicate.
pub const THRESHOLD: f64 = 0.55;

/// How much each likeness weighs in the score; they sum to 1. Chosen on the labelled pairs
/// (`cityops-bench duplicates`). Where and what kind of problem say most: two reporters of
/// one pothole stand at the same spot and describe a pothole, each in their own words (so
/// shared words say less), and a problem left alone is reported again days later.
const PLACE: f64 = 0.35;
const KIND: f64 = 0.35;
const WORDS: f64 = 0.2;
const TIME: f64 = 0.1;

/// A report being taken down, as far as it is known.
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    pub text: &'a str,
    pub location: Option<Location>,
    /// The class given or suggested, if any.
    pub category: Option<&'a CategoryCode>,
    pub at: DateTime<Utc>,
}

/// Why an open case looks like the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Likeness {
    /// 0 to 1.
    pub score: f64,
    pub distance_m: Option<f64>,
    pub hours_apart: f64,
    /// Whether both classes are known and the same (the case's filed class, or its hint).
    pub same_class: bool,
    /// 0 to 1: how alike the two problems' kinds are: their classes where known, else the
    /// classes their texts suggest, compared as distributions (cosine).
    pub kind_similarity: f64,
    /// 0 to 1: the share of character pairs and words the two texts have in common (cosine).
    pub text_similarity: f64,
}

/// The character pairs and Latin words of a text, sorted and distinct.
fn words(text: &str) -> Vec<u64> {
    let mut found = crate::classify::word_features(text);
    found.sort_unstable();
    found.dedup();
    found
}

fn cosine(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / ((a.len() * b.len()) as f64).sqrt()
}

/// How much `case` looks like the report `probe`; none when it cannot be the same problem
/// (finished, too far, too long ago) or scores below [`THRESHOLD`]. `model` suggests the
/// kind of a problem whose class is not known.
pub fn likeness(probe: &Probe<'_>, case: &Case, model: Option<&ClassModel>) -> Option<Likeness> {
    assess(probe, case, model).filter(|l| l.score >= THRESHOLD)
}

/// The kind of a problem: its class when known, else the classes its text suggests with
/// their confidences.
fn kinds(
    model: Option<&ClassModel>,
    text: &str,
    class: Option<&CategoryCode>,
) -> Vec<(CategoryCode, f64)> {
    match (class, model) {
        (Some(class), _) => vec![(class.clone(), 1.0)],
        (None, Some(model)) => model
            .suggest(text, |_| true, 5)
            .into_iter()
            .map(|s| (s.class, s.confidence))
            .collect(),
        (None, None) => Vec::new(),
    }
}

fn kind_similarity(a: &[(CategoryCode, f64)], b: &[(CategoryCode, f64)]) -> f64 {
    let norm = |k: &[(CategoryCode, f64)]| k.iter().map(|(_, p)| p * p).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let dot: f64 = a
        .iter()
        .filter_map(|(class, p)| b.iter().find(|(c, _)| c == class).map(|(_, q)| p * q))
        .sum();
    (dot / (na * nb)).min(1.0)
}

/// What a text says for comparing it: its words, and the kind of problem it is about (its
/// class when known, else the classes the model suggests for it). Read once per text, so a
/// search compares a report with thousands of cases without classifying any of them again.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    words: Vec<u64>,
    kinds: Vec<(CategoryCode, f64)>,
}

impl Reading {
    pub fn of(text: &str, class: Option<&CategoryCode>, model: Option<&ClassModel>) -> Reading {
        Reading {
            words: words(text),
            kinds: kinds(model, text, class),
        }
    }
}

/// An open case as the search for likely duplicates keeps it: where and when it was
/// reported, whose it is (its area and unit, for the reader's jurisdiction) and what it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCase {
    pub id: String,
    pub number: String,
    pub area: AreaCode,
    pub unit: Option<String>,
    pub location: Location,
    pub created_at: DateTime<Utc>,
    /// Its filed class, or the class hinted at when it was reported.
    pub class: Option<CategoryCode>,
    pub reading: Reading,
}

impl OpenCase {
    /// The case as the search keeps it; none once it is finished.
    pub fn of(case: &Case, model: Option<&ClassModel>) -> Option<OpenCase> {
        if case.state.is_terminal() {
            return None;
        }
        let class = case
            .category
            .as_ref()
            .map(|c| c.code.clone())
            .or_else(|| case.category_hint.clone());
        Some(OpenCase {
            id: case.id.clone(),
            number: case.number.0.clone(),
            area: case.area.clone(),
            unit: case.unit.clone(),
            location: case.location,
            created_at: case.created_at,
            reading: Reading::of(&case.description, class.as_ref(), model),
            class,
        })
    }
}

/// How much `case` looks like the report `probe`, whatever the score; none when it cannot be
/// the same problem (finished, too far, too long ago).
pub fn assess(probe: &Probe<'_>, case: &Case, model: Option<&ClassModel>) -> Option<Likeness> {
    let open = OpenCase::of(case, model)?;
    compare(
        probe,
        &Reading::of(probe.text, probe.category, model),
        &open,
    )
}

/// [`assess`] of an open case as the search keeps it, the probe's text read as `reading`.
pub fn compare(probe: &Probe<'_>, reading: &Reading, case: &OpenCase) -> Option<Likeness> {
    let hours_apart = (probe.at - case.created_at).num_minutes().abs() as f64 / 60.0;
    let window = (WINDOW_DAYS * 24) as f64;
    if hours_apart > window {
        return None;
    }
    let distance = probe.location.map(|here| distance_m(here, case.location));
    if distance.is_some_and(|d| d > RADIUS_M) {
        return None;
    }
    let same_class = matches!((probe.category, &case.class), (Some(a), Some(b)) if a == b);
    let kind_similarity = kind_similarity(&reading.kinds, &case.reading.kinds);
    let text_similarity = cosine(&reading.words, &case.reading.words);
    // Without a point, the place counts half: the caller matched the area only.
    let place = distance.map_or(0.5, |d| 1.0 - d / RADIUS_M);
    let score = PLACE * place
        + KIND * kind_similarity
        + WORDS * text_similarity
        + TIME * (1.0 - hours_apart / window);
    Some(Likeness {
        score,
        distance_m: distance,
        hours_apart,
        same_class,
        kind_similarity,
        text_similarity,
    })
}

/// The open cases among `cases` likeliest to be the report's problem, likeliest first (ties
/// by case number), at most `limit`: [`likely`] over open cases as the search keeps them.
pub fn likeliest<'c>(
    probe: &Probe<'_>,
    reading: &Reading,
    cases: impl IntoIterator<Item = &'c OpenCase>,
    limit: usize,
) -> Vec<(&'c OpenCase, Likeness)> {
    let mut found: Vec<(&OpenCase, Likeness)> = cases
        .into_iter()
        .filter_map(|case| {
            compare(probe, reading, case)
                .filter(|l| l.score >= THRESHOLD)
                .map(|l| (case, l))
        })
        .collect();
    found.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then_with(|| a.0.number.cmp(&b.0.number))
    });
    found.truncate(limit);
    found
}

/// The open cases among `cases` likeliest to be the report's problem, likeliest first (ties
/// by case number), at most `limit`.
pub fn likely<'c>(
    probe: &Probe<'_>,
    cases: &'c [Case],
    model: Option<&ClassModel>,
    limit: usize,
) -> Vec<(&'c Case, Likeness)> {
    let mut found: Vec<(&Case, Likeness)> = cases
        .iter()
        .filter_map(|case| likeness(probe, case, model).map(|l| (case, l)))
        .collect();
    found.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then_with(|| a.0.number.0.cmp(&b.0.number.0))
    });
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shared_words_score_by_their_share() {
        assert_eq!(cosine(&[], &[1]), 0.0);
        assert!((cosine(&[1, 2, 3, 4], &[1, 2, 3, 4]) - 1.0).abs() < 1e-12);
        assert!((cosine(&[1, 2], &[2, 3]) - 0.5).abs() < 1e-12);
        let same = cosine(
            &words("南京东路步行街井盖缺失"),
            &words("南京东路步行街上井盖丢了"),
        );
        let other = cosine(&words("南京东路步行街井盖缺失"), &words("小区门口乱摆摊"));
        assert!(same > 0.4 && other == 0.0, "{same} {other}");
    }

    fn case(text: &str, lon: f64, lat: f64, hint: Option<&str>, at: DateTime<Utc>) -> Case {
        let report: crate::workflow::NewReport = serde_json::from_value(serde_json::json!({
            "source": "inspector",
            "description": text,
            "address": null,
            "location": {"lon": lon, "lat": lat},
            "area": "310101002001",
            "category_hint": hint,
            "component_id": null,
        }))
        .unwrap();
        let inspector = crate::Actor {
            user_id: "u1".into(),
            username: "inspector".into(),
            role: crate::Role::Inspector,
            unit: None,
            scope: crate::AreaCode::parse("310101").unwrap(),
        };
        crate::workflow::report("c1".into(), report, &inspector, at)
            .unwrap()
            .0
    }

    #[test]
    fn the_same_problem_nearby_is_likely_and_another_or_far_away_is_not() {
        use chrono::TimeZone;
        let then = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
        let now = then + chrono::Duration::hours(5);
        let cover = CategoryCode::parse("10101").unwrap();
        let open = case(
            "南京东路步行街东侧上水井盖缺失",
            121.4919,
            31.2150,
            Some("10101"),
            then,
        );
        let probe = Probe {
            text: "市民反映南京东路步行街上有个井盖缺失，很危险",
            location: Some(Location {
                lon: 121.4921,
                lat: 31.2151,
            }),
            category: Some(&cover),
            at: now,
        };
        let found = likeness(&probe, &open, None).expect("likely");
        assert!(
            found.same_class && found.distance_m.unwrap() < 30.0,
            "{found:?}"
        );
        assert!(found.score > 0.7 && found.score <= 1.0, "{found:?}");

        // Another problem on the same spot, in other words and another class.
        let stall = case("路口有人摆摊卖水果", 121.4919, 31.2150, Some("20501"), then);
        assert_eq!(likeness(&probe, &stall, None), None);
        // The same words a kilometre away.
        let far = case(
            "南京东路步行街东侧上水井盖缺失",
            121.5019,
            31.2150,
            Some("10101"),
            then,
        );
        assert_eq!(likeness(&probe, &far, None), None);
        // The same report three weeks later.
        let late = Probe {
            at: then + chrono::Duration::days(21),
            ..probe.clone()
        };
        assert_eq!(likeness(&late, &open, None), None);

        let cases = [stall, open.clone(), far];
        let ranked = likely(&probe, &cases, None, 5);
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].0.id, open.id);
    }

    proptest! {
        /// Any two texts score between 0 and 1, alike both ways, and a text is like itself.
        #[test]
        fn cosine_is_a_similarity(a in ".{0,30}", b in ".{0,30}") {
            let (wa, wb) = (words(&a), words(&b));
            let s = cosine(&wa, &wb);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&s));
            prop_assert!((s - cosine(&wb, &wa)).abs() < 1e-12);
            if !wa.is_empty() {
                prop_assert!((cosine(&wa, &wa) - 1.0).abs() < 1e-12);
            }
        }
    }
}
