//! Serving the API: the HTTP server on a listener the caller bound, until the caller's
//! shutdown resolves, and the configured CORS origins as the header values it compares.
//! Only this crate knows HTTP; the binary binds, configures and decides when to stop.

use crate::AppState;
use axum::http::HeaderValue;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Serves the API on `listener` until `shutdown` resolves, then finishes the requests in
/// flight; live streams end as the state begins its shutdown. Each request knows its
/// client's address (the per-address limits count by it).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::router(state.clone());
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        state.begin_shutdown();
    })
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum BadCorsOrigin {
    #[error("'{0}' is not an http(s) origin")]
    NotHttp(String),
    #[error("'{0}' is not a valid origin: {1}")]
    Invalid(String, axum::http::header::InvalidHeaderValue),
}

/// A configured origin (`https://host[:port]`, a trailing slash tolerated) as the `Origin`
/// header value browsers send.
pub fn cors_origin(origin: &str) -> Result<HeaderValue, BadCorsOrigin> {
    if !(origin.starts_with("https://") || origin.starts_with("http://")) {
        return Err(BadCorsOrigin::NotHttp(origin.to_owned()));
    }
    HeaderValue::from_str(origin.trim_end_matches('/'))
        .map_err(|error| BadCorsOrigin::Invalid(origin.to_owned(), error))
}

#[derive(Debug, thiserror::Error)]
pub enum BadPublicBaseUrl {
    #[error("'{0}' is not an absolute http(s) URL such as https://ops.example.gov.cn")]
    NotHttp(String),
    #[error("'{0}' has a query or a fragment; give the scheme, host, port and path only")]
    HasQuery(String),
}

/// The configured public base URL (`https://host[:port][/path]`) without its trailing slash:
/// what links in answers (OGC API Features' `self`, `next`...) start with, whatever `Host`
/// a request claims.
pub fn public_base_url(url: &str) -> Result<String, BadPublicBaseUrl> {
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|_| BadPublicBaseUrl::NotHttp(url.to_owned()))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(authority)) if !authority.as_str().contains('@') => {}
        _ => return Err(BadPublicBaseUrl::NotHttp(url.to_owned())),
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(BadPublicBaseUrl::HasQuery(url.to_owned()));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_base_url_is_absolute_http_without_query_nor_trailing_slash() {
        assert_eq!(
            public_base_url("https://ops.example.gov.cn/cityops/").unwrap(),
            "https://ops.example.gov.cn/cityops"
        );
        assert_eq!(
            public_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        for bad in [
            "ops.example.gov.cn",
            "/ogc",
            "ftp://ops.example",
            "https://user:pw@ops.example",
            "",
        ] {
            assert!(
                matches!(public_base_url(bad), Err(BadPublicBaseUrl::NotHttp(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            public_base_url("https://ops.example/?a=1"),
            Err(BadPublicBaseUrl::HasQuery(_))
        ));
    }

    #[test]
    fn a_configured_origin_must_be_http_and_loses_its_trailing_slash() {
        assert_eq!(
            cors_origin("https://ops.example.gov.cn/").unwrap(),
            "https://ops.example.gov.cn"
        );
        assert!(matches!(
            cors_origin("ops.example.gov.cn"),
            Err(BadCorsOrigin::NotHttp(_))
        ));
        assert!(matches!(
            cors_origin("https://ops\n.example"),
            Err(BadCorsOrigin::Invalid(..))
        ));
    }
}
