//! `/evaluation`: the standard evaluation (综合评价) of areas, units and positions over a
//! period, ranked, as JSON, CSV (with a BOM, for Excel) or XLSX (a ranking sheet and a chart
//! sheet); and the cases behind any of its numbers.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use cityops_domain::evaluation::{
    period, rate, Counter, EvaluationConfig, Figures, Indicator, Level, Rating, Subject,
};
use cityops_domain::{Actor, AreaCode, AreaLevel, Role};
use cityops_store::{AreaFilter, UnitFilter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, QueryArgs};
use crate::views::CaseView;
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evaluation", get(evaluation))
        .route("/evaluation/cases", get(evaluation_cases))
}

/// Who reads the evaluation: evaluators and center leaders.
fn may_read(actor: &Actor) -> ApiResult<()> {
    if matches!(actor.role, Role::Evaluator | Role::CenterLeader) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "only evaluators and center leaders read the evaluation",
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    #[param(value_type = wire::EvaluationLevel)]
    level: String,
    /// The first day (Beijing time), inclusive.
    #[param(value_type = String, format = Date)]
    from: NaiveDate,
    /// The last day (Beijing time), inclusive; at most the configured longest period (366
    /// days by default) after `from`.
    #[param(value_type = String, format = Date)]
    to: NaiveDate,
    /// json (default), csv (UTF-8 with a BOM) or xlsx.
    #[param(pattern = "^(json|csv|xlsx)$")]
    format: Option<String>,
}

/// The evaluation of a level over a period.
#[derive(Serialize, ToSchema)]
pub struct EvaluationView {
    pub level: wire::EvaluationLevel,
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    pub days: u32,
    /// Rated subjects first, by composite, highest first; then those with nothing to hold
    /// them to.
    pub rows: Vec<EvaluationRow>,
    /// The composites' terms, as configured.
    pub weights: BTreeMap<String, Vec<WeightView>>,
}

/// One weighted term of a composite.
#[derive(Serialize, ToSchema)]
pub struct WeightView {
    pub indicator: wire::EvaluationIndicator,
    pub weight: f64,
    /// The term counts 1 − the indicator (a rate where less is better).
    pub complement: bool,
}

/// One subject's evaluation.
#[derive(Serialize, ToSchema)]
pub struct EvaluationRow {
    /// 1 for the highest composite; none when not rated.
    pub rank: Option<u32>,
    /// The area or grid code, the unit code, or the user id.
    pub key: String,
    /// The area's, unit's or person's name.
    pub name: String,
    /// A position's role.
    pub role: Option<wire::Role>,
    /// Every count of the period, by counter name.
    pub figures: BTreeMap<String, u64>,
    /// Every indicator with a value (0 to 1), by name.
    pub indicators: BTreeMap<String, f64>,
    /// 0 to 100.
    pub composite: Option<f64>,
    pub grade: Option<String>,
    /// The composite's indicators without a value (nothing was due).
    pub unmeasured: Vec<wire::EvaluationIndicator>,
}

fn parse_level(text: &str) -> ApiResult<Level> {
    Level::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "level",
            "level is district, street, community, grid, unit or position",
        )
    })
}

fn subject_key(subject: &Subject) -> (String, Option<Role>) {
    match subject {
        Subject::Area { code } | Subject::Grid { code } | Subject::Unit { code } => {
            (code.clone(), None)
        }
        Subject::Position { role, user_id } => (user_id.clone(), Some(*role)),
    }
}

/// The names of a level's subjects, and which of them the viewer may see.
struct Directory {
    names: HashMap<String, String>,
    /// Units' and people's jurisdictions, to keep the viewer to theirs.
    scopes: HashMap<String, AreaCode>,
}

async fn directory(state: &AppState, level: Level) -> ApiResult<Directory> {
    let mut names = HashMap::new();
    let mut scopes = HashMap::new();
    match level {
        Level::District | Level::Street | Level::Community => {
            let area_level = level.area_level().unwrap_or(AreaLevel::District);
            for area in state
                .store
                .areas(&AreaFilter {
                    parent: None,
                    level: Some(area_level),
                })
                .await?
            {
                names.insert(area.code.to_string(), area.name);
            }
        }
        Level::Grid => {}
        Level::Unit => {
            for unit in state
                .store
                .units(&UnitFilter {
                    retired: None,
                    ..UnitFilter::default()
                })
                .await?
            {
                scopes.insert(unit.code.clone(), unit.jurisdiction.clone());
                names.insert(unit.code, unit.name);
            }
        }
        Level::Position => {
            for user in state.store.users().await? {
                scopes.insert(user.id.clone(), user.scope.clone());
                names.insert(user.id, user.display_name);
            }
        }
    }
    Ok(Directory { names, scopes })
}

/// Whether the viewer may see a subject: an area or grid inside their jurisdiction, a unit
/// or person whose jurisdiction is.
fn visible(viewer: &Actor, level: Level, key: &str, dir: &Directory) -> bool {
    match level {
        Level::District | Level::Street | Level::Community => {
            AreaCode::parse(key).is_ok_and(|code| viewer.scope.contains(&code))
        }
        Level::Grid => key.starts_with(viewer.scope.subtree_prefix()),
        Level::Unit | Level::Position => dir
            .scopes
            .get(key)
            .is_some_and(|scope| viewer.scope.contains(scope)),
    }
}

/// The ratings of a level over a period, ranked, within the viewer's jurisdiction.
async fn ratings(
    state: &AppState,
    viewer: &Actor,
    level: Level,
    from: NaiveDate,
    to: NaiveDate,
    days: u32,
    config: &EvaluationConfig,
) -> ApiResult<(Vec<(Rating, String)>, Directory)> {
    let dir = directory(state, level).await?;
    let by_subject = subject_figures(state, level, from, to, |key| {
        visible(viewer, level, key, &dir)
    })
    .await?;
    let mut rated: Vec<(Rating, String)> = by_subject
        .into_iter()
        .map(|(subject, figures)| {
            let (key, _) = subject_key(&subject);
            let name = dir.names.get(&key).cloned().unwrap_or_else(|| key.clone());
            (rate(subject, figures, days, config), name)
        })
        .collect();
    rated.sort_by(|(a, an), (b, bn)| {
        b.composite
            .unwrap_or(-1.0)
            .total_cmp(&a.composite.unwrap_or(-1.0))
            .then_with(|| an.cmp(bn))
    });
    Ok((rated, dir))
}

/// The figures of each subject of `level` over the days `from..=to` whose key `keep` admits,
/// from the ledger's sums.
pub(crate) async fn subject_figures(
    state: &AppState,
    level: Level,
    from: NaiveDate,
    to: NaiveDate,
    keep: impl Fn(&str) -> bool,
) -> ApiResult<BTreeMap<Subject, Figures>> {
    let mut by_subject: BTreeMap<Subject, Figures> = BTreeMap::new();
    for sum in state.store.ledger_sums(level, from, to).await? {
        if !keep(&sum.key) {
            continue;
        }
        let subject = match level {
            Level::District | Level::Street | Level::Community => Subject::Area { code: sum.key },
            Level::Grid => Subject::Grid { code: sum.key },
            Level::Unit => Subject::Unit { code: sum.key },
            Level::Position => match sum.role {
                Some(role) => Subject::Position {
                    role,
                    user_id: sum.key,
                },
                None => continue,
            },
        };
        by_subject
            .entry(subject)
            .or_default()
            .add(sum.counter, sum.n);
    }
    Ok(by_subject)
}

fn view(rank: Option<u32>, rating: &Rating, name: &str) -> EvaluationRow {
    let (key, role) = subject_key(&rating.subject);
    EvaluationRow {
        rank,
        key,
        name: name.to_owned(),
        role: role.map(Wire),
        figures: rating
            .figures
            .0
            .iter()
            .map(|(c, n)| (c.as_str().to_owned(), *n))
            .collect(),
        indicators: rating
            .indicators
            .iter()
            .map(|(i, v)| (i.as_str().to_owned(), (v * 10_000.0).round() / 10_000.0))
            .collect(),
        composite: rating.composite,
        grade: rating.grade.clone(),
        unmeasured: rating.unmeasured.iter().copied().map(Wire).collect(),
    }
}

fn weights(config: &EvaluationConfig) -> BTreeMap<String, Vec<WeightView>> {
    [
        ("area", &config.area),
        ("unit", &config.unit),
        ("inspector", &config.inspector),
        ("operator", &config.operator),
        ("shift_lead", &config.shift_lead),
        ("dispatcher", &config.dispatcher),
        ("unit_handler", &config.unit_handler),
    ]
    .into_iter()
    .map(|(name, terms)| {
        (
            name.to_owned(),
            terms
                .iter()
                .map(|t| WeightView {
                    indicator: Wire(t.indicator),
                    weight: t.weight,
                    complement: t.complement,
                })
                .collect(),
        )
    })
    .collect()
}

/// The evaluation of a level over a period: each subject's counts, indicators, composite
/// (0 to 100) and grade, ranked. Areas and grids within the caller's jurisdiction; units and
/// people whose jurisdiction lies within it. `format=csv` (UTF-8 with a BOM) or `xlsx` (a
/// ranking sheet and a chart sheet) for a spreadsheet.
#[utoipa::path(get, path = "/api/v1/evaluation", tag = "evaluation", params(EvaluationQuery),
    responses(
        (status = 200, content((EvaluationView = "application/json"), (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = crate::error::ErrorBody),
        (status = 422, description = "a bad level, or a period whose from is after its to (invalid_period) or longer than the longest", body = crate::error::ErrorBody)))]
pub async fn evaluation(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<EvaluationQuery>,
) -> ApiResult<Response> {
    may_read(&actor)?;
    let level = parse_level(&query.level)?;
    let config = &state.config.evaluation;
    let days = checked_period(query.from, query.to, config)?;
    let (rated, _) = ratings(&state, &actor, level, query.from, query.to, days, config).await?;
    let mut rows = Vec::with_capacity(rated.len());
    let mut rank = 0;
    for (rating, name) in &rated {
        let place = rating.composite.map(|_| {
            rank += 1;
            rank
        });
        rows.push(view(place, rating, name));
    }
    let answer = EvaluationView {
        level: Wire(level),
        from: query.from,
        to: query.to,
        days,
        rows,
        weights: weights(config),
    };
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(answer).into_response()),
        Some("csv") => csv(&answer),
        Some("xlsx") => crate::xlsx::evaluation(&answer),
        Some(_) => Err(ApiError::invalid("format", "format is json, csv or xlsx")),
    }
}

fn checked_period(from: NaiveDate, to: NaiveDate, config: &EvaluationConfig) -> ApiResult<u32> {
    period(from, to, config).map_err(|e| {
        if e.fault == cityops_domain::InputFault::Inconsistent {
            ApiError::rule(ErrorCode::InvalidPeriod, e.field, e.reason)
        } else {
            ApiError::rule(ErrorCode::InvalidPeriod, "to", e.reason)
        }
    })
}

/// The columns of the spreadsheets: rank, key, name, role, grade, composite, then every
/// indicator and every count.
pub(crate) fn table(answer: &EvaluationView) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = ["rank", "key", "name", "role", "grade", "composite"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    header.extend(Indicator::ALL.iter().map(|i| i.as_str().to_owned()));
    header.extend(Counter::ALL.iter().map(|c| c.as_str().to_owned()));
    let rows = answer
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.rank.map(|n| n.to_string()).unwrap_or_default(),
                r.key.clone(),
                r.name.clone(),
                r.role.map(|w| w.0.as_str().to_owned()).unwrap_or_default(),
                r.grade.clone().unwrap_or_default(),
                r.composite.map(|c| format!("{c:.2}")).unwrap_or_default(),
            ];
            row.extend(Indicator::ALL.iter().map(|i| {
                r.indicators
                    .get(i.as_str())
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_default()
            }));
            row.extend(
                Counter::ALL
                    .iter()
                    .map(|c| r.figures.get(c.as_str()).copied().unwrap_or(0).to_string()),
            );
            row
        })
        .collect();
    (header, rows)
}

fn csv(answer: &EvaluationView) -> ApiResult<Response> {
    let (header, rows) = table(answer);
    let mut out = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    let csv_error = |e: csv::Error| ApiError::internal(e);
    out.write_record(&header).map_err(csv_error)?;
    for row in rows {
        cityops_domain::csv_file::write_row(&mut out, row).map_err(csv_error)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"evaluation-{}-{}-{}.csv\"",
                    answer.level.0.as_str(),
                    answer.from,
                    answer.to
                ),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    #[param(value_type = wire::EvaluationLevel)]
    level: String,
    /// The subject: an area or grid code, a unit code, or a user id.
    key: String,
    /// For a position: the role the person is rated in.
    #[param(value_type = Option<wire::Role>)]
    role: Option<String>,
    #[param(value_type = wire::EvaluationCounter)]
    counter: String,
    /// Only the cases without an entry of this counter too: `counter=handled&except=
    /// handled_on_time` gives the cases handled late.
    #[param(value_type = Option<wire::EvaluationCounter>)]
    except: Option<String>,
    #[param(value_type = String, format = Date)]
    from: NaiveDate,
    #[param(value_type = String, format = Date)]
    to: NaiveDate,
}

/// The cases behind one number of the evaluation: those whose steps in the period count in
/// `counter` for the subject (and, with `except`, not in that counter too), at most 500, in
/// case order.
#[utoipa::path(get, path = "/api/v1/evaluation/cases", tag = "evaluation", params(DrillQuery),
    responses((status = 200, body = Vec<CaseView>), (status = 403, body = crate::error::ErrorBody),
        (status = 404, description = "a subject outside the caller's jurisdiction", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn evaluation_cases(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<DrillQuery>,
) -> ApiResult<Json<Vec<CaseView>>> {
    may_read(&actor)?;
    let level = parse_level(&query.level)?;
    let counter = Counter::parse(&query.counter)
        .ok_or_else(|| ApiError::invalid("counter", "not one of the evaluation's counters"))?;
    checked_period(query.from, query.to, &state.config.evaluation)?;
    let dir = directory(&state, level).await?;
    if !visible(&actor, level, &query.key, &dir) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no such subject within your jurisdiction",
        ));
    }
    let role = query
        .role
        .as_deref()
        .map(|r| Role::parse(r).ok_or_else(|| ApiError::invalid("role", "not a role")))
        .transpose()?;
    let except = query
        .except
        .as_deref()
        .map(|c| {
            Counter::parse(c)
                .ok_or_else(|| ApiError::invalid("except", "not one of the evaluation's counters"))
        })
        .transpose()?;
    let ids = state
        .store
        .ledger_cases(&cityops_store::LedgerCases {
            level,
            key: query.key.clone(),
            role,
            counter,
            except,
            from: query.from,
            to: query.to,
            limit: 500,
        })
        .await?;
    let calendar = state.working_calendar().await?;
    let now = chrono::Utc::now();
    let mut cases = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(case) = state.store.case(&id).await? {
            if actor.can_see_case(&case) {
                cases.push(CaseView::timed(
                    &case,
                    now,
                    &actor,
                    &calendar,
                    state.config.deadline_warning_share,
                ));
            }
        }
    }
    Ok(Json(cases))
}
