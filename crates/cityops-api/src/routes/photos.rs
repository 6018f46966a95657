//! Photos after upload: staff who handle a case list its photos and review them; a published
//! photo is shown on the citizen's follow page, as a copy with the regions staff marked
//! (faces, licence plates) blurred, and only to the holder of the follow token.
//!
//! Every stored copy was decoded and re-encoded at upload (`crate::photo`), so none carries
//! EXIF; the unblurred copy stays with the staff who handle the case.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use cityops_domain::{Actor, Case, Role};
use cityops_store::{Attachment, AttachmentReview, BlurRegion, PhotoReview, PublicCopy};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::photo::{self, Region};
use crate::routes::cases::{new_id, now, visible_case, write_durably};
use crate::routes::public::{by_number, check_token};
use crate::views::{AttachmentView, PhotoReviewRequest};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/attachments", get(list_attachments))
        .route("/attachments/{id}/review", post(review_attachment))
        .route("/public/cases/{number}/photos/{id}", get(public_photo))
}

/// The roles that work a case through its steps, and so see its photos as taken. Evaluators,
/// administrators, auditors and data stewards read figures or logs, not photos of people.
pub(crate) fn handles_cases(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::Inspector
            | Role::Operator
            | Role::ShiftLead
            | Role::Dispatcher
            | Role::UnitHandler
            | Role::CenterLeader
    )
}

/// Operators and shift leads take citizens' reports in: they decide what the public sees.
fn reviews_photos(actor: &Actor) -> bool {
    matches!(actor.role, Role::Operator | Role::ShiftLead)
}

fn not_for_role() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "only the staff who handle cases see their photos as taken",
    )
}

/// An attachment of a case `actor` handles and may see; anything else is the same 404.
pub(crate) async fn handled_attachment(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> ApiResult<(Attachment, Case)> {
    if !handles_cases(actor) {
        return Err(not_for_role());
    }
    let missing = || ApiError::not_found("the attachment");
    if id.len() > 64 {
        return Err(missing());
    }
    let attachment = state.store.attachment(id).await?.ok_or_else(missing)?;
    let case = visible_case(state, actor, &attachment.case_id)
        .await
        .map_err(|_| missing())?;
    Ok((attachment, case))
}

/// The photos of a case with their review state, for the staff who handle it.
#[utoipa::path(get, path = "/api/v1/cases/{id}/attachments", tag = "cases",
    params(("id" = String, Path, description = "Case id or case number")),
    responses((status = 200, body = [AttachmentView]), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<AttachmentView>>> {
    if !handles_cases(&actor) {
        return Err(not_for_role());
    }
    let case = visible_case(&state, &actor, &id).await?;
    let attachments = state.store.case_attachments(&case.id).await?;
    Ok(Json(
        attachments
            .iter()
            .map(|a| AttachmentView::new(a, case.version))
            .collect(),
    ))
}

/// Review a photo (operators and shift leads): publish it, with the given regions (faces,
/// licence plates) blurred in the copy the public sees, or keep it private. A later review
/// replaces the earlier one.
#[utoipa::path(post, path = "/api/v1/attachments/{id}/review", tag = "cases",
    params(("id" = String, Path, description = "Attachment id")),
    request_body = PhotoReviewRequest,
    responses((status = 200, body = AttachmentView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn review_attachment(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<PhotoReviewRequest>,
) -> ApiResult<Json<AttachmentView>> {
    if !reviews_photos(&actor) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only operators and shift leads decide which photos the public sees",
        ));
    }
    let (attachment, case) = handled_attachment(&state, &actor, &id).await?;
    let blur: Vec<BlurRegion> = if request.publish {
        request
            .blur
            .iter()
            .map(|r| BlurRegion {
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
            })
            .collect()
    } else {
        Vec::new()
    };
    if blur.len() > photo::MAX_BLUR_REGIONS {
        return Err(ApiError::invalid(
            "blur",
            format!(
                "at most {} regions are blurred in one review",
                photo::MAX_BLUR_REGIONS
            ),
        ));
    }
    let at = now();
    let mut written = None;
    let public = if request.publish {
        let stored = tokio::fs::read(state.config.data_dir.join(&attachment.path))
            .await
            .map_err(ApiError::internal)?;
        let regions = blur
            .iter()
            .map(|r| Region {
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
            })
            .collect();
        let copy = photo::blurred(stored, regions).await?;
        let relative = format!("attachments/public/{}-{}", attachment.id, new_id());
        let path = state.config.data_dir.join(&relative);
        write_durably(&path, &copy.bytes)
            .await
            .map_err(ApiError::internal)?;
        written = Some(path);
        Some(PublicCopy {
            path: relative,
            content_type: copy.content_type.to_owned(),
            sha256: hex::encode(Sha256::digest(&copy.bytes)),
            size: copy.bytes.len() as i64,
        })
    } else {
        None
    };
    let decision = AttachmentReview {
        review: if request.publish {
            PhotoReview::Published
        } else {
            PhotoReview::Private
        },
        blur,
        public,
        by: actor.user_id.clone(),
        at,
    };
    let before = match state
        .store
        .review_attachment(&attachment.id, &decision)
        .await
    {
        Ok(Some(before)) => before,
        outcome => {
            // Not recorded: the new public copy would be an orphan.
            if let Some(path) = written {
                let _ = tokio::fs::remove_file(path).await;
            }
            outcome?;
            return Err(ApiError::not_found("the attachment"));
        }
    };
    // The copy the public saw until now is no longer anybody's.
    if let Some(old) = before.public {
        let _ = tokio::fs::remove_file(state.config.data_dir.join(old.path)).await;
    }
    let reviewed = state
        .store
        .attachment(&attachment.id)
        .await?
        .ok_or_else(|| ApiError::not_found("the attachment"))?;
    Ok(Json(AttachmentView::new(&reviewed, case.version)))
}

/// The ids of a case's published photos, for its public view.
pub(crate) async fn published(state: &AppState, case: &Case) -> ApiResult<Vec<String>> {
    Ok(state
        .store
        .case_attachments(&case.id)
        .await?
        .into_iter()
        .filter(|a| a.review == PhotoReview::Published && a.public.is_some())
        .map(|a| a.id)
        .collect())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// The follow token received when reporting.
    token: Option<String>,
}

/// A published photo of one's own report, as the public sees it: reviewed by staff, faces
/// and plates blurred, no EXIF. Needs the follow token; unpublished photos are 404.
#[utoipa::path(get, path = "/api/v1/public/cases/{number}/photos/{id}", tag = "public", security(()),
    params(("number" = String, Path, description = "19-digit case number"),
        ("id" = String, Path, description = "Photo id, from the case's public view"), PhotoQuery),
    responses((status = 200, content_type = "image/jpeg"), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn public_photo(
    State(state): State<AppState>,
    Path((number, id)): Path<(String, String)>,
    QueryArgs(query): QueryArgs<PhotoQuery>,
) -> ApiResult<impl IntoResponse> {
    let case = by_number(&state, &number).await?;
    let token = query.token.as_deref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Forbidden,
            "photos are shown with the follow token received when reporting",
        )
        .with_field("token")
    })?;
    check_token(&case, token)?;
    let missing = || ApiError::not_found("the photo");
    if id.len() > 64 {
        return Err(missing());
    }
    let attachment = state
        .store
        .attachment(&id)
        .await?
        .filter(|a| a.case_id == case.id && a.review == PhotoReview::Published)
        .ok_or_else(missing)?;
    let public = attachment.public.ok_or_else(missing)?;
    let bytes = tokio::fs::read(state.config.data_dir.join(&public.path))
        .await
        .map_err(ApiError::internal)?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = public.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = format!("\"{}\"", public.sha256).parse() {
        headers.insert(header::ETAG, value);
    }
    Ok((headers, bytes))
}
