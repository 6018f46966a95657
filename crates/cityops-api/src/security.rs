//! Hardening at the edge: security headers on every response, rate limits on what anyone
//! may call without signing in, and CORS only for origins the operator names.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
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

/// Per-address budgets for the endpoints anyone can call, one per purpose so that one
/// kind of traffic never spends another's: sign-in (password guessing across accounts), the
/// citizens' reports and photos (floods of fake reports), and public reads (the citizen
/// channel's pages and, for anonymous callers, the published standards: scraping).
#[derive(Clone)]
pub struct PublicLimits {
    sign_in: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    reports: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    reads: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// The budgets a minute, per purpose (sign-in, reports, reads), for the shared budgets.
    per_minute: [u32; 3],
    /// The database every node shares, when the budgets are kept there instead (several
    /// nodes behind a load balancer: an address gets one budget, not one per node).
    shared: Option<Arc<dyn cityops_store::LimitStore>>,
}

/// What a limited request is for: each has its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    SignIn,
    Report,
    PublicRead,
}

/// Set on a request the limits counted as anonymous (no credential, or one that does not
/// authenticate): handlers of public reads answer such callers within tighter bounds.
#[derive(Debug, Clone, Copy)]
pub struct AnonymousCaller;

fn limiter(per_minute: u32) -> Arc<DefaultKeyedRateLimiter<IpAddr>> {
    let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(Quota::per_minute(rate)))
}

impl PublicLimits {
    /// Each purpose's requests a minute from one address, with bursts of as many.
    pub fn new(
        config: &crate::ApiConfig,
        shared: Option<Arc<dyn cityops_store::LimitStore>>,
    ) -> PublicLimits {
        PublicLimits {
            sign_in: limiter(config.sign_in_requests_per_minute),
            reports: limiter(config.public_reports_per_minute),
            reads: limiter(config.public_requests_per_minute),
            per_minute: [
                config.sign_in_requests_per_minute,
                config.public_reports_per_minute,
                config.public_requests_per_minute,
            ],
            shared,
        }
    }

    async fn admits(&self, purpose: Purpose, address: IpAddr) -> bool {
        if let Some(store) = &self.shared {
            let (name, per_minute) = match purpose {
                Purpose::SignIn => ("sign-in", self.per_minute[0]),
                Purpose::Report => ("report", self.per_minute[1]),
                Purpose::PublicRead => ("read", self.per_minute[2]),
            };
            let per_minute = per_minute.max(1);
            let interval = chrono::Duration::milliseconds(60_000 / i64::from(per_minute));
            let key = format!("budget:{name}:{address}");
            return match store
                .spend(&key, chrono::Utc::now(), interval, per_minute)
                .await
            {
                Ok(admitted) => admitted,
                Err(error) => {
                    // The request itself needs the database; it will fail on its own terms.
                    tracing::warn!(%error, "Could not count a request against its budget.");
                    true
                }
            };
        }
        let limiter = match purpose {
            Purpose::SignIn => &self.sign_in,
            Purpose::Report => &self.reports,
            Purpose::PublicRead => &self.reads,
        };
        // Forget idle addresses now and then so the map stays bounded.
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        limiter.check_key(&address).is_ok()
    }
}

/// The purpose whose budget a request spends whoever sends it, if any: sign-in and the
/// citizen channel.
fn always_limited(method: &Method, path: &str) -> Option<Purpose> {
    if *method == Method::POST && path == "/api/v1/sessions" {
        return Some(Purpose::SignIn);
    }
    let reporting = *method == Method::POST
        && (path == "/api/v1/public/reports"
            || (path.starts_with("/api/v1/public/cases/") && path.ends_with("/photos")));
    if reporting {
        return Some(Purpose::Report);
    }
    path.starts_with("/api/v1/public/")
        .then_some(Purpose::PublicRead)
}

/// The published standards anyone may read; anonymous readers spend the public budget.
fn public_standard(method: &Method, path: &str) -> bool {
    (*method == Method::GET || *method == Method::HEAD)
        && (path.starts_with("/ogc")
            || path.starts_with("/api/v1/categories")
            || path.starts_with("/api/v1/areas")
            || path.starts_with("/api/v1/geo")
            || path.starts_with("/api/v1/workflow"))
}

/// Whether the request's credential (bearer token, session cookie or API key) names a
/// signed-in caller. Merely sending one proves nothing: an unknown, expired or malformed
/// credential is anonymous.
async fn authenticated(state: &AppState, method: &Method, path: &str, headers: &HeaderMap) -> bool {
    let presented = headers.contains_key(header::AUTHORIZATION)
        || crate::extract::cookie(headers, crate::extract::SESSION_COOKIE).is_some();
    presented
        && crate::extract::authenticate(state, method, path, headers)
            .await
            .is_ok()
}

pub async fn limit_public(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let purpose = match always_limited(&method, &path) {
        Some(purpose) => Some(purpose),
        None if public_standard(&method, &path) => {
            // The limit is decided after authentication, so a made-up header buys nothing.
            // (The headers are copied: the request's body cannot be shared across an await.)
            let headers = request.headers().clone();
            if authenticated(&state, &method, &path, &headers).await {
                None
            } else {
                request.extensions_mut().insert(AnonymousCaller);
                Some(Purpose::PublicRead)
            }
        }
        None => None,
    };
    if let Some(purpose) = purpose {
        let address = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        if let Some(address) = address {
            if !state.public_limits.admits(purpose, address).await {
                let what = match purpose {
                    Purpose::SignIn => "sign-in attempts",
                    Purpose::Report => "reports",
                    Purpose::PublicRead => "requests",
                };
                let mut response = ApiError::new(
                    ErrorCode::RateLimited,
                    format!("too many {what} from this address; wait a minute and try again"),
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
