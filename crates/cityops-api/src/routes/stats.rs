//! `/stats`: the city screen's statistics of an area: open, overdue and today's cases, per
//! child area, ranked.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use cityops_domain::evaluation::Tally;
use cityops_domain::{AreaCode, AreaLevel, CaseState};
use cityops_store::{AreaFilter, CaseFact};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::views::{
    AreaRef, CategoryCount, ChildStats, RankingRow, SourceCount, StatsView, Totals,
};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(stats))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The area to summarise; the caller's whole jurisdiction by default.
    area: Option<String>,
}

const RANKING_DAYS: i64 = 30;

/// The numbers of the city screen for one area: totals, per child area, today's intake,
/// top problems and the ranking of the child areas.
#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", params(StatsQuery),
    responses((status = 200, body = StatsView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    crate::extract::QueryArgs(query): crate::extract::QueryArgs<StatsQuery>,
) -> ApiResult<Json<StatsView>> {
    let code = match &query.area {
        Some(code) => AreaCode::parse(code).map_err(|e| ApiError::invalid("area", e.reason))?,
        None => actor.scope.clone(),
    };
    if !actor.can_see(&code) {
        return Err(ApiError::not_found("the area"));
    }
    let area = state
        .store
        .area(&code)
        .await?
        .ok_or_else(|| ApiError::not_found("the area"))?;
    let children = state
        .store
        .areas(&AreaFilter {
            parent: Some(code.clone()),
            level: None,
        })
        .await?;
    let now = Utc::now();
    let today = now
        .with_timezone(&cityops_domain::case::china_time())
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| {
            midnight
                .and_local_timezone(cityops_domain::case::china_time())
                .single()
        })
        .map_or(now, |t| t.with_timezone(&Utc));
    let facts = state
        .store
        .case_facts(&code, now - Duration::days(RANKING_DAYS))
        .await?;
    let catalog = state.store.catalog().await?;
    let category_name = |code: &str| {
        catalog
            .as_ref()
            .and_then(|c| c.small.iter().find(|s| s.code.as_str() == code))
            .map_or_else(|| code.to_owned(), |s| s.zh.clone())
    };

    let child_of = |fact: &CaseFact| -> Option<String> {
        let length = match area.level {
            AreaLevel::City => 6,
            AreaLevel::District => 9,
            AreaLevel::Street => 12,
            AreaLevel::Community => return None,
        };
        fact.area.as_str().get(..length).map(str::to_owned)
    };
    let mut totals = Totals::default();
    let mut per_child: BTreeMap<String, Totals> = BTreeMap::new();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_source: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut today_categories: BTreeMap<String, u32> = BTreeMap::new();
    let mut open_categories: BTreeMap<String, u32> = BTreeMap::new();
    for fact in &facts {
        let child = child_of(fact);
        let mut count = |add: &dyn Fn(&mut Totals)| {
            add(&mut totals);
            if let Some(child) = &child {
                add(per_child.entry(child.clone()).or_default());
            }
        };
        let open = !fact.state.is_terminal();
        if open {
            count(&|t| t.open += 1);
            let overdue =
                fact.state != CaseState::Suspended && fact.deadline.is_some_and(|d| now > d);
            if overdue {
                count(&|t| t.overdue += 1);
            }
            if fact.supervised {
                count(&|t| t.supervised += 1);
            }
            if fact.urgent {
                count(&|t| t.urgent += 1);
            }
            if let Some(category) = &fact.category {
                *open_categories.entry(category.clone()).or_default() += 1;
            }
        }
        if fact.created_at >= today {
            count(&|t| t.reported_today += 1);
            *by_source.entry(fact.source.as_str()).or_default() += 1;
            if let Some(category) = &fact.category {
                *today_categories.entry(category.clone()).or_default() += 1;
            }
        }
        let closed = fact.state == CaseState::Closed;
        if closed && fact.closed_at.is_some_and(|t| t >= today) {
            count(&|t| t.closed_today += 1);
        }
        let filed = !matches!(
            fact.state,
            CaseState::Reported
                | CaseState::Accepted
                | CaseState::Verifying
                | CaseState::Invalid
                | CaseState::Cancelled
        );
        if let (Some(child), true) = (&child, filed) {
            let tally = tallies.entry(child.clone()).or_default();
            tally.due += 1;
            if closed {
                tally.closed += 1;
                if fact.late_count == 0 {
                    tally.closed_on_time += 1;
                }
            }
        }
    }
    let top = |counts: BTreeMap<String, u32>| {
        let mut list: Vec<CategoryCount> = counts
            .into_iter()
            .map(|(code, count)| CategoryCount {
                zh: category_name(&code),
                code,
                count,
            })
            .collect();
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        list.truncate(10);
        list
    };
    let mut ranking: Vec<RankingRow> = children
        .iter()
        .filter_map(|child| {
            let tally = tallies.get(child.code.as_str())?;
            let score = tally.score()?;
            Some(RankingRow {
                code: child.code.to_string(),
                name: child.name.clone(),
                due: tally.due,
                closed: tally.closed,
                closing_rate: score.closing_rate,
                on_time_rate: score.on_time_rate,
                score: (score.score * 10.0).round() / 10.0,
                grade: score.grade.to_string(),
            })
        })
        .collect();
    ranking.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(Json(StatsView {
        area: AreaRef {
            code: area.code.to_string(),
            name: area.name.clone(),
            level: area.level.as_str().to_owned(),
        },
        totals,
        by_child: children
            .iter()
            .map(|child| ChildStats {
                code: child.code.to_string(),
                name: child.name.clone(),
                totals: per_child
                    .get(child.code.as_str())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
        today_by_source: by_source
            .into_iter()
            .map(|(source, count)| SourceCount {
                source: source.to_owned(),
                count,
            })
            .collect(),
        today_by_category: top(today_categories),
        top_categories: top(open_categories),
        ranking,
    }))
}
