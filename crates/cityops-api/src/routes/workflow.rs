//! `/workflow`: the case workflow's states, commands and the roles that may run them, for
//! clients that draw it.

use axum::routing::get;
use axum::{Json, Router};
use cityops_domain::workflow::RULES;
use cityops_domain::CaseState;

use crate::views::{CommandRuleView, StateView, WorkflowView};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/workflow", get(workflow))
}

/// The workflow as data: every state, and every command with the roles that may issue it
/// and the states it is accepted in. Public: it is the published standard process.
#[utoipa::path(get, path = "/api/v1/workflow", tag = "cases", security(()),
    responses((status = 200, body = WorkflowView)))]
pub async fn workflow() -> Json<WorkflowView> {
    Json(WorkflowView {
        states: CaseState::ALL
            .iter()
            .map(|s| StateView {
                state: s.as_str().to_owned(),
                zh: s.zh().to_owned(),
                terminal: s.is_terminal(),
            })
            .collect(),
        commands: RULES
            .iter()
            .filter(|rule| !matches!(rule.name, "report" | "attach"))
            .map(|rule| CommandRuleView {
                command: rule.name.replace('_', "-"),
                roles: rule.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                from: rule.from.iter().map(|s| s.as_str().to_owned()).collect(),
            })
            .collect(),
    })
}
