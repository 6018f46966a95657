//! The web UI's copy of the OpenAPI document (`web/openapi.json`) is the one the server serves.
//!
//! The UI's TypeScript types are generated from that copy (`npm run api:types`), so a server
//! change that was not carried over to the copy would leave the UI compiling against types the
//! server no longer speaks. `CITYOPS_UPDATE_OPENAPI=1 cargo test -p cityops-api --test
//! openapi_document` rewrites the copy; then `npm run api:types` in `web/` regenerates the types.

use std::path::{Path, PathBuf};

fn checked_in_copy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json")
}

/// The document as the checked-in copy holds it: pretty-printed, so a change reads well in a
/// diff, and ending in a newline like every other text file of the repository.
fn served_document() -> String {
    let document = cityops_api::openapi::document();
    let mut text = serde_json::to_string_pretty(&document).expect("the document serialises");
    text.push('\n');
    text
}

#[test]
fn the_web_uis_copy_of_the_openapi_document_is_the_one_the_server_serves() {
    let path = checked_in_copy();
    let served = served_document();
    if std::env::var_os("CITYOPS_UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        std::fs::write(&path, &served).expect("web/openapi.json is writable");
        return;
    }
    let copy = std::fs::read_to_string(&path).unwrap_or_default();
    // Compared as values first so the message says which part changed; the text comparison
    // after it keeps the copy exactly as the update writes it.
    let copy_value: serde_json::Value = serde_json::from_str(&copy).unwrap_or_default();
    let served_value: serde_json::Value = serde_json::from_str(&served).unwrap();
    if copy_value != served_value || copy != served {
        let changed = first_difference(&copy_value, &served_value, "#".to_owned()).map_or_else(
            || "in formatting only".to_owned(),
            |at| format!("first at {at}"),
        );
        panic!(
            "web/openapi.json differs from the document the server serves ({changed}).\n\
             Update it and the web UI's types:\n  \
             CITYOPS_UPDATE_OPENAPI=1 cargo test -p cityops-api --test openapi_document\n  \
             cd web && npm run api:types"
        );
    }
}

/// The JSON pointer of the first place where two documents differ, if any.
fn first_difference(
    copy: &serde_json::Value,
    served: &serde_json::Value,
    at: String,
) -> Option<String> {
    use serde_json::Value;
    match (copy, served) {
        (Value::Object(copy), Value::Object(served)) => {
            let keys: std::collections::BTreeSet<&String> =
                copy.keys().chain(served.keys()).collect();
            keys.into_iter()
                .find_map(|key| match (copy.get(key), served.get(key)) {
                    (Some(a), Some(b)) => first_difference(a, b, pointer(&at, key)),
                    _ => Some(pointer(&at, key)),
                })
        }
        (Value::Array(copy), Value::Array(served)) if copy.len() == served.len() => copy
            .iter()
            .zip(served)
            .enumerate()
            .find_map(|(index, (a, b))| first_difference(a, b, pointer(&at, &index.to_string()))),
        (copy, served) if copy == served => None,
        _ => Some(at),
    }
}

fn pointer(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Every operation has an `operationId` of its own: utoipa takes it from the handler's name,
/// and the UI's type generator refuses a document where two handlers share one.
#[test]
fn every_operation_has_its_own_id() {
    let document = serde_json::to_value(cityops_api::openapi::document()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if let Some(id) = operation["operationId"].as_str() {
                if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                    panic!("{method} {path} and {other} share the operationId {id}");
                }
            }
        }
    }
    assert!(seen.len() > 100, "{} operations", seen.len());
}
