//! The category catalogue: read it, and an admin's edit of one class, which moves the
//! catalogue's version.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::form::{ExtraField, FieldKind};
use cityops_domain::{CategoryCode, Role, StageTerms, Term, UnitKind, Urgency};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::views::{CatalogView, CategoryUpdate, CategoryView, TermBody};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/categories", get(catalog))
        .route("/categories/{code}", get(get_category).put(update_category))
        .route("/class-suggestions", get(class_suggestions))
}

async fn load(state: &AppState) -> ApiResult<cityops_domain::CategoryCatalog> {
    state.store.catalog().await?.ok_or_else(|| {
        ApiError::not_found(
            "the category catalogue (none is loaded; run cityops import categories)",
        )
    })
}

/// The standard component and event classification with stage deadlines.
#[utoipa::path(get, path = "/api/v1/categories", tag = "categories",
    responses((status = 200, body = CatalogView)))]
pub async fn catalog(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<CatalogView>> {
    Ok(Json(CatalogView::from(&load(&state).await?)))
}

#[utoipa::path(get, path = "/api/v1/categories/{code}", tag = "categories",
    params(("code" = String, Path, description = "5-digit small-class code", pattern = r"^[12]\d{4}$")),
    responses((status = 200, body = CategoryView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_category(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<Json<CategoryView>> {
    let code = CategoryCode::parse(&code)?;
    let catalog = load(&state).await?;
    let category = catalog
        .get(&code)
        .ok_or_else(|| ApiError::not_found("the category"))?;
    Ok(Json(CategoryView::from(category)))
}

/// Edit a small class (admin). The catalogue version changes; running cases keep the
/// terms they were filed under.
#[utoipa::path(put, path = "/api/v1/categories/{code}", tag = "categories",
    params(("code" = String, Path, description = "5-digit small-class code", pattern = r"^[12]\d{4}$")),
    request_body = CategoryUpdate,
    responses((status = 200, body = CategoryView), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_category(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(code): Path<String>,
    JsonBody(update): JsonBody<CategoryUpdate>,
) -> ApiResult<Json<CategoryView>> {
    if actor.role != Role::Admin {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may edit the category catalogue",
        ));
    }
    let code = CategoryCode::parse(&code)?;
    let _guard = state.catalog_lock.lock().await;
    let mut catalog = load(&state).await?;
    let category = catalog
        .small
        .iter_mut()
        .find(|c| c.code == code)
        .ok_or_else(|| ApiError::not_found("the category"))?;
    for (field, value) in [("zh", &update.zh), ("en", &update.en)] {
        if let Some(text) = value {
            if text.trim().is_empty() || text.chars().count() > 100 {
                return Err(ApiError::invalid(field, "a name has 1 to 100 characters"));
            }
        }
    }
    if let Some(zh) = update.zh {
        category.zh = zh;
    }
    if let Some(en) = update.en {
        category.en = en;
    }
    if let Some(urgency) = update.urgency.as_deref() {
        category.urgency = Urgency::parse(urgency)
            .ok_or_else(|| ApiError::invalid("urgency", "urgency must be normal or urgent"))?;
    }
    if let Some(kind) = update.unit_kind.as_deref() {
        category.unit_kind = UnitKind::parse(kind)
            .ok_or_else(|| ApiError::invalid("unit_kind", format!("unknown unit kind '{kind}'")))?;
    }
    let given = update.terms.unwrap_or_default();
    let term = |stage: &str, given: Option<TermBody>, current: Term| -> ApiResult<Term> {
        match given {
            Some(body) => body.to_term(&format!("terms.{stage}")),
            None => Ok(current),
        }
    };
    let terms = StageTerms {
        dispatch: term("dispatch", given.dispatch, category.terms.dispatch)?,
        handling: term("handling", given.handling, category.terms.handling)?,
        check: term("check", given.check, category.terms.check)?,
        callback: term("callback", given.callback, category.terms.callback)?,
    };
    terms.validate()?;
    if let Some(fields) = update.fields {
        let fields = fields
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                Ok(ExtraField {
                    kind: FieldKind::parse(&body.kind).ok_or_else(|| {
                        ApiError::invalid(
                            format!("fields[{i}].kind"),
                            "kind must be text, number, choice, date or photo",
                        )
                    })?,
                    key: body.key,
                    zh: body.zh,
                    en: body.en,
                    required: body.required,
                    choices: body
                        .choices
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| c.0)
                        .collect(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        cityops_domain::form::check_definitions(&fields)?;
        category.fields = fields;
    }
    category.terms = terms;
    let view = CategoryView::from(&*category);
    catalog.version = next_version(&catalog.version);
    state.store.put_catalog(&catalog).await?;
    Ok(Json(view))
}

/// `2026.1` -> `2026.1-e1` -> `2026.1-e2`: the shipped base stays visible.
fn next_version(version: &str) -> String {
    match version.rsplit_once("-e") {
        Some((base, n)) if n.parse::<u32>().is_ok() => {
            format!("{base}-e{}", n.parse::<u32>().unwrap_or(0) + 1)
        }
        _ => format!("{version}-e1"),
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestionQuery {
    /// The report's text as typed, in Chinese or English.
    #[param(min_length = 1, max_length = 2000)]
    text: String,
    /// At most this many classes (1 to 10, default 3).
    #[param(minimum = 1, maximum = 10)]
    limit: Option<u32>,
}

/// A suggested small class for a report's text.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ClassSuggestionView {
    /// 5-digit small-class code.
    #[schema(example = "10101")]
    pub category: String,
    pub zh: String,
    pub en: String,
    /// 0 to 1; the suggestions of one text sum to at most 1.
    pub confidence: f64,
    /// The words of the text that spoke most for the class, strongest first.
    pub words: Vec<String>,
}

/// The small classes a report's text most likely belongs to (any member of staff), most
/// likely first: learned from the labelled reports shipped with CityOps and from every
/// filing in the city since. Empty when the text has no word the model knows.
#[utoipa::path(get, path = "/api/v1/class-suggestions", tag = "categories",
    params(SuggestionQuery),
    responses((status = 200, body = Vec<ClassSuggestionView>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn class_suggestions(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<SuggestionQuery>,
) -> ApiResult<Json<Vec<ClassSuggestionView>>> {
    if actor.role == Role::Citizen {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "class suggestions are for staff",
        ));
    }
    let length = query.text.chars().count();
    if !(1..=2000).contains(&length) {
        return Err(ApiError::invalid("text", "a text has 1 to 2000 characters"));
    }
    let limit = query.limit.unwrap_or(3);
    if !(1..=10).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 10"));
    }
    let catalog = load(&state).await?;
    let suggestions = state.suggest_classes(
        &query.text,
        |code| catalog.get(code).is_some(),
        limit as usize,
    );
    Ok(Json(
        suggestions
            .into_iter()
            .filter_map(|s| {
                let class = catalog.get(&s.class)?;
                Some(ClassSuggestionView {
                    category: s.class.to_string(),
                    zh: class.zh.clone(),
                    en: class.en.clone(),
                    // Three decimals say all a person reads in it.
                    confidence: (s.confidence * 1000.0).round() / 1000.0,
                    words: s.words,
                })
            })
            .collect(),
    ))
}
