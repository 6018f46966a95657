//! Extractors that turn requests into values or into the application's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::Utc;
use cityops_domain::Actor;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};
use crate::AppState;

/// JSON body whose errors name the field at fault (`location.lon`, `version`), unlike
/// axum's own `Json` rejection.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A [`JsonBody`] with the SHA-256 (hex) of the body's bytes as sent, which tells a repeated
/// request from another one (idempotency keys).
pub struct HashedJsonBody<T>(pub T, pub String);

impl<T: DeserializeOwned> FromRequest<AppState> for HashedJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = json_bytes(req, state).await?;
        let hash = hex::encode(Sha256::digest(&bytes));
        parse_json(&bytes).map(|value| HashedJsonBody(value, hash))
    }
}

/// The bytes of a body sent as JSON.
async fn json_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
    if !json {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ));
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                "the request body is larger than this endpoint accepts",
            )
        } else {
            ApiError::new(ErrorCode::BadRequest, rejection.body_text())
        }
    })
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(deserializer) {
        Ok(value) => Ok(value),
        // JSON has one number type, and JSON Schema counts `3.0` as the integer 3: clients
        // (and generators from our OpenAPI document) may send it so. Only then is the body
        // parsed twice, so the common case costs nothing.
        Err(error)
            if error
                .inner()
                .to_string()
                .starts_with("invalid type: floating point") =>
        {
            let Ok(mut tree) = serde_json::from_slice::<serde_json::Value>(bytes) else {
                return Err(body_error(error));
            };
            whole_numbers_as_integers(&mut tree);
            serde_path_to_error::deserialize(tree).map_err(body_error)
        }
        Err(error) => Err(body_error(error)),
    }
}

/// Floats without a fraction, within the range where f64 is exact, become integers.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                *value = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn body_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = inner.to_string();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {message}"),
        );
    }
    // serde names a missing field in backticks, and the path stops at its parent.
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field"));
    let field = match (named, path.as_str()) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) => format!("{parent}.{name}"),
        (None, path) => path.to_owned(),
    };
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    ApiError::new(ErrorCode::InvalidBody, format!("{field}: {message}")).with_field(field)
}

/// The signed-in user, from `Authorization: Bearer <token>` or the web UI's session cookie.
pub struct CurrentUser(pub Actor);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Inside `/api/v1` the router sees the path without its prefix.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(
                || parts.uri.path().to_owned(),
                |uri| uri.0.path().to_owned(),
            );
        authenticate(state, &parts.method, &path, &parts.headers)
            .await
            .map(CurrentUser)
    }
}

/// Who sends a request: a session (bearer or cookie) or an API key, or 401.
pub async fn authenticate(
    state: &AppState,
    method: &axum::http::Method,
    path: &str,
    headers: &axum::http::HeaderMap,
) -> Result<Actor, ApiError> {
    let token = presented_token(method, headers)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            "sign in at POST /api/v1/sessions and send Authorization: Bearer <token>",
        )
    })?;
    if token.starts_with(crate::routes::api_keys::PREFIX) {
        return crate::routes::api_keys::key_actor(state, &token, method, path).await;
    }
    session_actor(state, &token).await
}

/// The web UI's session cookie (HttpOnly: scripts never see the token).
pub const SESSION_COOKIE: &str = "cityops_session";
/// The cookie the web UI reads its CSRF token from.
pub const CSRF_COOKIE: &str = "cityops_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a cookie session, derived from its session token: nothing more to
/// store, and nobody without the session can compute it.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::digest(format!("cityops-csrf\n{session_token}").as_bytes());
    hex::encode(&digest[..16])
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h axum::http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The session token a request presents: a bearer header, else the session cookie. A
/// cookie is sent by the browser on its own, so a state-changing request that relies on it
/// must also carry the session's CSRF token, which another site cannot read.
pub fn presented_token(
    method: &axum::http::Method,
    headers: &axum::http::HeaderMap,
) -> Result<Option<String>, ApiError> {
    if let Some(header) = headers.get(axum::http::header::AUTHORIZATION) {
        let token = header
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        return Ok(Some(token.trim().to_owned()));
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let safe = matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe {
        let echoed = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if echoed != Some(csrf_token(token).as_str()) {
            return Err(ApiError::new(
                ErrorCode::CsrfRequired,
                "a request signed in by cookie must send the session's CSRF token in X-CSRF-Token",
            ));
        }
    }
    Ok(Some(token.to_owned()))
}

/// The actor behind a session token, or 401.
pub async fn session_actor(state: &AppState, token: &str) -> Result<Actor, ApiError> {
    let user = state
        .store
        .session_user(&token_hash(token.trim()), Utc::now())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "the session token is unknown or expired; sign in again",
            )
        })?;
    cityops_store::audit::identify(&user.username, user.role.as_str(), user.scope.as_str());
    Ok(Actor {
        user_id: user.id,
        username: user.username,
        role: user.role,
        unit: user.unit,
        scope: user.scope,
    })
}

/// Tokens are stored only as their SHA-256, so a leaked database holds no usable session.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Query parameters whose errors come back in the application's error shape (422
/// `invalid_query`), unlike axum's plain-text rejection.
pub struct QueryArgs<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryArgs(value))
            .map_err(|e| {
                let message = e.body_text();
                let error = ApiError::new(ErrorCode::InvalidQuery, message.clone());
                match named_field(&message) {
                    Some(field) => error.with_field(field),
                    None => error,
                }
            })
    }
}

/// The parameter a query string's error is about, as serde names it (``missing field
/// `lat` ``, ``unknown field `x` ``): the caller is told which one to mend.
fn named_field(message: &str) -> Option<&str> {
    let start = message.find("field `")? + "field `".len();
    let length = message[start..].find('`')?;
    Some(&message[start..start + length]).filter(|name| !name.is_empty())
}

/// The raw body of an upload, or the application's error: 413 over the size limit.
pub fn upload_body(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "an image is at most 10 MiB")
        } else {
            ApiError::new(ErrorCode::BadRequest, e.body_text())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Versioned {
        version: i64,
    }

    #[test]
    fn a_query_strings_error_names_its_parameter() {
        assert_eq!(
            named_field("Failed to deserialize query string: missing field `lat`"),
            Some("lat")
        );
        assert_eq!(
            named_field(
                "Failed to deserialize query string: unknown field `x`, expected one of `a`"
            ),
            Some("x")
        );
        assert_eq!(named_field("Failed to deserialize query string: bad"), None);
        assert_eq!(named_field("missing field ``"), None);
    }

    #[test]
    fn whole_numbers_written_as_floats_are_the_integers_they_are() {
        // Found by the fuzzing: near 2^52, an imprecise float parse turned this into `...5.5`.
        for (body, version) in [
            (r#"{"version": 3.0}"#, 3),
            (r#"{"version": 3814790772877906.0}"#, 3_814_790_772_877_906),
            (r#"{"version": 9007199254740992.0}"#, 9_007_199_254_740_992),
        ] {
            let parsed: Versioned =
                parse_json(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert_eq!(parsed.version, version);
        }
        assert!(parse_json::<Versioned>(br#"{"version": 3.5}"#).is_err());
    }
}
