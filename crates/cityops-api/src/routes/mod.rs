//! The API's routes: each submodule owns its `router()`; this one nests them under
//! `/api/v1`, adds the layers every request passes (tracing, limits, security headers) and
//! lists every operation in the OpenAPI document.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::metrics::HttpLabels;
use crate::AppState;

pub(crate) mod api_keys;
mod areas;
mod audit;
pub(crate) mod boundaries;
mod calendar;
pub(crate) mod cases;
mod categories;
pub(crate) mod census;
mod duplicates;
pub(crate) mod emergencies;
pub(crate) mod evaluation;
pub(crate) mod geo;
mod grids;
mod health;
mod hotline;
mod knowledge;
mod ogc;
mod patrols;
mod personal_data;
mod photos;
mod public;
mod routing;
mod sessions;
pub mod settings;
mod stats;
mod stream;
pub(crate) mod telemetry;
pub(crate) mod ui;
mod units;
mod users;
mod workflow;

use crate::openapi::{BearerAuth, CommonErrors};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "CityOps API",
        description = "One network to manage the whole city: areas, units, categories and the case workflow. Errors are {\"error\": {\"code\", \"message\", \"field\"?}}."
    ),
    paths(
        sessions::sign_in,
        sessions::sign_out,
        sessions::me,
        workflow::workflow,
        stats::stats,
        geo::area_boundaries,
        geo::area_geometry,
        geo::locate,
        routing::list_routing_rules,
        routing::export_rules,
        routing::replace_rules,
        routing::explain,
        routing::preview,
        settings::settings,
        settings::nodes,
        stream::stream,
        public::challenge,
        public::report,
        public::follow,
        public::class_fields,
        public::add_photo,
        public::rate,
        areas::list_areas,
        knowledge::search_articles,
        categories::class_suggestions,
        duplicates::duplicate_candidates,
        grids::responsibility_grids,
        grids::responsibility_grid,
        grids::assign_inspector,
        emergencies::list_warnings,
        emergencies::get_warning,
        emergencies::issue_warning,
        emergencies::update_warning,
        emergencies::lift_warning,
        emergencies::import_cap,
        emergencies::list_incidents,
        emergencies::get_incident,
        emergencies::open_incident,
        emergencies::incident_command,
        emergencies::incident_timeline,
        emergencies::incident_links,
        emergencies::after_action_report,
        emergencies::upload_task_photo,
        emergencies::task_photo,
        emergencies::list_plans,
        emergencies::put_plan,
        patrols::go_on_duty,
        patrols::add_positions,
        patrols::go_off_duty,
        patrols::patrols,
        patrols::patrol_track,
        duplicates::public_candidates,
        knowledge::create_article,
        knowledge::update_article,
        knowledge::delete_article,
        knowledge::record_enquiry,
        knowledge::list_enquiries,
        areas::area_tree,
        areas::get_area,
        units::list_units,
        units::get_unit,
        units::create_unit,
        units::update_unit,
        units::import_units,
        units::retire_unit,
        units::reinstate_unit,
        units::unit_contacts,
        users::list_users,
        users::get_user,
        users::create_user,
        users::update_user,
        users::disable_user,
        users::enable_user,
        users::reset_password,
        users::reset_second_factor,
        categories::catalog,
        categories::get_category,
        categories::update_category,
        calendar::calendar_year,
        calendar::import_year,
        hotline::import_tickets,
        hotline::results,
        cases::report_case,
        cases::list_cases,
        cases::export_cases_csv,
        cases::get_case,
        cases::timeline,
        cases::run_command,
        cases::upload_attachment,
        cases::download_attachment,
        telemetry::list_indicators,
        telemetry::export_indicators,
        telemetry::import_indicators,
        telemetry::list_devices,
        telemetry::get_device,
        telemetry::register_device,
        telemetry::import_devices,
        telemetry::export_devices,
        telemetry::device_readings,
        telemetry::ingest,
        telemetry::dead_letters,
        telemetry::list_telemetry_rules,
        telemetry::get_rule,
        telemetry::create_rule,
        telemetry::test_rule,
        telemetry::replace_rule,
        telemetry::delete_rule,
        telemetry::list_alarms,
        telemetry::get_alarm,
        telemetry::acknowledge,
        telemetry::vital_signs,
        telemetry::history,
        census::list_components,
        census::component,
        census::nearest,
        census::import_components,
        census::export_csv,
        census::export_geojson,
        boundaries::import_boundaries,
        boundaries::relocation,
        cases::contact,
        sessions::enrol_totp,
        sessions::confirm_totp,
        sessions::remove_totp,
        personal_data::export,
        personal_data::erase,
        audit::entries,
        api_keys::create,
        api_keys::list,
        api_keys::revoke,
        audit::verify,
        audit::checkpoints,
        photos::list_attachments,
        photos::review_attachment,
        photos::public_photo,
        evaluation::evaluation,
        evaluation::evaluation_cases,
    ),
    components(schemas(
        crate::error::ErrorBody,
        crate::error::ErrorCode,
        crate::wire::CaseCommandName,
        crate::wire::EvaluationCounter,
        stream::AlarmEvent,
        emergencies::WarningEvent,
        emergencies::IncidentChangeEvent,
    )),
    modifiers(&BearerAuth, &CommonErrors),
    security(("bearer" = [])),
)]
pub(crate) struct ApiDoc;

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(sessions::router())
        .merge(audit::router())
        .merge(api_keys::router())
        .merge(personal_data::router())
        .merge(areas::router())
        .merge(units::router())
        .merge(users::router())
        .merge(categories::router())
        .merge(evaluation::router())
        .merge(calendar::router())
        .merge(knowledge::router())
        .merge(duplicates::router())
        .merge(grids::router())
        .merge(patrols::router())
        .merge(emergencies::router(state.config.max_upload_bytes))
        .merge(settings::router())
        // A day of a large city's hotline runs to a few megabytes.
        .merge(hotline::router(64 * 1024 * 1024))
        .merge(cases::router(state.config.max_upload_bytes))
        .merge(workflow::router())
        .merge(routing::router())
        .merge(stats::router())
        .merge(geo::router())
        .merge(stream::router())
        .merge(telemetry::router(state.config.max_upload_bytes))
        .merge(public::router(state.config.max_upload_bytes))
        .merge(photos::router())
        // A district's census runs to tens of megabytes of CSV.
        .merge(census::router(512 * 1024 * 1024))
        .merge(boundaries::router(512 * 1024 * 1024))
        .route(
            "/openapi.json",
            axum::routing::get(|| async { axum::Json(crate::openapi::document()) }),
        )
        .fallback(|| async { ApiError::no_such_endpoint() });
    let router = Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(ogc::router())
        .fallback(ui::serve)
        .layer(DefaultBodyLimit::max(state.config.max_json_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::limit_public,
        ))
        .layer(middleware::from_fn(audit_context))
        .layer(middleware::from_fn(crate::security::security_headers))
        .layer(TraceLayer::new_for_http());
    let router = if state.config.cors_origins.is_empty() {
        router
    } else {
        router.layer(crate::security::cors(&state.config.cors_origins))
    };
    router.with_state(state)
}

/// Every request runs within its audit context: the store's writes during it are recorded
/// as coming from the client's address and, once authenticated, from the signed-in user.
async fn audit_context(request: Request, next: Next) -> Response {
    let origin = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |info| info.0.ip().to_string());
    let context = cityops_store::audit::RequestContext::new(origin);
    cityops_store::audit::within(context, next.run(request)).await
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let response = next.run(request).await;
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
