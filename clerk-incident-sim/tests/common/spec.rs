//! Clerk's OpenAPI spec as the judge of the sim's answers: loads
//! `tests/clerk-openapi/bapi-2026-05-12.yml` (Clerk's own spec, MIT, with its licence beside
//! it; version 2026-05-12, the one the workspace pins) and checks a JSON value against the schema of
//! an operation's response: types, `nullable`, `enum`, `required`, `additionalProperties:
//! false`, `items`, `allOf`, `oneOf`/`anyOf`. (`pattern` is not checked.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The spec, parsed once per test binary.
pub(crate) fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/clerk-openapi/bapi-2026-05-12.yml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "cannot read Clerk's OpenAPI spec at {} ({error}): it ships with the sim's tests",
                path.display()
            )
        });
        serde_yaml_ng::from_str(&text).expect("the spec parses")
    })
}

fn resolve(schema: &Value) -> &Value {
    let mut schema = schema;
    while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        schema = spec()
            .pointer(&pointer.replace("~1", "/"))
            .unwrap_or_else(|| panic!("unresolved $ref {reference}"));
    }
    schema
}

/// The schema of the JSON answer of `method path` (spec path, without `/v1`) with `status`.
pub(crate) fn response_schema(method: &str, path: &str, status: u16) -> &'static Value {
    let operation = &spec()["paths"][path][method.to_ascii_lowercase()];
    assert!(
        operation.is_object(),
        "no operation {method} {path} in the spec"
    );
    let response = resolve(&operation["responses"][status.to_string()]);
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "no JSON schema for {method} {path} {status}"
    );
    schema
}

/// Every way `value` breaks `schema`, as `path: problem` lines.
pub(crate) fn violations(schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, value, "$", &mut problems);
    problems
}

/// Panics with every violation of the answer of `method path` with `status`.
pub(crate) fn assert_conforms(method: &str, path: &str, status: u16, value: &Value) {
    let problems = violations(response_schema(method, path, status), value);
    assert!(
        problems.is_empty(),
        "{method} {path} {status} does not match Clerk's spec:\n  {}\nvalue: {value:#}",
        problems.join("\n  ")
    );
}

/// The `properties`, `required` and `additionalProperties: false` of a schema and its
/// `allOf` parts together.
fn merged(schema: &Value) -> (Map<String, Value>, Vec<String>, bool) {
    let schema = resolve(schema);
    let mut properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<String> = schema["required"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut closed = schema["additionalProperties"] == Value::Bool(false);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r, c) = merged(part);
        properties.extend(p);
        required.extend(r);
        closed |= c;
    }
    (properties, required, closed)
}

fn check(schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(schema);
    if value.is_null() {
        let nullable = schema["nullable"] == Value::Bool(true)
            || schema["allOf"].as_array().is_some_and(|parts| {
                parts
                    .iter()
                    .any(|p| resolve(p)["nullable"] == Value::Bool(true))
            });
        let untyped = schema.get("type").is_none()
            && schema.get("allOf").is_none()
            && schema.get("oneOf").is_none()
            && schema.get("anyOf").is_none()
            && schema.get("properties").is_none();
        if !nullable && !untyped {
            problems.push(format!("{at}: null where the spec does not allow it"));
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let fits = options
                .iter()
                .any(|option| violations(option, value).is_empty());
            if !fits {
                problems.push(format!("{at}: matches none of the {key} options"));
            }
            if schema.get("properties").is_none() {
                return;
            }
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let kind = schema["type"].as_str().or_else(|| {
        (schema.get("properties").is_some() || schema.get("allOf").is_some()).then_some("object")
    });
    let fits = match kind {
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("array") => value.is_array(),
        Some("object") => value.is_object(),
        _ => true,
    };
    if !fits {
        problems.push(format!(
            "{at}: {value} is not of type {}",
            kind.unwrap_or("?")
        ));
        return;
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (index, item) in values.iter().enumerate() {
            check(items, item, &format!("{at}[{index}]"), problems);
        }
    }
    if let Some(object) = value.as_object() {
        let (properties, required, closed) = merged(schema);
        for name in &required {
            if !object.contains_key(name) {
                problems.push(format!("{at}: required member `{name}` is missing"));
            }
        }
        for (name, member) in object {
            match properties.get(name) {
                Some(property) => check(property, member, &format!("{at}.{name}"), problems),
                None if closed => {
                    problems.push(format!("{at}: member `{name}` is not in the spec"));
                }
                None => {}
            }
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            // Types and enums of the parts' own members are checked through `properties`;
            // nested oneOfs of a part are checked here.
            if resolve(part).get("oneOf").is_some() || resolve(part).get("anyOf").is_some() {
                check(part, value, at, problems);
            }
        }
    }
}
