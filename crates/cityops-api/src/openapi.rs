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

/// The errors any operation may answer whatever its handler does, added to every operation
/// that does not document them itself: authentication and the role check (401, 403), the
/// rate limits (429), the query and path extractors (422, 404), and the JSON body extractor
/// (400, 413, 415, 422). A client generated from the document then expects every status
/// the server can send.
pub(crate) struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let shared_parameters = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                // Public operations say so with an empty requirement; the rest inherit bearer.
                let public = operation
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| r == &Default::default()));
                let parameters = shared_parameters
                    || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let body = operation.request_body.is_some();
                let mut add = |status: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description));
                };
                add(
                    "429",
                    "rate_limited or sign_in_throttled: wait `retry_after` seconds",
                );
                if !public {
                    add("401", "unauthenticated: no valid session or API key");
                    add(
                        "403",
                        "forbidden or role_not_allowed: the caller's role or scope may not do this",
                    );
                }
                if parameters || body {
                    add(
                        "422",
                        "invalid_input, invalid_query or invalid_body, naming the field; or the \
                         code of a rule the schema cannot state (README.md, \"Errors\")",
                    );
                }
                if parameters {
                    add("404", "not_found");
                }
                if body {
                    add("400", "malformed_json or bad_request");
                    add("413", "payload_too_large");
                    add("415", "unsupported_media_type");
                }
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    crate::routes::ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use cityops_domain::{Channel, CommandKind};
    use serde_json::{json, Value};
    use std::collections::HashSet;

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

    /// Whether a property's schema is the named schema: itself, the items of an array of it,
    /// or one of a `oneOf` (how an optional field says "it, or null").
    fn refers_to(schema: &Value, name: &str) -> bool {
        if !schema.is_object() {
            return false;
        }
        let reference = format!("#/components/schemas/{name}");
        schema["$ref"] == reference.as_str()
            || refers_to(&schema["items"], name)
            || schema["oneOf"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| refers_to(item, name)))
    }

    fn strings<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        values.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn each_vocabulary_is_a_string_enum_of_exactly_its_values() {
        use cityops_domain::telemetry::{AlarmState, DeviceStatus, WarningLevel};
        use cityops_domain::{case, AreaLevel, CaseState, CategoryKind, ComponentStatus};
        use cityops_domain::{Role, Source, UnitKind, Urgency};
        let doc = document();
        let expected: Vec<(&str, Vec<String>)> = vec![
            ("Role", strings(Role::ALL.map(Role::as_str))),
            ("CaseState", strings(CaseState::ALL.map(CaseState::as_str))),
            ("CaseSource", strings(Source::ALL.map(Source::as_str))),
            (
                "CaseStage",
                strings(case::Stage::ALL.map(case::Stage::as_str)),
            ),
            (
                "RejectReason",
                strings(case::RejectReason::ALL.map(case::RejectReason::as_str)),
            ),
            (
                "TicketKind",
                strings(cityops_domain::TicketKind::ALL.map(cityops_domain::TicketKind::as_str)),
            ),
            ("AreaLevel", strings(AreaLevel::ALL.map(AreaLevel::as_str))),
            ("UnitKind", strings(UnitKind::ALL.map(UnitKind::as_str))),
            (
                "CategoryKind",
                strings(CategoryKind::ALL.map(CategoryKind::as_str)),
            ),
            ("Urgency", strings(Urgency::ALL.map(Urgency::as_str))),
            (
                "ComponentStatus",
                strings(ComponentStatus::ALL.map(ComponentStatus::as_str)),
            ),
            (
                "WarningLevel",
                strings(WarningLevel::ALL.map(WarningLevel::as_str)),
            ),
            (
                "AlarmState",
                strings(AlarmState::ALL.map(AlarmState::as_str)),
            ),
            (
                "DeviceStatus",
                strings(DeviceStatus::ALL.map(DeviceStatus::as_str)),
            ),
            (
                "Crs",
                strings(cityops_geo::Crs::ALL.map(cityops_geo::Crs::as_str)),
            ),
            (
                "Resolution",
                strings(cityops_store::telemetry::Resolution::ALL.map(|r| r.as_str())),
            ),
            (
                "ReadingRejection",
                strings(cityops_telemetry::Reason::ALL.map(|r| r.as_str())),
            ),
            (
                "AlarmChange",
                strings(cityops_telemetry::AlarmChange::ALL.map(|c| c.as_str())),
            ),
            (
                "CaseAction",
                strings(CommandKind::ALL.map(CommandKind::as_str)),
            ),
            (
                "CommandWireName",
                strings(CommandKind::ALL.map(CommandKind::wire_name)),
            ),
            (
                "ApiKeyPermission",
                strings(crate::routes::api_keys::Permission::ALL.map(|p| p.as_str())),
            ),
            ("PendingKind", strings(["extension", "park"])),
            (
                "GeometryLevel",
                strings(["district", "street", "community", "grid"]),
            ),
        ];
        for (schema, values) in expected {
            assert_eq!(
                doc["components"]["schemas"][schema]["type"], "string",
                "{schema}"
            );
            assert_eq!(enum_of(&doc, schema), values, "{schema}");
        }
        // The vocabularies the issue found missing from the hand-written types are there.
        let roles = enum_of(&doc, "Role");
        for role in ["auditor", "data_steward", "citizen", "system"] {
            assert!(roles.iter().any(|r| r == role), "{role}");
        }
    }

    #[test]
    fn the_views_and_requests_name_their_vocabularies_instead_of_any_string() {
        let doc = document();
        let fields: &[(&str, &str, &str)] = &[
            ("UserView", "role", "Role"),
            ("TimelineEntry", "role", "Role"),
            ("TimelineEntry", "action", "CaseAction"),
            ("TimelineEntry", "from", "CaseState"),
            ("TimelineEntry", "to", "CaseState"),
            ("CommandRuleView", "command", "CommandWireName"),
            ("CommandRuleView", "action", "CaseAction"),
            ("CommandRuleView", "roles", "Role"),
            ("CommandRuleView", "from", "CaseState"),
            ("StateView", "state", "CaseState"),
            ("ApiKeyView", "role", "Role"),
            ("ApiKeyView", "permissions", "ApiKeyPermission"),
            ("CaseView", "state", "CaseState"),
            ("CaseView", "source", "CaseSource"),
            ("CaseView", "stage", "CaseStage"),
            ("CaseView", "reject_reason", "RejectReason"),
            ("CaseView", "actions", "CaseCommandName"),
            ("FiledClassView", "urgency", "Urgency"),
            ("PendingView", "kind", "PendingKind"),
            ("CaseEvent", "action", "CommandWireName"),
            ("CaseEvent", "state", "CaseState"),
            ("CaseEvent", "source", "CaseSource"),
            ("PublicCaseView", "state", "CaseState"),
            ("PublicStep", "action", "CommandWireName"),
            ("PublicStep", "state", "CaseState"),
            ("PublicReportReceipt", "state", "CaseState"),
            ("HeldCase", "state", "CaseState"),
            ("SourceCount", "source", "CaseSource"),
            ("AreaView", "level", "AreaLevel"),
            ("AreaRef", "level", "AreaLevel"),
            ("AreaNode", "level", "AreaLevel"),
            ("AreaGeometry", "level", "GeometryLevel"),
            ("UnitView", "kind", "UnitKind"),
            ("UnitView", "organization", "UnitOrganization"),
            ("CategoryView", "kind", "CategoryKind"),
            ("CategoryView", "urgency", "Urgency"),
            ("CategoryView", "unit_kind", "UnitKind"),
            ("BigClassView", "kind", "CategoryKind"),
            ("AlarmView", "level", "WarningLevel"),
            ("AlarmView", "state", "AlarmState"),
            ("AlarmEvent", "action", "AlarmChange"),
            ("AlarmEvent", "alarm", "AlarmView"),
            ("VitalSignsView", "signs", "VitalSignView"),
            ("DeviceView", "status", "DeviceStatus"),
            ("ComponentView", "status", "ComponentStatus"),
            ("ComponentPage", "items", "ComponentView"),
            ("RollupView", "resolution", "Resolution"),
            ("RejectionView", "reason", "ReadingRejection"),
            ("DeadLetterView", "reason", "ReadingRejection"),
            // Requests: the handler checks the value; the document says which are accepted.
            ("ReportRequest", "source", "CaseSource"),
            ("ReportRequest", "crs", "Crs"),
            ("CallBody", "kind", "TicketKind"),
            ("CallView", "kind", "TicketKind"),
            ("PublicReportRequest", "crs", "Crs"),
            ("CommandRequest", "reject_reason", "RejectReason"),
            ("CategoryUpdate", "urgency", "Urgency"),
            ("CategoryUpdate", "unit_kind", "UnitKind"),
            ("NewApiKey", "role", "StaffRole"),
            ("NewApiKey", "permissions", "ApiKeyPermission"),
            ("DeviceRequest", "status", "DeviceStatus"),
            ("DeviceRequest", "crs", "Crs"),
        ];
        for (view, field, vocabulary) in fields {
            let schema = &doc["components"]["schemas"][view]["properties"][field];
            assert!(
                refers_to(schema, vocabulary),
                "{view}.{field} is {schema}, not {vocabulary}"
            );
        }
        // The check can fail: a plain string is no vocabulary.
        let username = &doc["components"]["schemas"]["UserView"]["properties"]["username"];
        assert!(!refers_to(username, "Role"));
        let parameters: &[(&str, &str, &str)] = &[
            ("/api/v1/vital-signs/history", "resolution", "Resolution"),
            ("/api/v1/components", "status", "ComponentStatus"),
            ("/api/v1/components/nearest", "crs", "Crs"),
            (
                "/api/v1/telemetry/dead-letters",
                "reason",
                "ReadingRejection",
            ),
            ("/api/v1/geo/areas", "level", "GeometryLevel"),
            ("/api/v1/geo/locate", "crs", "Crs"),
            ("/api/v1/areas", "level", "AreaLevel"),
            ("/api/v1/units", "kind", "UnitKind"),
            ("/api/v1/cases", "source", "CaseSource"),
        ];
        for (path, name, vocabulary) in parameters {
            let parameter = doc["paths"][path]["get"]["parameters"]
                .as_array()
                .and_then(|all| all.iter().find(|p| p["name"] == *name))
                .unwrap_or_else(|| panic!("GET {path} has a parameter {name}"));
            assert!(
                refers_to(&parameter["schema"], vocabulary),
                "GET {path} ?{name} is {parameter}, not {vocabulary}"
            );
        }
    }

    #[test]
    fn every_operation_id_is_unique() {
        let doc = document();
        let mut seen = HashSet::new();
        for (path, operations) in doc["paths"].as_object().unwrap() {
            for (method, operation) in operations.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_else(|| {
                    panic!("{method} {path} has no operationId");
                });
                assert!(seen.insert(id.to_owned()), "{id} names two operations");
            }
        }
        assert!(seen.len() > 50);
    }

    #[test]
    fn path_parameters_are_the_paths_own_and_the_rest_are_query_parameters_but_two_headers() {
        let doc = document();
        for (path, operations) in doc["paths"].as_object().unwrap() {
            let in_template: HashSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, operation) in operations.as_object().unwrap() {
                let parameters = operation["parameters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let in_path: HashSet<&str> = parameters
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect();
                assert_eq!(in_path, in_template, "{method} {path}");
                for parameter in parameters.iter().filter(|p| p["in"] != "path") {
                    // The headers a request names in the document: the idempotency key of a
                    // report and of an enquiry, and where a reconnecting live stream resumes.
                    if parameter["in"] == "header" {
                        let named = (method.as_str(), path.as_str(), parameter["name"].as_str());
                        assert!(
                            [
                                ("post", "/api/v1/cases", Some("Idempotency-Key")),
                                ("post", "/api/v1/enquiries", Some("Idempotency-Key")),
                                ("get", "/api/v1/stream", Some("Last-Event-ID")),
                            ]
                            .contains(&named),
                            "{method} {path}: {parameter}"
                        );
                        continue;
                    }
                    assert_eq!(parameter["in"], "query", "{method} {path}: {parameter}");
                }
            }
        }
    }
}
