//! The web UI, embedded from `web/dist`: files by path, `index.html` for every other
//! non-API path (the SPA routes). Never answers `/api/*`: an unknown API path stays a JSON 404.

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
struct Assets;

/// Marks an answer as one of the web UI's files: the same for every caller, so the security
/// headers leave its caching alone even when the browser sent its session cookie along.
#[derive(Debug, Clone, Copy)]
pub struct UiFile;

pub async fn serve(uri: Uri) -> Response {
    let mut response = serve_file(uri);
    if response.status().is_success() {
        response.extensions_mut().insert(UiFile);
    }
    response
}

fn serve_file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path == "api" || path.starts_with("api/") || path == "ogc" || path.starts_with("ogc/") {
        return ApiError::no_such_endpoint().into_response();
    }
    if let Some(file) = Assets::get(path).filter(|_| !path.is_empty()) {
        let mime = file.metadata.mimetype().to_owned();
        // Vite puts content-hashed files under assets/: they never change, cache them long.
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
            file.data,
        )
            .into_response();
    }
    match Assets::get("index.html") {
        Some(index) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
                (header::CACHE_CONTROL, "no-cache".to_owned()),
            ],
            index.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "the web UI is not built").into_response(),
    }
}
