//! The hotline's knowledge base (知识库) and the enquiries (咨询) answered from it: staff
//! search the articles, admins write them, operators and shift leads record an enquiry
//! answered on the call (no case, no contact kept).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use cityops_domain::knowledge::{self, Article, ArticleDraft, Enquiry};
use cityops_domain::{Actor, AreaCode, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/knowledge", get(search_articles).post(create_article))
        .route(
            "/knowledge/{id}",
            put(update_article).delete(delete_article),
        )
        .route("/enquiries", get(list_enquiries).post(record_enquiry))
}

fn only_admins(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "only an admin edits the knowledge base",
    ))
}

/// Who answers callers: operators and shift leads (and admins, who read the record).
fn hotline_staff(actor: &Actor, admins_too: bool) -> ApiResult<()> {
    let allowed = matches!(actor.role, Role::Operator | Role::ShiftLead)
        || (admins_too && actor.role == Role::Admin);
    if allowed {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "only operators and shift leads take enquiries",
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ArticleView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub keywords: Vec<String>,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    /// How well the article matches the search (BM25); none when listing.
    pub score: Option<f64>,
}

impl ArticleView {
    fn of(article: &Article, score: Option<f64>) -> ArticleView {
        ArticleView {
            id: article.id.clone(),
            title: article.draft.title.clone(),
            body: article.draft.body.clone(),
            keywords: article.draft.keywords.clone(),
            version: article.version,
            updated_by: article.updated_by.clone(),
            updated_at: article.updated_at,
            score,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeQuery {
    /// Words of the caller's question, in Chinese or English; without it, every article by
    /// title.
    #[param(min_length = 1, max_length = 200)]
    q: Option<String>,
    /// At most this many articles found (1 to 50, default 10).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// Search the knowledge base (any member of staff): the articles sharing words with `q`, best
/// first; or every article by title.
#[utoipa::path(get, path = "/api/v1/knowledge", tag = "knowledge", params(KnowledgeQuery),
    responses((status = 200, body = Vec<ArticleView>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn search_articles(
    State(state): State<AppState>,
    CurrentUser(_actor): CurrentUser,
    QueryArgs(query): QueryArgs<KnowledgeQuery>,
) -> ApiResult<Json<Vec<ArticleView>>> {
    // Checked before anything is read, so a limit out of range is refused with or without `q`.
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 50"));
    }
    let articles = state.store.articles().await?;
    let Some(q) = &query.q else {
        return Ok(Json(
            articles.iter().map(|a| ArticleView::of(a, None)).collect(),
        ));
    };
    if q.is_empty() || q.chars().count() > 200 {
        return Err(ApiError::invalid("q", "a search has 1 to 200 characters"));
    }
    Ok(Json(
        knowledge::search(&articles, q, limit as usize)
            .into_iter()
            .map(|(article, score)| ArticleView::of(article, Some(score)))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    #[schema(max_length = 100, pattern = r"\S", example = "生活垃圾分类投放时间")]
    pub title: String,
    #[schema(max_length = 5000, pattern = r"\S")]
    pub body: String,
    /// At most 12, each at most 20 characters: words callers use that the text may not.
    #[schema(max_items = 12)]
    pub keywords: Option<Vec<String>>,
    /// For an edit: the version the admin saw (a stale one is 409).
    pub version: Option<i64>,
}

impl ArticleBody {
    fn draft(self) -> ApiResult<(ArticleDraft, Option<i64>)> {
        let draft = ArticleDraft {
            title: self.title,
            body: self.body,
            keywords: self.keywords.unwrap_or_default(),
        }
        .checked()?;
        Ok((draft, self.version))
    }
}

/// Add an article (admins).
#[utoipa::path(post, path = "/api/v1/knowledge", tag = "knowledge", request_body = ArticleBody,
    responses((status = 201, body = ArticleView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_article(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(body): JsonBody<ArticleBody>,
) -> ApiResult<(StatusCode, Json<ArticleView>)> {
    only_admins(&actor)?;
    let (draft, version) = body.draft()?;
    if version.is_some() {
        return Err(ApiError::rule(
            ErrorCode::InconsistentFields,
            "version",
            "a new article has no version yet",
        ));
    }
    let article = Article {
        id: crate::routes::cases::new_id(),
        draft,
        version: 1,
        updated_by: actor.username.clone(),
        updated_at: Utc::now(),
    };
    state.store.create_article(&article).await?;
    Ok((StatusCode::CREATED, Json(ArticleView::of(&article, None))))
}

/// Change an article (admins), naming the version seen.
#[utoipa::path(put, path = "/api/v1/knowledge/{id}", tag = "knowledge", request_body = ArticleBody,
    params(("id" = String, Path, description = "Article id")),
    responses((status = 200, body = ArticleView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_article(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ArticleBody>,
) -> ApiResult<Json<ArticleView>> {
    only_admins(&actor)?;
    let (draft, version) = body.draft()?;
    let version = version.ok_or_else(|| {
        ApiError::rule(
            ErrorCode::InconsistentFields,
            "version",
            "an edit names the version it changes",
        )
    })?;
    let article = Article {
        id,
        draft,
        version: version.saturating_add(1),
        updated_by: actor.username.clone(),
        updated_at: Utc::now(),
    };
    if !state.store.update_article(&article).await? {
        return Err(ApiError::not_found("the article"));
    }
    Ok(Json(ArticleView::of(&article, None)))
}

/// Delete an article (admins). Enquiries that cited it keep its id.
#[utoipa::path(delete, path = "/api/v1/knowledge/{id}", tag = "knowledge",
    params(("id" = String, Path, description = "Article id")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_article(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    only_admins(&actor)?;
    if !state.store.delete_article(&id).await? {
        return Err(ApiError::not_found("the article"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnquiryBody {
    /// What the caller asked (masked before it is kept).
    #[schema(
        max_length = 1000,
        pattern = r"\S",
        example = "湿垃圾每天几点可以投放？"
    )]
    pub question: String,
    /// What the operator answered.
    #[schema(
        max_length = 1000,
        pattern = r"\S",
        example = "每天7:00-9:00、18:00-20:00定时定点投放。"
    )]
    pub answer: String,
    /// The ids of the articles the answer came from (at most 5).
    #[schema(max_items = 5)]
    pub articles: Option<Vec<String>>,
    /// The area the question was about, if the caller named one.
    #[schema(pattern = "^[0-9]{6}([0-9]{3}){0,2}$")]
    pub area: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EnquiryView {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub articles: Vec<String>,
    pub area: Option<String>,
    pub taken_by: String,
    pub at: DateTime<Utc>,
}

impl From<&Enquiry> for EnquiryView {
    fn from(e: &Enquiry) -> EnquiryView {
        EnquiryView {
            id: e.id.clone(),
            question: e.question.clone(),
            answer: e.answer.clone(),
            articles: e.articles.clone(),
            area: e.area.as_ref().map(ToString::to_string),
            taken_by: e.taken_by.clone(),
            at: e.at,
        }
    }
}

/// Record an enquiry answered on the call (operators and shift leads): no case is opened and
/// no contact is kept; a phone number or ID number typed into the texts is masked.
///
/// With an `Idempotency-Key`, as for a report: the same key from the same caller with the
/// same body answers the enquiry the first request recorded (201, the same body), never a
/// second; the same key with another body is refused with `idempotency_key_reused`.
#[utoipa::path(post, path = "/api/v1/enquiries", tag = "knowledge", request_body = EnquiryBody,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,128}$",
        description = "Makes the record safe to repeat: 1 to 128 visible ASCII characters, new for each enquiry.")),
    responses((status = 201, body = EnquiryView), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn record_enquiry(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    headers: axum::http::HeaderMap,
    crate::extract::HashedJsonBody(body, body_hash): crate::extract::HashedJsonBody<EnquiryBody>,
) -> ApiResult<(StatusCode, Json<EnquiryView>)> {
    hotline_staff(&actor, false)?;
    // A key of its own namespace: the same key names a case report and an enquiry apart.
    let key = crate::routes::cases::idempotency_key(&headers)?.map(|k| format!("enquiry:{k}"));
    let kept_since = Utc::now() - chrono::Duration::days(state.config.idempotency_key_days);
    if let Some(key) = &key {
        if let Some(record) = state
            .store
            .idempotency_key(&actor.user_id, key, kept_since)
            .await?
        {
            return repeated_enquiry(&state, &record, &body_hash).await;
        }
    }
    let area = match body.area.as_deref() {
        Some(code) => {
            let code = AreaCode::parse(code).map_err(|e| ApiError::invalid("area", e.reason))?;
            if !actor.can_see(&code) || state.store.area(&code).await?.is_none() {
                return Err(ApiError::rule(
                    ErrorCode::UnknownReference,
                    "area",
                    "no such area within your jurisdiction",
                ));
            }
            Some(code)
        }
        None => None,
    };
    let articles = body.articles.unwrap_or_default();
    for (i, id) in articles.iter().enumerate() {
        if state.store.article(id).await?.is_none() {
            return Err(ApiError::rule(
                ErrorCode::UnknownReference,
                format!("articles[{i}]"),
                "no article has this id",
            ));
        }
    }
    let enquiry = Enquiry {
        id: crate::routes::cases::new_id(),
        question: body.question,
        answer: body.answer,
        articles,
        area,
        taken_by: actor.username.clone(),
        at: Utc::now(),
    }
    .checked()?;
    let claim = key
        .as_ref()
        .map(|key| cityops_store::CaseClaim::IdempotencyKey {
            caller: actor.user_id.clone(),
            key: key.clone(),
            body_hash: body_hash.clone(),
            at: enquiry.at,
            expired_before: kept_since,
        });
    match state.store.insert_enquiry(&enquiry, claim.as_ref()).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(EnquiryView::from(&enquiry)))),
        // A request with the same key committed first: answer its enquiry.
        Err(cityops_store::StoreError::Claimed) => {
            let record = state
                .store
                .idempotency_key(
                    &actor.user_id,
                    key.as_deref().unwrap_or_default(),
                    kept_since,
                )
                .await?
                .ok_or_else(|| ApiError::internal("a claimed idempotency key is not stored"))?;
            repeated_enquiry(&state, &record, &body_hash).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The answer to a repeated record: the enquiry the key first recorded, or 422 when the key
/// came with another body.
async fn repeated_enquiry(
    state: &AppState,
    record: &cityops_store::IdempotencyRecord,
    body_hash: &str,
) -> ApiResult<(StatusCode, Json<EnquiryView>)> {
    if record.body_hash != body_hash {
        return Err(ApiError::rule(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key",
            "this idempotency key was used with another request body: use a new key for a new enquiry",
        ));
    }
    let enquiry = state.store.enquiry(&record.case_id).await?.ok_or_else(|| {
        ApiError::internal("an idempotency key names an enquiry that is not stored")
    })?;
    Ok((StatusCode::CREATED, Json(EnquiryView::from(&enquiry))))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EnquiryQuery {
    /// First day (Beijing), default seven days ago.
    from: Option<NaiveDate>,
    /// Last day (Beijing), default today.
    to: Option<NaiveDate>,
    /// At most this many, newest first (1 to 500, default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The enquiries answered in a period (operators, shift leads and admins), newest first.
#[utoipa::path(get, path = "/api/v1/enquiries", tag = "knowledge", params(EnquiryQuery),
    responses((status = 200, body = Vec<EnquiryView>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_enquiries(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<EnquiryQuery>,
) -> ApiResult<Json<Vec<EnquiryView>>> {
    hotline_staff(&actor, true)?;
    let today = cityops_domain::evaluation::day_of(Utc::now());
    let to = query.to.unwrap_or(today);
    let from = query
        .from
        .unwrap_or_else(|| to.checked_sub_days(chrono::Days::new(6)).unwrap_or(to));
    use chrono::Datelike;
    let plausible = |day: NaiveDate| (2000..=2100).contains(&day.year());
    if from > to || (to - from).num_days() > 366 || !plausible(from) || !plausible(to) {
        return Err(ApiError::rule(
            ErrorCode::InvalidPeriod,
            "from",
            "from is on or before to, at most 366 days before, both between 2000 and 2100",
        ));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1 to 500"));
    }
    let start = |day: NaiveDate| {
        cityops_domain::case::start_of_local_day(
            day.and_hms_opt(12, 0, 0)
                .map(|noon| noon.and_utc())
                .unwrap_or_default(),
        )
    };
    let enquiries = state
        .store
        .enquiries(start(from), start(to.succ_opt().unwrap_or(to)), limit)
        .await?;
    Ok(Json(enquiries.iter().map(EnquiryView::from).collect()))
}
