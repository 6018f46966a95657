//! Class suggestions on the shipped labelled reports: trained on four fifths of each class,
//! measured on the fifth held out (top-1 and top-3 accuracy, per channel and language) and
//! timed on one core, against a keyword table (each class's name and the character pairs
//! most of its training texts share and few other classes use), the straightforward way a
//! city configures a classifier by hand.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Result;
use cityops_domain::classify::{split, ClassModel, ClassTrainer, LabelledText};
use cityops_domain::{CategoryCatalog, CategoryCode};

/// Keywords per class in the reference's table, beside the class's own names.
const KEYWORDS_PER_CLASS: usize = 10;
/// Each figure of speed is timed for at least this long.
const TIMED: Duration = Duration::from_secs(3);

/// A classifier under measurement: the ranked classes of a text.
trait Ranker {
    fn rank(&self, text: &str, limit: usize) -> Vec<CategoryCode>;
}

impl Ranker for ClassModel {
    fn rank(&self, text: &str, limit: usize) -> Vec<CategoryCode> {
        self.suggest(text, |_| true, limit)
            .into_iter()
            .map(|s| s.class)
            .collect()
    }
}

/// The reference: a table of keywords per class; the class with most keywords found in the
/// text first (ties in catalogue order).
struct KeywordTable {
    classes: Vec<(CategoryCode, Vec<String>)>,
}

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

fn pairs(text: &str) -> HashSet<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(2)
        .filter(|w| is_cjk(w[0]) && is_cjk(w[1]))
        .map(|w| w.iter().collect())
        .collect()
}

impl KeywordTable {
    fn build(catalog: &CategoryCatalog, train: &[&LabelledText]) -> KeywordTable {
        // In how many texts of each class, and in how many classes, each pair occurs.
        let mut per_class: HashMap<&CategoryCode, HashMap<String, usize>> = HashMap::new();
        let mut classes_of: HashMap<String, HashSet<&CategoryCode>> = HashMap::new();
        for row in train {
            for pair in pairs(&row.text) {
                *per_class
                    .entry(&row.class)
                    .or_default()
                    .entry(pair.clone())
                    .or_default() += 1;
                classes_of.entry(pair).or_default().insert(&row.class);
            }
        }
        let classes = catalog
            .small
            .iter()
            .map(|class| {
                let mut keywords = vec![class.zh.clone(), class.en.to_lowercase()];
                if let Some(counts) = per_class.get(&class.code) {
                    let mut candidates: Vec<(&String, &usize)> = counts
                        .iter()
                        .filter(|(pair, n)| **n >= 2 && classes_of[*pair].len() <= 3)
                        .collect();
                    candidates.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                    keywords.extend(
                        candidates
                            .into_iter()
                            .take(KEYWORDS_PER_CLASS)
                            .map(|(pair, _)| pair.clone()),
                    );
                }
                (class.code.clone(), keywords)
            })
            .collect();
        KeywordTable { classes }
    }
}

impl Ranker for KeywordTable {
    fn rank(&self, text: &str, limit: usize) -> Vec<CategoryCode> {
        let lower = text.to_lowercase();
        let mut hits: Vec<(usize, usize)> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, (_, keywords))| {
                (
                    keywords
                        .iter()
                        .filter(|k| lower.contains(k.as_str()))
                        .count(),
                    i,
                )
            })
            .filter(|(n, _)| *n > 0)
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.into_iter()
            .take(limit)
            .map(|(_, i)| self.classes[i].0.clone())
            .collect()
    }
}

#[derive(Default)]
struct Tally {
    texts: usize,
    first: usize,
    top3: usize,
}

impl Tally {
    fn percent(n: usize, of: usize) -> String {
        format!("{:.1}%", 100.0 * n as f64 / of.max(1) as f64)
    }

    fn line(&self, name: &str) -> String {
        format!(
            "  {name:<28} {:>5} texts  top-1 {:>6}  top-3 {:>6}",
            self.texts,
            Tally::percent(self.first, self.texts),
            Tally::percent(self.top3, self.texts)
        )
    }
}

fn measure(ranker: &dyn Ranker, held_out: &[&LabelledText]) -> BTreeMap<String, Tally> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for row in held_out {
        let ranked = ranker.rank(&row.text, 3);
        let english = !row.text.chars().any(is_cjk);
        let groups = [
            "all".to_string(),
            format!("channel {}", row.source),
            if english { "English" } else { "Chinese" }.to_string(),
        ];
        for group in groups {
            let tally = tallies.entry(group).or_default();
            tally.texts += 1;
            tally.first += usize::from(ranked.first() == Some(&row.class));
            tally.top3 += usize::from(ranked.contains(&row.class));
        }
    }
    tallies
}

/// Texts classified a second on this thread, over the held-out texts again and again.
fn speed(ranker: &dyn Ranker, texts: &[&str]) -> f64 {
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < TIMED {
        for text in texts {
            std::hint::black_box(ranker.rank(std::hint::black_box(text), 3));
        }
        done += texts.len();
    }
    done as f64 / started.elapsed().as_secs_f64()
}

pub fn bench_classify() -> Result<Vec<String>> {
    let rows = cityops::reference::labelled_reports()?;
    let catalog = CategoryCatalog::shipped();
    let (train, held_out) = split(&rows);
    let covered: HashSet<&CategoryCode> = rows.iter().map(|r| &r.class).collect();
    let mut lines = vec![format!(
        "labelled set: {} texts of {} of the catalogue's {} small classes; {} train, {} held out",
        rows.len(),
        covered.len(),
        catalog.small.len(),
        train.len(),
        held_out.len()
    )];

    let started = Instant::now();
    let mut trainer = ClassTrainer::new();
    for row in &train {
        trainer.add(&row.text, &row.class);
    }
    trainer.add_class_names(&catalog);
    trainer.keep_permanently();
    let model = trainer.train();
    let trained = started.elapsed();
    lines.push(format!(
        "product (linear SVM per class): trained on {} texts and the class names in {:.0} ms",
        train.len(),
        trained.as_secs_f64() * 1000.0
    ));
    // Learning one more filing: training resumes from where it stopped.
    let mut resumed = Vec::new();
    for row in held_out.iter().take(20) {
        let started = Instant::now();
        let mut next = trainer.clone();
        next.add(&row.text, &row.class);
        std::hint::black_box(next.train());
        resumed.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    resumed.sort_by(f64::total_cmp);
    lines.push(format!(
        "product: learning one more filing (copying the trainer included), median {:.0} ms",
        resumed[resumed.len() / 2]
    ));
    let table = KeywordTable::build(&catalog, &train);

    for (name, ranker) in [
        ("product (linear SVM per class)", &model as &dyn Ranker),
        ("reference (keyword table)", &table as &dyn Ranker),
    ] {
        lines.push(format!("{name}, held-out accuracy:"));
        for (group, tally) in measure(ranker, &held_out) {
            lines.push(tally.line(&group));
        }
    }

    // Is the confidence honest? The mean confidence of the first suggestion beside how
    // often it is right.
    let (mut confidence, mut right) = (0.0, 0usize);
    for row in &held_out {
        if let Some(first) = model.suggest(&row.text, |_| true, 1).into_iter().next() {
            confidence += first.confidence;
            right += usize::from(first.class == row.class);
        }
    }
    lines.push(format!(
        "product: mean confidence of the first suggestion {:.1}%, right {:.1}% of the time",
        100.0 * confidence / held_out.len().max(1) as f64,
        100.0 * right as f64 / held_out.len().max(1) as f64
    ));

    let texts: Vec<&str> = held_out.iter().map(|r| r.text.as_str()).collect();
    let product = speed(&model, &texts);
    let reference = speed(&table, &texts);
    lines.push(format!(
        "one core, top-3 of the held-out texts: product {product:.0} texts/s, reference {reference:.0} texts/s ({:.1}x)",
        product / reference
    ));
    Ok(lines)
}
