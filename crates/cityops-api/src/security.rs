//! Hardening at the edge: security headers on every response, rate limits on what anyone
//! may call without signing in, and CORS only for origins the operator names.

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use crate::error::{ApiError, ErrorCode};
use crate::AppState;

/// The same-origin web UI needs nothing more: its scripts and styles come from this server
/// (Element Plus sets inline styles, hence `'unsafe-inline'` for styles only), photos are
/// shown from blobs, and nothing may frame CityOps (click-jacking of the command screen).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
    font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let credentialed = request.headers().contains_key(header::AUTHORIZATION)
        || crate::extract::cookie(request.headers(), crate::extract::SESSION_COOKIE).is_some();
    let mut response = next.run(request).await;
    let ui_file = response
        .extensions()
        .get::<crate::routes::ui::UiFile>()
        .is_some();
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "geolocation=(self), camera=(self), microphone=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // An answer to a signed-in caller (the API, OGC's cases, the metrics) is cut to that
    // caller's jurisdiction and may carry personal data: no cache may keep it, whatever the
    // handler would allow anonymous callers. Anonymous API answers are not kept either unless
    // their handler says they may be (the public map layers).
    let no_store =
        (credentialed && !ui_file) || (api && !headers.contains_key(header::CACHE_CONTROL));
    if no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Cross-origin use of the API is off unless the operator names the origins (a district's
/// own portal, say); bearer tokens only, no cookies across origins.
pub fn cors(origins: &[HeaderValue]) -> tower_http::cors::CorsLayer {
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// Per-address budgets for the endpoints anyone can call: sign-in (password guessing across
/// accounts), the citizen channel and the public standards (scraping, floods of reports).
#[derive(Clone)]
pub struct PublicLimits {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl PublicLimits {
    /// `per_minute` requests a minute from one address, with bursts of as many.
    pub fn new(per_minute: u32) -> PublicLimits {
        let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        PublicLimits {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(rate))),
        }
    }

    fn admits(&self, address: IpAddr) -> bool {
        // Forget idle addresses now and then so the map stays bounded.
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address).is_ok()
    }
}

/// Sign-in and the citizen channel are always counted; the public standards only when the
/// caller is anonymous, so a whole operations center behind one address is never throttled.
fn is_limited(request: &Request) -> bool {
    let path = request.uri().path();
    let anonymous = !request.headers().contains_key(header::AUTHORIZATION)
        && crate::extract::cookie(request.headers(), crate::extract::SESSION_COOKIE).is_none();
    (request.method() == Method::POST && path == "/api/v1/sessions")
        || path.starts_with("/api/v1/public/")
        || (anonymous
            && request.method() == Method::GET
            && (path.starts_with("/ogc")
                || path.starts_with("/api/v1/categories")
                || path.starts_with("/api/v1/areas")
                || path.starts_with("/api/v1/geo")
                || path.starts_with("/api/v1/workflow")))
}

pub async fn limit_public(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_limited(&request) {
        let address = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        if let Some(address) = address {
            if !state.public_limits.admits(address) {
                let mut response = ApiError::new(
                    ErrorCode::RateLimited,
                    "too many requests from this address; wait a minute and try again",
                )
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                return response;
            }
        }
    }
    next.run(request).await
}
