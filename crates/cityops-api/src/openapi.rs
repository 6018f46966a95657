//! The OpenAPI 3 document, generated from the handlers' annotations (see `routes::ApiDoc`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

pub(crate) struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use cityops_domain::{Channel, CommandKind};
    use serde_json::{json, Value};

    fn document() -> Value {
        serde_json::to_value(super::document()).unwrap()
    }

    fn enum_of(doc: &Value, schema: &str) -> Vec<String> {
        doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| {
                panic!(
                    "{schema} is a string enum: {}",
                    doc["components"]["schemas"][schema]
                )
            })
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn the_command_path_segment_and_the_case_actions_are_the_commands_clients_issue_by_name() {
        let doc = document();
        let by_name: Vec<String> = CommandKind::ALL
            .into_iter()
            .filter(|kind| kind.channel() == Channel::Command)
            .map(|kind| kind.wire_name().to_owned())
            .collect();
        assert_eq!(enum_of(&doc, "CaseCommandName"), by_name);
        assert!(!by_name
            .iter()
            .any(|n| ["report", "attach", "rate", "note"].contains(&n.as_str())));
        let reference = json!({"$ref": "#/components/schemas/CaseCommandName"});
        let parameters = doc["paths"]["/api/v1/cases/{id}/{command}"]["post"]["parameters"]
            .as_array()
            .unwrap();
        let command = parameters.iter().find(|p| p["name"] == "command").unwrap();
        assert_eq!(command["schema"], reference);
        assert_eq!(
            doc["components"]["schemas"]["CaseView"]["properties"]["actions"]["items"],
            reference
        );
    }

    #[test]
    fn the_error_body_names_its_code_from_the_error_code_table() {
        let doc = document();
        let names: Vec<String> = crate::error::ErrorCode::ALL
            .iter()
            .map(|code| code.name().to_owned())
            .collect();
        assert_eq!(enum_of(&doc, "ErrorCode"), names);
        assert_eq!(
            doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"],
            json!({"$ref": "#/components/schemas/ErrorCode"})
        );
    }
}
