//! The administrative area tree: city > district > street/town > community.
//!
//! Codes are the national statistical division codes (GB/T 2260 and its extensions): 6 digits
//! for a county-level district, 9 for a street or town, 12 for a community. A city is named by
//! its 6-digit code ending in `0000` (Shanghai is `310000`).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::InvalidInput;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    City,
    District,
    Street,
    Community,
}

impl AreaLevel {
    /// From the top of the tree down.
    pub const ALL: [AreaLevel; 4] = [
        AreaLevel::City,
        AreaLevel::District,
        AreaLevel::Street,
        AreaLevel::Community,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::City => "city",
            AreaLevel::District => "district",
            AreaLevel::Street => "street",
            AreaLevel::Community => "community",
        }
    }

    pub fn parse(text: &str) -> Option<AreaLevel> {
        AreaLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
    }
}

impl AreaCode {
    pub fn parse(text: &str) -> Result<AreaCode, InvalidInput> {
        let valid_length = matches!(text.len(), 6 | 9 | 12);
        if !valid_length || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidInput::new(
                "area",
                format!("'{text}' is not an area code: expected 6 (district or city), 9 (street/town) or 12 (community) digits"),
            ));
        }
        Ok(AreaCode(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Beijing, Tianjin, Shanghai and Chongqing: their districts hang directly under the
    /// `XX0000` code; elsewhere a city is a prefecture, `XXYY00`.
    fn municipality(&self) -> bool {
        matches!(&self.0[..2], "11" | "12" | "31" | "50")
    }

    pub fn level(&self) -> AreaLevel {
        match self.0.len() {
            6 if self.0.ends_with("0000") => AreaLevel::City,
            6 if self.0.ends_with("00") && !self.municipality() => AreaLevel::City,
            6 => AreaLevel::District,
            9 => AreaLevel::Street,
            _ => AreaLevel::Community,
        }
    }

    /// The county-level district this area lies in; a city has none.
    pub fn district(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::City => None,
            _ => Some(AreaCode(self.0[..6].to_owned())),
        }
    }

    /// The 9-digit street or town, for a street or a community.
    pub fn street(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::Street | AreaLevel::Community => Some(AreaCode(self.0[..9].to_owned())),
            _ => None,
        }
    }

    /// The city of any area: `XX0000` for the four municipalities (Beijing, Tianjin, Shanghai,
    /// Chongqing), the prefecture `XXYY00` elsewhere.
    pub fn city(&self) -> AreaCode {
        if self.municipality() || self.0[2..6] == *"0000" {
            AreaCode(format!("{}0000", &self.0[..2]))
        } else {
            AreaCode(format!("{}00", &self.0[..4]))
        }
    }

    /// True when `other` lies in the subtree rooted at `self` (an area contains itself).
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0.starts_with(self.subtree_prefix())
    }

    /// The code prefix shared by every area of the subtree, for prefix queries.
    pub fn subtree_prefix(&self) -> &str {
        match self.level() {
            AreaLevel::City if self.0.ends_with("0000") => &self.0[..2],
            AreaLevel::City => &self.0[..4],
            _ => &self.0,
        }
    }

    /// The parent in the tree implied by the code itself.
    pub fn parent(&self) -> Option<AreaCode> {
        match self.level() {
            AreaLevel::City => None,
            AreaLevel::District => Some(self.city()),
            AreaLevel::Street => Some(AreaCode(self.0[..6].to_owned())),
            AreaLevel::Community => Some(AreaCode(self.0[..9].to_owned())),
        }
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = InvalidInput;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&value)
    }
}

impl From<AreaCode> for String {
    fn from(value: AreaCode) -> String {
        value.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
    pub level: AreaLevel,
    pub parent: Option<AreaCode>,
}

/// Why an area import was refused. Nothing of a refused file is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaImportError {
    #[error("line {line}: {reason}")]
    BadRow { line: u64, reason: String },
    #[error("the file has no header with the columns code, name and parent_code")]
    MissingColumns,
}

/// Parses an area list: CSV with the columns `code`, `name`, `parent_code` (a BOM is
/// tolerated because Excel writes one). Parents must appear in the file or in `known`,
/// and a code's parent must be its own prefix so the tree and the codes never disagree.
pub fn parse_area_csv(
    text: &str,
    known: &dyn Fn(&AreaCode) -> bool,
) -> Result<Vec<Area>, AreaImportError> {
    let mut reader = crate::csv_file::reader(text);
    let headers = reader
        .headers()
        .map_err(|_| AreaImportError::MissingColumns)?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(code_at), Some(name_at)) = (column("code"), column("name")) else {
        return Err(AreaImportError::MissingColumns);
    };
    let parent_at = column("parent_code").ok_or(AreaImportError::MissingColumns)?;
    let mut areas: Vec<Area> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in reader.records() {
        let record =
            record
                .map(crate::csv_file::unescape)
                .map_err(|e| AreaImportError::BadRow {
                    line: e.position().map_or(0, |p| p.line()),
                    reason: e.to_string(),
                })?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |reason: String| AreaImportError::BadRow { line, reason };
        let code = AreaCode::parse(record.get(code_at).unwrap_or("")).map_err(|e| bad(e.reason))?;
        let name = record.get(name_at).unwrap_or("").to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(bad("name must be 1 to 100 characters".into()));
        }
        let parent_text = record.get(parent_at).unwrap_or("");
        let parent = if parent_text.is_empty() {
            None
        } else {
            Some(AreaCode::parse(parent_text).map_err(|e| bad(e.reason))?)
        };
        if parent != code.parent() {
            return Err(bad(format!(
                "parent_code '{parent_text}' does not match the code '{code}' (expected {})",
                code.parent().map_or("none".to_owned(), |p| p.to_string())
            )));
        }
        if let Some(parent) = &parent {
            if !seen.contains(parent) && !known(parent) {
                return Err(bad(format!(
                    "parent {parent} is neither earlier in the file nor already loaded"
                )));
            }
        }
        if !seen.insert(code.clone()) {
            return Err(bad(format!("code {code} appears twice")));
        }
        areas.push(Area {
            level: code.level(),
            code,
            name,
            parent,
        });
    }
    Ok(areas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> AreaCode {
        AreaCode::parse(text).unwrap()
    }

    #[test]
    fn all_levels_run_from_the_city_down_to_the_community() {
        // The match is exhaustive: a new level does not compile until it has its place below
        // another, and then this fails until `ALL` lists it there too.
        let below = |level: AreaLevel| match level {
            AreaLevel::City => Some(AreaLevel::District),
            AreaLevel::District => Some(AreaLevel::Street),
            AreaLevel::Street => Some(AreaLevel::Community),
            AreaLevel::Community => None,
        };
        let tree: Vec<AreaLevel> =
            std::iter::successors(Some(AreaLevel::City), |l| below(*l)).collect();
        assert_eq!(tree, AreaLevel::ALL);
        assert!(AreaLevel::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        for level in AreaLevel::ALL {
            assert_eq!(AreaLevel::parse(level.as_str()), Some(level));
        }
    }

    #[test]
    fn levels_and_parents_follow_the_code() {
        assert_eq!(code("310000").level(), AreaLevel::City);
        assert_eq!(code("310101").level(), AreaLevel::District);
        assert_eq!(code("310101002").parent(), Some(code("310101")));
        assert_eq!(code("310101002001").street(), Some(code("310101002")));
        assert_eq!(code("310101").parent(), Some(code("310000")));
    }

    #[test]
    fn a_city_contains_its_districts_and_a_district_only_its_own_streets() {
        assert!(code("310000").contains(&code("310115001001")));
        assert!(!code("310000").contains(&code("320508")));
        assert!(code("310101").contains(&code("310101002")));
        assert!(!code("310101").contains(&code("310104002")));
    }

    #[test]
    fn area_codes_reject_other_lengths_and_letters() {
        assert!(AreaCode::parse("3101").is_err());
        assert!(AreaCode::parse("31010a").is_err());
    }

    #[test]
    fn a_prefecture_city_holds_its_districts() {
        assert_eq!(code("320500").level(), AreaLevel::City);
        assert_eq!(code("320508").level(), AreaLevel::District);
        assert_eq!(code("320508").parent(), Some(code("320500")));
        assert!(code("320500").contains(&code("320508001")));
        assert!(!code("320500").contains(&code("320102")));
        assert_eq!(code("320508001").city(), code("320500"));
        // Shanghai is a municipality: 310100 would be a district-level code under 310000.
        assert_eq!(code("310101").parent(), Some(code("310000")));
    }

    #[test]
    fn csv_import_checks_parents_and_duplicates() {
        let csv = "\u{feff}code,name,parent_code\n320500,苏州市,\n320508,姑苏区,320500\n";
        let areas = parse_area_csv(csv, &|_| false).unwrap();
        assert_eq!(areas.len(), 2);
        let orphan = "code,name,parent_code\n320508001,某街道,320508\n";
        assert!(matches!(
            parse_area_csv(orphan, &|_| false),
            Err(AreaImportError::BadRow { line: 2, .. })
        ));
        let twice = "code,name,parent_code\n320000,江苏,\n320000,江苏,\n";
        assert!(parse_area_csv(twice, &|_| false).is_err());
    }
}
