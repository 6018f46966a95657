//! Class suggestions: the small classes a report's free text most likely belongs to.
//!
//! A linear support-vector machine per class (one class against the rest) over the text's
//! features: each Chinese character and each pair of neighbouring characters (Chinese is
//! written without spaces, and a pair such as 井盖 or 占道 carries most of a report's meaning
//! without a dictionary), and each run of letters by its Snowball stem (English reports), with
//! the characters and pairs of the Chinese term the glossary gives for an English word or two
//! neighbouring words (`glossary`), so that the few English texts a class has are read like
//! its many Chinese ones; a feature
//! counts once per text and a text's features weigh 1/sqrt(n), so long and short texts weigh
//! alike. Trained by dual coordinate descent (Hsieh et al., "A dual coordinate descent method
//! for large-scale linear SVM", ICML 2008; the method of LIBLINEAR), which keeps each text's
//! dual variable: a new filing starts at zero and training resumes from where it stopped, so
//! learning a filing costs a few passes, not a new model. On the labelled set it beat naive
//! Bayes (which learns by counting alone) by about twenty points of top-3 accuracy.

use std::collections::HashMap;

mod glossary;

use crate::category::CategoryCode;
use crate::knowledge::is_cjk;
use crate::InvalidInput;

/// The penalty of a training text on the wrong side of its class's margin (the `C` of a
/// support-vector machine). Chosen on the held-out split of the labelled set
/// (`cityops-bench classify`), as are the two below.
const PENALTY: f32 = 0.5;
/// Training stops when no text's gradient is further than this from the optimum's.
const TOLERANCE: f32 = 0.1;
const MAX_EPOCHS: usize = 50;
/// How sharply margins are turned into confidences: chosen so that the mean confidence of
/// the first suggestion on the held-out split is close to how often it is right.
const SHARPNESS: f32 = 14.0;
/// Texts kept to learn from: the shipped ones and the most recent filings up to this many.
pub const MAX_TEXTS: usize = 60_000;

/// One feature of a text: a character, a pair of characters or a word, packed into a number
/// (characters are below 2^21; words are hashed).
type Feature = u64;

const CHARACTER: u64 = 1 << 62;
const PAIR: u64 = 2 << 62;
const WORD: u64 = 3 << 62;

/// The distinct features of `text`, each with the text it stands for (for the explanation).
fn features(text: &str) -> Vec<(Feature, &str)> {
    let mut found: Vec<(Feature, &str)> = Vec::new();
    let mut previous: Option<(char, usize)> = None;
    let mut word_start: Option<usize> = None;
    // Latin words, by where they start and end, in order.
    let mut words: Vec<(usize, usize)> = Vec::new();
    for (at, c) in text.char_indices() {
        if is_cjk(c) {
            if let Some(start) = word_start.take() {
                words.push((start, at));
            }
            found.push((CHARACTER | c as u64, &text[at..at + c.len_utf8()]));
            if let Some((before, before_at)) = previous {
                found.push((
                    PAIR | ((before as u64) << 21) | c as u64,
                    &text[before_at..at + c.len_utf8()],
                ));
            }
            previous = Some((c, at));
        } else {
            previous = None;
            if c.is_alphanumeric() {
                word_start.get_or_insert(at);
            } else if let Some(start) = word_start.take() {
                words.push((start, at));
            }
        }
    }
    if let Some(start) = word_start {
        words.push((start, text.len()));
    }
    word_features_of(text, &words, &mut found);
    found.sort_unstable_by_key(|(feature, _)| *feature);
    found.dedup_by_key(|(feature, _)| *feature);
    found
}

/// The features of the Latin words of `text` (at `words`): each word's stem, unless it is a
/// number or a single letter (house numbers and measurements say nothing of the class), and
/// the Chinese features of the glossary's term for a word or two neighbouring words, so that
/// an English report shares features with the Chinese ones.
fn word_features_of<'t>(
    text: &'t str,
    words: &[(usize, usize)],
    found: &mut Vec<(Feature, &'t str)>,
) {
    let mut before: Option<(String, usize, usize)> = None;
    for &(start, end) in words {
        let word = &text[start..end];
        if !(word.chars().any(|c| !c.is_ascii_digit()) && word.chars().count() > 1) {
            before = None;
            continue;
        }
        let stem = english_stemmer().stem(&word.to_lowercase()).into_owned();
        let hasher = foldhash::fast::FixedState::with_seed(0x6369_7479_6f70_7321);
        let hash = std::hash::BuildHasher::hash_one(&hasher, stem.as_str());
        found.push((WORD | (hash >> 2), word));
        if let Some(term) = glossary().get(stem.as_str()) {
            chinese_features(term, word, found);
        }
        if let Some((previous, previous_start, previous_end)) = &before {
            // Only words next to each other ("street light", "water-supply").
            if text[*previous_end..start]
                .chars()
                .all(|c| c == ' ' || c == '-')
            {
                if let Some(term) = glossary().get(format!("{previous} {stem}").as_str()) {
                    chinese_features(term, &text[*previous_start..end], found);
                }
            }
        }
        before = Some((stem, start, end));
    }
}

/// The characters and character pairs of a glossary term, standing for `source`.
fn chinese_features<'t>(term: &str, source: &'t str, found: &mut Vec<(Feature, &'t str)>) {
    let mut previous: Option<char> = None;
    for c in term.chars() {
        found.push((CHARACTER | c as u64, source));
        if let Some(before) = previous {
            found.push((PAIR | ((before as u64) << 21) | c as u64, source));
        }
        previous = Some(c);
    }
}

/// The glossary with its English keys as stems.
fn glossary() -> &'static HashMap<String, &'static str> {
    static GLOSSARY: std::sync::OnceLock<HashMap<String, &'static str>> =
        std::sync::OnceLock::new();
    GLOSSARY.get_or_init(|| {
        glossary::GLOSSARY
            .iter()
            .map(|(english, chinese)| {
                let key: Vec<String> = english
                    .split_whitespace()
                    .map(|w| english_stemmer().stem(&w.to_lowercase()).into_owned())
                    .collect();
                (key.join(" "), *chinese)
            })
            .collect()
    })
}

/// The character pairs and Latin words of `text` (no lone characters: too common to tell two
/// texts apart), as numbers; repeats kept.
pub(crate) fn word_features(text: &str) -> Vec<u64> {
    features(text)
        .into_iter()
        .filter(|(feature, _)| feature & (3 << 62) != CHARACTER)
        .map(|(feature, _)| feature)
        .collect()
}

/// Snowball's English stemmer, made once.
fn english_stemmer() -> &'static rust_stemmers::Stemmer {
    static STEMMER: std::sync::OnceLock<rust_stemmers::Stemmer> = std::sync::OnceLock::new();
    STEMMER.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
}

/// A kept text: its features, sorted, and its class.
#[derive(Debug, Clone)]
struct Example {
    features: Box<[u32]>,
    class: u16,
}

/// What class suggestions learn from, and the training state: every kept text as its
/// features, and per class the weights and each text's dual variable.
#[derive(Debug, Clone, Default)]
pub struct ClassTrainer {
    index: HashMap<Feature, u32, foldhash::fast::FixedState>,
    classes: Vec<CategoryCode>,
    class_index: HashMap<CategoryCode, u16>,
    examples: Vec<Example>,
    /// The first this many texts (the shipped ones) are never forgotten.
    permanent: usize,
    /// Per class: a weight per feature, then the bias.
    weights: Vec<Vec<f32>>,
    /// Per class: the dual variable of each text.
    alphas: Vec<Vec<f32>>,
    untrained: usize,
}

/// What the trainer made of its texts: enough to suggest classes, nothing to learn with.
#[derive(Debug, Clone, Default)]
pub struct ClassModel {
    index: HashMap<Feature, u32, foldhash::fast::FixedState>,
    classes: Vec<CategoryCode>,
    /// Feature-major: the weights of feature `f` for every class at `f * classes..`, so a
    /// text's features read contiguous rows.
    weights: Vec<f32>,
    biases: Vec<f32>,
    texts: usize,
}

/// One suggested class.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub class: CategoryCode,
    /// Between 0 and 1; the suggestions of one text sum to at most 1.
    pub confidence: f64,
    /// The words of the text that spoke most for this class, strongest first.
    pub words: Vec<String>,
}

/// A text's weight per feature: its features weigh alike and together have length 1.
fn feature_value(features: usize) -> f32 {
    1.0 / (features.max(1) as f32).sqrt()
}

impl ClassTrainer {
    pub fn new() -> ClassTrainer {
        ClassTrainer::default()
    }

    /// Texts kept to learn from.
    pub fn texts(&self) -> usize {
        self.examples.len()
    }

    /// Texts added since the last training.
    pub fn untrained(&self) -> usize {
        self.untrained
    }

    /// Keeps `text` as a text of `class` for the next training; false when it has no feature
    /// (nothing to learn). Beyond [`MAX_TEXTS`] the oldest filings are forgotten.
    pub fn add(&mut self, text: &str, class: &CategoryCode) -> bool {
        let found = features(text);
        if found.is_empty() {
            return false;
        }
        let slot = match self.class_index.get(class) {
            Some(slot) => *slot,
            None => {
                let Ok(slot) = u16::try_from(self.classes.len()) else {
                    return false;
                };
                self.classes.push(class.clone());
                self.class_index.insert(class.clone(), slot);
                self.weights.push(Vec::new());
                self.alphas.push(Vec::new());
                slot
            }
        };
        let mut indices: Vec<u32> = found
            .iter()
            .map(|(feature, _)| {
                let next = self.index.len() as u32;
                *self.index.entry(*feature).or_insert(next)
            })
            .collect();
        indices.sort_unstable();
        self.examples.push(Example {
            features: indices.into_boxed_slice(),
            class: slot,
        });
        self.untrained += 1;
        if self.examples.len() > MAX_TEXTS {
            self.forget_oldest();
        }
        true
    }

    /// Adds each class's names, Chinese and English, as texts of it: a report that names its
    /// class outright is suggested it before anyone filed one like it.
    pub fn add_class_names(&mut self, catalog: &crate::CategoryCatalog) {
        for class in &catalog.small {
            self.add(&class.zh, &class.code);
            self.add(&class.en, &class.code);
        }
    }

    /// Marks every text added so far (the shipped ones) as never to be forgotten.
    pub fn keep_permanently(&mut self) {
        self.permanent = self.examples.len();
    }

    /// Forgets a tenth of the filings, the oldest, and rebuilds the weights from the dual
    /// variables of the texts kept.
    fn forget_oldest(&mut self) {
        let forgettable = self.examples.len() - self.permanent;
        let drop = (forgettable / 10).max(1).min(forgettable);
        let range = self.permanent..self.permanent + drop;
        self.examples.drain(range.clone());
        for alphas in &mut self.alphas {
            if alphas.len() >= range.end {
                alphas.drain(range.clone());
            } else {
                alphas.truncate(range.start);
            }
        }
        let features = self.index.len();
        for (class, weights) in self.weights.iter_mut().enumerate() {
            weights.clear();
            weights.resize(features + 1, 0.0);
            for (example, alpha) in self.examples.iter().zip(&self.alphas[class]) {
                if *alpha == 0.0 {
                    continue;
                }
                let y = if usize::from(example.class) == class {
                    1.0
                } else {
                    -1.0
                };
                let step = alpha * y;
                let x = feature_value(example.features.len());
                for f in example.features.iter() {
                    weights[*f as usize] += step * x;
                }
                weights[features] += step;
            }
        }
    }

    /// Trains from where the last training stopped to the optimum over every kept text, and
    /// returns the model.
    pub fn train(&mut self) -> ClassModel {
        let features = self.index.len();
        let texts = self.examples.len();
        for class in 0..self.classes.len() {
            // The bias is kept last: move it when features were added since.
            let weights = &mut self.weights[class];
            let bias = if weights.is_empty() {
                0.0
            } else {
                weights.pop().unwrap_or(0.0)
            };
            weights.resize(features, 0.0);
            weights.push(bias);
            self.alphas[class].resize(texts, 0.0);
            self.solve(class);
        }
        self.untrained = 0;
        self.model()
    }

    /// Dual coordinate descent for class `class` against the rest, with the squared hinge
    /// loss (LIBLINEAR's L2-loss SVC).
    fn solve(&mut self, class: usize) {
        let diagonal = 1.0 / (2.0 * PENALTY);
        // Every text has length 1, and the bias is a feature of value 1.
        let q = 2.0 + diagonal;
        let bias_at = self.index.len();
        let weights = &mut self.weights[class];
        let alphas = &mut self.alphas[class];
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ (class as u64 + 1);
        for _ in 0..MAX_EPOCHS {
            // A fixed pseudo-random order: every training of the same texts ends alike.
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let (mut highest, mut lowest) = (f32::NEG_INFINITY, f32::INFINITY);
            for &i in &order {
                let example = &self.examples[i];
                let y = if usize::from(example.class) == class {
                    1.0
                } else {
                    -1.0
                };
                let x = feature_value(example.features.len());
                let margin = example
                    .features
                    .iter()
                    .map(|f| weights[*f as usize])
                    .sum::<f32>()
                    * x
                    + weights[bias_at];
                let alpha = alphas[i];
                let gradient = y * margin - 1.0 + diagonal * alpha;
                let projected = if alpha == 0.0 {
                    gradient.min(0.0)
                } else {
                    gradient
                };
                highest = highest.max(projected);
                lowest = lowest.min(projected);
                if projected.abs() > 1e-12 {
                    let next = (alpha - gradient / q).max(0.0);
                    let step = (next - alpha) * y;
                    alphas[i] = next;
                    for f in example.features.iter() {
                        weights[*f as usize] += step * x;
                    }
                    weights[bias_at] += step;
                }
            }
            if highest - lowest <= TOLERANCE {
                break;
            }
        }
    }

    fn model(&self) -> ClassModel {
        let features = self.index.len();
        let classes = self.classes.len();
        let mut weights = vec![0.0; features * classes];
        for (class, row) in self.weights.iter().enumerate() {
            for (f, w) in row.iter().take(features).enumerate() {
                weights[f * classes + class] = *w;
            }
        }
        ClassModel {
            index: self.index.clone(),
            classes: self.classes.clone(),
            weights,
            biases: self
                .weights
                .iter()
                .map(|row| row.get(features).copied().unwrap_or(0.0))
                .collect(),
            texts: self.examples.len(),
        }
    }
}

impl ClassModel {
    /// Texts the model was trained on.
    pub fn texts(&self) -> usize {
        self.texts
    }

    /// The `limit` classes `text` most likely belongs to among those `allowed`, most likely
    /// first; none when the text shares no feature with anything learned.
    pub fn suggest(
        &self,
        text: &str,
        allowed: impl Fn(&CategoryCode) -> bool,
        limit: usize,
    ) -> Vec<Suggestion> {
        let classes = self.classes.len();
        let found: Vec<(usize, &str)> = features(text)
            .into_iter()
            .filter_map(|(feature, text)| Some((*self.index.get(&feature)? as usize, text)))
            .collect();
        if found.is_empty() || limit == 0 || classes == 0 {
            return Vec::new();
        }
        let x = feature_value(found.len());
        let mut scores = self.biases.clone();
        for (f, _) in &found {
            let row = &self.weights[f * classes..(f + 1) * classes];
            for (score, w) in scores.iter_mut().zip(row) {
                *score += w * x;
            }
        }
        let mut ranked: Vec<usize> = (0..classes)
            .filter(|c| allowed(&self.classes[*c]))
            .collect();
        if ranked.is_empty() {
            return Vec::new();
        }
        ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));
        let best = scores[ranked[0]];
        let weights: Vec<f64> = ranked
            .iter()
            .map(|c| f64::from((scores[*c] - best) * SHARPNESS).exp())
            .collect();
        let total: f64 = weights.iter().sum();
        ranked
            .iter()
            .zip(&weights)
            .take(limit)
            .map(|(c, weight)| Suggestion {
                class: self.classes[*c].clone(),
                confidence: weight / total,
                words: self.deciding_words(*c, &found),
            })
            .collect()
    }

    /// The three words of the text (character pairs and Latin words: a lone character means
    /// little to a reader) that raised the class's score most.
    fn deciding_words(&self, class: usize, found: &[(usize, &str)]) -> Vec<String> {
        let classes = self.classes.len();
        let mut evidence: Vec<(f32, &str)> = found
            .iter()
            .map(|(f, text)| (self.weights[f * classes + class], *text))
            .filter(|(weight, text)| *weight > 0.0 && text.chars().count() > 1)
            .collect();
        evidence.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(b.1.chars().count().cmp(&a.1.chars().count()))
        });
        let mut words: Vec<String> = Vec::new();
        for (_, text) in evidence {
            if words.len() == 3 {
                break;
            }
            if !words
                .iter()
                .any(|w| w.contains(text) || text.contains(w.as_str()))
            {
                words.push(text.to_string());
            }
        }
        words
    }
}

/// One text of a labelled set: a report written for a known class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledText {
    pub class: CategoryCode,
    /// inspector, hotline, photo or department: the channel the text is written for.
    pub source: String,
    pub text: String,
}

/// Reads a labelled set (CSV `category,source,text`); a bad row is named by its line.
pub fn labelled_set(csv_text: &str) -> Result<Vec<LabelledText>, InvalidInput> {
    let mut reader = crate::csv_file::with_header(csv_text, &["category", "source", "text"])?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| InvalidInput::new("csv", e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = format!("line {line}");
        let class =
            CategoryCode::parse(&record[0]).map_err(|e| InvalidInput::new(&at, e.reason))?;
        let source = record[1].to_string();
        if !matches!(
            source.as_str(),
            "inspector" | "hotline" | "photo" | "department"
        ) {
            return Err(InvalidInput::new(
                &at,
                "the source is inspector, hotline, photo or department",
            ));
        }
        let text = record[2].to_string();
        if text.is_empty() {
            return Err(InvalidInput::new(&at, "the text is empty"));
        }
        rows.push(LabelledText {
            class,
            source,
            text,
        });
    }
    Ok(rows)
}

/// The set split for measuring: of each class's texts in file order, every fifth is held out
/// (the fifth, the tenth, ...) and the rest train. Fixed, so every run measures the same.
pub fn split(rows: &[LabelledText]) -> (Vec<&LabelledText>, Vec<&LabelledText>) {
    let mut seen: HashMap<&CategoryCode, usize> = HashMap::new();
    let mut train = Vec::new();
    let mut held_out = Vec::new();
    for row in rows {
        let n = seen.entry(&row.class).or_default();
        *n += 1;
        if n.is_multiple_of(5) {
            held_out.push(row);
        } else {
            train.push(row);
        }
    }
    (train, held_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(text: &str) -> CategoryCode {
        CategoryCode::parse(text).unwrap()
    }

    fn trainer() -> ClassTrainer {
        let mut trainer = ClassTrainer::new();
        for (text, class) in [
            ("人行道上井盖缺失，很危险", "10101"),
            ("污水井盖破损下陷", "10102"),
            ("井盖丢了 manhole cover missing", "10101"),
            ("路边乱摆摊占道经营", "20501"),
            ("流动摊贩占用人行道卖水果", "20501"),
            ("street vendor blocking the sidewalk", "20501"),
        ] {
            assert!(trainer.add(text, &code(class)));
        }
        trainer
    }

    fn model() -> ClassModel {
        trainer().train()
    }

    #[test]
    fn features_are_characters_pairs_and_words() {
        let found: Vec<&str> = features("井盖 Manhole 12号")
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        for expected in ["井", "盖", "井盖", "Manhole", "号"] {
            assert!(found.contains(&expected), "{expected} in {found:?}");
        }
        // A house number alone is not a feature.
        assert!(!found.contains(&"12"));
        // A pair does not span a space or punctuation.
        assert!(features("井，盖").len() == 2);
    }

    #[test]
    fn an_english_report_shares_the_chinese_features_of_its_words() {
        let ids =
            |text: &str| -> Vec<Feature> { features(text).into_iter().map(|(f, _)| f).collect() };
        let pair = |a: char, b: char| PAIR | ((a as u64) << 21) | b as u64;
        let cover = ids("Manhole covers missing outside No. 12");
        assert!(cover.contains(&pair('井', '盖')));
        // Two words that stand for one term, by their stems, hyphenated or not.
        for text in ["two street lights out", "the street-light is out"] {
            assert!(ids(text).contains(&pair('路', '灯')), "{text}");
        }
        // Words apart are no term.
        assert!(!ids("street, light").contains(&pair('路', '灯')));
        // The same word in any form is one feature.
        assert_eq!(
            ids("light")
                .iter()
                .filter(|f| *f & (3 << 62) == WORD)
                .count(),
            1
        );
        let words = |text: &str| -> Vec<Feature> {
            ids(text)
                .into_iter()
                .filter(|f| f & (3 << 62) == WORD)
                .collect()
        };
        assert_eq!(words("lights"), words("light"));
        // The explanation names the English words.
        let explained: Vec<&str> = features("street lights")
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert!(explained.contains(&"street lights"), "{explained:?}");
    }

    #[test]
    fn the_best_class_comes_first_with_its_words() {
        let model = model();
        let suggestions = model.suggest("小区门口有人摆摊卖水果", |_| true, 3);
        assert_eq!(suggestions[0].class, code("20501"));
        let words = &suggestions[0].words;
        assert!(
            !words.is_empty()
                && words
                    .iter()
                    .all(|w| "小区门口有人摆摊卖水果".contains(w.as_str())),
            "{words:?}"
        );
        let english = model.suggest("a manhole cover is missing", |_| true, 1);
        assert_eq!(english[0].class, code("10101"));
        let sum: f64 = suggestions.iter().map(|s| s.confidence).sum();
        assert!(sum <= 1.0 + 1e-9 && suggestions[0].confidence > suggestions[1].confidence);
    }

    #[test]
    fn learning_a_filing_changes_the_next_suggestion() {
        let mut trainer = trainer();
        let text = "蓝色共享充电柜倾倒在人行道";
        let first = |model: &ClassModel| {
            model
                .suggest(text, |_| true, 1)
                .first()
                .map(|s| s.class.clone())
        };
        assert_ne!(first(&trainer.train()), Some(code("10102")));
        for _ in 0..3 {
            trainer.add(text, &code("10102"));
        }
        assert_eq!(trainer.untrained(), 3);
        let model = trainer.train();
        assert_eq!(first(&model), Some(code("10102")));
        assert_eq!((model.texts(), trainer.untrained()), (9, 0));
        // Training resumed from where it stopped ends where training afresh ends.
        let mut afresh = ClassTrainer::new();
        for example in [
            ("人行道上井盖缺失，很危险", "10101"),
            ("污水井盖破损下陷", "10102"),
            ("井盖丢了 manhole cover missing", "10101"),
            ("路边乱摆摊占道经营", "20501"),
            ("流动摊贩占用人行道卖水果", "20501"),
            ("street vendor blocking the sidewalk", "20501"),
            (text, "10102"),
            (text, "10102"),
            (text, "10102"),
        ] {
            afresh.add(example.0, &code(example.1));
        }
        let again = afresh.train();
        for probe in ["井盖", "摆摊", text, "manhole"] {
            let (a, b) = (
                model.suggest(probe, |_| true, 3),
                again.suggest(probe, |_| true, 3),
            );
            assert_eq!(
                a.iter().map(|s| &s.class).collect::<Vec<_>>(),
                b.iter().map(|s| &s.class).collect::<Vec<_>>(),
                "{probe}"
            );
        }
    }

    #[test]
    fn the_oldest_filings_are_forgotten_first_and_the_shipped_never() {
        let mut trainer = trainer();
        trainer.keep_permanently();
        for i in 0..MAX_TEXTS {
            trainer.add(&format!("第{i}号 垃圾满溢"), &code("20102"));
        }
        assert!(trainer.texts() <= MAX_TEXTS);
        let model = trainer.train();
        assert_eq!(
            model.suggest("摆摊卖水果", |_| true, 1)[0].class,
            code("20501")
        );
        assert_eq!(
            model.suggest("垃圾满溢", |_| true, 1)[0].class,
            code("20102")
        );
    }

    #[test]
    fn only_allowed_classes_are_suggested() {
        let model = model();
        let suggestions = model.suggest("摆摊", |c| c.as_str() != "20501", 3);
        assert!(suggestions.iter().all(|s| s.class != code("20501")));
        assert!(model.suggest("全新的词汇", |_| true, 3).is_empty());
        assert!(model.suggest("摆摊", |_| false, 3).is_empty());
    }

    #[test]
    fn the_labelled_set_names_a_bad_line() {
        let good = "category,source,text\n10101,inspector,井盖缺失\n";
        assert_eq!(labelled_set(good).unwrap().len(), 1);
        let bad = "category,source,text\n10101,inspector,井盖缺失\n10101,radio,井盖\n";
        assert_eq!(labelled_set(bad).unwrap_err().field, "line 3");
        let rows = labelled_set(
            &std::iter::once("category,source,text".to_string())
                .chain((0..10).map(|i| format!("10101,photo,井盖{i}")))
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .unwrap();
        let (train, held_out) = split(&rows);
        assert_eq!((train.len(), held_out.len()), (8, 2));
        assert_eq!(held_out[0].text, "井盖4");
    }

    proptest! {
        /// Any text, learned or asked about, neither panics nor gives a confidence outside
        /// 0..=1 or more suggestions than asked.
        #[test]
        fn any_text_is_safe(learned in ".{0,40}", asked in ".{0,40}", limit in 0usize..5) {
            let mut trainer = trainer();
            trainer.add(&learned, &code("20299"));
            let model = trainer.train();
            let suggestions = model.suggest(&asked, |_| true, limit);
            prop_assert!(suggestions.len() <= limit);
            let total: f64 = suggestions.iter().map(|s| s.confidence).sum();
            prop_assert!(total <= 1.0 + 1e-9);
            for s in &suggestions {
                prop_assert!((0.0..=1.0).contains(&s.confidence));
                prop_assert!(s.words.len() <= 3);
            }
        }
    }
}
