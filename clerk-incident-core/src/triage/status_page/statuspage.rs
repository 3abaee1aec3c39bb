//! Atlassian Statuspage's `/api/v2/summary.json` and `/api/v2/status.json`.

use serde_json::Value;

use super::{
    Component, ComponentStatus, Incident, Indicator, PageFormat, StatusPageReport, list, text,
};

/// The report, when `json` is in a Statuspage shape: a `status` object or a `components`
/// array.
pub(super) fn parse(json: &Value) -> Option<StatusPageReport> {
    let status = json.get("status").filter(|s| s.is_object());
    let components = json.get("components").and_then(Value::as_array);
    if status.is_none() && components.is_none() {
        return None;
    }
    let status = status.unwrap_or(&Value::Null);
    let components = components
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        // Groups repeat their members' status.
        .filter(|c| !c.get("group").and_then(Value::as_bool).unwrap_or(false))
        .map(|c| Component {
            name: text(c, "name").unwrap_or_else(|| "(unnamed)".to_owned()),
            status: ComponentStatus::parse(c.get("status").and_then(Value::as_str)),
        })
        .collect();
    let incidents = list(json, "incidents")
        .iter()
        .filter(|i| text(i, "status").as_deref() != Some("resolved"))
        .map(|i| Incident {
            id: text(i, "id"),
            name: text(i, "name").unwrap_or_else(|| "(untitled)".to_owned()),
            status: text(i, "status").unwrap_or_else(|| "unknown".to_owned()),
            impact: text(i, "impact").unwrap_or_else(|| "unknown".to_owned()),
            components: list(i, "components")
                .iter()
                .filter_map(|c| text(c, "name"))
                .collect(),
            url: text(i, "shortlink"),
            last_update_at: list(i, "incident_updates")
                .first()
                .and_then(|u| text(u, "updated_at")),
            last_update_message: list(i, "incident_updates")
                .first()
                .and_then(|u| text(u, "body")),
        })
        .collect();
    Some(StatusPageReport {
        format: if json.get("components").is_some_and(Value::is_array) {
            PageFormat::StatuspageSummary
        } else {
            PageFormat::StatuspageStatus
        },
        indicator: Indicator::parse(status.get("indicator").and_then(Value::as_str)),
        description: text(status, "description"),
        components,
        incidents,
        maintenances: Vec::new(),
    })
}
