//! Staff accounts, managed by admins: who signs in, with which role, within which area and
//! for which unit. Every change is on the audit log, and a change of what an account may do
//! ends its sessions, so a narrowed account never keeps a wider session.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use cityops_domain::{Actor, AreaCode, Role};
use cityops_store::UserRecord;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{CurrentUser, JsonBody, QueryArgs};
use crate::wire::{self, Wire};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", get(get_user).put(update_user))
        .route("/users/{username}/disable", post(disable_user))
        .route("/users/{username}/enable", post(enable_user))
        .route("/users/{username}/password", put(reset_password))
        .route(
            "/users/{username}/second-factor",
            delete(reset_second_factor),
        )
}

/// Where an account's second factor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactor {
    /// Not enrolled: sign-in asks for the password alone.
    None,
    /// Enrolled, waiting for its first code; sign-in does not ask for one yet.
    Pending,
    /// Sign-in asks for a code.
    Enabled,
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    username: String,
    display_name: String,
    role: wire::Role,
    /// The unit the account acts for (a unit handler's, or an operator's department).
    unit: Option<String>,
    /// The area subtree the account acts within.
    scope: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    second_factor: SecondFactor,
    /// Failed sign-ins since the last success.
    failed_sign_ins: i64,
    /// Sign-in refused until then.
    locked_until: Option<DateTime<Utc>>,
}

impl From<&UserRecord> for AccountView {
    fn from(u: &UserRecord) -> AccountView {
        AccountView {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: Wire(u.role),
            unit: u.unit.clone(),
            scope: u.scope.to_string(),
            disabled: u.disabled,
            created_at: u.created_at,
            second_factor: match &u.totp {
                None => SecondFactor::None,
                Some(totp) if totp.enabled => SecondFactor::Enabled,
                Some(_) => SecondFactor::Pending,
            },
            failed_sign_ins: u.failed_logins,
            locked_until: u.locked_until,
        }
    }
}

fn admin(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "only admins manage accounts",
        ))
    }
}

async fn stored_user(state: &AppState, username: &str) -> ApiResult<UserRecord> {
    state
        .store
        .user_by_name(username)
        .await?
        .ok_or_else(|| ApiError::not_found(&format!("user {username}")))
}

/// The account, when it lies within the admin's scope; outside it, as if missing.
async fn visible_user(state: &AppState, actor: &Actor, username: &str) -> ApiResult<UserRecord> {
    let user = stored_user(state, username).await?;
    if !actor.scope.contains(&user.scope) {
        return Err(ApiError::not_found(&format!("user {username}")));
    }
    Ok(user)
}

/// An admin changes other accounts; their own role, scope and standing stay, so that no
/// admin locks the city out by a slip.
fn not_self(actor: &Actor, username: &str, what: &str) -> ApiResult<()> {
    if actor.username == username {
        return Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            format!("you cannot {what} your own account; ask another admin"),
        ));
    }
    Ok(())
}

fn staff_role(text: &str) -> ApiResult<Role> {
    Role::parse(text)
        .filter(|r| !matches!(r, Role::Citizen | Role::System))
        .ok_or_else(|| ApiError::invalid("role", "role is one of the staff roles"))
}

/// Checks where an account acts: a known area within the admin's own scope, and a unit (a
/// unit handler needs one) that exists, is not retired and answers within that area.
async fn check_reach(
    state: &AppState,
    actor: &Actor,
    role: Role,
    scope: &str,
    unit: Option<&str>,
) -> ApiResult<AreaCode> {
    let scope = AreaCode::parse(scope).map_err(|e| ApiError::invalid("scope", e.to_string()))?;
    if state.store.area(&scope).await?.is_none() {
        return Err(ApiError::rule(
            ErrorCode::UnknownReference,
            "scope",
            format!("no area {scope}"),
        ));
    }
    if !actor.scope.contains(&scope) {
        return Err(
            ApiError::new(ErrorCode::Forbidden, "an account's scope lies within yours")
                .with_field("scope"),
        );
    }
    match unit {
        Some(code) => {
            let Some(unit) = state.store.unit(code).await? else {
                return Err(ApiError::rule(
                    ErrorCode::UnknownReference,
                    "unit",
                    format!("no unit {code}"),
                ));
            };
            if unit.retired.is_some() {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "unit",
                    format!("unit {code} is retired"),
                ));
            }
            let overlaps = |a: &AreaCode, b: &AreaCode| a.contains(b) || b.contains(a);
            if !overlaps(&unit.jurisdiction, &scope) {
                return Err(ApiError::rule(
                    ErrorCode::InconsistentFields,
                    "unit",
                    format!(
                        "unit {code} answers for area {}, outside the account's scope {scope}",
                        unit.jurisdiction
                    ),
                ));
            }
        }
        None if role == Role::UnitHandler => {
            return Err(ApiError::rule(
                ErrorCode::InconsistentFields,
                "unit",
                "a unit handler needs their unit",
            ));
        }
        None => {}
    }
    Ok(scope)
}

fn check_display_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid(
            "display_name",
            "a display name has 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

async fn hashed(username: &str, password: String) -> ApiResult<String> {
    // The length is the document's; the rest are rules it cannot state.
    crate::auth::check_password(username, &password).map_err(|e| match e {
        crate::auth::PasswordError::Length => ApiError::invalid("password", e.to_string()),
        _ => ApiError::rule(ErrorCode::WeakPassword, "password", e.to_string()),
    })?;
    tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// Only accounts with this role.
    #[param(value_type = Option<wire::StaffRole>)]
    role: Option<String>,
    /// Only accounts whose username or display name contains this.
    #[param(max_length = 100)]
    q: Option<String>,
}

/// Every staff account within the admin's scope, by username.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserQuery),
    responses((status = 200, body = Vec<AccountView>), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    QueryArgs(query): QueryArgs<UserQuery>,
) -> ApiResult<Json<Vec<AccountView>>> {
    admin(&actor)?;
    let role = query.role.as_deref().map(staff_role).transpose()?;
    let text = query.q.unwrap_or_default().to_lowercase();
    if text.chars().count() > 100 {
        return Err(ApiError::invalid("q", "q has at most 100 characters"));
    }
    let users = state.store.users().await?;
    Ok(Json(
        users
            .iter()
            .filter(|u| actor.scope.contains(&u.scope))
            .filter(|u| role.is_none_or(|r| u.role == r))
            .filter(|u| {
                text.is_empty()
                    || u.username.to_lowercase().contains(&text)
                    || u.display_name.to_lowercase().contains(&text)
            })
            .map(AccountView::from)
            .collect(),
    ))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<AccountView>> {
    admin(&actor)?;
    let user = visible_user(&state, &actor, &username).await?;
    Ok(Json(AccountView::from(&user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    #[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$")]
    username: String,
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    display_name: String,
    #[schema(value_type = wire::StaffRole)]
    role: String,
    /// The area subtree the account acts within.
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    scope: String,
    /// The unit it acts for; required for a unit handler.
    unit: Option<String>,
    /// The first password: 8 to 128 characters of at least two kinds (letters, digits,
    /// others), not containing the username.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
}

/// Add a staff account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, description = "duplicate: the username is taken", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    JsonBody(new): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    admin(&actor)?;
    let username = new.username.trim().to_owned();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(ApiError::invalid(
            "username",
            "a username is 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    let display_name = check_display_name(&new.display_name)?;
    let role = staff_role(&new.role)?;
    let scope = check_reach(&state, &actor, role, &new.scope, new.unit.as_deref()).await?;
    let password_hash = hashed(&username, new.password).await?;
    let user = UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        username,
        display_name,
        password_hash,
        role,
        unit: new.unit,
        scope,
        disabled: false,
        created_at: Utc::now(),
        failed_logins: 0,
        locked_until: None,
        totp: None,
    };
    state.store.insert_user(&user).await?;
    Ok((StatusCode::CREATED, Json(AccountView::from(&user))))
}

/// `null` and absent told apart: absent keeps the value, `null` clears it.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    display_name: Option<String>,
    #[schema(value_type = Option<wire::StaffRole>)]
    role: Option<String>,
    #[schema(pattern = r"^(\d{6}|\d{9}|\d{12})$")]
    scope: Option<String>,
    /// The unit the account acts for; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    unit: Option<Option<String>>,
}

/// Change an account's display name, role, scope or unit. A change of role, scope or unit
/// ends its sessions: the user signs in again with what they may do now.
#[utoipa::path(put, path = "/api/v1/users/{username}", tag = "users", request_body = UserChange,
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: an admin's own role, scope or unit", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
    JsonBody(change): JsonBody<UserChange>,
) -> ApiResult<Json<AccountView>> {
    admin(&actor)?;
    let mut user = visible_user(&state, &actor, &username).await?;
    let before = (user.role, user.scope.clone(), user.unit.clone());
    if change.role.is_some() || change.scope.is_some() || change.unit.is_some() {
        not_self(&actor, &username, "change the role, scope or unit of")?;
    }
    if let Some(name) = &change.display_name {
        user.display_name = check_display_name(name)?;
    }
    if let Some(role) = &change.role {
        user.role = staff_role(role)?;
    }
    if let Some(unit) = change.unit {
        user.unit = unit;
    }
    // Where the account acts is checked when it changes: a new name alone is taken even
    // when the account's unit has since retired.
    if let Some(scope) = &change.scope {
        user.scope =
            AreaCode::parse(scope).map_err(|e| ApiError::invalid("scope", e.to_string()))?;
    }
    let reach_changed = before != (user.role, user.scope.clone(), user.unit.clone());
    if reach_changed {
        let scope = user.scope.to_string();
        user.scope = check_reach(&state, &actor, user.role, &scope, user.unit.as_deref()).await?;
    }
    if !state.store.update_user(&user, reach_changed).await? {
        return Err(ApiError::not_found(&format!("user {username}")));
    }
    Ok(Json(AccountView::from(
        &stored_user(&state, &username).await?,
    )))
}

/// Disable an account: it cannot sign in, and its sessions end at once.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "users",
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: an admin's own account", body = crate::error::ErrorBody)))]
pub async fn disable_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<AccountView>> {
    set_disabled(state, actor, username, true).await
}

/// Enable a disabled account again.
#[utoipa::path(post, path = "/api/v1/users/{username}/enable", tag = "users",
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: an admin's own account", body = crate::error::ErrorBody)))]
pub async fn enable_user(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<AccountView>> {
    set_disabled(state, actor, username, false).await
}

async fn set_disabled(
    state: AppState,
    actor: Actor,
    username: String,
    disabled: bool,
) -> ApiResult<Json<AccountView>> {
    admin(&actor)?;
    visible_user(&state, &actor, &username).await?;
    not_self(&actor, &username, "disable or enable")?;
    state.store.set_user_disabled(&username, disabled).await?;
    Ok(Json(AccountView::from(
        &stored_user(&state, &username).await?,
    )))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The new password (same rules as a first one), for the admin to hand over.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
}

/// Reset an account's password: the account is unlocked, its second factor removed (the
/// user enrols again) and its sessions end.
#[utoipa::path(put, path = "/api/v1/users/{username}/password", tag = "users",
    request_body = PasswordReset,
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: an admin's own account", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
    JsonBody(reset): JsonBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    admin(&actor)?;
    visible_user(&state, &actor, &username).await?;
    // An admin's own password is changed with the CLI (`cityops user reset`), not here.
    not_self(&actor, &username, "reset the password of")?;
    let hash = hashed(&username, reset.password).await?;
    state.store.set_password(&username, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove an account's second factor (a lost phone): sign-in asks for the password alone
/// until the user enrols again.
#[utoipa::path(delete, path = "/api/v1/users/{username}/second-factor", tag = "users",
    params(("username" = String, Path, description = "The account's username")),
    responses((status = 200, body = AccountView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "precondition_failed: an admin's own account, or none enrolled", body = crate::error::ErrorBody)))]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    CurrentUser(actor): CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<Json<AccountView>> {
    admin(&actor)?;
    let user = visible_user(&state, &actor, &username).await?;
    not_self(&actor, &username, "remove the second factor of")?;
    if user.totp.is_none() {
        return Err(ApiError::new(
            ErrorCode::PreconditionFailed,
            format!("{username} has no second factor"),
        ));
    }
    state.store.set_totp(&user.id, None, false).await?;
    Ok(Json(AccountView::from(
        &stored_user(&state, &username).await?,
    )))
}
