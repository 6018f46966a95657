//! Appeals (申诉): a unit disputes what a case counted against it in the evaluation (late
//! handling, a rework), an evaluator decides, and an accepted appeal takes the count back.
//!
//! The ledger stays a pure function of the timeline. The appeal and the decision are timeline
//! events; the decision's [`LedgerChange`]s say which of the case's earlier entries it takes
//! back, so the store applies them in the decision's transaction and a recomputation from the
//! timeline ([`crate::evaluation::entries_of_timeline`]) applies the same changes at the same
//! point. The period a figure belongs to does not change: an accepted appeal moves the figures
//! of the days the counts were made on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::evaluation::{Counter, LedgerEntry};

/// What a unit disputes. The stored names never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealGround {
    /// 处置超时: the handling counted late or overdue (e.g. the unit was waiting on another's
    /// permit, or the deadline was wrongly set).
    LateHandling,
    /// 返工: a failed check counted as a rework against the unit.
    Rework,
}

impl AppealGround {
    pub const ALL: [AppealGround; 2] = [AppealGround::LateHandling, AppealGround::Rework];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealGround::LateHandling => "late_handling",
            AppealGround::Rework => "rework",
        }
    }

    pub fn parse(text: &str) -> Option<AppealGround> {
        AppealGround::ALL.into_iter().find(|g| g.as_str() == text)
    }

    pub fn zh(self) -> &'static str {
        match self {
            AppealGround::LateHandling => "处置超时",
            AppealGround::Rework => "返工",
        }
    }

    /// Whether `entries` (one case's ledger) count this ground against `unit`: what an
    /// appeal needs to be about.
    pub fn counted_against(self, unit: &str, entries: &[LedgerEntry]) -> bool {
        let of = |counter: Counter| {
            entries
                .iter()
                .filter(|e| e.counter == counter && e.unit.as_deref() == Some(unit))
                .count()
        };
        match self {
            AppealGround::LateHandling => {
                of(Counter::Handled) > of(Counter::HandledOnTime)
                    || of(Counter::OverdueUnhandled) > 0
                    || of(Counter::PartHandled) > of(Counter::PartHandledOnTime)
                    || of(Counter::PartOverdueUnhandled) > 0
            }
            AppealGround::Rework => of(Counter::Rework) > 0,
        }
    }

    /// What accepting an appeal on this ground takes back for `unit`.
    pub fn changes(self, unit: &str) -> Vec<LedgerChange> {
        let unit = unit.to_owned();
        match self {
            AppealGround::LateHandling => vec![
                LedgerChange::Mirror {
                    from: Counter::Handled,
                    to: Counter::HandledOnTime,
                    unit: unit.clone(),
                },
                LedgerChange::Withdraw {
                    counter: Counter::OverdueUnhandled,
                    unit: unit.clone(),
                },
                // The unit's assisting part, when the late handling was that.
                LedgerChange::Mirror {
                    from: Counter::PartHandled,
                    to: Counter::PartHandledOnTime,
                    unit: unit.clone(),
                },
                LedgerChange::Withdraw {
                    counter: Counter::PartOverdueUnhandled,
                    unit,
                },
            ],
            AppealGround::Rework => vec![LedgerChange::Withdraw {
                counter: Counter::Rework,
                unit,
            }],
        }
    }
}

/// An appeal on a case, numbered from 1 in the order filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appeal {
    pub number: u32,
    pub unit: String,
    pub ground: AppealGround,
    pub reason: String,
    pub filed_at: DateTime<Utc>,
    /// The user id of the unit's member of staff who filed it.
    pub filed_by: String,
    #[serde(default)]
    pub decision: Option<AppealDecision>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppealDecision {
    pub accepted: bool,
    pub opinion: String,
    pub at: DateTime<Utc>,
    /// The user id of the evaluator.
    pub by: String,
}

/// A change to one case's earlier ledger entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerChange {
    /// Every entry of `counter` for `unit` is withdrawn.
    Withdraw { counter: Counter, unit: String },
    /// Every entry of `from` for `unit` gets a twin of `to`, which replace the entries of `to`
    /// for `unit` (a handling counted late is counted on time, once).
    Mirror {
        from: Counter,
        to: Counter,
        unit: String,
    },
}

/// Applies `changes` to one case's entries, in order; twins go at the end, as the store
/// writes them with the decision.
pub fn apply_changes(entries: &mut Vec<LedgerEntry>, changes: &[LedgerChange]) {
    for change in changes {
        match change {
            LedgerChange::Withdraw { counter, unit } => {
                entries.retain(|e| !(e.counter == *counter && e.unit.as_deref() == Some(unit)));
            }
            LedgerChange::Mirror { from, to, unit } => {
                entries.retain(|e| !(e.counter == *to && e.unit.as_deref() == Some(unit)));
                let twins: Vec<LedgerEntry> = entries
                    .iter()
                    .filter(|e| e.counter == *from && e.unit.as_deref() == Some(unit))
                    .map(|e| LedgerEntry {
                        counter: *to,
                        ..e.clone()
                    })
                    .collect();
                entries.extend(twins);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaCode;
    use chrono::NaiveDate;

    fn entry(counter: Counter, unit: &str, day: u32) -> LedgerEntry {
        LedgerEntry {
            case_id: "c".into(),
            day: NaiveDate::from_ymd_opt(2026, 11, day).unwrap(),
            counter,
            area: AreaCode::parse("310101002001").unwrap(),
            unit_grid: None,
            unit: Some(unit.into()),
            user_id: Some("h1".into()),
            role: None,
        }
    }

    #[test]
    fn an_upheld_late_handling_counts_each_handling_on_time_once() {
        use Counter::*;
        // Handled late on the 3rd, reworked, handled on time on the 5th; overdue on the 2nd.
        let mut ledger = vec![
            entry(OverdueUnhandled, "ZLS", 2),
            entry(Handled, "ZLS", 3),
            entry(Rework, "ZLS", 4),
            entry(Handled, "ZLS", 5),
            entry(HandledOnTime, "ZLS", 5),
            entry(Handled, "GD", 5),
        ];
        assert!(AppealGround::LateHandling.counted_against("ZLS", &ledger));
        assert!(AppealGround::LateHandling.counted_against("GD", &ledger));
        assert!(!AppealGround::Rework.counted_against("GD", &ledger));
        apply_changes(&mut ledger, &AppealGround::LateHandling.changes("ZLS"));
        let on_time: Vec<(u32, &str)> = ledger
            .iter()
            .filter(|e| e.counter == HandledOnTime)
            .map(|e| (chrono::Datelike::day(&e.day), e.unit.as_deref().unwrap()))
            .collect();
        // On the days of the handlings, once each; the other unit untouched.
        assert_eq!(on_time, vec![(3, "ZLS"), (5, "ZLS")]);
        assert!(!ledger.iter().any(|e| e.counter == OverdueUnhandled));
        assert!(ledger.iter().any(|e| e.counter == Rework));
        assert!(!AppealGround::LateHandling.counted_against("ZLS", &ledger));
        apply_changes(&mut ledger, &AppealGround::Rework.changes("ZLS"));
        assert!(!AppealGround::Rework.counted_against("ZLS", &ledger));
        assert_eq!(ledger.len(), 5);
    }

    #[test]
    fn grounds_keep_their_stored_names() {
        for ground in AppealGround::ALL {
            assert_eq!(AppealGround::parse(ground.as_str()), Some(ground));
        }
        assert_eq!(AppealGround::LateHandling.as_str(), "late_handling");
    }
}
