//! The one place errors become HTTP. Every error body is
//! `{"error": {"code", "message", "field"?}}` with a stable `code`; 5xx bodies are opaque
//! and the cause goes to the log.
//!
//! [`ErrorCode`] is the one table of codes: each owns its HTTP status and its stable name
//! (Meilisearch's pattern), every [`ApiError`] is made from one, the OpenAPI document lists
//! them, and README.md's "Errors" section is checked against them by a test. The domain's
//! and the store's errors become codes here, in [`From`] implementations, and nowhere else.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cityops_domain::{InputFault, InvalidInput, WorkflowError};
use cityops_store::StoreError;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// Every error a client can get. Names and statuses are part of the API: clients branch on
/// them, so they never change; a new kind of failure gets a new code (and a README row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MalformedJson,
    BadRequest,
    Unauthenticated,
    InvalidCredentials,
    OtpRequired,
    InvalidOtp,
    Forbidden,
    CsrfRequired,
    RoleNotAllowed,
    NotAssignedUnit,
    NotFound,
    UnknownCommand,
    TransitionNotAllowed,
    PreconditionFailed,
    VersionConflict,
    Duplicate,
    TotpEnabled,
    NoEnrolment,
    AlarmState,
    CalendarConflict,
    UnitHasOpenCases,
    PayloadTooLarge,
    ImageTooLarge,
    UnsupportedMediaType,
    UnsupportedImageFormat,
    InvalidInput,
    InvalidImage,
    InvalidQuery,
    InvalidBody,
    UnknownReference,
    OutsideCity,
    LocationMismatch,
    InvalidPeriod,
    InconsistentFields,
    TooBroad,
    InvalidFile,
    IdempotencyKeyReused,
    WeakPassword,
    ReauthenticationFailed,
    ChallengeFailed,
    RateLimited,
    SignInThrottled,
    Internal,
    TelemetryUnavailable,
    WriteOutcomeUnknown,
}

impl ErrorCode {
    /// In the order of README.md's table, by HTTP status.
    pub const ALL: [ErrorCode; 45] = [
        ErrorCode::MalformedJson,
        ErrorCode::BadRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::OtpRequired,
        ErrorCode::InvalidOtp,
        ErrorCode::Forbidden,
        ErrorCode::CsrfRequired,
        ErrorCode::RoleNotAllowed,
        ErrorCode::NotAssignedUnit,
        ErrorCode::ReauthenticationFailed,
        ErrorCode::ChallengeFailed,
        ErrorCode::NotFound,
        ErrorCode::UnknownCommand,
        ErrorCode::TransitionNotAllowed,
        ErrorCode::PreconditionFailed,
        ErrorCode::VersionConflict,
        ErrorCode::Duplicate,
        ErrorCode::TotpEnabled,
        ErrorCode::NoEnrolment,
        ErrorCode::AlarmState,
        ErrorCode::CalendarConflict,
        ErrorCode::UnitHasOpenCases,
        ErrorCode::PayloadTooLarge,
        ErrorCode::ImageTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::UnsupportedImageFormat,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidImage,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidBody,
        ErrorCode::UnknownReference,
        ErrorCode::OutsideCity,
        ErrorCode::LocationMismatch,
        ErrorCode::InvalidPeriod,
        ErrorCode::InconsistentFields,
        ErrorCode::TooBroad,
        ErrorCode::InvalidFile,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::WeakPassword,
        ErrorCode::RateLimited,
        ErrorCode::SignInThrottled,
        ErrorCode::Internal,
        ErrorCode::TelemetryUnavailable,
        ErrorCode::WriteOutcomeUnknown,
    ];

    /// The 422s a request can earn although it matches the OpenAPI document: rules that span
    /// fields, name stored objects or look inside an uploaded file, which JSON Schema cannot
    /// state. Every other 422 means the document failed to state a constraint; the fuzzing in
    /// CI (`scripts/fuzz_hooks.py`) holds the server to that.
    pub const RULES: [ErrorCode; 10] = [
        ErrorCode::InvalidImage,
        ErrorCode::UnknownReference,
        ErrorCode::OutsideCity,
        ErrorCode::LocationMismatch,
        ErrorCode::InvalidPeriod,
        ErrorCode::InconsistentFields,
        ErrorCode::TooBroad,
        ErrorCode::InvalidFile,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::WeakPassword,
    ];

    /// The stable name clients see as `error.code`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::OtpRequired => "otp_required",
            ErrorCode::InvalidOtp => "invalid_otp",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::CsrfRequired => "csrf_required",
            ErrorCode::RoleNotAllowed => "role_not_allowed",
            ErrorCode::NotAssignedUnit => "not_assigned_unit",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UnknownCommand => "unknown_command",
            ErrorCode::TransitionNotAllowed => "transition_not_allowed",
            ErrorCode::PreconditionFailed => "precondition_failed",
            ErrorCode::VersionConflict => "version_conflict",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::TotpEnabled => "totp_enabled",
            ErrorCode::NoEnrolment => "no_enrolment",
            ErrorCode::AlarmState => "alarm_state",
            ErrorCode::CalendarConflict => "calendar_conflict",
            ErrorCode::UnitHasOpenCases => "unit_has_open_cases",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::ImageTooLarge => "image_too_large",
            ErrorCode::UnsupportedImageFormat => "unsupported_image_format",
            ErrorCode::InvalidImage => "invalid_image",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::UnknownReference => "unknown_reference",
            ErrorCode::OutsideCity => "outside_city",
            ErrorCode::LocationMismatch => "location_mismatch",
            ErrorCode::InvalidPeriod => "invalid_period",
            ErrorCode::InconsistentFields => "inconsistent_fields",
            ErrorCode::TooBroad => "too_broad",
            ErrorCode::InvalidFile => "invalid_file",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::WeakPassword => "weak_password",
            ErrorCode::ReauthenticationFailed => "reauthentication_failed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::SignInThrottled => "sign_in_throttled",
            ErrorCode::ChallengeFailed => "challenge_failed",
            ErrorCode::Internal => "internal",
            ErrorCode::TelemetryUnavailable => "telemetry_unavailable",
            ErrorCode::WriteOutcomeUnknown => "write_outcome_unknown",
        }
    }

    /// The HTTP status every error of this code answers with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MalformedJson | ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated
            | ErrorCode::InvalidCredentials
            | ErrorCode::OtpRequired
            | ErrorCode::InvalidOtp => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden
            | ErrorCode::CsrfRequired
            | ErrorCode::RoleNotAllowed
            | ErrorCode::NotAssignedUnit
            | ErrorCode::ReauthenticationFailed
            | ErrorCode::ChallengeFailed => StatusCode::FORBIDDEN,
            ErrorCode::NotFound | ErrorCode::UnknownCommand => StatusCode::NOT_FOUND,
            ErrorCode::TransitionNotAllowed
            | ErrorCode::PreconditionFailed
            | ErrorCode::VersionConflict
            | ErrorCode::Duplicate
            | ErrorCode::TotpEnabled
            | ErrorCode::NoEnrolment
            | ErrorCode::AlarmState
            | ErrorCode::CalendarConflict
            | ErrorCode::UnitHasOpenCases => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge | ErrorCode::ImageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType | ErrorCode::UnsupportedImageFormat => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            ErrorCode::InvalidInput
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidBody
            | ErrorCode::InvalidImage
            | ErrorCode::UnknownReference
            | ErrorCode::OutsideCity
            | ErrorCode::LocationMismatch
            | ErrorCode::InvalidPeriod
            | ErrorCode::InconsistentFields
            | ErrorCode::TooBroad
            | ErrorCode::InvalidFile
            | ErrorCode::IdempotencyKeyReused
            | ErrorCode::WeakPassword => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::RateLimited | ErrorCode::SignInThrottled => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TelemetryUnavailable | ErrorCode::WriteOutcomeUnknown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.name())))
            .description(Some(
                "Stable machine-readable code; README.md's \"Errors\" section gives each one's \
                 HTTP status and meaning.",
            ))
            .into()
    }
}

impl ToSchema for ErrorCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Seconds to wait before trying again (throttled sign-ins); also sent as `Retry-After`.
    pub retry_after: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A sentence a person can act on.
    pub message: String,
    /// The request field at fault, when there is one (`location.lon`, `version`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Seconds to wait before trying again, when the code is about waiting
    /// (`sign_in_throttled`); the `Retry-After` header says the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// The caller may try again after this many seconds (body and `Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// A rule the OpenAPI document cannot state (see [`ErrorCode::RULES`]) refuses `field`.
    pub fn rule(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> ApiError {
        debug_assert!(
            ErrorCode::RULES.contains(&code),
            "{code:?} is not a rule code"
        );
        ApiError::new(code, message).with_field(field)
    }

    /// The same refusal, about an uploaded file: every value-level 422 found while reading a
    /// file becomes `invalid_file`, with its line or feature kept in `field`.
    pub fn in_file(self) -> ApiError {
        match self.code.status() {
            StatusCode::UNPROCESSABLE_ENTITY if self.code != ErrorCode::InvalidImage => ApiError {
                code: ErrorCode::InvalidFile,
                ..self
            },
            _ => self,
        }
    }

    /// A field of the request that is not acceptable.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidInput, message).with_field(field)
    }

    /// Nothing the caller may see is there; out-of-scope objects answer exactly this way, so
    /// ids leak nothing.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorCode::NotFound, format!("{what} was not found"))
    }

    /// A path under `/api` that names no endpoint.
    pub fn no_such_endpoint() -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            "no such endpoint; see /api/v1/openapi.json",
        )
    }

    /// Ours, not the caller's: the cause goes to the log, the body says nothing of it.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "Request failed inside CityOps.");
        ApiError::new(
            ErrorCode::Internal,
            "CityOps could not complete the request; the cause is in the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
                retry_after,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

impl From<InvalidInput> for ApiError {
    fn from(e: InvalidInput) -> ApiError {
        let code = match e.fault {
            InputFault::Value => ErrorCode::InvalidInput,
            InputFault::UnknownReference => ErrorCode::UnknownReference,
            InputFault::Inconsistent => ErrorCode::InconsistentFields,
        };
        ApiError::new(code, e.to_string()).with_field(e.field)
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> ApiError {
        let code = match &e {
            WorkflowError::RoleNotAllowed { .. } => ErrorCode::RoleNotAllowed,
            WorkflowError::NotAssignedUnit => ErrorCode::NotAssignedUnit,
            // Out of scope answers exactly like a missing case, so ids leak nothing.
            WorkflowError::OutOfScope => return ApiError::not_found("the case"),
            WorkflowError::NotAllowedInState { .. } => ErrorCode::TransitionNotAllowed,
            WorkflowError::Precondition(_) => ErrorCode::PreconditionFailed,
            WorkflowError::Invalid(invalid) => return invalid.clone().into(),
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(message) => {
                ApiError::new(ErrorCode::VersionConflict, message).with_field("version")
            }
            StoreError::Duplicate { field } => {
                ApiError::new(ErrorCode::Duplicate, format!("{field} is already taken"))
                    .with_field(field)
            }
            StoreError::OutcomeUnknown(message) => ApiError::new(
                ErrorCode::WriteOutcomeUnknown,
                format!("the database went away while this write committed and it could not be told whether it landed ({message}): read the record before trying again"),
            ),
            other => ApiError::internal(other),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The rows of README.md's "Errors" table: code -> HTTP status.
    fn readme_table() -> BTreeMap<String, u16> {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("\n## Errors\n")
            .nth(1)
            .expect("README.md has an \"## Errors\" section");
        let section = section.split("\n## ").next().unwrap_or(section);
        let mut rows = BTreeMap::new();
        for line in section.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let code = cells[1].trim_matches('`').to_owned();
            let status: u16 = cells[2]
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("README row without a status: {line}"));
            assert!(
                rows.insert(code.clone(), status).is_none(),
                "README lists {code} twice"
            );
        }
        rows
    }

    #[test]
    fn the_readme_error_table_and_the_error_codes_agree_both_ways() {
        let documented = readme_table();
        let defined: BTreeMap<String, u16> = ErrorCode::ALL
            .iter()
            .map(|code| (code.name().to_owned(), code.status().as_u16()))
            .collect();
        assert_eq!(defined.len(), ErrorCode::ALL.len(), "a code named twice");
        for (code, status) in &defined {
            assert_eq!(
                documented.get(code),
                Some(status),
                "README.md's Errors table should list {code} with {status}"
            );
        }
        for (code, status) in &documented {
            assert_eq!(
                defined.get(code),
                Some(status),
                "README.md lists {code} ({status}), which ErrorCode does not define so"
            );
        }
    }

    /// The fuzzing in CI lets a 422 answer a schema-valid request only with these codes.
    #[test]
    fn the_fuzzer_knows_the_rule_codes() {
        let hooks = include_str!("../../../scripts/fuzz_hooks.py");
        let listed = hooks
            .split("RULE_CODES = {")
            .nth(1)
            .and_then(|rest| rest.split('}').next())
            .expect("scripts/fuzz_hooks.py lists RULE_CODES");
        let mut listed: Vec<&str> = listed
            .split(',')
            .map(|name| name.trim().trim_matches('"'))
            .filter(|name| !name.is_empty())
            .collect();
        let mut rules: Vec<&str> = ErrorCode::RULES.iter().map(|code| code.name()).collect();
        listed.sort_unstable();
        rules.sort_unstable();
        assert_eq!(listed, rules);
        for code in ErrorCode::RULES {
            assert_eq!(code.status(), StatusCode::UNPROCESSABLE_ENTITY, "{code:?}");
        }
    }

    #[test]
    fn an_error_body_names_its_code_as_a_string() {
        let body = serde_json::to_value(ErrorDetail {
            code: ErrorCode::VersionConflict,
            message: "stale".into(),
            field: Some("version".into()),
            retry_after: None,
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"code": "version_conflict", "message": "stale", "field": "version"})
        );
        assert_eq!(ErrorCode::VersionConflict.status(), StatusCode::CONFLICT);
    }
}
