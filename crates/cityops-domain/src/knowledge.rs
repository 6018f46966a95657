//! The hotline's knowledge base (知识库): articles an operator answers a caller's enquiry
//! (咨询) from, edited by admins and found by their words; and the record of an enquiry
//! answered on the call, which is no case.
//!
//! Chinese is written without spaces, so the words of a text are, as in Lucene's CJK analyser,
//! the overlapping pairs of characters of each run of CJK characters (垃圾分类 gives 垃圾, 圾分,
//! 分类) and, elsewhere, each run of letters or digits in lower case. Articles are ranked by
//! BM25 over those words, the title and keywords weighing more than the body.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::area::AreaCode;
use crate::InvalidInput;

pub const MAX_TITLE: usize = 100;
pub const MAX_BODY: usize = 5000;
pub const MAX_KEYWORDS: usize = 12;
pub const MAX_KEYWORD: usize = 20;
/// An enquiry's question and the answer given: a few sentences each.
pub const MAX_ENQUIRY_TEXT: usize = 1000;
/// Articles an answer may cite.
pub const MAX_CITED: usize = 5;

/// What an admin writes: the article without its bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: String,
    #[serde(flatten)]
    pub draft: ArticleDraft,
    /// One more with each edit; an edit names the version it saw.
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

fn needed(field: &str, text: &str, max: usize) -> Result<(), InvalidInput> {
    if text.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    // Spaces alone pass the published pattern (`\S`) when they are spaces JSON Schema's
    // regular expressions do not know (U+0085): a rule beyond the schema's.
    if text.trim().is_empty() {
        return Err(InvalidInput::inconsistent(
            field,
            "holds nothing but spaces",
        ));
    }
    if text.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(())
}

impl ArticleDraft {
    /// The draft with its texts trimmed, or the first field that is wrong.
    pub fn checked(mut self) -> Result<ArticleDraft, InvalidInput> {
        needed("title", &self.title, MAX_TITLE)?;
        needed("body", &self.body, MAX_BODY)?;
        if self.keywords.len() > MAX_KEYWORDS {
            return Err(InvalidInput::new(
                "keywords",
                format!("at most {MAX_KEYWORDS} keywords"),
            ));
        }
        for (i, keyword) in self.keywords.iter().enumerate() {
            // The published schema cannot bound a list's items: a rule beyond it.
            needed(&format!("keywords[{i}]"), keyword, MAX_KEYWORD)
                .map_err(|e| InvalidInput::inconsistent(e.field, e.reason))?;
        }
        self.title = self.title.trim().to_owned();
        self.body = self.body.trim().to_owned();
        let mut seen = BTreeSet::new();
        self.keywords = self
            .keywords
            .iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| seen.insert(k.clone()))
            .collect();
        Ok(self)
    }
}

pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// The words of a text (see the module's note): CJK character pairs (a lone CJK character is
/// a word of one), and runs of letters and digits in lower case.
pub fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut cjk: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_cjk = |cjk: &mut Vec<char>, terms: &mut Vec<String>| {
        match cjk.len() {
            0 => {}
            1 => terms.push(cjk[0].to_string()),
            _ => terms.extend(cjk.windows(2).map(|pair| pair.iter().collect())),
        }
        cjk.clear();
    };
    let flush_word = |word: &mut String, terms: &mut Vec<String>| {
        if !word.is_empty() {
            terms.push(std::mem::take(word));
        }
    };
    for c in text.chars() {
        if is_cjk(c) {
            flush_word(&mut word, &mut terms);
            cjk.push(c);
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk, &mut terms);
            word.extend(c.to_lowercase());
        } else {
            flush_cjk(&mut cjk, &mut terms);
            flush_word(&mut word, &mut terms);
        }
    }
    flush_cjk(&mut cjk, &mut terms);
    flush_word(&mut word, &mut terms);
    terms
}

/// How much a word found in each part of an article weighs.
const TITLE_WEIGHT: f64 = 3.0;
const KEYWORD_WEIGHT: f64 = 3.0;
const BODY_WEIGHT: f64 = 1.0;
/// BM25's usual constants.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// The articles that share a word with `query`, best first (ties by title), at most `limit`,
/// each with its score.
pub fn search<'a>(articles: &'a [Article], query: &str, limit: usize) -> Vec<(&'a Article, f64)> {
    let wanted: BTreeSet<String> = terms(query).into_iter().collect();
    if wanted.is_empty() || articles.is_empty() {
        return Vec::new();
    }
    // Each article as weighted word counts.
    let documents: Vec<HashMap<String, f64>> = articles
        .iter()
        .map(|article| {
            let mut counts: HashMap<String, f64> = HashMap::new();
            let mut add = |text: &str, weight: f64| {
                for term in terms(text) {
                    *counts.entry(term).or_default() += weight;
                }
            };
            add(&article.draft.title, TITLE_WEIGHT);
            for keyword in &article.draft.keywords {
                add(keyword, KEYWORD_WEIGHT);
            }
            add(&article.draft.body, BODY_WEIGHT);
            counts
        })
        .collect();
    let lengths: Vec<f64> = documents.iter().map(|d| d.values().sum()).collect();
    let average = lengths.iter().sum::<f64>() / lengths.len() as f64;
    let n = documents.len() as f64;
    let mut ranked: Vec<(&Article, f64)> = articles
        .iter()
        .zip(&documents)
        .zip(&lengths)
        .filter_map(|((article, counts), length)| {
            let score: f64 = wanted
                .iter()
                .filter_map(|term| {
                    let tf = *counts.get(term)?;
                    let df = documents.iter().filter(|d| d.contains_key(term)).count() as f64;
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    Some(idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average)))
                })
                .sum();
            (score > 0.0).then_some((article, score))
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.draft.title.cmp(&b.0.draft.title))
    });
    ranked.truncate(limit);
    ranked
}

/// An enquiry answered on the call (咨询): what was asked and answered, from which articles,
/// for which area if the caller named one. It keeps no contact: nobody calls back about an
/// answered question, so none is taken. Its texts are stored masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enquiry {
    pub id: String,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub articles: Vec<String>,
    #[serde(default)]
    pub area: Option<AreaCode>,
    pub taken_by: String,
    pub at: DateTime<Utc>,
}

impl Enquiry {
    /// Checks the texts and the cited articles, and masks any personal data in the texts (a
    /// phone number the operator typed stays out of the record).
    pub fn checked(mut self) -> Result<Enquiry, InvalidInput> {
        needed("question", &self.question, MAX_ENQUIRY_TEXT)?;
        needed("answer", &self.answer, MAX_ENQUIRY_TEXT)?;
        if self.articles.len() > MAX_CITED {
            return Err(InvalidInput::new(
                "articles",
                format!("an answer cites at most {MAX_CITED} articles"),
            ));
        }
        for text in [&mut self.question, &mut self.answer] {
            *text = text.trim().to_owned();
            if let Some(masked) = crate::personal_text::mask_personal_text(text) {
                *text = masked;
            }
        }
        let mut seen = BTreeSet::new();
        self.articles.retain(|id| seen.insert(id.clone()));
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(id: &str, title: &str, keywords: &[&str], body: &str) -> Article {
        Article {
            id: id.into(),
            draft: ArticleDraft {
                title: title.into(),
                body: body.into(),
                keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            },
            version: 1,
            updated_by: "admin".into(),
            updated_at: DateTime::<Utc>::MIN_UTC,
        }
    }

    #[test]
    fn chinese_runs_give_character_pairs_and_other_runs_words() {
        assert_eq!(
            terms("垃圾分类, Wet waste 8点"),
            ["垃圾", "圾分", "分类", "wet", "waste", "8", "点"]
        );
        assert_eq!(terms("噪"), ["噪"]);
        assert!(terms("，。 !").is_empty());
    }

    #[test]
    fn the_article_about_the_question_comes_first() {
        let articles = [
            article(
                "a",
                "生活垃圾分类投放时间",
                &["垃圾分类", "湿垃圾"],
                "居民区湿垃圾定时定点投放：每天7:00-9:00、18:00-20:00。",
            ),
            article(
                "b",
                "夜间施工噪音投诉受理范围",
                &["噪音", "夜间施工"],
                "22:00至次日6:00，未经许可的施工可投诉。",
            ),
            article(
                "c",
                "占道经营的处理",
                &["占道经营", "摊贩"],
                "由城管执法部门处理。",
            ),
        ];
        let found = search(&articles, "晚上施工太吵了，噪音能投诉吗", 5);
        assert_eq!(found[0].0.id, "b", "{found:?}");
        let found = search(&articles, "湿垃圾几点可以扔", 5);
        assert_eq!(found[0].0.id, "a", "{found:?}");
        assert!(search(&articles, "护照办理", 5).is_empty());
        assert!(search(&articles, "  ", 5).is_empty());
        assert_eq!(search(&articles, "处理 投诉 垃圾", 1).len(), 1);
    }

    #[test]
    fn a_draft_is_trimmed_and_its_keywords_unique() {
        let draft = ArticleDraft {
            title: " 标题 ".into(),
            body: "正文".into(),
            keywords: vec![" 噪音".into(), "噪音".into()],
        }
        .checked()
        .unwrap();
        assert_eq!((draft.title.as_str(), draft.keywords.len()), ("标题", 1));
        let blank = ArticleDraft {
            title: "\u{3000}".into(),
            body: "正文".into(),
            keywords: vec![],
        };
        assert_eq!(blank.checked().unwrap_err().field, "title");
    }

    #[test]
    fn an_enquiry_keeps_no_phone_number_in_its_texts() {
        let enquiry = Enquiry {
            id: "e".into(),
            question: "我的电话13812345678，想问垃圾投放时间".into(),
            answer: "每天7点到9点".into(),
            articles: vec!["a".into(), "a".into()],
            area: None,
            taken_by: "operator".into(),
            at: DateTime::<Utc>::MIN_UTC,
        }
        .checked()
        .unwrap();
        assert!(!enquiry.question.contains("13812345678"));
        assert_eq!(enquiry.articles, ["a"]);
    }
}
