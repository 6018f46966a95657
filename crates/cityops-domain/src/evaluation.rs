//! Evaluation of areas and units on the standard indicators (综合评价, GB/T 30428.4).
//!
//! Provisional until the evaluation work: only the indicators the case record already
//! supports (结案率 closing rate and 按期结案率 on-time closing rate), combined with the area
//! composite's weights for those two (0.30 and 0.40), rescaled to 100.

use serde::{Deserialize, Serialize};

/// Counts over one area and period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// 应结案数: cases filed in the period (and not cancelled).
    pub due: u32,
    /// 结案数.
    pub closed: u32,
    /// 按期结案数: closed without any stage finishing late.
    pub closed_on_time: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub closing_rate: f64,
    pub on_time_rate: f64,
    pub score: f64,
    pub grade: char,
}

/// Grade bands: A >= 90, B 75..90, C 60..75, D 40..60, E < 40.
pub fn grade(score: f64) -> char {
    match score {
        s if s >= 90.0 => 'A',
        s if s >= 75.0 => 'B',
        s if s >= 60.0 => 'C',
        s if s >= 40.0 => 'D',
        _ => 'E',
    }
}

impl Tally {
    /// `None` when nothing was due: an area without cases is not ranked.
    pub fn score(&self) -> Option<Score> {
        if self.due == 0 {
            return None;
        }
        let due = f64::from(self.due);
        let closing_rate = f64::from(self.closed) / due;
        let on_time_rate = f64::from(self.closed_on_time) / due;
        let score = 100.0 * (0.30 * closing_rate + 0.40 * on_time_rate) / 0.70;
        Some(Score {
            closing_rate,
            on_time_rate,
            score,
            grade: grade(score),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_combine_closing_and_on_time_rates_and_grade_by_band() {
        let all = Tally {
            due: 10,
            closed: 10,
            closed_on_time: 10,
        };
        assert_eq!(all.score().unwrap().grade, 'A');
        let half = Tally {
            due: 10,
            closed: 5,
            closed_on_time: 5,
        };
        assert!((half.score().unwrap().score - 50.0).abs() < 1e-9);
        assert_eq!(half.score().unwrap().grade, 'D');
        assert!(Tally::default().score().is_none());
        assert_eq!(grade(89.99), 'B');
    }
}
