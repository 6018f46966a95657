//! `GET /api/v1/stats`: the city screen's numbers for one area. The counting is the domain's
//! (`cityops_domain::stats`); this handler fetches the facts and maps the result to views.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use cityops_domain::case::start_of_local_day;
use cityops_domain::stats;
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
/// top problems and the ranking of the child areas on the evaluation of the last 30 days.
/// Only the cases the caller may see count (a unit handler's, their unit's; their screen has
/// no ranking).
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
    let today = start_of_local_day(now);
    let facts = state.store.screen_facts(&code, now, today).await?;
    let catalog = state.store.catalog().await?;
    let summary = stats::summarise(&area, &children, &facts, &actor);

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
    let ranking = ranking(&state, &actor, &area, &children, now).await?;
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
        ranking,
    }))
}

/// The child areas ranked on the evaluation of the last 30 days (Beijing days, today
/// included): those with something due, best composite first, then by code. A unit handler's
/// screen has none: their jurisdiction is their unit's cases, not the areas'.
async fn ranking(
    state: &AppState,
    viewer: &cityops_domain::Actor,
    area: &cityops_domain::Area,
    children: &[cityops_domain::Area],
    now: chrono::DateTime<Utc>,
) -> ApiResult<Vec<RankingRow>> {
    use cityops_domain::evaluation::{day_of, rate, Counter, Indicator, Level, Subject};
    let level = match area.level {
        cityops_domain::AreaLevel::City => Level::District,
        cityops_domain::AreaLevel::District => Level::Street,
        cityops_domain::AreaLevel::Street => Level::Community,
        cityops_domain::AreaLevel::Community => return Ok(Vec::new()),
    };
    if viewer.role == cityops_domain::Role::UnitHandler {
        return Ok(Vec::new());
    }
    let to = day_of(now);
    let from = day_of(now - chrono::Duration::days(stats::RANKING_DAYS - 1));
    let figures = crate::routes::evaluation::subject_figures(state, level, from, to, |key| {
        children.iter().any(|c| c.code.as_str() == key)
    })
    .await?;
    let config = &state.config.evaluation;
    let days = u32::try_from(stats::RANKING_DAYS).unwrap_or(30);
    let mut rows: Vec<RankingRow> = figures
        .into_iter()
        .filter_map(|(subject, f)| {
            let Subject::Area { code } = &subject else {
                return None;
            };
            let code = code.clone();
            let rating = rate(subject, f, days, config);
            let score = rating.composite?;
            let name = children
                .iter()
                .find(|c| c.code.as_str() == code)
                .map_or_else(String::new, |c| c.name.clone());
            let value = |i: Indicator| rating.indicators.get(&i).copied().unwrap_or(0.0);
            Some(RankingRow {
                name,
                due: u32::try_from(
                    rating.figures.get(Counter::Handled)
                        + rating.figures.get(Counter::OverdueUnhandled),
                )
                .unwrap_or(u32::MAX),
                closed: u32::try_from(rating.figures.get(Counter::Closed)).unwrap_or(u32::MAX),
                closing_rate: value(Indicator::ClosingRate),
                on_time_rate: value(Indicator::OnTimeClosingRate),
                score,
                grade: rating.grade.clone().unwrap_or_default(),
                code,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(rows)
}
