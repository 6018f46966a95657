//! The HTTP API of CityOps (axum). Handlers parse the request, hand a command to the domain
//! and the store, and return a view. Every HTTP concern lives here and nowhere else: the
//! domain and the store never see a request, a status code or a wire type.

use axum::Router;
use cityops_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

pub mod auth;
pub mod error;
pub mod extract;
mod metrics;
pub mod openapi;
mod routes;
pub mod views;

pub use metrics::Metrics;

/// Limits and settings of the API, set by the binary from its configuration.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Where attachments are stored.
    pub data_dir: PathBuf,
    pub session_hours: i64,
    pub max_json_bytes: usize,
    pub max_upload_bytes: usize,
}

impl ApiConfig {
    pub fn new(data_dir: PathBuf) -> ApiConfig {
        ApiConfig {
            data_dir,
            session_hours: 12,
            max_json_bytes: 256 * 1024,
            max_upload_bytes: 10 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    /// Serialises catalogue edits: read-modify-write of the one catalogue document.
    pub catalog_lock: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            catalog_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }
}

/// The whole HTTP surface: `/api/v1/...`, `/healthz`, `/readyz`, `/metrics`.
pub fn router(state: AppState) -> Router {
    routes::router(state)
}
