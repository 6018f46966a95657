//! `GET /api/v1/workflow`: the published process as data, generated from the domain's
//! command catalogue, so it lists every command exactly once and says how each is issued.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use cityops_domain::{CaseState, CommandKind};

use crate::views::{CommandRuleView, IssuedVia, StateView, WorkflowView};
use crate::wire::{ClientName, Wire};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/workflow", get(workflow))
}

/// The workflow as data: every state, and every command with the roles that may issue it,
/// the states it is accepted in and how it is issued (by name on a case, by reporting, by
/// uploading, by the citizen's rating, or by CityOps itself). Public: it is the published
/// standard process.
#[utoipa::path(get, path = "/api/v1/workflow", tag = "cases", security(()),
    responses((status = 200, body = WorkflowView)))]
pub async fn workflow(State(state): State<AppState>) -> impl IntoResponse {
    // Built once and served as bytes: anyone may ask for it, so asking costs a copy.
    let body = state
        .workflow_document
        .get_or_init(|| {
            serde_json::to_vec(&document())
                .map(axum::body::Bytes::from)
                .unwrap_or_default()
        })
        .clone();
    ([(header::CONTENT_TYPE, "application/json")], body)
}

fn document() -> WorkflowView {
    WorkflowView {
        states: CaseState::ALL
            .iter()
            .map(|s| StateView {
                state: Wire(*s),
                zh: s.zh().to_owned(),
                terminal: s.is_terminal(),
            })
            .collect(),
        commands: CommandKind::ALL
            .into_iter()
            .map(|kind| {
                let rule = kind.rule();
                let issued = IssuedVia::of(kind.channel());
                CommandRuleView {
                    command: Wire(ClientName(kind)),
                    action: Wire(kind),
                    roles: rule.roles.iter().copied().map(Wire).collect(),
                    from: rule.from.iter().copied().map(Wire).collect(),
                    issued,
                    endpoints: issued.endpoints(kind),
                }
            })
            .collect(),
    }
}
