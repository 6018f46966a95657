//! `GET /api/v1/stats`: the city screen's numbers for one area. The counting is the domain's
//! (`cityops_domain::stats`); this handler fetches the facts and maps the result to views.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use cityops_domain::case::start_of_local_day;
use cityops_domain::stats::{self, ranking_since};
use cityops_domain::AreaCode;
use cityops_store::AreaFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::views::{
    AreaRef, CategoryCount, ChildStats, RankingRow, SourceCount, StatsView, Totals,
};
use crate::wire::Wire;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(stats))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The area to summarise; the caller's whole jurisdiction by default.
    #[param(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    area: Option<String>,
}

/// The numbers of the city screen for one area: totals, per child area, today's intake,
/// top problems and the ranking of the child areas. Only the cases the caller may see count
/// (a unit handler's, their unit's).
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
    let facts = state.store.case_facts(&code, ranking_since(now)).await?;
    let catalog = state.store.catalog().await?;
    let summary = stats::summarise(
        &area,
        &children,
        &facts,
        &actor,
        now,
        start_of_local_day(now),
    );

    let category_counts = |counts: Vec<(String, u32)>| -> Vec<CategoryCount> {
        counts
            .into_iter()
            .map(|(code, count)| CategoryCount {
                zh: catalog
                    .as_ref()
                    .and_then(|c| c.small.iter().find(|s| s.code.as_str() == code))
                    .map_or_else(|| code.clone(), |s| s.zh.clone()),
                code,
                count,
            })
            .collect()
    };
    let name_of = |code: &AreaCode| {
        children
            .iter()
            .find(|child| child.code == *code)
            .map_or_else(String::new, |child| child.name.clone())
    };
    Ok(Json(StatsView {
        area: AreaRef {
            code: area.code.to_string(),
            name: area.name.clone(),
            level: Wire(area.level),
        },
        totals: Totals::from(summary.totals),
        by_child: summary
            .by_child
            .iter()
            .map(|(code, totals)| ChildStats {
                code: code.to_string(),
                name: name_of(code),
                totals: Totals::from(*totals),
            })
            .collect(),
        today_by_source: summary
            .today_by_source
            .iter()
            .map(|(source, count)| SourceCount {
                source: Wire(*source),
                count: *count,
            })
            .collect(),
        today_by_category: category_counts(summary.today_by_category),
        top_categories: category_counts(summary.top_categories),
        ranking: summary
            .ranking
            .iter()
            .map(|ranked| RankingRow {
                code: ranked.area.to_string(),
                name: name_of(&ranked.area),
                due: ranked.tally.due,
                closed: ranked.tally.closed,
                closing_rate: ranked.score.closing_rate,
                on_time_rate: ranked.score.on_time_rate,
                score: ranked.score.score,
                grade: ranked.score.grade.to_string(),
            })
            .collect(),
    }))
}
